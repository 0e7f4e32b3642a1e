"""One check for demand arrays handed in from outside (the way scikit-learn has one ``check_array``).

Every entry point that takes a demand path from a caller (``reset(options={"demand": ...})``,
``evaluate(demand=...)``, the perfect-information bound, demand-set writers) goes through
:func:`check_demand`, so the rules and the messages are the same everywhere.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["MAX_DEMAND", "check_demand"]

#: the largest demand value accepted in one period; larger values overflow costs long before use
MAX_DEMAND = 1e12


def check_demand(
    demand: Any,
    *,
    periods: int | None = None,
    n_stores: int | None = None,
    batched: bool = False,
    allow_longer: bool = False,
    name: str = "demand",
) -> NDArray[np.float64]:
    """Validate a demand array and return it as a new float64 array.

    Args:
        demand: array-like, ``(T, S)`` or ``(B, T, S)`` with ``batched=True``.
        periods: the required ``T`` (``None``: any ``T >= 1``).
        n_stores: the required ``S`` (``None``: any ``S >= 1``).
        batched: whether a leading episode axis ``B >= 1`` is expected.
        allow_longer: accept ``T >= periods`` (the caller uses the first ``periods`` rows).
        name: how the array is named in messages (``"options['demand']"``).

    Raises:
        ValueError: ``"<name>: ..."`` for a non-numeric array, a wrong shape, NaN or infinite values,
            negative values, or values above :data:`MAX_DEMAND`, quoting the first offending value.
    """
    try:
        d = np.array(demand, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{name}: expected an array of numbers, got {type(demand).__name__}") from None
    lead = 1 if batched else 0
    shape_txt = "(B, T, S)" if batched else "(T, S)"
    want = f" with T=periods={periods}" if periods is not None else ""
    want += f", S=stores={n_stores}" if n_stores is not None else ""
    if (
        d.ndim != 2 + lead
        or 0 in d.shape
        or (n_stores is not None and d.shape[-1] != n_stores)
        or (periods is not None and (d.shape[-2] < periods if allow_longer else d.shape[-2] != periods))
    ):
        raise ValueError(f"{name}: expected shape {shape_txt}{want}, got {d.shape}")
    bad = ~np.isfinite(d)
    if bad.any():
        raise ValueError(f"{name}: must be finite, got {d[bad][0]!r} at index {_index(bad)}")
    if (d < 0).any():
        raise ValueError(f"{name}: must be non-negative, got {float(d.min())!r} at index {_index(d < 0)}")
    if (d > MAX_DEMAND).any():
        raise ValueError(
            f"{name}: must be at most {MAX_DEMAND:g} per period, got {float(d.max())!r} "
            f"at index {_index(d > MAX_DEMAND)}"
        )
    return d


def _index(mask: NDArray[np.bool_]) -> tuple[int, ...]:
    return tuple(int(i) for i in np.argwhere(mask)[0])
