"""Uncertain supply: stochastic lead times, supplier reliability and in-transit loss.

Like demand, supply randomness is exogenous and drawn whole at reset, one array per effect of shape
``(B, T, E)``; the step function reads one period's slice (a :class:`SupplyShock`). A network without
uncertain supply needs none (``sample_supply`` returns ``None``).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from invmgmt_marl.sim.network import Network

__all__ = ["SupplyShock", "SupplyPath", "sample_supply"]

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]


class SupplyShock(NamedTuple):
    """One period's supply randomness, ``(B, E)`` each (``(B, P, E)`` with products)."""

    lead_extra: I64  # extra periods of lead time for what is shipped this period
    fill: F64  # fraction of each planned shipment that actually leaves (1 = reliable)
    loss: F64  # fraction of what arrives this period that was lost in transit


class SupplyPath(NamedTuple):
    """A whole episode's supply randomness, ``(B, T, E)`` each (``(B, T, P, E)`` with products)."""

    lead_extra: I64
    fill: F64
    loss: F64

    def at(self, t: int) -> SupplyShock:
        return SupplyShock(self.lead_extra[:, t], self.fill[:, t], self.loss[:, t])

    def row(self, b: int) -> SupplyPath:
        return SupplyPath(self.lead_extra[b : b + 1], self.fill[b : b + 1], self.loss[b : b + 1])


def sample_supply(net: Network, rng: np.random.Generator, batch: int, periods: int) -> SupplyPath | None:
    """Draw ``(B, T, E)`` lead-time extras, fill fractions and loss fractions, or ``None`` when the
    network's supply is certain."""
    if not net.any_uncertain_supply:
        return None
    # (with products one draw per order line: (B, T, P, E))
    shape = (
        (batch, periods, net.n_products, net.n_edges) if net.product_axis else (batch, periods, net.n_edges)
    )
    cdf = np.cumsum(net.lead_extra_probs, axis=1)  # (E, K + 1)
    u = rng.random(shape)
    lead_extra = (u[..., None] > cdf[None, None]).sum(axis=-1).astype(np.int64)  # inverse CDF
    lead_extra = np.minimum(lead_extra, net.lead_extra_max)  # float round-off never exceeds an edge's list
    p_dis, lo, hi = net.reliability
    disrupted = rng.random(shape) < p_dis
    fill = np.where(disrupted, lo + (hi - lo) * rng.random(shape), 1.0)
    loss = net.transit_loss * rng.random(shape)
    return SupplyPath(lead_extra, fill, loss)
