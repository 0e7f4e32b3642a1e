"""The MABIM task-layout loader and writer (invmgmt_marl.scenario.mabim).

The test writes a small task in MABIM's layout (3 SKUs of a 4-SKU data set, 2 warehouses in series,
a 20-day test window inside 41 days of data, paths written relative to MABIM's repository root), loads
it and checks every value against the numbers written here, by hand.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from invmgmt_marl.compile import compile_network
from invmgmt_marl.errors import ScenarioError
from invmgmt_marl.scenario import mabim
from invmgmt_marl.scenario.loader import load_scenario
from invmgmt_marl.scenario.mabim import is_mabim_task, load_mabim_task, write_mabim_task

SKUS = ["SKU0", "SKU1", "SKU2"]
ALL = [*SKUS, "SKU9"]  # the data files hold one SKU more than the list
DAY0 = dt.date(2021, 1, 1)  # data from 2021/1/1 to 2021/2/10; the test mode is 2021/1/11 .. 2021/1/30
DAYS = 41
START = 10  # index of 2021/1/11


def demand(p: int, t: int) -> int:
    """Demand of SKU p on data day t (0 = 2021/1/1)."""
    return (p + 1) * 10 + t % 5


def vendor_price(p: int, t: int) -> float:
    """Procurement cost of w_up: SKU0 alternates 5 and 7 (mean over any 20 days: 6), others constant."""
    return (5.0 if t % 2 == 0 else 7.0) if p == 0 else [5.0, 8.0, 12.0, 1.0][p]


UP_PRICE = [9.0, 11.0, 15.0, 1.0]  # w_up's selling price = w_down's procurement cost
STORE_PRICE = [14.0, 16.0, 20.0, 1.0]
VOLUME = [1.0, 2.0, 0.5, 1.0]


def _daily(path: Path, value: Any) -> None:
    lines = ["Date," + ",".join(ALL)]
    for t in range(DAYS):
        d = DAY0 + dt.timedelta(t)
        lines.append(f"{d.year}/{d.month}/{d.day}," + ",".join(str(value(p, t)) for p in range(len(ALL))))
    path.write_text("\n".join(lines) + "\n")


def write_task(root: Path, extra: str = "") -> Path:
    data = root / "data" / "tiny"
    data.mkdir(parents=True)
    (data / "list.csv").write_text("# three SKUs of four\nSKU\nSKU0\nSKU1\nSKU2\n")
    _daily(data / "demand.csv", demand)
    _daily(data / "vendor.price.csv", vendor_price)
    _daily(data / "up.price.csv", lambda p, t: UP_PRICE[p])
    _daily(data / "down.price.csv", lambda p, t: STORE_PRICE[p])
    (data / "up.info.csv").write_text(
        "SKU,init_stock,vlt,volume\nSKU9,1,1,1\nSKU0,30,2,1\nSKU1,40,3,2\nSKU2,50,1,0.5\n"
    )
    (data / "down.info.csv").write_text(
        "SKU,init_stock,vlt,volume\nSKU0,10,1,1\nSKU1,20,2,2\nSKU2,30,1,0.5\nSKU9,1,1,1\n"
    )
    shared = """      shared_data:
        unit_order_cost: 10
        basic_holding_cost: 0.001
        backlog_ratio: 0.1
        overflow_cost_ratio: 0.5
"""
    cfg = f"""# a MABIM-style task: paths relative to MABIM's repository root
env:
  mode:
    - name: train
      start_date: 2021/1/1
      end_date: 2021/1/10
      random_interception: True
    - name: test
      start_date: 2021/1/11
      end_date: 2021/1/30
  horizon: 20
  lookback_len: 7
  integerization_sku: True
  warmup: replenish_by_last_demand
  sku_list: ReplenishmentEnv/data/tiny/list.csv
warehouse:
  - name: w_up
    initial_balance: 0
    capacity: 500
    unit_storage_cost: 0.01
    accept_sku: equal_accept
    upstream: super_vendor
    downstream: w_down
    sku:
      dynamic_data:
        - name: procurement_cost
          file: ReplenishmentEnv/data/tiny/vendor.price.csv
        - name: selling_price
          file: ReplenishmentEnv/data/tiny/up.price.csv
      static_data: ReplenishmentEnv/data/tiny/up.info.csv
{shared}  - name: w_down
    initial_balance: 0
    capacity: 300
    unit_storage_cost: 0.002
    accept_sku: equal_accept
    upstream: w_up
    downstream: consumer
    sku:
      dynamic_data:
        - name: procurement_cost
          file: ReplenishmentEnv/data/tiny/up.price.csv
        - name: selling_price
          file: ReplenishmentEnv/data/tiny/down.price.csv
        - name: demand
          file: ReplenishmentEnv/data/tiny/demand.csv
      static_data: ReplenishmentEnv/data/tiny/down.info.csv
{shared}profit_function: reward2
reward_function: reward2
action:
  mode: continuous
{extra}"""
    (root / "config").mkdir()
    (root / "config" / "tiny.yml").write_text(cfg)
    return root


def test_task_loads_field_by_field(tmp_path: Path) -> None:
    sc = load_mabim_task(write_task(tmp_path))
    assert sc.name == "tiny" and sc.periods == 20
    # nodes: store first (w_down), then the supplier (w_up) buying from external
    assert [n.role for n in sc.nodes] == ["store", "supplier"]
    assert [n.label for n in sc.nodes] == ["w_down", "w_up"]
    assert [(e.source, e.target) for e in sc.edges] == [("supplier_0", "store_0"), ("external", "supplier_0")]
    assert [e.fixed_cost for e in sc.edges] == [10.0, 10.0]  # unit_order_cost
    store, sup = sc.nodes
    assert store.lost_sales and not sup.lost_sales
    assert (store.storage_capacity, sup.storage_capacity) == (300.0, 500.0)
    assert store.overflow == sup.overflow == "refuse"
    # overflow_cost = 0.5 x mean procurement cost: store (9 + 11 + 15) / 3; supplier (6 + 8 + 12) / 3
    assert store.overflow_cost == pytest.approx(0.5 * 35 / 3, rel=1e-12)
    assert sup.overflow_cost == pytest.approx(0.5 * 26 / 3, rel=1e-12)
    net = compile_network(sc)
    assert net.products == tuple(SKUS)
    np.testing.assert_array_equal(net.volume, [1.0, 2.0, 0.5])
    # lead times (P, E): edge 0 = into w_down (its vlt), edge 1 = into w_up (its vlt)
    np.testing.assert_array_equal(net.lead_time, [[1, 2], [2, 3], [1, 1]])
    # unit cost (P, E): into w_down = w_up's selling price; into w_up = vendor price's window mean
    np.testing.assert_array_equal(net.unit_cost, [[9, 6], [11, 8], [15, 12]])
    # holding (P, N) = basic 0.001 + unit_storage_cost x volume (store 0.002, supplier 0.01)
    want_h = [[0.001 + 0.002 * v, 0.001 + 0.01 * v] for v in (1.0, 2.0, 0.5)]
    np.testing.assert_allclose(net.holding_cost, want_h, rtol=1e-12)
    np.testing.assert_array_equal(net.initial_on_hand, [[10, 30], [20, 40], [30, 50]])
    np.testing.assert_array_equal(net.price[:, 0], [14, 16, 20])
    # lost sales at the store: backlog_ratio x (price - procurement cost) = 0.1 x 5
    np.testing.assert_allclose(net.lost_sales_cost[:, 0], [0.5, 0.5, 0.5], rtol=1e-12)
    np.testing.assert_array_equal(net.storage_capacity, [300.0, 500.0])
    # demand: the test window's days 10 .. 29 of the data, replayed
    for p, spec in enumerate(net.demand_specs):
        assert spec.process == "fixed"
        assert list(spec.params.values) == [demand(p, t) for t in range(START, START + 20)]
        # max_order = ceil(max(4 x mean, peak)) + 1; mean = 10(p+1) + 2 over the 20 days (4 cycles of 0..4)
        assert net.max_order[p, 0] == 4 * (10 * (p + 1) + 2) + 1


def test_modes_periods_and_cli_path(tmp_path: Path) -> None:
    root = write_task(tmp_path)
    sc = load_mabim_task(root, mode="train", periods=7)
    assert sc.periods == 7
    assert list(sc.products[0].demand.params.values) == [demand(0, t) for t in range(7)]  # type: ignore[index, union-attr]
    # vendor cost over 2021/1/1 .. 1/10: 5 and 7 alternate, mean 6
    assert sc.products[0].unit_cost == 6.0  # type: ignore[index]
    # load_scenario (and with it every CLI --scenario) takes the folder
    assert is_mabim_task(root) and not is_mabim_task(root / "data")
    via = load_scenario(root, periods=5)
    assert via.periods == 5 and via.products == load_mabim_task(root).products


def _numbers_close(a: Any, b: Any, where: str = "") -> None:
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), where
        for k in a:
            _numbers_close(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), where
        for k, (x, y) in enumerate(zip(a, b, strict=True)):
            _numbers_close(x, y, f"{where}[{k}]")
    elif isinstance(a, float) and not isinstance(b, bool):
        assert b == pytest.approx(a, rel=1e-12, abs=1e-15), where
    else:
        assert a == b, where


def test_round_trip(tmp_path: Path) -> None:
    """load -> write in MABIM's layout -> load gives the same scenario (overflow cost and lost-sales cost
    pass through a ratio, hence equal to 1e-12)."""
    first = load_mabim_task(write_task(tmp_path / "a"))
    cfg = write_mabim_task(first, tmp_path / "b")
    second = load_mabim_task(cfg.parent, name=first.name)
    d1, d2 = first.to_dict(), second.to_dict()
    d1.pop("description"), d2.pop("description")
    _numbers_close(d1, d2)
    n1, n2 = compile_network(first), compile_network(second)
    for f in ("lead_time", "unit_cost", "holding_cost", "initial_on_hand", "price", "storage_capacity"):
        np.testing.assert_allclose(getattr(n2, f), getattr(n1, f), rtol=1e-12, err_msg=f)


def test_one_warehouse(tmp_path: Path) -> None:
    root = write_task(tmp_path)
    cfg = (root / "config" / "tiny.yml").read_text()
    # keep only w_down, buying from the vendor
    head, rest = cfg.split("  - name: w_down")
    head = head.split("warehouse:")[0] + "warehouse:\n"
    rest = "  - name: w_down" + rest.replace("upstream: w_up", "upstream: super_vendor")
    (root / "config" / "tiny.yml").write_text(head + rest)
    sc = load_mabim_task(root)
    assert [n.role for n in sc.nodes] == ["store"]
    assert [(e.source, e.target) for e in sc.edges] == [("external", "store_0")]
    net = compile_network(sc)
    np.testing.assert_array_equal(net.lead_time[:, 0], [1, 2, 1])
    np.testing.assert_array_equal(net.unit_cost[:, 0], [9, 11, 15])


BAD = [  # (file, text, replaced by, message)
    (
        "data/tiny/up.info.csv",
        "SKU1,40,3,2",
        "SKU1,forty,3,2",
        r"up.info.csv row 4 \(SKU1\), field init_stock",
    ),
    ("data/tiny/up.info.csv", "SKU1,40,3,2", "SKU1,40,0,2", "vlt must be an integer >= 1"),
    ("data/tiny/demand.csv", "2021/1/20,", "2021/1/19,", r"demand.csv row \d+: date 2021/1/19 also on row"),
    ("data/tiny/demand.csv", "2021/1/20,", "2021/3/20,", "no row for 2021-01-20"),
    (
        "data/tiny/demand.csv",
        "2021/1/12,11,21,",
        "2021/1/12,11,-3,",
        "column SKU1: must be a finite number >= 0",
    ),
    ("config/tiny.yml", "data/tiny/list.csv", "../../etc/list.csv", "only paths inside the task folder"),
    ("config/tiny.yml", "data/tiny/list.csv", "data/tiny/none.csv", "env.sku_list: file not found"),
    (
        "config/tiny.yml",
        "downstream: w_down",
        "downstream: w_nowhere",
        r"warehouse\[0\].downstream: unknown warehouse",
    ),
    (
        "config/tiny.yml",
        "accept_sku: equal_accept\n    upstream: w_up",
        "accept_sku: random\n    upstream: w_up",
        "only equal_accept",
    ),
    ("data/tiny/down.info.csv", "SKU1,20,2,2", "SKU1,20,2,3", "a product has one volume"),
    ("data/tiny/down.info.csv", "SKU2,30,1,0.5\n", "", "no row for SKU 'SKU2'"),
    ("config/tiny.yml", "name: test", "name: exam", "no single mode named 'test'"),
]


@pytest.mark.parametrize(("file", "old", "new", "message"), BAD)
def test_bad_input_names_file_row_field(tmp_path: Path, file: str, old: str, new: str, message: str) -> None:
    root = write_task(tmp_path)
    _sub(root / file, old, new)
    with pytest.raises(ScenarioError, match=message):
        load_mabim_task(root)


def _sub(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def test_size_limit_and_links(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_task(tmp_path)
    monkeypatch.setattr(mabim, "MAX_CSV_BYTES", 100)
    with pytest.raises(ScenarioError, match="bytes, more than the 100 allowed"):
        load_mabim_task(root)
    monkeypatch.undo()
    outside = tmp_path.parent / f"{tmp_path.name}_outside.csv"
    outside.write_text("SKU\nSKU0\n")
    (root / "data" / "tiny" / "list.csv").unlink()
    (root / "data" / "tiny" / "list.csv").symlink_to(outside)
    with pytest.raises(ScenarioError, match="leads outside the task folder"):
        load_mabim_task(root)


def test_env_replays_the_demand(tmp_path: Path) -> None:
    """The SKU-agent ParallelEnv on the loaded task: with no orders the store sells from its initial
    stock exactly the written demand until it runs out (lost sales)."""
    import invmgmt_marl

    env = invmgmt_marl.parallel_env(load_mabim_task(write_task(tmp_path)), agents="node_product")
    env.reset(seed=0)
    assert env.agents == [f"{n}__{s}" for n in ("store_0", "supplier_0") for s in SKUS]
    stock = np.array([10.0, 20.0, 30.0])  # the store's init_stock
    for t in range(3):
        env.step({a: np.zeros(env.action_space(a).shape, dtype=np.float32) for a in env.agents})
        led = env.last_ledger
        want = np.array([demand(p, START + t) for p in range(3)], dtype=np.float64)
        np.testing.assert_array_equal(led.demand[0, :, 0], want)
        sold = np.minimum(stock, want)
        np.testing.assert_array_equal(led.lost[0, :, 0], want - sold)
        stock = stock - sold
        np.testing.assert_array_equal(led.on_hand[0, :, 0], stock)


def test_three_warehouses_written_then_loaded(tmp_path: Path) -> None:
    """A 3-node chain scenario (supplier -> warehouse -> store) written in MABIM's layout loads back
    with the same per-(node, edge, product) values."""
    from invmgmt_marl.scenario import validate_scenario

    sc = validate_scenario(
        {
            "periods": 6,
            "nodes": [
                {"role": "store", "lost_sales": True, "storage_capacity": 80.0},
                {"role": "warehouse", "storage_capacity": 90.0, "overflow_cost": 2.0},
                {"role": "supplier"},
            ],
            "edges": [
                {"from": "warehouse_0", "to": "store_0", "lead_time": 1, "fixed_cost": 3.0},
                {"from": "supplier_0", "to": "warehouse_0", "lead_time": 2},
                {"from": "external", "to": "supplier_0", "lead_time": 1},
            ],
            "reward": {"scheme": "profit"},
            "products": [
                {"name": "a", "volume": 1.5, "unit_cost": 2.0, "price": 5.0, "holding_cost": 0.1,
                 "lost_sales_cost": 0.6, "initial_on_hand": 4, "lead_time": 3, "max_order": 9,
                 "demand": {"process": "fixed", "values": [1, 2, 3, 4, 5, 6]}},
                {"name": "b", "volume": 0.5, "unit_cost": 1.0, "price": 1.5, "holding_cost": 0.02,
                 "initial_on_hand": 7, "lead_time": 2, "max_order": 5,
                 "demand": {"process": "fixed", "values": [0, 1, 0, 2, 0, 1]}},
            ],
            "product_overrides": [
                {"product": "a", "edge": 0, "unit_cost": 3.0},
                {"product": "b", "node": "warehouse_0", "initial_on_hand": 11},
            ],
        }
    )  # fmt: skip
    back = load_mabim_task(write_mabim_task(sc, tmp_path).parent)
    assert [n.label for n in back.nodes] == ["store_0", "warehouse_0", "supplier_0"]
    n0, n1 = compile_network(sc), compile_network(back)
    for f in ("lead_time", "unit_cost", "holding_cost", "initial_on_hand", "lost_sales_cost", "volume"):
        np.testing.assert_allclose(getattr(n1, f), getattr(n0, f), rtol=1e-12, err_msg=f)
    np.testing.assert_array_equal(n1.price[:, 0], n0.price[:, 0])
    np.testing.assert_array_equal(n1.fixed_cost, n0.fixed_cost)
    np.testing.assert_array_equal(n1.storage_capacity[:2], [80.0, 90.0])
    # the warehouse's overflow cost goes out as a ratio of its mean procurement cost and comes back
    assert back.nodes[1].overflow_cost == pytest.approx(2.0, rel=1e-12)
    for p in range(2):
        assert list(n1.demand_specs[p].params.values) == list(n0.demand_specs[p].params.values)
