"""The network diagram: every node and edge drawn, colours by role, labels from the network's arrays."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import invmgmt_marl
from invmgmt_marl.compile import compile_network
from invmgmt_marl.diagram import COLOURS, describe_network, draw_network, save_network

pytest.importorskip("matplotlib")

PICTURES = Path(__file__).resolve().parents[2] / "docs" / "img" / "scenarios"


def test_every_node_and_edge_is_drawn(scenario_name: str) -> None:
    net = compile_network(invmgmt_marl.load_scenario(scenario_name))
    d = describe_network(net)
    g = d.graph()
    stores = [net.agents[i] for i in net.store_nodes]
    # agents + the external source + one customers node per store
    assert set(g.nodes) == {*net.agents, "external", *(f"customers:{s}" for s in stores)}
    # every supply edge, by its index, between the right endpoints, then one link per store
    supply = [e for e in d.edges if e.edge >= 0]
    assert [e.edge for e in supply] == list(range(net.n_edges))
    for e in supply:
        src = "external" if net.edge_src[e.edge] == net.n_nodes else net.agents[net.edge_src[e.edge]]
        assert (e.src, e.dst) == (src, net.agents[net.edge_dst[e.edge]])
    assert sorted((e.src, e.dst) for e in d.edges if e.edge < 0) == sorted(
        (s, f"customers:{s}") for s in stores
    )
    assert g.number_of_edges() == net.n_edges + net.n_stores


def test_colours_follow_roles(scenario_name: str) -> None:
    net = compile_network(invmgmt_marl.load_scenario(scenario_name))
    d = describe_network(net)
    for i, a in enumerate(net.agents):
        assert d.node(a).kind == net.roles[i]
        assert d.node(a).colour == COLOURS[net.roles[i]]
    assert d.node("external").colour == COLOURS["external"]
    assert {n.colour for n in d.nodes if n.kind == "customers"} <= {COLOURS["customers"]}
    assert len(set(COLOURS.values())) == len(COLOURS)  # five distinguishable kinds


def test_columns_run_from_source_to_customers(scenario_name: str) -> None:
    """Every supply edge points rightwards; the source is leftmost and customers rightmost."""
    d = describe_network(scenario_name)
    x = {n.id: n.x for n in d.nodes}
    for e in d.edges:
        assert x[e.src] < x[e.dst], (e.src, e.dst)
    assert x["external"] == min(x.values())
    assert all(x[n.id] == max(x.values()) for n in d.nodes if n.kind == "customers")
    # no two boxes on top of each other within a column
    for col in set(x.values()):
        ys = sorted(n.y for n in d.nodes if n.x == col)
        assert all(b - a >= 1.0 - 1e-9 for a, b in zip(ys, ys[1:], strict=False))


def test_serial_labels_by_hand() -> None:
    """serial.yaml: lead time 4 on every edge, no unit cost; holding 1 and backlog 1 at every node;
    Merton demand with base 10, backlogged. The labels say exactly that."""
    d = describe_network("serial")
    assert not d.compact
    assert [e.label for e in d.edges if e.edge >= 0] == ["L=4", "L=4", "L=4"]
    for a in ("store_0", "warehouse_0", "supplier_0"):
        assert d.node(a).detail == "h 1 · b 1"
    assert d.node("customers:store_0").detail == "merton 10\nbacklogged"
    # a chain: everything on one row, five columns
    assert {n.y for n in d.nodes} == {0.0} and d.columns == 5


def test_assembly_labels_by_hand() -> None:
    """assembly.yaml: 'make A' edge L=1, unit cost 2, capacity 70; the factory's BOM is 2 A + 1 B with
    production capacity 30; the distributor has price 30 and backlog cost 3."""
    d = describe_network("assembly")
    by_edge = {e.edge: e.label for e in d.edges}
    assert by_edge[3] == "L=1 c=2\ncap 70"
    assert "make ≤30" in d.node("warehouse_0").detail
    assert "BOM 2×supplier_0 + 1×supplier_1" in d.node("warehouse_0").detail
    assert d.node("store_0").detail == "h 0.5 · b 3 · price 30"
    assert d.node("store_0").label == "store_0\ndistributor"


def test_large_network_is_compact_with_column_summaries() -> None:
    """54 agents: names only, no edge labels, one header per node column (4 suppliers, 3 DCs,
    7 local warehouses, 40 stores, as the generator's comment in large_network.yaml says)."""
    d = describe_network("large_network")
    assert d.compact
    assert all(e.label == "" for e in d.edges)
    heads = [t.split("\n")[0] for _, t in d.headers]
    assert heads == ["4 suppliers", "3 warehouses", "7 warehouses", "40 stores"]
    assert "lost 4 (20)" in d.headers[-1][1] and "b 1 (20)" in d.headers[-1][1]


def test_parallel_edges_bend_apart() -> None:
    """net_2x3: each supplier has two external edges (normal and urgent); they must not coincide."""
    d = describe_network("net_2x3")
    rads = [e.rad for e in d.edges if e.src == "external" and e.dst == "supplier_0"]
    assert len(rads) == 2 and rads[0] == -rads[1] != 0.0


def test_drawn_texts_contain_every_name(tmp_path: Path) -> None:
    fig = draw_network("hmarl")
    texts = {t.get_text() for ax in fig.axes for t in ax.texts}
    net = compile_network(invmgmt_marl.load_scenario("hmarl"))
    for a in net.agents:
        assert a in texts
    edge_labels = [e.label for e in describe_network(net).edges if e.label]
    assert all(lbl in texts for lbl in edge_labels)
    png = save_network("hmarl", tmp_path / "h.png")
    svg = save_network("hmarl", tmp_path / "h.svg")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in svg.read_bytes()[:400]
    with pytest.raises(ValueError, match="path"):
        save_network("hmarl", tmp_path / "h.jpg")


def test_diagram_is_deterministic_and_serialisable() -> None:
    a, b = describe_network("divergent").to_dict(), describe_network("divergent").to_dict()
    assert a == b
    assert json.loads(json.dumps(a)) == a


def test_shipped_pictures_are_up_to_date(scenario_name: str) -> None:
    """docs/img/scenarios/<name>.json is the description the shipped <name>.png was drawn from; a fresh
    description must match it (else run ``python docs/make_pictures.py``). Pixels are not compared:
    they differ between matplotlib / FreeType versions while the drawing's content does not."""
    sidecar = PICTURES / f"{scenario_name}.json"
    assert (PICTURES / f"{scenario_name}.png").is_file(), "run python docs/make_pictures.py"
    assert sidecar.is_file(), "run python docs/make_pictures.py"
    fresh = json.loads(json.dumps(describe_network(scenario_name).to_dict(), ensure_ascii=False))
    assert json.loads(sidecar.read_text()) == fresh, "picture out of date: run python docs/make_pictures.py"


def test_bad_input_names_the_argument() -> None:
    with pytest.raises(TypeError, match="net"):
        describe_network(3.5)  # type: ignore[arg-type]
    assert np.isfinite([n.y for n in describe_network("serial").nodes]).all()
