"""The package's import graph: no cycles, and the simulator imports nothing from the package.

import-linter (run by .ci/run) checks the layer contract; this test checks what a layer contract
cannot see, cycles inside a layer, with the same graph library (grimp).
"""

from __future__ import annotations

import pytest

grimp = pytest.importorskip("grimp", reason="grimp comes with the lint extra (pip install -e '.[lint]')")


def _cycles(graph: object) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    modules = sorted(graph.modules)  # type: ignore[attr-defined]
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.find_modules_directly_imported_by(v):  # type: ignore[attr-defined]
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for m in modules:
        if m not in index:
            visit(m)
    return out


def test_no_import_cycles() -> None:
    # imports under TYPE_CHECKING never run: they are annotations, not a runtime cycle
    graph = grimp.build_graph(
        "invmgmt_marl", include_external_packages=False, exclude_type_checking_imports=True
    )
    assert len(graph.modules) > 40  # the whole package was read
    assert _cycles(graph) == []


# the compiled step (sim/kernel.py) also needs: the optional numba, and the standard library's
# threads, weak references (its per-network cache), os (settings from the environment) and logging
_KERNEL_EXTRA = ("numba", "concurrent", "weakref", "os", "logging")


def test_sim_imports_only_numpy_and_itself() -> None:
    graph = grimp.build_graph("invmgmt_marl", include_external_packages=True)
    for module in graph.find_descendants("invmgmt_marl.sim") | {"invmgmt_marl.sim"}:
        allowed = ("numpy", "__future__", "dataclasses", "typing", "enum", "collections")
        if module == "invmgmt_marl.sim.kernel":
            allowed += _KERNEL_EXTRA
        for imported in graph.find_modules_directly_imported_by(module):
            top = imported.split(".")[0]
            assert top in allowed or imported.startswith("invmgmt_marl.sim"), f"{module} imports {imported}"
