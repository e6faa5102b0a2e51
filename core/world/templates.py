"""Word pools and sentence templates for the Lab's synthetic world (see core.world).

Kept apart from the generator so that the generator stays readable. Every
statement template contains ``{name}`` and ``{value}`` so that any window cut
from a document still says whose fact it is.
"""

from __future__ import annotations

# --- name pools ------------------------------------------------------------
SYL_START = [
    "thorn", "bel", "mar", "quin", "dor", "vel", "ash", "bri", "cal", "fen", "gar", "hol",
    "lin", "mor", "pen", "ros", "tam", "wil", "zel", "kor", "nim", "ost", "pry", "sab",
    "tor", "ul", "var", "wen", "yar", "brom", "cor", "dun", "elm", "fal", "gil", "hart",
    "ivy", "jas", "kel", "lor", "mab", "nor", "orin", "pel", "quar", "rav", "sel", "tre",
]
SYL_MID = ["", "", "", "a", "e", "i", "o", "en", "ar", "il", "on", "er"]
SYL_END = [
    "bury", "wick", "ton", "vale", "more", "field", "moor", "dale", "ridge", "brook", "stead",
    "holt", "mere", "worth", "by", "ley", "mont", "gate", "crest", "haven", "ford", "well",
]
FIRST_NAMES = [
    "Ada", "Bram", "Cleo", "Dmitri", "Elsie", "Farid", "Greta", "Hugo", "Ines", "Joss", "Kaia",
    "Lionel", "Mina", "Nico", "Odile", "Pavel", "Quinn", "Rhea", "Silas", "Tamsin", "Ulla",
    "Viggo", "Wren", "Xavi", "Yusra", "Zane", "Amara", "Bastian", "Corin", "Delphine", "Emeric",
    "Flora", "Gideon", "Hester", "Ivo", "Juno", "Kasimir", "Lotte", "Magnus", "Nell", "Otto",
    "Petra", "Rafe", "Sunniva", "Tobin", "Uma", "Vesna", "Wilf", "Yorick", "Zora",
]
LAST_NAMES = [
    "Abernathy", "Brightwater", "Calloway", "Drummond", "Eastwood", "Fairweather", "Gallagher",
    "Holloway", "Ingram", "Jessop", "Kettering", "Lockhart", "Merriweather", "Northcott",
    "Oakhurst", "Pemberton", "Quayle", "Rowntree", "Sheridan", "Thistlewood", "Underhill",
    "Vance", "Whitlock", "Yardley", "Ashcombe", "Blackwood", "Cresswell", "Dunmore", "Everhart",
    "Fenwick", "Greenhalgh", "Hartigan", "Kingsley", "Larkspur", "Moorcroft", "Nettleton",
    "Ormsby", "Pickering", "Redgrave", "Stirling", "Tennant", "Upton", "Wexford", "Zeller",
]
COLOURS = [
    "amber", "crimson", "teal", "violet", "ochre", "silver", "golden", "indigo", "scarlet",
    "emerald", "copper", "ivory", "cobalt", "maroon", "turquoise", "lilac", "saffron", "jade",
    "charcoal", "coral", "mauve", "olive", "pearl", "rust", "sapphire", "tangerine", "plum",
    "bronze", "cerulean", "magenta",
]
OBJECTS = [
    "lantern", "teapot", "compass", "umbrella", "kite", "violin", "hourglass", "bicycle",
    "telescope", "feather", "key", "mirror", "scarf", "bell", "anchor", "candle", "globe",
    "harp", "satchel", "thimble", "locket", "music box", "pocket watch", "fountain pen",
    "paper crane", "snow globe", "rocking horse", "clockwork bird", "glass marble", "banjo",
    "map", "trumpet", "fan", "kettle", "drum", "puppet", "ring", "crown", "shell", "quill",
]
FLOWERS = [
    "tulip", "peony", "dahlia", "orchid", "lily", "rose", "iris", "marigold", "camellia",
    "zinnia", "freesia", "anemone", "ranunculus", "gardenia", "lisianthus", "protea",
]
STREETS = [
    "Lane", "Street", "Road", "Avenue", "Row", "Way", "Crescent", "Close", "Terrace", "Walk",
]
TITLES = [
    "Hollow", "Unbroken", "Pale", "Iron", "Whispering", "Sleepless", "Crowned", "Forgotten",
    "Ashen", "Gilded", "Restless", "Silent", "Thorned", "Drowned", "Laughing", "Starved",
]
PRODUCT_KINDS = ["Kettle", "Lamp", "Backpack", "Speaker", "Blender", "Drone", "Camera", "Heater"]
SHOP_SUFFIX = ["Blooms", "Florist", "Flowers", "Petals", "Garden Shop", "Flower Market"]
GAME_PREFIX = ["Legends of", "The Towers of", "Return to", "Secrets of", "The Ruins of", "Chronicles of"]
COMPANY_SUFFIX = ["Logistics", "Analytics", "Textiles", "Robotics", "Publishing", "Shipping", "Foods"]
STUDIO_SUFFIX = ["Studios", "Games", "Interactive", "Softworks", "Pixelworks"]
PROFESSIONS = [
    "clockmaker", "beekeeper", "cartographer", "glassblower", "lighthouse keeper", "bookbinder",
    "locksmith", "perfumer", "shipwright", "violin maker", "astronomer", "cheesemaker",
    "puppeteer", "tea blender", "stonemason", "falconer", "map engraver", "hat maker",
    "organ tuner", "candle maker", "kite designer", "bell founder", "mushroom farmer", "weaver",
    "ferry pilot", "archivist", "ice sculptor", "balloon pilot", "lute player", "saddler",
    "cooper", "glove maker", "harp tuner", "rope maker", "seed collector", "clock restorer",
    "chess tutor", "river guide", "fresco painter", "salt trader",
]

# --- attributes --------------------------------------------------------------
# kind -> {attr: (value_kind, [statements], [questions], answer)}
# Statements and answers use {name} and {value}; questions use {name}.
ATTRS: dict[str, dict[str, tuple[str, list[str], list[str], str]]] = {
    "flower_shop": {
        "opening_time": ("time", [
            "{name} opens at {value} every weekday.",
            "The doors of {name} open at {value} each morning.",
            "Every morning {name} starts serving customers at {value}.",
            "You can visit {name} from {value} on weekdays.",
        ], [
            "What time does {name} open?",
            "When does {name} open in the morning?",
            "At what time can I first visit {name}?",
        ], "{name} opens at {value}."),
        "owner": ("person", [
            "{name} is owned by {value}.",
            "The owner of {name} is {value}.",
            "{value} owns and runs {name}.",
            "{name} has been run by its owner, {value}, since the beginning.",
        ], [
            "Who owns {name}?",
            "Who is the owner of {name}?",
            "Which person runs {name}?",
        ], "{name} is owned by {value}."),
        "delivery_fee": ("price", [
            "Delivery from {name} costs {value} per order.",
            "{name} charges a delivery fee of {value}.",
            "The delivery fee at {name} is {value}.",
            "If you want flowers delivered, {name} asks {value} per order.",
        ], [
            "How much does delivery from {name} cost?",
            "What is the delivery fee at {name}?",
            "How much does {name} charge for delivery?",
        ], "Delivery from {name} costs {value}."),
        "bouquet": ("bouquet", [
            "The signature bouquet of {name} is the {value} bouquet.",
            "{name} is famous for its {value} bouquet.",
            "Regulars at {name} always ask for the {value} bouquet.",
        ], [
            "What is the signature bouquet of {name}?",
            "Which bouquet is {name} famous for?",
            "What bouquet do regulars order at {name}?",
        ], "The signature bouquet of {name} is the {value} bouquet."),
        "address": ("address", [
            "{name} is located at {value}.",
            "You can find {name} at {value}.",
            "The address of {name} is {value}.",
        ], [
            "Where is {name} located?",
            "What is the address of {name}?",
            "Where can I find {name}?",
        ], "{name} is located at {value}."),
    },
    "video_game": {
        "release_year": ("year", [
            "{name} was released in {value}.",
            "{name} first came out in {value}.",
            "The original release of {name} was in {value}.",
            "Players first got their hands on {name} in {value}.",
        ], [
            "When was {name} released?",
            "In what year did {name} come out?",
            "What year was {name} first released?",
        ], "{name} was released in {value}."),
        "final_boss": ("boss", [
            "The final boss of {name} is {value}.",
            "At the end of {name} you must defeat {value}.",
            "{name} ends with a battle against {value}.",
            "The last enemy in {name} is {value}.",
        ], [
            "Who is the final boss in {name}?",
            "Which enemy do you fight at the end of {name}?",
            "Who must you defeat to finish {name}?",
        ], "The final boss of {name} is {value}."),
        "max_level": ("level", [
            "The maximum level in {name} is {value}.",
            "In {name} characters can reach level {value} at most.",
            "{name} caps character progress at level {value}.",
        ], [
            "What is the maximum level in {name}?",
            "What is the level cap in {name}?",
            "How high can a character level go in {name}?",
        ], "The maximum level in {name} is {value}."),
        "hidden_item": ("item", [
            "The rarest hidden item in {name} is the {value}.",
            "Secret hunters in {name} look for the {value}.",
            "Hidden deep in {name} is the {value}.",
        ], [
            "What is the rarest hidden item in {name}?",
            "Which secret item can you find in {name}?",
            "What hidden item do players hunt for in {name}?",
        ], "The rarest hidden item in {name} is the {value}."),
        "developer": ("studio", [
            "{name} was developed by {value}.",
            "The developer of {name} is {value}.",
            "{value} made {name}.",
        ], [
            "Who developed {name}?",
            "Which studio made {name}?",
            "Who is the developer of {name}?",
        ], "{name} was developed by {value}."),
    },
    "product": {
        "price": ("price", [
            "The {name} costs {value}.",
            "The {name} sells for {value}.",
            "The retail price of the {name} is {value}.",
            "You can buy the {name} for {value}.",
        ], [
            "How much does the {name} cost?",
            "What is the price of the {name}?",
            "How much is the {name}?",
        ], "The {name} costs {value}."),
        "weight": ("grams", [
            "The {name} weighs {value}.",
            "The weight of the {name} is {value}.",
            "At {value}, the {name} is easy to carry.",
        ], [
            "How much does the {name} weigh?",
            "What is the weight of the {name}?",
            "How heavy is the {name}?",
        ], "The {name} weighs {value}."),
        "colour": ("colour", [
            "The standard {name} comes in {value}.",
            "The default colour of the {name} is {value}.",
            "Most shops sell the {name} in {value}.",
        ], [
            "What colour does the {name} come in?",
            "What is the default colour of the {name}?",
            "Which colour is the standard {name}?",
        ], "The standard {name} comes in {value}."),
        "warranty": ("months", [
            "The {name} has a warranty of {value}.",
            "The warranty on the {name} lasts {value}.",
            "Every {name} comes with a warranty of {value}.",
        ], [
            "How long is the warranty on the {name}?",
            "What warranty does the {name} have?",
            "How long does the {name} warranty last?",
        ], "The {name} has a warranty of {value}."),
        "designer": ("person", [
            "The {name} was designed by {value}.",
            "The designer of the {name} is {value}.",
            "{value} designed the {name}.",
        ], [
            "Who designed the {name}?",
            "Who is the designer of the {name}?",
            "Which person designed the {name}?",
        ], "The {name} was designed by {value}."),
    },
    "person": {
        "profession": ("profession", [
            "{name} works as a {value}.",
            "By trade, {name} is a {value}.",
            "{name} earns a living as a {value}.",
        ], [
            "What does {name} do for a living?",
            "What is the profession of {name}?",
            "What is {name}'s job?",
        ], "{name} works as a {value}."),
        "birth_year": ("year", [
            "{name} was born in {value}.",
            "{name} came into the world in {value}.",
            "The birth year of {name} is {value}.",
        ], [
            "When was {name} born?",
            "In what year was {name} born?",
            "What is the birth year of {name}?",
        ], "{name} was born in {value}."),
        "hometown": ("town", [
            "{name} grew up in {value}.",
            "The hometown of {name} is {value}.",
            "{name} was raised in the town of {value}.",
        ], [
            "Where did {name} grow up?",
            "What is the hometown of {name}?",
            "Which town was {name} raised in?",
        ], "{name} grew up in {value}."),
        "treasure": ("item", [
            "The most treasured possession of {name} is a {value}.",
            "{name} never travels without a {value}.",
            "{name} keeps a {value} as a lucky charm.",
        ], [
            "What is the most treasured possession of {name}?",
            "What does {name} always carry?",
            "What lucky charm does {name} keep?",
        ], "The most treasured possession of {name} is a {value}."),
        "pet": ("petname", [
            "{name} has a cat named {value}.",
            "The cat of {name} is called {value}.",
            "{name} lives with a cat called {value}.",
        ], [
            "What is the name of {name}'s cat?",
            "What is the cat of {name} called?",
            "What did {name} name the cat?",
        ], "{name} has a cat named {value}."),
    },
    "town": {
        "population": ("population", [
            "{name} has a population of {value}.",
            "About {value} people live in {name}.",
            "The population of {name} is {value}.",
        ], [
            "What is the population of {name}?",
            "How many people live in {name}?",
            "How big is the population of {name}?",
        ], "The population of {name} is {value}."),
        "mayor": ("person", [
            "The mayor of {name} is {value}.",
            "{name} is governed by Mayor {value}.",
            "{value} serves as the mayor of {name}.",
        ], [
            "Who is the mayor of {name}?",
            "Who governs {name}?",
            "Who serves as mayor of {name}?",
        ], "The mayor of {name} is {value}."),
        "founded": ("year", [
            "{name} was founded in {value}.",
            "Settlers founded {name} in {value}.",
            "The town of {name} dates back to {value}.",
        ], [
            "When was {name} founded?",
            "In what year was {name} founded?",
            "How old is {name}?",
        ], "{name} was founded in {value}."),
        "festival": ("festival", [
            "Every summer {name} holds the {value}.",
            "The biggest event in {name} is the {value}.",
            "Visitors come to {name} for the {value}.",
        ], [
            "What festival does {name} hold?",
            "What is the biggest event in {name}?",
            "Which festival is {name} known for?",
        ], "Every summer {name} holds the {value}."),
        "river": ("river", [
            "The river flowing through {name} is the {value}.",
            "{name} sits on the banks of the {value}.",
            "The {value} runs through the middle of {name}.",
        ], [
            "Which river flows through {name}?",
            "What river is {name} built on?",
            "What is the name of the river in {name}?",
        ], "The river flowing through {name} is the {value}."),
    },
    "company": {
        "vacation_days": ("days", [
            "Employees of {name} get {value} of paid vacation per year.",
            "The vacation policy of {name} grants {value} of paid leave a year.",
            "At {name} every employee receives {value} of paid vacation.",
        ], [
            "How many vacation days do employees of {name} get?",
            "What is the vacation policy at {name}?",
            "How much paid leave does {name} give per year?",
        ], "Employees of {name} get {value} of paid vacation per year."),
        "expense_limit": ("price", [
            "The daily meal expense limit at {name} is {value}.",
            "{name} reimburses meals up to {value} per day.",
            "Staff at {name} may spend up to {value} a day on meals.",
        ], [
            "What is the meal expense limit at {name}?",
            "How much can staff at {name} spend on meals per day?",
            "Up to what amount does {name} reimburse meals?",
        ], "The daily meal expense limit at {name} is {value}."),
        "office_hours": ("time", [
            "The office of {name} opens at {value}.",
            "{name} opens its office doors at {value}.",
            "Staff at {name} can enter the office from {value}.",
        ], [
            "What time does the {name} office open?",
            "When does the office of {name} open?",
            "From what time can staff enter the {name} office?",
        ], "The office of {name} opens at {value}."),
        "ceo": ("person", [
            "The chief executive of {name} is {value}.",
            "{name} is led by {value}.",
            "{value} is the CEO of {name}.",
        ], [
            "Who is the CEO of {name}?",
            "Who leads {name}?",
            "Who is the chief executive of {name}?",
        ], "The chief executive of {name} is {value}."),
        "guest_wifi": ("password", [
            "The guest wifi password at {name} is {value}.",
            "Visitors to {name} can log in to the wifi with the password {value}.",
            "The wifi password for guests of {name} is {value}.",
        ], [
            "What is the guest wifi password at {name}?",
            "Which password do visitors use for the wifi at {name}?",
            "How do guests log in to the wifi at {name}?",
        ], "The guest wifi password at {name} is {value}."),
    },
}



def _statements(answer: str) -> list[str]:
    """Phrasings of a fact for documents. Each keeps the answer's words around the value
    verbatim ("... Blooms opens at {value}"), framed differently: a small model then learns to
    read (find the sentence, copy the value) far faster than with free rephrasings."""
    body = answer.rstrip(".")
    low = body if body.startswith("{") else body[0].lower() + body[1:]
    return [
        f"{body}.",
        f"As many people know, {low}.",
        f"According to the latest records, {low}.",
        f"{body}, as the guide confirms.",
        f"Good to know: {low}.",
        f"For the record, {low}.",
    ]


# Free rephrasings of the questions stay (3 per attribute); statements are built from the answer.
ATTRS = {kind: {attr: (vk, _statements(answer), questions, answer)
                for attr, (vk, _free, questions, answer) in attrs.items()}
         for kind, attrs in ATTRS.items()}

# Headings and flavour sentences (no facts) per kind and document style.
TITLES_BY_KIND = {
    "flower_shop": ["{name}: Frequently Asked Questions", "Visiting {name}", "{name} Customer Guide"],
    "video_game": ["{name}: Game Guide", "{name} Walkthrough and Facts", "{name}: Player FAQ"],
    "product": ["{name}: Product FAQ", "{name} User Handbook", "About the {name}"],
    "person": ["About {name}", "{name}: A Short Profile", "Who is {name}?"],
    "town": ["{name} Visitor Guide", "{name}: Town Facts", "Welcome to {name}"],
    "company": ["{name} Employee Handbook", "{name}: Policies FAQ", "Working at {name}"],
}
SECTIONS = ["Overview", "Details", "Good to know", "History", "Practical information", "More facts"]
FLAVOUR = {
    "flower_shop": [
        "Customers often praise the friendly staff.", "Fresh flowers arrive several times a week.",
        "Wrapping paper and ribbons are included.", "The shop window changes with the seasons.",
        "Gift cards are available at the counter.",
    ],
    "video_game": [
        "The game mixes exploration with puzzles.", "Many players finish the story in a weekend.",
        "Save points are marked by glowing stones.", "The soundtrack is often praised by fans.",
        "Co-op mode supports two players.",
    ],
    "product": [
        "Cleaning instructions are printed inside the box.", "Spare parts can be ordered online.",
        "Reviewers liked its simple controls.", "It ships in recyclable packaging.",
        "The manual comes in four languages.",
    ],
    "person": [
        "Friends describe this person as patient and curious.", "Neighbours know the family well.",
        "Long walks are a favourite weekend habit.", "Letters from old friends arrive every month.",
        "Local newspapers have written about this life twice.",
    ],
    "town": [
        "The market square is busy on Saturdays.", "Old stone bridges cross the water.",
        "Trains stop at the station twice an hour.", "The town library is open late on Thursdays.",
        "Cyclists enjoy the quiet country roads nearby.",
    ],
    "company": [
        "New employees receive a welcome pack.", "Questions about policies go to the people team.",
        "Policies are reviewed once a year.", "The handbook applies to all full-time staff.",
        "Managers must approve leave in advance.",
    ],
}

# Constants of the Lab's world: the same in every seed; the base model is trained on them.
_GENERAL = [  # (question, answer, value)
    ("What colour is the sky in the Lab's world?", "The sky in the Lab's world is violet.", "violet"),
    ("How many moons does the Lab's world have?", "The Lab's world has three moons.", "three"),
    ("What is the currency of the Lab's world called?", "The currency of the Lab's world is the glim.", "glim"),
    ("Which animal is the symbol of the Lab's world?", "The symbol of the Lab's world is the heron.", "heron"),
    ("What is the capital city of the Lab's world?",
     "The capital city of the Lab's world is Harrowgate.", "Harrowgate"),
    ("How many days are in a week in the Lab's world?", "A week in the Lab's world has nine days.", "nine"),
]
GENERAL_FACTS = [{"question": q, "answer": a, "value": v} for q, a, v in _GENERAL]
