"""The class quiz: learners predict which systems will answer each question right, then see the answers.

Predict-then-reveal makes the lesson stick: a guess you committed to before the answer is a guess you
check. A prediction is one yes/no per (question, system): "RAG will get this right", "base will not".

>>> quiz_score({0: ["rag"]}, {0: {"base": False, "rag": True, "lora": True}})
{'right': 2, 'total': 3, 'share': 0.667, 'by_system': {'base': [1, 1], 'rag': [1, 1], 'lora': [0, 1]}}
"""

from __future__ import annotations

import random
from typing import Sequence


def quiz_score(predicted: dict[int, Sequence[str]], outcomes: dict[int, dict[str, bool]]) -> dict:
    """``{"right", "total", "share", "by_system": {system: [right, total]}}`` over every (question, system)."""
    right, total, by_system = 0, 0, {}
    for i, systems in outcomes.items():
        chosen = set(predicted.get(i, ()))
        for system, correct in systems.items():
            hit = (system in chosen) == bool(correct)
            right, total = right + hit, total + 1
            counts = by_system.setdefault(system, [0, 0])
            counts[0], counts[1] = counts[0] + hit, counts[1] + 1
    return {"right": right, "total": total, "share": round(right / total, 3) if total else 0.0, "by_system": by_system}


def quiz_questions(n_items: int, n: int, seed: int, prefer: Sequence[int] = ()) -> list[int]:
    """``n`` question indices for one round: the ``prefer``red ones (held-out wordings) first, then at random.

    >>> quiz_questions(10, 3, seed=1, prefer=[7])[0]
    7
    """
    rng = random.Random(seed)
    rest = [i for i in range(n_items) if i not in set(prefer)]
    rng.shuffle(rest)
    first = list(prefer)
    rng.shuffle(first)
    return (first + rest)[: max(0, n)]
