"""Plots draw on their own Figure: the PNGs are written, the user's backend and pyplot are left alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from invmgmt_marl.evaluate import evaluate


def test_save_plots_leaves_backend_and_pyplot_alone(tmp_path: Path) -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("svg")  # a user's choice (a notebook's inline backend, say) that plotting must keep
    import matplotlib.pyplot as plt

    from invmgmt_marl.plots import save_plots

    before = plt.get_fignums()
    ev = evaluate("base_stock", "serial", episodes=2, seed=0, periods=15, bound=False)
    paths = save_plots(ev, tmp_path)
    assert [p.name for p in paths] == ["episode.png", "bullwhip.png", "costs.png"]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in paths)
    assert matplotlib.get_backend() == "svg"
    assert plt.get_fignums() == before  # nothing left open in pyplot
