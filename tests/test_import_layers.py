"""The import contract: pages → ui → core, the core's packages in the order of the data flow, and no circles.

A lower layer never imports a higher one (imports inside functions count too: they are still a dependency),
so ``core/rag`` can be read without ``core/llm``, and ``core/llm`` without the answers built on it.
"""

from __future__ import annotations

import grimp
import pytest

# top to bottom; a module may import its own layer or any layer below it
CORE_LAYERS = [
    ["core.cli", "core.warmup"],  # the commands and the warm-up
    ["core.report", "core.room", "core.knobs", "core.experiments", "core.failures", "core.evaluation",
     "core.evaluation_job",
     "core.decision"],
    ["core.answering", "core.questions"],
    ["core.finetune"],
    ["core.llm"],
    ["core.rag"],
    ["core.world", "core.runtime", "core.scoring", "core.errors"],
]
# inside a package, the modules in the order of its own data flow (the package's __init__ only re-exports)
PACKAGE_FLOWS = {
    "core.finetune": [["job", "presets"], ["training"], ["evaluate", "io"], ["step"], ["data"],
                      ["targets", "layers"], ["config", "forgetting"]],
}


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph("core", "ui", "recipes", cache_dir=None)


def layer_of(module: str) -> int | None:
    for i, layer in enumerate(CORE_LAYERS):
        if any(module == p or module.startswith(p + ".") for p in layer):
            return i
    return None


def test_every_core_module_has_a_layer(graph):
    unplaced = sorted(m for m in graph.modules if m.startswith("core.") and m.count(".") == 1 and layer_of(m) is None
                      and m not in ("core.__main__",))
    assert not unplaced, f"put these in CORE_LAYERS: {unplaced}"


def test_no_core_module_imports_a_higher_layer(graph):
    upward = []
    for module in sorted(m for m in graph.modules if m.startswith("core.")):
        mine = layer_of(module)
        for imported in graph.find_modules_directly_imported_by(module):
            theirs = layer_of(imported)
            if mine is not None and theirs is not None and theirs < mine:
                upward.append(f"{module} → {imported}")
    assert not upward, upward


def test_core_never_imports_the_training_recipes(graph):
    """``recipes/`` rebuilds the built-in models offline; the running Lab only reads their logs (core.llm.train_log)."""
    assert not [m for m in graph.modules if m.startswith("core")
                and any(i.startswith("recipes") for i in graph.find_modules_directly_imported_by(m))]


def test_core_never_imports_ui(graph):
    assert not [m for m in graph.modules if m.startswith("core")
                for i in graph.find_modules_directly_imported_by(m) if i.startswith("ui")]


def test_no_import_circles(graph):
    """Tarjan's strongly connected components over every direct import of core and ui."""
    index, low, stack, on_stack, circles = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.find_modules_directly_imported_by(v):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    assert not circles, circles


@pytest.mark.parametrize("package", sorted(PACKAGE_FLOWS))
def test_a_package_follows_its_own_data_flow(graph, package):
    """E.g. the training loop imports the config, never the reverse; every module of the package has a place."""
    flow = {f"{package}.{name}": i for i, names in enumerate(PACKAGE_FLOWS[package]) for name in names}
    modules = {m for m in graph.modules if m.startswith(package + ".")}
    assert modules == set(flow), f"place these in PACKAGE_FLOWS[{package!r}]: {sorted(modules ^ set(flow))}"
    upward = [f"{m} → {i}" for m in sorted(modules) for i in graph.find_modules_directly_imported_by(m)
              if i in flow and flow[i] < flow[m]]
    assert not upward, upward


def test_loading_a_model_never_imports_decoding(graph):
    """``core.llm.generation`` decodes with what ``core.llm.loading`` loads; loading stands alone."""
    assert "core.llm.generation" not in graph.find_modules_directly_imported_by("core.llm.loading")
