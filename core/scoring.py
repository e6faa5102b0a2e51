"""Is this answer correct? Every correctness predicate of the Lab, and the ONE rule the numbers use.

**The rule** (``is_correct``): an answer is correct when, after normalising both (lower case,
runs of spaces and line breaks collapsed to one space, outer punctuation trimmed from the
target), the answer *mentions the target as a whole value*: not inside a longer word or number.
"Facts recalled" in the training curve, batch accuracy, the answer verdicts on the Answers and
Fine-tuning pages, the knowledge-update verdict, the CLI and ``recipes.evaluate`` all call it,
so the same answer gets the same mark everywhere.

Why whole values: a plain substring test calls "$129.50" correct for "$12" and "2012" correct
for "12"; a test without normalising calls "It opens at 8:30  am." wrong for "8:30 am".

>>> is_correct("It opens at 8:30  AM.", "8:30 am"), is_correct("It costs $129.50.", "$12")
(True, False)
>>> is_correct("Ada\\nVance owns it", "Ada Vance"), is_correct("Adam Vance owns it", "Ada")
(True, False)

The other predicates: ``contains`` (a plain normalised substring, for faithfulness-style
checks), ``exact_match`` (the whole answer is the target) and ``is_relevant`` (a retrieved
chunk holds the evidence for a Q&A item).
"""

from __future__ import annotations

import re

__all__ = ["contains", "exact_match", "is_correct", "is_relevant", "mentions", "normalise", "trim", "value_pattern"]


def normalise(text: str) -> str:
    """Lower-case, collapse whitespace (spaces, tabs, line breaks): how answers and passages are compared."""
    return re.sub(r"\s+", " ", text).strip().lower()


def trim(text: str) -> str:
    """``normalise`` and strip outer punctuation and quotes: ``' "8:30 AM." '`` → ``'8:30 am'``."""
    return normalise(text).strip(" .,;:!?\"'")


def value_pattern(value: str) -> re.Pattern:
    """``value`` as a whole token run: not inside a longer word or number (case-insensitive).

    >>> bool(value_pattern("12").search("in 2012")), bool(value_pattern("$12").search("costs $12."))
    (False, True)
    """
    return re.compile(rf"(?<!\w)(?<!\w[.,]){re.escape(value.strip())}(?!\w|[.,]\w)", re.IGNORECASE)


def exact_match(answer: str, target: str) -> bool:
    """Equal after normalising and trimming outer punctuation."""
    return bool(target.strip()) and trim(answer) == trim(target)


def contains(answer: str, target: str) -> bool:
    """The normalised target occurs anywhere in the normalised answer (also inside a longer value)."""
    return bool(target.strip()) and trim(target) in normalise(answer)


def mentions(answer: str, target: str) -> bool:
    """A stricter ``contains``: the target occurs as a whole ("129" and "2012" do not mention "12";
    "$12.50" does not mention "$12")."""
    target = trim(target)
    return bool(target) and value_pattern(target).search(normalise(answer)) is not None


def is_correct(answer: str, target) -> bool:
    """THE correctness rule of the Lab (see the module docstring). ``target``: the short value, or a
    Q&A item (its ``target`` is used)."""
    return mentions(answer, getattr(target, "target", target))


def is_relevant(chunk, item) -> bool:
    """A chunk supports an answer if it comes from the right document and holds the evidence.

    Evidence is the whole ``supporting_text`` or, when that is cut by a chunk boundary or
    missing, the item's target as a whole value (the same test as ``is_correct``).
    """
    if item.document and chunk.doc_name != item.document:
        return False
    text = normalise(chunk.text)
    if item.supporting_text and normalise(item.supporting_text) in text:
        return True
    return is_correct(chunk.text, item)
