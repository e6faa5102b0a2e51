"""Number boxes that never silently replace what was typed: the one helper every page's number box goes through.

WHY: Streamlit's integer box reads ``1e30`` as 1 (``parseInt``) and an emptied box as its default (often its
minimum): the box shows one number and the Lab uses another, without a word. The rule, for every box:

- a whole-number setting is a float box shown without decimals, so ``1e30`` reaches the range check and the
  box itself says "Number is outside the allowed range" (it keeps what was typed, and nothing is sent);
- the box is required and has no default of its own (it starts at the session's value, seeded into the
  session state): an emptied box says it needs a value instead of jumping to its minimum;
- anything else the box cannot hold (a fraction in a whole-number box, a value out of range from a link or
  an older session) gets a message under the box, and the page is given None: it keeps its last good setting.
"""

from __future__ import annotations

import streamlit as st

from ui.state import sent_by_browser


def _shown(x: float) -> str:
    return f"{x:,.0f}" if float(x) == int(x) else f"{x:g}"


def number_box(container, label: str, lo: float, hi: float, key: str, value: float, *, step: float = 1,
               whole: bool = True, format: str | None = None, help: str | None = None) -> int | float | None:
    """The box's number in [lo, hi] (an int when ``whole``), or None with a message at the box.

    ``value`` is where the box starts when the session has no value for it yet (never shown as the minimum
    first). A value the browser sent for ``key`` in this run is never overwritten by it.
    """
    ss = st.session_state
    if key not in ss and key not in sent_by_browser():
        ss[key] = float(min(max(value, lo), hi))
    raw = container.number_input(label, float(lo), float(hi), value=None, step=float(step), key=key, help=help,
                                 format=format or ("%.0f" if whole else None), required=True)
    kind = "a whole number" if whole else "a number"
    if raw is None:
        container.error(f"{label}: type {kind} from {_shown(lo)} to {_shown(hi)}.")
        return None
    if (whole and raw != int(raw)) or not lo <= raw <= hi:
        container.error(f"{label} must be {kind} from {_shown(lo)} to {_shown(hi)} (got {raw:g}).")
        return None
    return int(raw) if whole else float(raw)
