"""Number boxes that never silently replace what was typed: the one helper every page's number box goes through.

WHY: Streamlit's integer box reads ``1e30`` as 1 (``parseInt``), and a box whose default is its minimum turns
an emptied box into that minimum: the box shows one number and the Lab uses another, without a word. The rule,
for every box:

- a whole-number setting is a float box shown as typed (``%g``: ``128``, and ``2.5`` is not shown rounded), so
  ``1e30`` reaches the range check: the box itself says "Number is outside the allowed range", keeps what was
  typed and sends nothing, so the Lab keeps the number it was using;
- the box's default is always the number in use (the session's value, else the page's starting value),
  never the minimum: an emptied box shows that number again, and a refreshed page never shows another;
- anything else the box cannot hold (a fraction in a whole-number box, an empty value from a link or an
  older session) gets a message under the box, and the page is given None: it keeps its last good setting.
"""

from __future__ import annotations

import streamlit as st


def _shown(x: float) -> str:
    return f"{x:,.0f}" if float(x) == int(x) else f"{x:g}"


def _usable(x, lo: float, hi: float) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and lo <= x <= hi


def number_box(container, label: str, lo: float, hi: float, key: str, value: float, *, step: float = 1,
               whole: bool = True, format: str | None = None, help: str | None = None) -> int | float | None:
    """The box's number in [lo, hi] (an int when ``whole``), or None with a message at the box.

    ``value`` is where the box starts when the session has no number for it yet.
    """
    in_use = st.session_state.get(key)
    default = in_use if _usable(in_use, lo, hi) else min(max(value, lo), hi)
    raw = container.number_input(label, float(lo), float(hi), value=float(default), step=float(step), key=key,
                                 help=help, format=format or ("%g" if whole else None))
    kind = "a whole number" if whole else "a number"
    if raw is None:
        container.error(f"{label}: type {kind} from {_shown(lo)} to {_shown(hi)}.")
        return None
    if (whole and raw != int(raw)) or not lo <= raw <= hi:
        container.error(f"{label} must be {kind} from {_shown(lo)} to {_shown(hi)} (got {raw:g}).")
        return None
    return int(raw) if whole else float(raw)
