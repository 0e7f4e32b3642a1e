"""Checking a demand correlation setting: a scalar for every pair of stores, or a matrix."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

__all__ = ["correlation_matrix"]


def correlation_matrix(
    correlation: float | Sequence[Sequence[float]] | NDArray[np.float64], n_stores: int
) -> NDArray[np.float64]:
    """Check ``correlation`` and return it as an ``(n_stores, n_stores)`` matrix.

    A scalar ``rho`` means every pair of stores has correlation ``rho`` (positive semi-definite only for
    ``rho >= -1 / (n_stores - 1)``). A matrix must be square of size ``n_stores``, finite, symmetric,
    with a unit diagonal, entries in ``[-1, 1]`` and positive semi-definite (smallest eigenvalue
    ``>= -1e-10``).

    Raises:
        ValueError: saying what is wrong, with the offending value.
    """
    n = int(n_stores)
    if n < 1:
        raise ValueError(f"correlation needs at least one store, got {n}")
    try:
        ndim = np.ndim(correlation)
    except ValueError:  # ragged nested lists
        ndim = -1
    if ndim == 0:
        try:
            rho = float(correlation)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ValueError(f"expected a number or a {n}x{n} matrix, got {correlation!r}") from None
        if not (np.isfinite(rho) and -1.0 <= rho <= 1.0):
            raise ValueError(f"a correlation must lie in [-1, 1], got {correlation!r}")
        c = np.full((n, n), rho)
        np.fill_diagonal(c, 1.0)
        if n > 2 and rho < -1.0 / (n - 1) - 1e-12:
            bound = -1.0 / (n - 1)
            raise ValueError(
                f"a common correlation of {n} stores must be >= -1/{n - 1} = {bound:.4g} "
                f"(else the matrix is not positive semi-definite), got {rho}"
            )
        return c
    try:
        c = np.array(correlation, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"expected a number or a {n}x{n} matrix, got {correlation!r}") from None
    if c.shape != (n, n):
        raise ValueError(f"expected a {n}x{n} matrix (one row and column per store), got shape {c.shape}")
    if not np.all(np.isfinite(c)):
        raise ValueError(f"entries must be finite, got {c.tolist()}")
    off = np.flatnonzero(np.diag(c) != 1.0)
    if len(off):
        raise ValueError(f"the diagonal must be 1, got [{off[0]}][{off[0]}] = {c[off[0], off[0]]}")
    bad = np.argwhere(np.abs(c) > 1.0)
    if len(bad):
        i, j = bad[0]
        raise ValueError(f"entries must lie in [-1, 1], got [{i}][{j}] = {c[i, j]}")
    asym = np.argwhere(np.abs(c - c.T) > 1e-12)
    if len(asym):
        i, j = asym[0]
        raise ValueError(
            f"the matrix must be symmetric, got [{i}][{j}] = {c[i, j]} but [{j}][{i}] = {c[j, i]}"
        )
    w = np.linalg.eigvalsh(c)
    if w[0] < -1e-10:
        raise ValueError(f"the matrix must be positive semi-definite, got smallest eigenvalue {w[0]:.6g}")
    return c
