"""Sparse 0/1 incidence operators for large networks (numpy only).

Every incidence matrix of a :class:`~invmgmt_marl.sim.network.Network` (``edge_to_dst``,
``edge_from_src``, ``out_from_src``, ``customer_of_store``, ``alloc_src``) maps each row (an edge or
an outflow) to at most one column (a node). Dense, they grow with ``rows x nodes``: a 10,000-node
network needs several 10,000 x 12,000 float64 matrices (about 1 GB each) and every step multiplies
by them. :class:`Incidence` stores only the column of each row and applies the same products:

- ``x @ M`` with ``x`` ``(..., R)`` gives ``(..., C)``: each column sums its rows in ascending row
  order (one ``np.bincount``; a ``take`` when no column has more than one row; one ``take`` per
  rank of a row within its column was 2-6x slower, measured);
- ``x @ M.T`` with ``x`` ``(..., C)`` gives ``(..., R)``: each row reads its column (``take``), 0 for
  rows without a column;
- ``np.matmul(x, M, out=o)`` works as well (the simulator writes into ledger rows that way).

:func:`invmgmt_marl.compile.compile_network` uses it in place of the dense matrices only on large
networks (``DENSE_MAX_NODES``); small networks keep dense matrices and BLAS, the faster path there.
Results equal the dense products up to the order of additions (a few ulp where a node sums three or
more rows); every entry that is a single row, or a sum of two, is identical.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["DENSE_MAX_NODES", "Incidence"]

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

DENSE_MAX_NODES = 512  # compile_network builds dense incidence matrices up to this many nodes


class Incidence:
    """A 0/1 matrix ``(R, C)`` with at most one 1 per row, or (``transposed``) its transpose ``(C, R)``.

    Args:
        column: ``(R,)`` the column of each row's 1; a value outside ``[0, C)`` (e.g. ``-1``, or ``C``
            for the external source) marks a row of zeros.
        n_cols: ``C``.
        transposed: represent the transpose (use :attr:`T` instead of setting this).
    """

    __array_priority__ = 100.0

    def __init__(self, column: I64, n_cols: int, *, transposed: bool = False) -> None:
        col = np.asarray(column, dtype=np.int64)
        if col.ndim != 1:
            raise ValueError(f"column: expected a 1-d array of column indices, got shape {col.shape}")
        if n_cols < 0:
            raise ValueError(f"n_cols: must be >= 0, got {n_cols}")
        self.column = col  # (R,)
        self.n_rows, self.n_cols = int(col.size), int(n_cols)
        self.transposed = transposed
        valid = (col >= 0) & (col < n_cols)
        self._valid = valid  # (R,)
        self._all_valid = bool(valid.all())
        self._safe = np.where(valid, col, 0)  # (R,) gather index (0 where the row is empty)
        rows = np.flatnonzero(valid)
        order = rows[np.argsort(col[rows], kind="stable")]  # rows grouped by column, ascending rows
        cols_sorted = col[order]
        starts = np.flatnonzero(np.r_[True, cols_sorted[1:] != cols_sorted[:-1]]) if order.size else order
        self._order = order  # (R',) valid rows, sorted by column
        self._starts = starts.astype(np.int64)  # (C',) first position of each non-empty column
        self._targets = cols_sorted[starts] if order.size else order  # (C',) the non-empty columns
        self._single = bool(starts.size == order.size)  # every non-empty column has one row
        self._bin = np.where(valid, col, n_cols)  # (R,) bincount cell of each row (C: dropped)
        self._T: Incidence | None = None

    # ---- matrix protocol ------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int]:
        return (self.n_cols, self.n_rows) if self.transposed else (self.n_rows, self.n_cols)

    @property
    def ndim(self) -> int:
        return 2

    @property
    def T(self) -> Incidence:  # noqa: N802 (numpy's name)
        if self._T is None:
            t = object.__new__(Incidence)
            t.__dict__.update(self.__dict__)
            t.transposed = not self.transposed
            t._T = self
            self._T = t
        return self._T

    def toarray(self) -> F64:
        """The dense matrix (for tests and small networks)."""
        dense = np.zeros((self.n_rows, self.n_cols))
        rows = np.flatnonzero(self._valid)
        dense[rows, self.column[rows]] = 1.0
        return dense.T.copy() if self.transposed else dense

    def __repr__(self) -> str:
        return f"Incidence(shape={self.shape}, transposed={self.transposed})"

    # ---- products -------------------------------------------------------------------------------
    def rmatmul(self, x: Any) -> F64:
        """``x @ self`` for ``x`` ``(..., shape[0])``."""
        a = np.asarray(x, dtype=np.float64)
        if a.ndim == 0 or a.shape[-1] != self.shape[0]:
            raise ValueError(f"matmul: operand of shape {a.shape} does not match the operator {self.shape}")
        if self.transposed:  # gather: row r reads column column[r]
            g = a.take(self._safe, axis=-1)
            return g if self._all_valid else np.where(self._valid, g, 0.0)
        lead = a.shape[:-1]
        if not self._single:  # scatter-add with one bincount over (rows of x) x (columns + 1 spare)
            m, width = int(np.prod(lead, dtype=np.int64)), self.n_cols + 1
            cells = (np.arange(m)[:, None] * width + self._bin).ravel()
            sums = np.bincount(cells, weights=a.reshape(m, self.n_rows).ravel(), minlength=m * width)
            return sums.reshape(*lead, width)[..., : self.n_cols].astype(np.float64, copy=False)
        out = np.zeros((*lead, self.n_cols))
        if self._order.size:
            out[..., self._targets] = a.take(self._order, axis=-1)
        return out

    def __rmatmul__(self, x: Any) -> F64:
        return self.rmatmul(x)

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """``x @ M`` (ndarray on the left) and ``np.matmul(x, M, out=...)``; anything else is refused."""
        out = kwargs.pop("out", None)
        if ufunc is not np.matmul or method != "__call__" or kwargs or len(inputs) != 2:
            return NotImplemented
        if inputs[1] is not self or isinstance(inputs[0], Incidence):
            return NotImplemented
        res = self.rmatmul(inputs[0])
        if out is None:
            return res
        target = out[0] if isinstance(out, tuple) else out
        target[...] = res
        return target
