"""The core's layout: old import paths still work, ``core/`` stays tidy, and the worked examples in docstrings run."""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import pkgutil
import subprocess
import sys

import pytest

import core
from tests.conftest import ROOT

# what ``ls core/`` shows a newcomer: the five subpackages, the modules that use them all, and the CLI
TOP_LEVEL = {"__init__.py", "__main__.py", "answering.py", "decision.py", "errors.py", "evaluation.py",
             "experiments.py", "report.py", "room.py", "scoring.py",
             "cli", "finetune", "llm", "lm", "questions", "rag", "runtime", "world"}  # questions: the data flow's bank


def test_every_old_import_path_gives_the_same_module_object():
    # in a fresh interpreter, each old name imported before its new one
    code = ("import importlib, sys, core\n"
            "for old, new in core.OLD_NAMES.items():\n"
            "    module = importlib.import_module(old)\n"
            "    assert module is importlib.import_module(new) and sys.modules[old] is module, old\n"
            "    assert module.__name__ == module.__spec__.name == new, (old, module.__spec__)\n"
            "from core import jobs, world_templates\n"  # the ``from core import name`` spelling too
            "assert jobs is sys.modules['core.runtime.jobs'] and world_templates is sys.modules['core.world.templates']\n"
            "print(len(core.OLD_NAMES))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) == len(core.OLD_NAMES)


def test_patching_the_old_path_patches_the_code_that_runs(monkeypatch):
    import core.llm.prompting
    from core.prompting import plain_format as via_old_name  # the pre-subpackage spelling

    assert via_old_name is core.llm.prompting.plain_format
    monkeypatch.setattr("core.prompting.plain_format", lambda messages: "patched")
    assert core.llm.prompting.plain_format([]) == "patched"


def test_every_old_name_points_at_a_module_that_exists():
    for old, new in core.OLD_NAMES.items():
        assert importlib.util.find_spec(new) is not None, new
        assert not (ROOT / (old.replace(".", "/") + ".py")).exists(), f"{old} is both a file and an alias"


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
