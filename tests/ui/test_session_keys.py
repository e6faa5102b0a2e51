"""Session state has one declaration (ui/session_keys.py): every key read or written by name is in it.

The scan reads app.py, ui/ and pages/ as source: ``ss["k"]``, ``ss.get("k")``, ``ss.setdefault``,
``ss.pop``, ``"k" in ss``, ``ss.update(k=…)`` and ``st.session_state.k``, where ``ss`` is
``st.session_state`` or ``session()``. A key built with an f-string is matched against ``FAMILIES``
(each ``{part}`` stands for any text); a name that holds an f-string in the same function is followed.
"""

from __future__ import annotations

import ast
import re

from tests.helpers import ROOT
from ui.session_keys import FAMILIES, KEPT, KEPT_WIDGETS, SessionState

SOURCES = [ROOT / "app.py", *sorted((ROOT / "ui").rglob("*.py")), *sorted((ROOT / "pages").glob("*.py"))]
ALIASES = {"ss"}  # the name every module gives st.session_state
DECLARED = set(SessionState.__annotations__)


def _is_state(node: ast.AST) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "session_state") or \
        (isinstance(node, ast.Name) and node.id in ALIASES) or \
        (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "session")


def _text(node: ast.AST, names: dict[str, ast.AST]) -> str | None:
    """The key as text, ``{}`` for each interpolated part; None when it is not known from the source."""
    if isinstance(node, ast.Name) and node.id in names:
        node = names[node.id]
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    return None


def _strings(scope: ast.AST) -> dict[str, ast.AST]:
    """Names bound to a string or an f-string in this scope (the last binding wins)."""
    return {t.id: n.value for n in ast.walk(scope) if isinstance(n, ast.Assign)
            and isinstance(n.value, (ast.Constant, ast.JoinedStr)) for t in n.targets if isinstance(t, ast.Name)}


def _keys_in(tree: ast.Module) -> set[str]:
    found: set[str] = set()
    module_names = {k: v for k, v in _strings(tree).items() if k.isupper() or k.startswith("_")}
    scopes = [tree, *(n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))]
    for scope in scopes:
        names = {**module_names, **(_strings(scope) if scope is not tree else {})}
        for n in ast.walk(scope):
            key = None
            if isinstance(n, ast.Subscript) and _is_state(n.value):
                key = _text(n.slice, names)
            elif isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and _is_state(n.func.value):
                if n.func.attr in ("get", "setdefault", "pop") and n.args:
                    key = _text(n.args[0], names)
                elif n.func.attr == "update":
                    found |= {k.arg for k in n.keywords if k.arg}
            elif isinstance(n, ast.Compare) and isinstance(n.ops[0], (ast.In, ast.NotIn)) and _is_state(n.comparators[0]):
                key = _text(n.left, names)
            elif isinstance(n, ast.Attribute) and isinstance(n.value, ast.Attribute) and _is_state(n.value) \
                    and n.attr not in {"get", "setdefault", "pop", "update", "keys", "items", "values", "clear"}:
                key = n.attr
            if key is not None:
                found.add(key)
    return found


def _pattern(name: str) -> re.Pattern:
    return re.compile("".join(".+" if part.startswith("{") else re.escape(part)
                              for part in re.split(r"(\{[^}]*\})", name) if part))


def _declared(key: str) -> bool:
    if "{" not in key:
        return key in DECLARED or any(_pattern(f).fullmatch(key) for f in FAMILIES)
    return any(_pattern(key).fullmatch(f) for f in FAMILIES)  # e.g. f"{key}_train" where key is a family's name


def test_every_session_key_used_by_name_is_declared():
    used = {key: path for path in SOURCES for key in _keys_in(ast.parse(path.read_text()))}
    undeclared = sorted(f"{key} ({used[key].relative_to(ROOT)})" for key in used if not _declared(key))
    assert not undeclared, f"declare these in ui/session_keys.py (SessionState or FAMILIES): {undeclared}"


def test_every_declared_key_is_still_used():
    text = "\n".join(p.read_text() for p in SOURCES if p.name != "session_keys.py")
    stale = sorted(k for k in DECLARED if f'"{k}"' not in text and f"{k}=" not in text)
    assert not stale, f"no code uses these any more; remove them from ui/session_keys.py: {stale}"


def test_kept_keys_are_declared_and_the_state_module_keeps_exactly_them():
    from ui.state import CONFIGS, PLAIN_KEYS, WIDGET_KEYS

    assert set(KEPT) | set(KEPT_WIDGETS) <= DECLARED
    assert set(CONFIGS) | set(PLAIN_KEYS) == set(KEPT) and WIDGET_KEYS == KEPT_WIDGETS


def test_the_scan_finds_keys_in_every_form():
    tree = ast.parse('''
import streamlit as st
NAME = "_const"
def f(kind, ss):
    key = f"exp_job_{kind}"
    ss["a"], ss.get("b"), ss.setdefault("c", 1), ss.pop("d", None), "e" in ss, ss.update(g=1)
    st.session_state.h = 1
    ss[key], ss[NAME], ss[f"{key}_train"]
''')
    assert _keys_in(tree) == {"a", "b", "c", "d", "e", "g", "h", "exp_job_{}", "_const", "{}_train"}
    assert _declared("exp_job_{}") and _declared("{}_qb_editor") and not _declared("nowhere")
