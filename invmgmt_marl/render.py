"""Text rendering of the current period (``render_mode="ansi"``)."""

from __future__ import annotations

import numpy as np

from invmgmt_marl.sim.ledger import Ledger, node_totals
from invmgmt_marl.sim.network import Network
from invmgmt_marl.sim.state import SimState

__all__ = ["render_ansi"]

_COLS = ("on_hand", "backlog", "in_transit", "received", "ordered", "shipped", "lost", "service_level")


def render_ansi(net: Network, state: SimState, ledger: Ledger | None) -> str:
    """A fixed-width table, one row per agent, of the last period's ledger (batch row 0); node totals
    over products in a network with products (the head names the product count)."""
    on_hand = state.on_hand[0].sum(axis=0) if net.product_axis else state.on_hand[0]  # (N,)
    if net.product_axis and ledger is not None:
        ledger = node_totals(ledger)
    products = f" ({net.n_products} products, node totals)" if net.product_axis else ""
    if ledger is None:
        head = f"{net.name}: t=0/{net.periods} (after reset){products}"
        rows = [f"{a:<14}{float(np.asarray(on_hand[i])):>10.1f}" for i, a in enumerate(net.agents)]
        return "\n".join([head, f"{'agent':<14}{'on_hand':>10}", *rows]) + "\n"
    head = f"{net.name}: period {ledger.t} done, t={state.t}/{net.periods}{products}"
    if net.n_stores:
        head += "  demand " + " ".join(f"{d:g}" for d in ledger.demand[0])
    cols = " ".join(f"{c[:10]:>10}" for c in (*_COLS, "cost"))
    lines = [head, f"{'agent':<14}{cols}"]
    cost = ledger.total_cost[0]
    for i, a in enumerate(net.agents):
        vals = [getattr(ledger, c)[0, i] for c in _COLS] + [cost[i]]
        lines.append(f"{a:<14}" + " ".join(f"{v:>10.2f}" for v in vals))
    return "\n".join(lines) + "\n"
