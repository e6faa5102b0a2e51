"""The forgetting set: general questions a base model answers before any training.

A run measures how many of them it still answers (``general_recalled``) while it learns new facts, and
the Experiments page's forgetting check asks them before and after. Which set a model gets comes from
its profile's ``forgetting`` field: the tiny LM knows the invented world's general facts, a real
pretrained model knows everyday ones.

>>> [it.value for it in general_items("everyday")][:2]
['Paris', 'seven']
"""

from __future__ import annotations

from core.rag.corpora import QAItem

# Everyday facts a real pretrained model knows (written for the Lab); the built-in model knows
# the world's GENERAL_FACTS instead.
EVERYDAY_FACTS = [
    ("What is the capital of France?", "The capital of France is Paris.", "Paris"),
    ("How many days are there in a week?", "A week has seven days.", "seven"),
    ("What colour is the sky on a clear day?", "The sky on a clear day is blue.", "blue"),
    ("How many legs does a spider have?", "A spider has eight legs.", "eight"),
    ("What is the largest ocean on Earth?", "The largest ocean on Earth is the Pacific.", "Pacific"),
    ("Which planet do we live on?", "We live on Earth.", "Earth"),
]


def general_items(forgetting: str | bool = "world") -> list[QAItem]:
    """The forgetting check's general questions: ones the base model answers before any training.

    The built-in model knows the world's general facts (``core.world.GENERAL_FACTS``); a real
    model knows everyday facts. The fine-tuning page, the Experiments page and the bench all
    use this one list, so their ``general_recalled`` curves measure the same thing.
    """
    from core.world import GENERAL_FACTS

    if forgetting in (True, "world"):  # a profile's ``forgetting`` (True: the tiny LM's, as before profiles)
        return [QAItem(f["question"], f["answer"], f.get("value", "")) for f in GENERAL_FACTS]
    return [QAItem(q, a, v) for q, a, v in EVERYDAY_FACTS]
