"""Build (and check) the natural-English sample corpora under sample_data/prose_*/.

The Markdown, plain-text and HTML documents live as ordinary files in each corpus
folder.  The PDF and DOCX documents are generated from the source strings in this
script, so they can be rebuilt byte-for-byte:

    python sample_data/build_prose.py            # (re)generate the PDF and DOCX files
    python sample_data/build_prose.py --check    # verify every qa.jsonl row against its document

Source mini-markup used for PDF/DOCX documents:
    "# "   document title            "## "  section heading     "### " sub-heading
    "- "   bullet item               "| a | b |" table row (first row = header; DOCX only)
    anything else: paragraph text (consecutive lines are joined; a blank line ends it)

All of the text in this file and in the prose_* folders was written for this project.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import io
import json
import re
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

# A fixed timestamp keeps the generated files reproducible.
FIXED_DATE = _dt.datetime(2025, 1, 6, 9, 0, 0, tzinfo=_dt.timezone.utc)

# --------------------------------------------------------------------------------------
# Source documents (PDF / DOCX)
# --------------------------------------------------------------------------------------

FLOWER_DELIVERY_PDF = """\
# Petal & Stem - Delivery and Returns Policy

Version 3.2, effective from 1 February 2025. This policy applies to every order placed in the shop at 14 Harrow Lane, Millbrook, by telephone, or through the Petal & Stem website. It replaces version 3.1, which applied from 1 March 2024 until 31 January 2025.

## 1. Where we deliver and what it costs

Our own two vans deliver to three zones measured by road distance from the shop. The delivery fee is charged once per address, however many items go to that address in the same drop.

- Zone A - Millbrook town centre and anywhere within 3 miles of the shop: $6.50 per delivery.
- Zone B - between 3 and 8 miles, including Ashcombe, Little Fenton and the Orchard Park estate: $9.95 per delivery.
- Zone C - between 8 and 15 miles, including Denholm and Bexley Cross: $14.00 per delivery.

Orders of $75 or more (before the delivery fee) are delivered free of charge within Zone A. The free delivery offer does not apply in Zones B or C, and it does not apply on Valentine's Day or Mother's Day.

For addresses more than 15 miles away we send hand-tied bouquets in a water-filled gift box with our courier partner, Swiftpost Parcels, for a flat fee of $18.50. Courier orders are delivered the next working day and cannot be given a timed slot. We do not send plants, arrangements in containers or anything containing glass by courier.

## 2. Delivery days and order cut-off times

Our vans run Monday to Saturday. We do not deliver on Sundays or public holidays, with one exception: on Mother's Day Sunday we run a morning delivery round between 8:00 and 12:00.

Same-day delivery is available for orders placed by 13:00 on weekdays and by 11:00 on Saturdays. Orders placed after the cut-off are delivered on the next delivery day. During Valentine's week (9 to 14 February) the same-day cut-off moves forward to 10:00 every day because of the volume of orders.

Standard deliveries are made in one of two windows: the morning window runs from 9:00 to 13:00 and the afternoon window from 13:00 to 18:00. You may choose the window when you order but not the exact time. If you need a particular time, for example for a surprise or an office reception that closes early, you can book a one-hour timed slot for an extra $8.00 on top of the normal delivery fee.

## 3. If nobody is home

Our drivers will first try a neighbour, and they will leave the flowers in a safe place only if you gave us written instructions when ordering. If neither is possible, the driver posts a card through the door and brings the flowers back to the shop, where they are kept in the cold room.

We will make a second delivery attempt on the next working day at no extra charge. A third attempt is charged at the normal delivery fee for the zone. Alternatively the recipient may collect the flowers from the shop. Flowers that have not been delivered or collected within 3 days are donated to the Millbrook Community Hospice, and the order is then treated as fulfilled.

## 4. Funeral, hospital and business deliveries

Funeral flowers are delivered directly to the funeral director, never to a private house. To be sure they arrive in time, please order funeral tributes by 15:00 on the working day before the funeral. Millbrook General Hospital does not accept flowers on its wards, so we cannot deliver to patients there; we are happy to deliver to the patient's home instead. Business deliveries are made to the main reception desk, and we ask for the name of a contact who will sign for them.

## 5. Our freshness guarantee

Cut flowers from Petal & Stem are guaranteed to stay fresh for at least 7 days from delivery or collection, provided the care card that comes with them is followed. If they do not, send us a photograph within 7 days and we will replace the bouquet or refund its price, whichever you prefer. Houseplants are covered for 14 days against pests or disease that were present when you bought them; damage from over-watering or cold draughts is not covered.

## 6. Returns and refunds

Because they are perishable, fresh flowers cannot be returned simply because you have changed your mind. Non-perishable items - vases, pots, candles, ribbons and other gifts - can be returned unused, in their original packaging, within 28 days with proof of purchase for a full refund. Gift cards and workshop tickets are not refundable, although workshop tickets can be moved to another date once with at least 72 hours' notice.

Refunds are made to the original payment method within 5 working days of the return being accepted. Cash purchases are refunded in cash or as store credit.

## 7. Changing or cancelling an order

You can change the message, address or delivery date of an order, or cancel it for a full refund, up to 24 hours before the delivery date. If you cancel less than 24 hours before delivery we refund 50% of the order value, as long as the flowers have not yet been prepared; once an arrangement has been made we cannot refund it. Wedding and event orders have their own booking terms, which are explained on our Weddings and Events page.

## 8. Damaged or incorrect deliveries

If anything arrives damaged or is not what you ordered, tell us within 24 hours and include photographs of the flowers and the packaging. We will collect the item and send a replacement on the next delivery day at no cost to you.

## 9. Contact the delivery team

Email deliveries@petalandstem.example or call (555) 014-8821 between 9:00 and 17:00 on days the shop is open. Please have your order number ready; it starts with the letters PS followed by six digits.
"""

FLOWER_CARE_DOCX = """\
# Petal & Stem Flower and Plant Care Guide

This guide comes with every order from Petal & Stem. A few minutes of care on the first day makes more difference than anything else you do, so please read the first section before you put your flowers in a vase.

## Cut flowers: the first hour

Keep the bouquet in its water bubble until you are ready to arrange it. Fill a clean vase two-thirds full with cool tap water; in winter, lukewarm water helps tight buds to open. Add the sachet of flower food we supply: one sachet is enough for 500 ml of water, so use two sachets for a large vase.

Cut each stem at an angle, removing about 2 cm with a sharp knife or secateurs rather than scissors, which crush the stem. Strip away any leaves that would sit below the waterline, because leaves rotting in water feed the bacteria that block stems.

## Keeping them fresh

Top up the vase every day and change the water completely every 2 days, re-cutting the stems by 1 cm each time. Keep flowers away from radiators, sunny windowsills and the fruit bowl: ripening fruit gives off ethylene gas, which makes petals drop early. At night, a cool room of around 15 degrees Celsius will add days to the life of most bouquets.

## Flower-by-flower notes

The table below shows the vase life you can expect when the flowers are cared for as described above, together with one tip for each.

| Flower | Typical vase life | Our tip |
| Roses | 7 to 10 days | If a head droops, re-cut the stem and stand it in deep warm water for one hour. |
| Tulips | 5 to 7 days | Tulips keep growing by up to 2.5 cm in the vase and bend towards the light, so turn the vase daily. |
| Lilies | 10 to 14 days | Pull off the orange anthers as each flower opens to avoid pollen stains. |
| Hydrangeas | 5 to 9 days | If the head wilts, submerge the whole flower in cold water for 30 minutes. |
| Sunflowers | 6 to 12 days | Use a heavy vase and keep the water level high; sunflowers drink a lot. |
| Peonies | 5 to 7 days | Tight buds open within about 2 days at room temperature. |
| Chrysanthemums | 14 to 21 days | The longest-lasting flower we sell; simply change the water. |

## Lilies and pets

Every part of the lily is poisonous to cats, including the pollen and the water in the vase. If you have a cat, please tell us when you order and we will make your bouquet without lilies. Roses, sunflowers, orchids and snapdragons are safe choices for homes with pets.

## Houseplants

Most houseplants die from too much water rather than too little. Always check the soil with a finger before watering, and empty any water left in the saucer after 20 minutes.

### Monstera

Water your monstera when the top 5 cm of soil is dry, which is usually every 7 to 10 days in summer and every 2 to 3 weeks in winter. It likes bright, indirect light; direct midday sun scorches the leaves. Wipe the leaves with a damp cloth once a month.

### Peace lily

A peace lily tells you when it is thirsty: the leaves droop dramatically and recover within hours of a drink. It copes with shade better than almost any other flowering plant.

### Snake plant

The snake plant needs water only every 3 to 4 weeks, and even less in winter. It is the plant we recommend for offices and for people who travel a lot.

### Moth orchid

Soak the pot of a moth orchid in a bowl of room-temperature water for 10 minutes once a week, then let it drain completely. Do not use ice cubes, whatever you may have read. Repot it every 2 years in bark-based orchid compost, never in ordinary soil. After flowering, cut the stem just above the second node and it will often flower again within a few months.

## Dried and preserved flowers

Dried flowers last 1 to 2 years if they are kept out of direct sunlight and away from bathrooms and kitchens, where moisture makes them limp. To remove dust, use a hairdryer on its coolest setting held about 30 cm away.

## Free plant clinic

If something is going wrong, bring the plant, or a photograph of it, to our free plant clinic, held in the shop every Thursday from 16:00 to 19:00. Our houseplant specialist, Tomas Reyes, will diagnose the problem and tell you what to do.
"""

GAME_ITEMS_PDF = """\
# Emberfall Chronicles - Item and Crafting Compendium

Compiled by the Lanternworks Studio community team. All values are current as of patch 1.5.0 "Ashes Rekindled" (3 June 2025). Earlier values are listed in the patch notes. Damage ranges are shown before armour is applied.

## 1. How items work

Every item has a quality tier shown by the colour of its name: Common (grey), Fine (green), Rare (blue), Heroic (purple) and Mythic (orange). Weapons and armour have durability: an item loses 1 durability point each time its wearer is defeated and 1 point for every 50 hits it deals or takes. A broken item gives no stats until it is repaired at any smith or with a Tinker's Kit.

Each character can carry 40 items in the starting pack. The Wayfarer's Satchel, sold by quartermasters for 1,200 gold, adds 12 slots, and a character can equip up to three satchels.

## 2. Legendary and notable weapons

### Cinderfang

Cinderfang is a Heroic two-handed longsword that drops from Warlord Gharn, the final boss of the Broken Crown fortress in the Thornspire Highlands. It deals 40 to 54 fire damage per swing and grants +12 Strength. Its special effect, Smouldering Edge, sets the target alight for 6 seconds, dealing 8 fire damage per second. You must be level 30 to equip it.

### Tidecaller's Longbow

The Tidecaller's Longbow is a Heroic bow sold by the Tidewright Compact quartermaster in Port Ysolde to players who have reached Honoured reputation. It costs 4,800 gold and deals 31 to 39 physical damage with a range of 35 metres. Every fifth arrow is a Tidal Shot that knocks the target back 4 metres.

### Staff of Quiet Embers

The Staff of Quiet Embers is a Rare staff crafted by Runecarvers. It adds 85 spell power and reduces the Ember cost of every spell by 10%. Required level: 24.

### Hushblade Daggers

The Hushblade Daggers are a matched pair that can only be bought from the Hushed. They deal 14 to 19 damage each and give a 15% chance to strike twice. Attacking from stealth with them always results in a critical hit.

## 3. Armour sets

### Ashplate

Ashplate is a heavy armour set of four pieces: helm, cuirass, gauntlets and greaves. It is crafted by Smiths with skill 200 or higher. Wearing two pieces gives +5% fire resistance. Wearing all four pieces gives the Banked Flame bonus: when your health falls below 30%, you gain a shield that absorbs 400 damage, which can happen at most once every 90 seconds.

### Fenwalker's Garb

Fenwalker's Garb is a light armour set made by Tailors from Glimmerfen materials. The full set makes you immune to the slowing effect of marsh water and increases movement speed by 8% while out of combat.

## 4. Consumables

- Minor Healing Draught: restores 150 health. Sold by most vendors for 15 gold.
- Greater Healing Draught: restores 600 health over 3 seconds.
- Ember Tonic: restores 40 Ember instantly.
- Draught of the Deep: lets you breathe underwater for 10 minutes.

All healing draughts share a 30-second cooldown, so drinking one draught prevents you from drinking another of any kind for 30 seconds.

## 5. Crafting professions

There are four crafting professions: Smithing, Alchemy, Tailoring and Runecarving. Every character may learn two of them. Skill in each profession rises from 1 to a maximum of 300, and new recipes are taught by trainers at skill 1, 75, 150 and 225. Tavish Drummond in Brandholt trains Smithing; Sister Wren Halloway, also in Brandholt, trains Alchemy.

Changing profession is possible at any trainer, but all skill in the old profession is lost. The first change is free; after that each change costs 500 gold.

## 6. Selected recipes

### Emberforged Ingot (Smithing, skill 150)

Combine 3 Iron Ore and 1 Ember Shard at a Pyre Forge to make one Emberforged Ingot. Pyre Forges are found only in Brandholt, Emberwatch Keep and Karrow's Rest. Emberforged Ingots are used in every piece of Ashplate; the cuirass alone needs 8 of them.

### Greater Healing Draught (Alchemy, skill 120)

Mix 2 Bloodmoss, 1 Glimmerfen Lotus and 1 Crystal Vial at any alchemy table. Alchemists with skill 250 or more have a 20% chance to make two draughts from one set of ingredients.

### Ember Tonic (Alchemy, skill 60)

Mix 1 Ashbloom Petal, 1 Spring Water and 1 Crystal Vial.

### Rune of Kindling (Runecarving, skill 225)

Carve 1 Obsidian Tablet with 2 Ember Shards and 1 Phoenix Ash. The rune can be set into any weapon and adds 5% fire damage. A weapon can hold only one rune at a time.

### Fenwalker's Hood (Tailoring, skill 90)

Sew 4 Reedsilk, 2 Bogleather and 1 spool of Waxed Thread.

## 7. Where to find common materials

Iron Ore is mined throughout the Ashen Reach and the Thornspire Highlands. Bloodmoss grows on the north-facing sides of rocks in Glimmerfen, and the Glimmerfen Lotus blooms only at night, between 20:00 and 05:00 in-game time. Ember Shards drop from ember elementals in the Cinderwaste, and Phoenix Ash is found only in Hollowdeep. Reedsilk is gathered from the lakeshores around Mossmere.
"""

GAME_REGIONS_DOCX = """\
# Emberfall Chronicles - Regions and Factions of Cindral

This guide describes the six regions of the continent of Cindral that players can explore in Emberfall Chronicles, and the five factions that compete for power there. Level ranges are the levels at which the region's quests are designed to be completed.

## Regions at a glance

| Region | Level range | Main hub | Known for |
| Ashen Reach | 1 to 10 | Brandholt | Starting region, grey forests and the Pyre Cathedral |
| Glimmerfen | 10 to 20 | Mossmere | Glowing marshes, the Verdant Circle and night-blooming lotus |
| Thornspire Highlands | 20 to 30 | Karrow's Rest | Mountain passes, the Broken Crown fortress |
| Saltglass Coast | 30 to 40 | Port Ysolde | Glass beaches, sea caves and the Tidewright Compact |
| The Cinderwaste | 40 to 50 | Emberwatch Keep | Volcanic desert and ember elementals |
| Hollowdeep | 50 | none | Endgame raid beneath the Cinderwaste |

## The Ashen Reach

Every new character begins in the Ashen Reach, a land of grey birch forests where ash still falls like snow four centuries after the Quenching. Its capital, Brandholt, is built around the Pyre Cathedral, whose eternal fire is said to have been lit from a spark of the Ember Heart. Brandholt is the home of the Order of the Banked Flame and the best place to learn Smithing and Alchemy.

## Glimmerfen

Glimmerfen is a vast marsh whose water glows faintly green at night. Travel is slow here: wading through deep marsh water reduces movement speed by 30% unless you wear Fenwalker's Garb. The floating town of Mossmere is built on rafts tied to ancient willow trees.

## The Thornspire Highlands

The Highlands are a maze of cliffs, rope bridges and mountain passes. The old fortress of the Broken Crown, now held by Warlord Gharn and his raiders, is the first five-player dungeon in the game. Karrow's Rest, a miners' town, has one of only three Pyre Forges in the world.

## The Saltglass Coast

Added in patch 1.4.0, the Saltglass Coast is a long shoreline where lightning has turned the sand into glass. Its port city, Port Ysolde, is ruled by Queen Ysolde IV and is the only place in Cindral where players can buy a ship. The sea caves under the city hide the smugglers' dungeon known as the Drowned Vault.

## The Cinderwaste and Hollowdeep

The Cinderwaste is a volcanic desert around the crater where the Ember Heart is believed to have shattered. Temperatures there drain 2 health per second from players who have less than 50 fire resistance. Emberwatch Keep, on the crater's rim, is the last safe hub before Hollowdeep, the endgame raid for ten players, where the dragon Veyrith sleeps.

## Factions

### The Order of the Banked Flame

The Order is a knightly brotherhood sworn to guard the surviving Ember Shards so that no one can use them for war. It is led by High Warden Oriel Castavar from the Pyre Cathedral in Brandholt. Players who join the Order can wear its tabard, which reduces repair costs by 10%.

### The Ashborn

The Ashborn are rebels who believe the shards belong to the common people, not to knights and kings. Their leader, Maro Quill, was once a squire of the Order. The Ashborn have no capital; their camps move every few days around the Thornspire Highlands. Players cannot be Honoured with both the Ashborn and the Order of the Banked Flame at the same time.

### The Tidewright Compact

The Tidewright Compact is a guild of merchants and shipwrights based in Port Ysolde. It controls all sea trade and sets the exchange rate for the Compact's own currency, tide marks. One tide mark is worth 25 gold.

### The Verdant Circle

The Verdant Circle is an order of druids who live in Glimmerfen and tend the marsh. Its leader, Archdruid Fenna Loam, teaches the only known cure for emberblight, the sickness that turns living wood to charcoal.

### The Hushed

The Hushed are a secret society of spies and assassins whose leader is known only as the Quiet Mother. They cannot be joined until a character reaches level 35, and their members can be found only by following the chalk marks hidden in each city.

## Reputation

Reputation with each faction is earned through quests, and some factions also reward it for handing in items. There are five reputation ranks: Unknown, Tolerated, Trusted, Honoured and Exalted.

| Rank | Reputation needed | What it unlocks |
| Tolerated | 3,000 | Faction vendors will trade with you |
| Trusted | 9,000 | Faction quests and the faction mount |
| Honoured | 15,000 | Heroic items from the quartermaster |
| Exalted | 21,000 | Faction title and cosmetic armour |
"""

HANDBOOK_LEAVE_PDF = """\
# Corvid Analytics - Leave and Time Off Policy

Employee Handbook, section 4. Owner: People team (people@corvid.example). Last reviewed: 10 January 2025.

This policy explains the time off that employees of Corvid Analytics are entitled to and how to request it. It applies to everyone on an employment contract; contractors should check the terms of their own agreement. Part-time employees receive every entitlement in this policy in proportion to their contracted hours.

## 1. Annual leave

Our leave year runs from 1 January to 31 December. Full-time employees receive 25 days of paid annual leave each year, in addition to public holidays. If you join or leave part-way through the year, your allowance is worked out in proportion to the months you are with us.

Your allowance grows with your length of service: you receive one extra day of annual leave for every two full years you have worked at Corvid, up to a maximum of 30 days a year.

You may carry up to 5 unused days into the next leave year. Carried-over days must be taken by 31 March, after which they are lost. In exceptional cases, such as long-term sickness or parental leave, the People team may agree to a longer carry-over.

## 2. Booking leave

Request all leave in Peoplehub, our HR system, and wait for your manager to approve it before you book travel. Please give notice of at least twice the length of the leave you are requesting: for example, two weeks' notice for one week off. Managers should respond to a request within 3 working days.

Leave of more than 15 consecutive working days needs the approval of a director as well as your manager. We want people to take proper breaks, so we also ask everyone to take at least one period of 5 or more consecutive working days off during the year.

## 3. Winter closure and your birthday

The company closes between Christmas and New Year. The working days between 27 and 31 December are given to everyone as extra paid leave and are not taken from your annual allowance. If you are asked to work during the closure to support a client, you will receive the same number of days off to use before the end of March.

Everyone also gets a paid day off for their birthday. It can be taken on the day itself or on any working day in the same calendar month.

## 4. Sickness absence

If you are too unwell to work, tell your manager by 9:30 on the first day of absence, by phone or direct message rather than email. Record the absence in Peoplehub when you return.

You can self-certify absences of up to 5 consecutive working days. For longer absences we need a note from a doctor. We pay full salary for up to 20 working days of sickness in any rolling 12-month period, followed by half pay for a further 20 working days. After that, statutory sick pay applies.

After any absence of more than 10 working days, your manager will arrange a return-to-work conversation to agree whether any adjustments would help you.

## 5. Parental leave

Employees who have worked at Corvid for at least 6 months when their child is born or placed for adoption can take enhanced parental pay.

- Primary carers receive 20 weeks at full pay, followed by 6 weeks at half pay, and may then take further unpaid leave up to a total of 52 weeks.
- Secondary carers receive 4 weeks at full pay, to be taken within the first 6 months after the birth or adoption.
- While on parental leave you may work up to 10 paid keeping-in-touch days, if you and your manager both agree.

Time off for antenatal appointments, and to accompany a partner to two of them, is paid and does not need to be made up.

## 6. Compassionate and bereavement leave

If someone close to you dies, you can take up to 5 days of paid bereavement leave for a partner, child, parent or sibling, and up to 2 days for other relatives or friends. Managers can grant additional paid or unpaid time where it is needed, and you do not need to provide any proof.

## 7. Other paid leave

- Volunteering: 2 paid days a year to volunteer for a registered charity of your choice.
- Jury service: full pay for the whole period of jury service.
- Moving house: 1 paid day once a year.
- Learning days: 3 paid days a year for training courses and conferences, described in the Benefits guide.

## 8. Sabbaticals

After 5 years of continuous service you become eligible for a paid sabbatical of 4 weeks, in addition to your annual leave. The sabbatical must be taken within 12 months of your fifth work anniversary, and you should agree the dates with your manager at least 3 months in advance. A further paid sabbatical becomes available after every additional 5 years.

## 9. Unpaid leave

You may ask for up to 4 weeks of unpaid leave in any leave year. Requests are agreed at the discretion of your manager and the People team, and we will always try to say yes.
"""

HANDBOOK_BENEFITS_PDF = """\
# Corvid Analytics - Benefits Guide 2025

Employee Handbook, section 7. This guide summarises the benefits available to employees of Corvid Analytics from 1 January 2025. The exact terms of each benefit are set by the provider's own policy documents, which you can find in Peoplehub under Documents.

## Pension

Everyone is enrolled in the company pension plan, run by Harbourstone Pensions, at the end of their first month of employment. Corvid matches your own contributions up to 5% of your basic salary: if you pay in 5%, the company also pays in 5%. You can choose to pay in more, but the company match stays at 5%. You may opt out at any time, although we encourage you to speak to the People team first.

## Health and wellbeing

Private health insurance with Meridian Health covers every employee from their first day. You can add your partner and children to the policy at no cost to you; the company pays the full premium.

Dental insurance starts once you pass your probation period. It covers two check-ups a year and 80% of the cost of most treatment, up to $1,500 a year.

Our employee assistance programme is open 24 hours a day, every day of the year. It offers confidential advice on money, legal and family matters, and up to 6 free counselling sessions per year for you and anyone in your household.

We pay a wellbeing allowance of $35 a month towards a gym membership, fitness classes or a sports club. Claim it through the expenses system with a receipt; it cannot be saved up and claimed later.

## Life insurance

Life insurance cover of 4 times your basic annual salary applies from your first day. Please tell the People team who you would like the payment to go to by completing the nomination form in Peoplehub.

## Learning and development

Every employee has a personal learning budget of $1,000 per calendar year for books, courses, certifications and conferences, plus 3 paid learning days. The budget does not roll over into the next year. If a single course costs more than $1,000, speak to your manager: we may fund it from the team budget, in which case you may be asked to repay part of the cost if you leave within 12 months of finishing the course.

## Getting to work

The cycle-to-work scheme lets you buy a bicycle and safety equipment worth up to $2,000, paid for from your salary over 12 months before tax. We also offer an interest-free loan of up to $3,000 for an annual public transport season ticket, repaid from your salary over 10 months.

## Pay and recognition

Salaries are paid on the 25th of each month, or on the last working day before it if the 25th falls on a weekend or public holiday. Everyone's salary is reviewed each April, and any increase takes effect in the April payroll.

If you recommend a friend and we hire them, you receive a referral bonus of $2,000 once they have passed their probation period. There is no limit on the number of referral bonuses you can receive.

After 12 months of employment, every permanent employee is offered share options in Corvid Analytics. The number of options depends on your role and is set out in your option letter.

## Other benefits

- A free eye test every 2 years, and up to $150 towards glasses if you need them for screen work.
- Free fruit, tea and coffee in the office every day, and a team lunch on the first Friday of each month.
- An extra day of annual leave for every two years of service, as explained in the Leave and Time Off Policy.

## Questions

If you have a question about any of your benefits, contact Hannah Osei in the People team at people@corvid.example.
"""

HANDBOOK_EXPENSES_DOCX = """\
# Corvid Analytics - Travel and Expenses Policy

Employee Handbook, section 5. Owner: Finance team. This policy explains what Corvid Analytics will pay for when you travel or spend money on the company's behalf, and how to claim it back. The guiding rule is simple: spend company money as carefully as you would spend your own.

## Before you spend

Travel for client work must be approved by your manager before you book. For any single purchase above $1,000, you also need written approval from our Finance Director, Marcus Bell, before you commit to it. Book flights and hotels through the company travel portal, TripDesk, whenever you can, because the company pays for these directly and you do not need to claim them back.

## Spending limits

The table below shows the maximum amounts the company will reimburse. If you go over a limit without prior approval, you will be repaid only up to the limit.

| Expense | Limit | Notes |
| Hotel, standard cities | $180 per night | Room only, including taxes |
| Hotel, New York, San Francisco and London | $260 per night | Room only, including taxes |
| Meals while travelling | $55 per day | Breakfast, lunch and dinner combined |
| Client entertainment | $75 per person | Manager approval needed above $150 in total |
| Personal car | $0.58 per mile | From your home or the office, whichever is nearer |
| Flights | Economy class | Premium economy if the scheduled flight time is over 6 hours |
| Trains | Standard class | First class only if it is cheaper than standard |

## Taxis and ride-hailing

Take public transport where it is practical. Taxis are reimbursed when you are travelling after 21:00, when you are carrying equipment or heavy luggage, or when there is no reasonable public transport to your destination. Airport transfers by taxi are allowed when your flight leaves before 7:00 or lands after 22:00.

## What we will not pay for

Some costs are never reimbursed, even with a receipt:

- Alcohol, except as part of approved client entertainment.
- Parking and speeding fines, and any other penalty.
- Upgrades to flights, trains or hotel rooms that you choose to buy.
- Hotel minibars, films and laundry on trips of fewer than 5 nights.
- Personal travel insurance, because the company policy already covers business trips.

## Claiming your expenses

Submit every claim in Ledgerly, our expenses app, within 60 days of spending the money. Claims older than 60 days will not be paid. Attach a photograph of the receipt for every item over $25; for smaller items a short description is enough. Card payment slips are not receipts, so please ask for an itemised receipt.

Your manager approves your claim, and Finance checks it against this policy. Claims approved by the 15th of the month are paid with that month's salary; claims approved later are paid the following month.

## Company credit cards

Employees who travel often can ask for a company credit card. Each card has a monthly limit of $5,000. You must attach receipts for every card payment in Ledgerly within 10 days of the card statement date. Personal purchases on a company card are not allowed, even if you intend to pay them back; if it happens by mistake, tell Finance on the same day.

## Working abroad

When you travel abroad on business, claim costs in the currency you paid and Ledgerly will convert them at the exchange rate on the day of the payment. Daily meal limits apply in the same amounts as at home, converted into the local currency.

## Questions

For help with a claim or with this policy, email finance@corvid.example. Our accounts assistant, Lena Ward, answers most questions within one working day.
"""

# corpus folder -> {file name: (format, source text)}
GENERATED: dict[str, dict[str, tuple[str, str]]] = {
    "prose_flower_shop": {
        "delivery-and-returns.pdf": ("pdf", FLOWER_DELIVERY_PDF),
        "care-guide.docx": ("docx", FLOWER_CARE_DOCX),
    },
    "prose_game_lore": {
        "items-and-crafting.pdf": ("pdf", GAME_ITEMS_PDF),
        "regions-and-factions.docx": ("docx", GAME_REGIONS_DOCX),
    },
    "prose_company_handbook": {
        "leave-policy.pdf": ("pdf", HANDBOOK_LEAVE_PDF),
        "benefits.pdf": ("pdf", HANDBOOK_BENEFITS_PDF),
        "expenses-policy.docx": ("docx", HANDBOOK_EXPENSES_DOCX),
    },
}

CORPORA = ["prose_flower_shop", "prose_game_lore", "prose_company_handbook"]
DOC_EXTS = {".md", ".txt", ".html", ".htm", ".pdf", ".docx"}

# --------------------------------------------------------------------------------------
# Mini-markup parser
# --------------------------------------------------------------------------------------


def parse_blocks(src: str) -> list[tuple[str, object]]:
    """Return a list of (kind, payload) blocks: title, h2, h3, bullet, para, table."""
    blocks: list[tuple[str, object]] = []
    para: list[str] = []
    table: list[list[str]] = []

    def flush() -> None:
        nonlocal para, table
        if para:
            blocks.append(("para", " ".join(para)))
            para = []
        if table:
            blocks.append(("table", table))
            table = []

    for raw in src.splitlines():
        line = raw.strip()
        if not line:
            flush()
        elif line.startswith("|"):
            if para:
                blocks.append(("para", " ".join(para)))
                para = []
            table.append([c.strip() for c in line.strip("|").split("|")])
        elif line.startswith("### "):
            flush()
            blocks.append(("h3", line[4:]))
        elif line.startswith("## "):
            flush()
            blocks.append(("h2", line[3:]))
        elif line.startswith("# "):
            flush()
            blocks.append(("title", line[2:]))
        elif line.startswith("- "):
            flush()
            blocks.append(("bullet", line[2:]))
        else:
            para.append(line)
    flush()
    return blocks


# --------------------------------------------------------------------------------------
# Renderers
# --------------------------------------------------------------------------------------

_LATIN1_MAP = {
    "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
    "\u2013": "-", "\u2014": "-", "\u2026": "...", "\u00a0": " ",
}


def to_latin1(text: str) -> str:
    for k, v in _LATIN1_MAP.items():
        text = text.replace(k, v)
    text.encode("latin-1")  # raises if something unsupported slipped in
    return text


def render_pdf(src: str, out: Path) -> None:
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    blocks = parse_blocks(src)
    title = next(str(p) for k, p in blocks if k == "title")

    class Doc(FPDF):
        def footer(self) -> None:  # noqa: D401 - fpdf hook
            self.set_y(-15)
            self.set_font("Helvetica", "I", 8)
            self.set_text_color(110, 110, 110)
            self.cell(0, 10, f"Page {self.page_no()} of {{nb}}", align="C")

    pdf = Doc(format="A4")
    pdf.set_creation_date(FIXED_DATE)
    pdf.set_title(to_latin1(title))
    pdf.set_author("RAG-FT Lab sample data")
    pdf.set_creator("sample_data/build_prose.py")
    pdf.set_producer("fpdf2")
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.set_margins(20, 20, 20)
    pdf.add_page()
    nl = {"new_x": XPos.LMARGIN, "new_y": YPos.NEXT}
    for kind, payload in blocks:
        if kind == "table":
            raise ValueError("tables are not supported in PDF sources")
        text = to_latin1(str(payload))
        pdf.set_text_color(0, 0, 0)
        if kind == "title":
            pdf.set_font("Helvetica", "B", 17)
            pdf.multi_cell(0, 8, text, **nl)
            pdf.ln(4)
        elif kind == "h2":
            if pdf.get_y() > pdf.h - 50:  # keep a heading with the text that follows it
                pdf.add_page()
            pdf.ln(3)
            pdf.set_font("Helvetica", "B", 13)
            pdf.multi_cell(0, 7, text, **nl)
            pdf.ln(1)
        elif kind == "h3":
            if pdf.get_y() > pdf.h - 45:
                pdf.add_page()
            pdf.ln(1)
            pdf.set_font("Helvetica", "B", 11)
            pdf.multi_cell(0, 6, text, **nl)
        elif kind == "bullet":
            pdf.set_font("Helvetica", "", 10.5)
            pdf.set_x(pdf.l_margin + 4)
            pdf.multi_cell(0, 5.5, "- " + text, **nl)
            pdf.ln(1)
        else:
            pdf.set_font("Helvetica", "", 10.5)
            pdf.multi_cell(0, 5.5, text, **nl)
            pdf.ln(2.5)
    pdf.output(str(out))


def _normalise_zip(path: Path) -> None:
    """Rewrite a zip (DOCX) with fixed timestamps and order, for reproducible output."""
    with zipfile.ZipFile(path) as zin:
        items = [(i.filename, zin.read(i.filename)) for i in zin.infolist()]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in items:
            info = zipfile.ZipInfo(name, date_time=(2025, 1, 6, 9, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zout.writestr(info, data)
    path.write_bytes(buf.getvalue())


def render_docx(src: str, out: Path) -> None:
    import docx

    document = docx.Document()
    naive = FIXED_DATE.replace(tzinfo=None)
    cp = document.core_properties
    cp.author = "RAG-FT Lab sample data"
    cp.last_modified_by = "sample_data/build_prose.py"
    cp.created = naive
    cp.modified = naive
    cp.revision = 1
    for kind, payload in parse_blocks(src):
        if kind == "title":
            cp.title = str(payload)
            document.add_heading(str(payload), level=0)
        elif kind == "h2":
            document.add_heading(str(payload), level=1)
        elif kind == "h3":
            document.add_heading(str(payload), level=2)
        elif kind == "bullet":
            document.add_paragraph(str(payload), style="List Bullet")
        elif kind == "table":
            rows = payload  # type: ignore[assignment]
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            table.style = "Table Grid"
            for r, row in enumerate(rows):
                for c, cell_text in enumerate(row):
                    cell = table.cell(r, c)
                    cell.text = cell_text
                    if r == 0:
                        for run in cell.paragraphs[0].runs:
                            run.bold = True
        else:
            document.add_paragraph(str(payload))
    document.save(str(out))
    _normalise_zip(out)


def build() -> None:
    for corpus, files in GENERATED.items():
        folder = HERE / corpus
        folder.mkdir(parents=True, exist_ok=True)
        for name, (fmt, src) in files.items():
            out = folder / name
            if fmt == "pdf":
                render_pdf(src, out)
            else:
                render_docx(src, out)
            print(f"wrote {out.relative_to(HERE.parent)}")


# --------------------------------------------------------------------------------------
# Text extraction and checks
# --------------------------------------------------------------------------------------


def extract_text(path: Path) -> str:
    ext = path.suffix.lower()
    if ext == ".pdf":
        from pypdf import PdfReader

        reader = PdfReader(str(path))
        return "\n".join(page.extract_text() or "" for page in reader.pages)
    if ext == ".docx":
        import docx

        d = docx.Document(str(path))
        parts = [p.text for p in d.paragraphs]
        for table in d.tables:
            for row in table.rows:
                for cell in row.cells:
                    parts.append(cell.text)
        return "\n".join(parts)
    if ext in {".html", ".htm"}:
        from bs4 import BeautifulSoup

        soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
        for tag in soup(["script", "style"]):
            tag.decompose()
        return soup.get_text("\n")
    return path.read_text(encoding="utf-8")


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def page_count(path: Path, words: int) -> str:
    if path.suffix.lower() == ".pdf":
        from pypdf import PdfReader

        return f"{len(PdfReader(str(path)).pages)} pages"
    n = max(1, round(words / 450))
    return f"~{n} page{'s' if n != 1 else ''} (estimated at 450 words/page)"


def check() -> int:
    failures = 0
    grand_words = 0
    for corpus in CORPORA:
        folder = HERE / corpus
        docs = sorted(p for p in folder.iterdir() if p.suffix.lower() in DOC_EXTS)
        texts = {p.name: extract_text(p) for p in docs}
        normed = {k: norm(v) for k, v in texts.items()}
        total = 0
        print(f"\n== {corpus} ==")
        meta = json.loads((folder / "corpus.json").read_text(encoding="utf-8"))
        for key in ("title", "description", "builtin_model_reads", "kind"):
            if key not in meta:
                print(f"  FAIL corpus.json missing {key!r}")
                failures += 1
        if meta.get("kind") != "prose" or meta.get("builtin_model_reads") is not False:
            print("  FAIL corpus.json: expected kind 'prose' and builtin_model_reads false")
            failures += 1
        for p in docs:
            words = len(normed[p.name].split())
            total += words
            print(f"  {p.name:32s} {p.suffix[1:]:5s} {words:5d} words  {page_count(p, words)}")
        grand_words += total
        print(f"  total: {total} words in {len(docs)} files")

        qa_path = folder / "qa.jsonl"
        if not qa_path.exists():
            print("  FAIL qa.jsonl missing")
            failures += 1
            continue
        rows = [json.loads(line) for line in qa_path.read_text(encoding="utf-8").splitlines() if line.strip()]
        ok = 0
        seen_questions: set[str] = set()
        for i, row in enumerate(rows, 1):
            problems = []
            for key in ("question", "answer", "value", "supporting_text", "paraphrases", "document"):
                if key not in row:
                    problems.append(f"missing {key}")
            if problems:
                print(f"  FAIL row {i}: {problems}")
                failures += 1
                continue
            doc = row["document"]
            st = norm(row["supporting_text"])
            if doc not in normed:
                problems.append(f"unknown document {doc!r}")
            elif st not in normed[doc]:
                problems.append("supporting_text not found verbatim in document")
            if row["value"] not in row["supporting_text"]:
                problems.append(f"value {row['value']!r} not in supporting_text")
            if not 60 <= len(row["supporting_text"]) <= 300:
                problems.append(f"supporting_text length {len(row['supporting_text'])} outside 60-300")
            paras = row["paraphrases"]
            if not isinstance(paras, list) or len(paras) < 2:
                problems.append("fewer than 2 paraphrases")
            elif len({norm(q).lower() for q in [row["question"], *paras]}) != len(paras) + 1:
                problems.append("duplicate paraphrase")
            if row["question"].lower() in seen_questions:
                problems.append("duplicate question")
            seen_questions.add(row["question"].lower())
            if problems:
                failures += 1
                print(f"  FAIL row {i} ({row['question'][:60]}): {'; '.join(problems)}")
            else:
                ok += 1
        print(f"  qa.jsonl: {ok}/{len(rows)} rows pass")
        if not 25 <= len(rows) <= 40:
            print(f"  FAIL qa.jsonl has {len(rows)} rows (want 25-40)")
            failures += 1
    print(f"\nall corpora: {grand_words} words; {'OK' if failures == 0 else f'{failures} FAILURES'}")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="verify qa.jsonl rows against the documents (no rebuild)")
    args = ap.parse_args(argv)
    if args.check:
        return check()
    build()
    return 0


if __name__ == "__main__":
    sys.exit(main())
