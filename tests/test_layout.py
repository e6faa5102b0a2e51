"""The core's layout: ``core/`` stays tidy, and the worked examples in docstrings run."""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import pkgutil
import re

import pytest

import core
from tests.helpers import ROOT

# what ``ls core/`` shows a newcomer: the five subpackages, the modules that use them all, and the CLI
TOP_LEVEL = {"__init__.py", "__main__.py", "answering.py", "decision.py", "errors.py", "evaluation.py",
             "evaluation_job.py", "experiments.py", "failures.py", "knobs.py", "report.py", "room.py", "scoring.py", "warmup.py",
             "cli", "finetune", "llm", "questions", "rag", "runtime", "world"}


def test_core_top_level_holds_only_the_expected_entries():
    entries = {p.name for p in (ROOT / "core").iterdir() if p.name != "__pycache__"}
    assert entries <= TOP_LEVEL, f"new top-level entries in core/: {sorted(entries - TOP_LEVEL)}; " \
                                 "put them in a subpackage (or add them here on purpose)"


def _core_modules() -> list[str]:
    names = ["core"] + [m.name for m in pkgutil.walk_packages(core.__path__, "core.")]
    return [n for n in names if not n.endswith("__main__")]


@pytest.mark.parametrize("name", _core_modules())
def test_docstring_examples_run(name):
    """The ``>>>`` examples in core's docstrings are documentation that is checked, not decoration."""
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, report=True)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name} (see the output)"


def test_every_page_file_is_in_the_registry_once():
    from ui.navigation import PAGES

    files = [p.file for p in PAGES]
    assert sorted(files) == sorted(f"pages/{p.name}" for p in (ROOT / "pages").glob("*.py"))
    assert len({p.key for p in PAGES}) == len(PAGES)


def _first_statement(path) -> str:
    """The first module-level statement after the docstring and the imports, as source."""
    import ast

    body = [n for n in ast.parse(path.read_text()).body if not isinstance(n, (ast.Import, ast.ImportFrom))
            and not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]
    return ast.unparse(body[0]) if body else ""


@pytest.mark.parametrize("page", sorted(p.name for p in (ROOT / "pages").glob("*.py")))
def test_every_page_runs_through_app_first(page):
    """A restarted server's first runs may execute a page file without app.py (ui/entry.py says why)."""
    assert _first_statement(ROOT / "pages" / page) == "through_app()"


def test_page_routing_is_handled_in_one_place():
    """Only ui/entry.py touches Streamlit's private page-routing flag."""
    sources = [ROOT / "app.py", *(ROOT / "ui").rglob("*.py"), *(ROOT / "pages").glob("*.py"), *(ROOT / "core").rglob("*.py")]
    touching = sorted(str(p.relative_to(ROOT)) for p in sources if "uses_pages_directory" in p.read_text())
    assert touching == ["ui/entry.py"]


MAX_LINES = 400
DATA_TABLES = {"core/world/templates.py"}  # word pools and sentence templates: data, not ideas


def test_no_module_in_core_or_ui_holds_more_than_400_lines():
    """One idea per module: a module past 400 lines holds several (split it along the data flow)."""
    long = sorted(f"{p.relative_to(ROOT)} ({n})" for folder in ("core", "ui") for p in (ROOT / folder).rglob("*.py")
                  if (n := len(p.read_text().splitlines())) > MAX_LINES
                  and str(p.relative_to(ROOT)) not in DATA_TABLES)
    assert not long, long


def test_views_draw_what_they_are_given():
    """``ui/*_views.py`` are render-only: they never read or write the session (sections and pages do, through
    ``ui/state.py`` and ``ui/session_resources.py``), and cached loaders live in ``ui/resources.py``."""
    touching = [p.name for p in sorted((ROOT / "ui").glob("*_views.py"))
                if re.search(r"session_state|\bss\[|\bss\.(get|pop|setdefault)\(|cache_resource", p.read_text())]
    assert not touching, touching


def test_tests_mirror_the_code_and_import_no_other_test_module():
    """``tests/core/rag/`` tests ``core/rag/``: a folder of tests names a package that exists, and a test module
    takes what it shares from ``conftest.py``, ``helpers.py`` or ``tiny_models.py``, never from another test."""
    tests = ROOT / "tests"
    for folder in (tests / "core").rglob("*"):
        if folder.is_dir() and folder.name != "__pycache__":
            assert (ROOT / folder.relative_to(tests)).is_dir(), f"{folder.relative_to(ROOT)} mirrors no package"
    for extra in ("recipes", "ui", "pages"):
        assert (ROOT / extra).is_dir()
    test_import = re.compile(r"^\s*(?:from|import) tests\.(?:[\w.]+\.)?test_\w+", re.M)
    offenders = [str(p.relative_to(ROOT)) for p in tests.rglob("*.py") if test_import.search(p.read_text())]
    assert not offenders, f"test modules importing another test module: {offenders}"


def test_cached_loaders_and_derived_data_live_in_ui_resources():
    """One home for what Streamlit caches across sessions: a cache elsewhere is a loader nobody finds."""
    places = [ROOT / "app.py", *(ROOT / "pages").glob("*.py"), *(ROOT / "ui").glob("*.py")]
    cached = re.compile(r"@st\.cache_(?:data|resource)")
    offenders = [p.name for p in places if p.name != "resources.py" and cached.search(p.read_text())]
    assert not offenders, f"Streamlit caches outside ui/resources.py: {offenders}"
