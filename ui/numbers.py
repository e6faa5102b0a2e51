"""Number boxes that never silently replace what was typed.

Streamlit's integer box reads ``1e30`` as 1 (``parseInt``) and an emptied box as its default: the box
shows one number and the Lab uses another, without a word. A whole-number setting is therefore a float
box (``1e30`` reaches the range check, and the box itself says "Number is outside the allowed range"),
required (an empty box says it needs a value instead of becoming the minimum), and a fraction is
refused here with a message under the box.
"""

from __future__ import annotations


def whole_number(container, label: str, lo: int, hi: int, key: str, help: str | None = None) -> int | None:
    """The box's whole number in [lo, hi], or None (with a message at the box) when it holds no such number."""
    value = container.number_input(label, float(lo), float(hi), value=None, step=1.0, format="%.0f", key=key,
                                   help=help, required=True)
    if value is None:
        container.error(f"{label}: type a whole number from {lo:,} to {hi:,}.")
        return None
    if value != int(value) or not lo <= value <= hi:
        container.error(f"{label} must be a whole number from {lo:,} to {hi:,} (got {value:g}).")
        return None
    return int(value)
