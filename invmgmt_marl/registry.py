"""Named registries of the package's extension points, in a leaf module.

One :class:`Registry` per extension point: demand processes, reward schemes, observation views,
action types and baseline policies. Built-in entries are declared here as ``"module:attribute"``
strings and imported only when first looked up (the way Jumanji's ``registration.py`` does), so the
scenario schema can check a name without importing the modules that implement it, and this module
imports nothing from the rest of the package.

Adding a demand process, reward scheme, view or policy of your own::

    from invmgmt_marl.registry import REWARD_SCHEMES
    from invmgmt_marl.rewards import RewardScheme

    REWARD_SCHEMES.register("negated_holding", RewardScheme(lambda net, ledger, w: -ledger.holding_cost))

Names are unique: registering a name twice raises :class:`RegistryError` (pass ``replace=True`` to
override on purpose); looking up an unknown name raises :class:`RegistryError` that lists the known
names.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Generic, TypeVar, overload

__all__ = [
    "ACTION_TYPES",
    "DEMAND_PROCESSES",
    "POLICIES",
    "REWARD_SCHEMES",
    "VIEWS",
    "Registry",
    "RegistryError",
]

T = TypeVar("T")


class RegistryError(KeyError, ValueError):
    """An unknown or duplicate name in a registry. ``str()`` is the plain message (no quotes)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class Registry(Generic[T]):
    """Names mapped to objects, with built-ins loaded lazily from ``"module:attribute"`` strings.

    Args:
        kind: what the entries are, for messages (``"demand process"``).
        builtins: ``{name: "module:attribute"}`` entries imported on first lookup.
    """

    def __init__(self, kind: str, builtins: Mapping[str, str] | None = None) -> None:
        self.kind = kind
        self._lazy: dict[str, str] = dict(builtins or {})
        self._loaded: dict[str, T] = {}

    # -- registration ----------------------------------------------------------------------------
    @overload
    def register(self, name: str, obj: None = None, *, replace: bool = False) -> Callable[[T], T]: ...

    @overload
    def register(self, name: str, obj: T, *, replace: bool = False) -> T: ...

    def register(self, name: str, obj: T | None = None, *, replace: bool = False) -> T | Callable[[T], T]:
        """Register ``obj`` under ``name`` (or use as a decorator: ``@REGISTRY.register("name")``)."""
        if not isinstance(name, str) or not name:
            raise RegistryError(f"{self.kind} name must be a non-empty string, got {name!r}")

        def add(o: T) -> T:
            if not replace and name in self:
                raise RegistryError(
                    f"{self.kind} {name!r} is already registered; pass replace=True to override it"
                )
            self._lazy.pop(name, None)
            self._loaded[name] = o
            return o

        return add if obj is None else add(obj)

    def unregister(self, name: str) -> None:
        """Remove ``name`` (mainly for tests that register temporary entries)."""
        if name not in self:
            raise self._unknown(name)
        self._lazy.pop(name, None)
        self._loaded.pop(name, None)

    # -- lookup ----------------------------------------------------------------------------------
    def get(self, name: str) -> T:
        """The entry called ``name``, importing a built-in on first use."""
        if not isinstance(name, str):
            raise self._unknown(name)
        if name in self._loaded:
            return self._loaded[name]
        target = self._lazy.get(name)
        if target is None:
            raise self._unknown(name)
        module, _, attr = target.partition(":")
        obj: T = getattr(importlib.import_module(module), attr)
        self._loaded[name] = obj
        del self._lazy[name]
        return obj

    __getitem__ = get

    def names(self) -> tuple[str, ...]:
        """Every known name, sorted, without importing anything."""
        return tuple(sorted({*self._lazy, *self._loaded}))

    def items(self) -> list[tuple[str, T]]:
        """``(name, entry)`` pairs, sorted by name (imports every built-in)."""
        return [(n, self.get(n)) for n in self.names()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and (name in self._loaded or name in self._lazy)

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {list(self.names())})"

    def _unknown(self, name: Any) -> RegistryError:
        return RegistryError(f"unknown {self.kind} {name!r}; known: {list(self.names())}")


def _builtins(module: str, names: Mapping[str, str]) -> dict[str, str]:
    return {name: f"{module}:{attr}" for name, attr in names.items()}


#: demand processes: :class:`invmgmt_marl.demand.DemandProcess` objects
DEMAND_PROCESSES: Registry[Any] = Registry(
    "demand process",
    _builtins(
        "invmgmt_marl.demand",
        {
            "poisson": "POISSON",
            "normal": "NORMAL",
            "uniform": "UNIFORM",
            "constant": "CONSTANT",
            "fixed": "FIXED",
            "merton": "MERTON",
            "csv": "CSV",
        },
    ),
)

#: reward schemes: :class:`invmgmt_marl.rewards.RewardScheme` objects
REWARD_SCHEMES: Registry[Any] = Registry(
    "reward scheme",
    _builtins(
        "invmgmt_marl.rewards",
        {
            "cost": "COST",
            "profit": "PROFIT",
            "reconciliation": "RECONCILIATION",
            "retail_step": "RETAIL_STEP",
        },
    ),
)

#: observation views: ``view(net, features (B, N, F)) -> (B, N, D)`` functions in :mod:`invmgmt_marl.observe`
VIEWS: Registry[Any] = Registry(
    "observation view",
    _builtins(
        "invmgmt_marl.observe",
        {"local": "local_view", "neighbours": "neighbours_view", "global": "global_view"},
    ),
)

#: action types: :class:`invmgmt_marl.interface.ActionCodec` subclasses
ACTION_TYPES: Registry[Any] = Registry(
    "action type",
    _builtins(
        "invmgmt_marl.interface",
        {
            "box": "BoxCodec",
            "discrete": "DiscreteCodec",
            "multidiscrete": "MultiDiscreteCodec",
            "order_up_to": "OrderUpToCodec",
            "order_up_to_echelon": "EchelonOrderUpToCodec",
        },
    ),
)

#: baseline policies: factories ``factory(net, **params) -> Policy`` in :mod:`invmgmt_marl.policies.base`
POLICIES: Registry[Any] = Registry(
    "policy",
    _builtins(
        "invmgmt_marl.policies.base",
        {
            "constant": "_make_constant",
            "random": "_make_random",
            "base_stock": "_make_base_stock",
            "echelon_base_stock": "_make_echelon_base_stock",
            "s_S": "_make_s_S",
            "forecast_order_up_to": "_make_forecast",
        },
    )
    | _builtins("invmgmt_marl.policies.products", {"base_stock_capacity": "_make_base_stock_capacity"})
    | _builtins(
        "invmgmt_marl.policies.retail",
        {"retail_heuristic": "_make_retail_heuristic", "retail_tuned": "_make_retail_tuned"},
    )
    | _builtins(
        "invmgmt_marl.policies.rolling",
        {
            "rolling": "make_rolling",
            "rolling_ww": "make_rolling_ww",
            "rolling_silver_meal": "make_rolling_silver_meal",
            "rolling_luc": "make_rolling_luc",
            "rolling_ppb": "make_rolling_ppb",
            "rolling_ga": "make_rolling_ga",
        },
    ),
)
