"""The scenario schema: frozen pydantic models validated from YAML (or dicts).

A scenario is *data*: nodes, supply edges, demand processes, costs, the episode length, and the
defaults for actions, observations and rewards. :func:`validate_scenario` turns a raw mapping into a
:class:`Scenario` or raises :class:`~invmgmt_marl.errors.ScenarioError` naming the field and value,
e.g. ``edges[2].lead_time: Input should be greater than or equal to 1, got 0``.

Agents are named ``<role>_<k>`` in the order the nodes are listed (``store_0``, ``store_1``,
``warehouse_0``, ...); edges refer to nodes by those names, and to the unlimited outside source as
``external``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import networkx as nx
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from invmgmt_marl.errors import ScenarioError, quote
from invmgmt_marl.registry import ACTION_TYPES, DEMAND_PROCESSES, REWARD_SCHEMES, VIEWS, RegistryError
from invmgmt_marl.scenario.correlation import correlation_matrix

__all__ = [
    "ROLES",
    "FrozenModel",
    "EXTERNAL",
    "DemandSpec",
    "Seasonal",
    "Goodwill",
    "Reliability",
    "TransitLoss",
    "CashSpec",
    "LiquidationSpec",
    "NodeSpec",
    "EdgeSpec",
    "ProductSpec",
    "ProductOverride",
    "Pricing",
    "CalendarEvent",
    "ActionSpec",
    "ObservationSpec",
    "RewardOverride",
    "RewardSpec",
    "Scenario",
    "validate_scenario",
]

ROLES: tuple[str, ...] = ("store", "warehouse", "supplier")
EXTERNAL = "external"

NonNeg = Annotated[float, Field(ge=0)]
Pos = Annotated[float, Field(gt=0)]

#: the longest line of a ScenarioError message (one per invalid field)
MESSAGE_LIMIT = 500
#: every number in a scenario lies in [-MAX_MAGNITUDE, MAX_MAGNITUDE] (and is finite: the models below
#: forbid inf / nan); 1e12 still allows "practically unbounded" capacities like 1e10
MAX_MAGNITUDE = 1e12
#: the longest episode, and the longest lead time (plus stochastic extra periods): state and demand
#: arrays grow with them, so absurd values are refused before anything is allocated
MAX_PERIODS = 100_000
MAX_LEAD_TIME = 1_000
#: most actions of one agent's Discrete space (or of one edge's MultiDiscrete component); the action
#: codec keeps a (actions, edges) table, 48 MB at this size with 3 edges. The suite's divergent
#: scenario with discrete actions has 101**3 = 1,030,301 for warehouse_0, so the cap sits above it.
MAX_DISCRETE_ACTIONS = 2_000_000


class FrozenModel(BaseModel):
    """The package's one pydantic base: immutable, unknown keys rejected, fields by name or alias.

    ``allow_inf_nan=False``: every float field of every model (and the containers in them) refuses
    ``.inf`` / ``.nan``, by one setting rather than field by field.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False)


_Frozen = FrozenModel


class Seasonal(_Frozen):
    """Multiplicative seasonality ``1 + amplitude * sin(2*pi*(t + phase) / period)``."""

    amplitude: Annotated[float, Field(ge=0, lt=1)]
    period: Pos
    phase: float = 0.0


_Finite = Annotated[float, Field(allow_inf_nan=False)]
_FiniteNonNeg = Annotated[float, Field(ge=0, allow_inf_nan=False)]
_Period = Annotated[int, Field(ge=0)]


class Trend(_Frozen):
    """Linear multiplicative trend ``max(0, 1 + slope * max(0, t - start))`` (flat before ``start``)."""

    slope: _Finite
    start: _Period = 0


class Weekly(_Frozen):
    """Weekday profile: period ``t`` is multiplied by ``profile[(t + week_start) % 7]``, so
    ``week_start`` is the weekday of period 0. A bare list of 7 factors means ``week_start: 0``."""

    profile: Annotated[tuple[_FiniteNonNeg, ...], Field(min_length=7, max_length=7)]
    week_start: Annotated[int, Field(ge=0, le=6)] = 0

    @model_validator(mode="before")
    @classmethod
    def _from_list(cls, data: Any) -> Any:
        return {"profile": data} if isinstance(data, (list, tuple)) else data


class Shock(_Frozen):
    """A lasting level change: demand is multiplied by ``factor`` from ``period`` on."""

    period: _Period
    factor: _FiniteNonNeg


class Event(_Frozen):
    """A promotion or event: demand is multiplied by ``factor`` in periods ``[period, period + duration)``,
    and again every ``every`` periods after ``period`` if ``every`` is given."""

    period: _Period
    factor: _FiniteNonNeg
    duration: Annotated[int, Field(ge=1)] = 1
    every: Annotated[int, Field(ge=1)] | None = None

    @field_validator("every")
    @classmethod
    def _no_overlap(cls, every: int | None, info: Any) -> int | None:
        duration = info.data.get("duration")
        if every is not None and duration is not None and every < duration:
            raise ValueError(
                f"must be >= duration ({duration}) so that occurrences do not overlap, got {every}"
            )
        return every


_DEMAND_COMMON = ("process", "multiplier", "trend", "seasonal", "weekly", "shocks", "events", "integer")


class DemandSpec(_Frozen):
    """Customer demand at one store.

    Written flat in YAML: ``{process: poisson, mean: 10, multiplier: 1.2}``. Keys other than the common
    effects (``multiplier``, ``trend``, ``seasonal``, ``weekly``, ``shocks``, ``events``, ``integer``)
    are the process's own parameters. The effects apply after the process in that order, then
    rounding and ``max(0, .)`` (``docs/demand.md``). The validation context key ``base_dir`` (the
    scenario file's folder) resolves relative file paths of processes that read files (``csv``).
    """

    process: str
    params: Any = None  # a validated pydantic model of the process's parameters
    multiplier: NonNeg = 1.0
    trend: Trend | None = None
    seasonal: Seasonal | None = None
    weekly: Weekly | None = None
    shocks: tuple[Shock, ...] = ()
    events: tuple[Event, ...] = ()
    integer: bool = True

    @model_validator(mode="before")
    @classmethod
    def _split_params(cls, data: Any, info: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        if "params" in data and isinstance(data["params"], BaseModel):
            return data
        proc = data.get("process")
        if not isinstance(proc, str) or proc not in DEMAND_PROCESSES:  # (a list is unhashable: TypeError)
            raise ValueError(
                f"process: unknown demand process {quote(proc)}; known: {list(DEMAND_PROCESSES)}"
            )
        common = {k: v for k, v in data.items() if k in _DEMAND_COMMON}
        own = {k: v for k, v in data.items() if k not in _DEMAND_COMMON}
        common["params"] = DEMAND_PROCESSES.get(str(proc)).params.model_validate(own, context=info.context)
        return common

    def check_periods(self, periods: int) -> None:
        """Raise :class:`~invmgmt_marl.demand.DemandParamError` (a ``ValueError``, ``str`` is
        ``"<param>: <message>"``) if the process cannot serve an episode of ``periods`` (e.g. a CSV
        series with too few rows)."""
        check = DEMAND_PROCESSES.get(self.process).check_periods
        if check is not None:
            check(self.params, periods)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"process": self.process, **self.params.model_dump()}
        if self.multiplier != 1.0:
            out["multiplier"] = self.multiplier
        for key in ("trend", "seasonal", "weekly"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key).model_dump(mode="json")
        for key in ("shocks", "events"):
            if getattr(self, key):
                out[key] = [x.model_dump(mode="json", exclude_none=True) for x in getattr(self, key)]
        if not self.integer:
            out["integer"] = False
        return out


Fraction = Annotated[float, Field(ge=0, le=1)]


class Goodwill(_Frozen):
    """Endogenous demand: a store's demand multiplier falls by ``decay`` (relative) after a period with a
    stockout and recovers by ``recovery`` (absolute) after one without, kept within ``[floor, cap]``."""

    decay: Annotated[float, Field(gt=0, le=1)] = 0.1
    recovery: NonNeg = 0.02
    floor: Annotated[float, Field(gt=0)] = 0.5
    cap: Pos = 1.0
    initial: Pos = 1.0

    @model_validator(mode="after")
    def _order(self) -> Goodwill:
        if not self.floor <= self.initial <= self.cap:
            raise ValueError(f"initial: must lie in [floor={self.floor}, cap={self.cap}], got {self.initial}")
        return self


class Reliability(_Frozen):
    """Supplier reliability: each period, with probability ``p_disruption`` only a fraction drawn
    uniformly from ``fill`` of the planned shipment leaves; the rest stays owed."""

    p_disruption: Fraction
    fill: tuple[Fraction, Fraction] = (0.0, 0.0)

    @model_validator(mode="after")
    def _range(self) -> Reliability:
        if self.fill[1] < self.fill[0]:
            raise ValueError(f"fill: expected [low, high] with low <= high, got {list(self.fill)}")
        return self


class TransitLoss(_Frozen):
    """In-transit loss (as Liu et al.'s option): a fraction drawn uniformly from ``[0, max_fraction]``
    of what arrives on the edge each period is lost on the way."""

    max_fraction: Annotated[float, Field(ge=0, lt=1)]


class CashSpec(_Frozen):
    """A node's cash balance (scenarios with products; docs/products.md, "Cash"): orders are paid from
    it when placed (``unit_cost`` x quantity), sales revenue and salvage refill it at the end of the
    period. Orders beyond the cash left are ``reject``-ed line by line (a (product, inbound edge) order
    whose cost exceeds the cash left is refused whole; lines in product-major, edge order) or
    ``scale``-d (every order of the node cut by one factor)."""

    initial: NonNeg
    rule: Literal["reject", "scale"] = "reject"


class LiquidationSpec(_Frozen):
    """Liquidation actions at a node (scenarios with products; docs/products.md, "Liquidation"): each
    period the node's agent may remove units of each product from stock after sales, oldest first.
    ``salvage`` is the money per unit removed as a fraction of the product's unit cost on the node's
    first inbound edge (0: no revenue, as the OpenEnv retail store); a product's ``salvage_value``
    replaces it. ``max_units`` bounds the action (default: the largest ``max_order`` of the product on
    the node's inbound edges)."""

    salvage: Fraction = 0.0
    max_units: Pos | None = None


class Pricing(_Frozen):
    """Price actions at a store (products only): the agent sets a multiplier of each product's
    ``price`` within ``[min, max]`` every period; demand responds with the product's
    ``price_elasticity`` (docs/products.md, "Prices and demand response")."""

    min: Pos = 0.5
    max: Pos = 1.5

    @model_validator(mode="after")
    def _range(self) -> Pricing:
        if self.max < self.min:
            raise ValueError(f"max: must be >= min={self.min}, got {self.max}")
        return self


class NodeSpec(_Frozen):
    """One supply-chain node (one agent)."""

    role: Literal["store", "warehouse", "supplier"]
    label: str | None = None
    initial_on_hand: NonNeg = 0.0
    holding_cost: NonNeg = 0.0
    backlog_cost: NonNeg = 0.0
    lost_sales: bool = False
    lost_sales_cost: NonNeg = 0.0
    price: NonNeg = 0.0
    initial_backlog: NonNeg = 0.0
    initial_demand: NonNeg = 0.0  # customer demand "of period -1": only observations at reset see it
    allocation: Literal["priority", "proportional"] = "priority"
    demand: DemandSpec | None = None
    storage_capacity: Pos | None = None  # arrivals that do not fit are refused (and recorded)
    shelf_life: Annotated[int, Field(ge=1)] | None = None  # periods a unit may stay at the node
    waste_cost: NonNeg = 0.0  # per expired unit
    bom: dict[str, Pos] | None = None  # assembly: units of each supplier's component per unit made
    production_capacity: Pos | None = None  # assembly: most units made per period
    goodwill: Goodwill | None = None  # stores: demand reacts to service
    # shared constraints of scenarios with products (docs/products.md): storage_capacity is then in
    # volume units; arrivals beyond it are cut proportionally across products and either refused
    # ("refuse") or kept and charged ("keep"); overflow_cost is charged per unit beyond capacity
    overflow: Literal["refuse", "keep"] = "refuse"
    overflow_cost: NonNeg = 0.0
    order_budget: NonNeg | None = None  # money per period for orders (unit_cost x quantity); scaled down
    cash: CashSpec | None = None  # a cash balance that pays for orders and that sales refill
    liquidation: LiquidationSpec | None = None  # the node's agent may liquidate stock (per product)
    # retail mechanics of scenarios with products (docs/products.md): the store's agent sets a price
    # multiplier per product each period, within [min, max]
    pricing: Pricing | None = None


#: a shipping mode's name (it ends edge labels, ``warehouse_0->store_0:fast``)
MODE_NAME = r"[A-Za-z0-9]+(?:[_-][A-Za-z0-9]+)*"


class EdgeSpec(_Frozen):
    """A supply link ``from -> to``. ``from: external`` is the unlimited outside source."""

    source: str = Field(alias="from")
    target: str = Field(alias="to")
    lead_time: Annotated[int, Field(ge=1, le=MAX_LEAD_TIME)]
    unit_cost: NonNeg = 0.0
    fixed_cost: NonNeg = 0.0
    capacity: Pos | None = None
    max_order: Pos | None = None
    priority: int = 0
    initial_pipeline: list[NonNeg] = Field(default_factory=list)
    initial_backlog: NonNeg = 0.0
    initial_order: NonNeg = 0.0  # order placed "in period -1": only observations at reset see it
    label: str | None = None
    # P(0, 1, ..., K extra periods of lead time)
    lead_time_extra: Annotated[list[Fraction], Field(max_length=MAX_LEAD_TIME)] | None = None
    reliability: Reliability | None = None
    transit_loss: TransitLoss | None = None
    unit_cost_tiers: list[tuple[NonNeg, NonNeg]] | None = None  # [[min_qty, unit_cost], ...], all-units
    transit_holding_cost: NonNeg = 0.0  # per unit in transit to the node per period
    # the shipping mode this edge is (set when an edge's ``modes:`` list is expanded into parallel edges,
    # one per mode; docs/products.md, "Shipping modes")
    mode: Annotated[str, Field(min_length=1, max_length=64, pattern=f"^{MODE_NAME}$")] | None = None
    shipping_cost: NonNeg | None = None  # per unit, added to the unit cost (a mode's ``unit_cost``)

    @model_validator(mode="after")
    def _edge_options(self) -> EdgeSpec:
        if self.lead_time_extra is not None and abs(sum(self.lead_time_extra) - 1.0) > 1e-9:
            raise ValueError(f"lead_time_extra: probabilities must sum to 1, got {self.lead_time_extra}")
        tiers = self.unit_cost_tiers
        if tiers is not None:
            if not tiers or tiers[0][0] != 0:
                raise ValueError(f"unit_cost_tiers: the first tier must start at quantity 0, got {tiers}")
            if any(b[0] <= a[0] for a, b in zip(tiers, tiers[1:], strict=False)):
                raise ValueError(f"unit_cost_tiers: quantities must increase, got {tiers}")
        return self


#: a product name: it ends agent names (``store_0__sku12``), so letters, digits, ``_`` and ``-`` only, no
#: double underscore (words of letters and digits joined by single "_" or "-"), at most 64 characters
PRODUCT_NAME = r"[A-Za-z0-9]+(?:[_-][A-Za-z0-9]+)*"


class ProductSpec(_Frozen):
    """One product (SKU). Every field but ``name`` and ``volume`` is optional: when given it replaces,
    for this product, the scalar of the same name on every node (``holding_cost``, ``backlog_cost``,
    ``lost_sales_cost``, ``price``, ``initial_on_hand``, ``demand`` at stores) or edge (``unit_cost``,
    ``max_order``; ``lead_time`` on edges from ``external`` only: the vendor lead time); when absent
    the node's or edge's scalar applies to the product (scalars broadcast)."""

    name: Annotated[str, Field(min_length=1, max_length=64, pattern=f"^{PRODUCT_NAME}$")]
    volume: Pos = 1.0  # storage volume of one unit (storage_capacity is in volume units)
    unit_cost: NonNeg | None = None
    price: NonNeg | None = None
    holding_cost: NonNeg | None = None
    backlog_cost: NonNeg | None = None
    lost_sales_cost: NonNeg | None = None
    initial_on_hand: NonNeg | None = None
    lead_time: Annotated[int, Field(ge=1, le=MAX_LEAD_TIME)] | None = None
    max_order: Pos | None = None
    demand: DemandSpec | None = None
    shelf_life: Annotated[int, Field(ge=1)] | None = None  # periods a unit may stay in stock (perishable)
    waste_cost: NonNeg | None = None  # per expired unit
    salvage_value: NonNeg | None = None  # money per liquidated unit (replaces liquidation.salvage)
    price_elasticity: NonNeg | None = None  # demand x multiplier^-elasticity at stores with pricing


class ProductOverride(_Frozen):
    """A per-(node, product) or per-(edge, product) value, winning over the product's and the scalar.

    With ``node``: ``initial_on_hand``, ``holding_cost``, ``shelf_life``, and ``demand`` and
    ``price_elasticity`` (stores). With ``edge`` (the index in ``edges``): ``lead_time``,
    ``unit_cost``, ``max_order``.
    """

    product: str
    node: str | None = None
    edge: Annotated[int, Field(ge=0)] | None = None
    initial_on_hand: NonNeg | None = None
    holding_cost: NonNeg | None = None
    demand: DemandSpec | None = None
    lead_time: Annotated[int, Field(ge=1, le=MAX_LEAD_TIME)] | None = None
    unit_cost: NonNeg | None = None
    max_order: Pos | None = None
    shelf_life: Annotated[int, Field(ge=1)] | None = None
    price_elasticity: NonNeg | None = None  # (node: a store with pricing)


class CalendarEvent(_Frozen):
    """An event of the scenario's calendar (products only; docs/products.md, "Events"): demand at the
    affected (store, product) pairs is multiplied by ``factor`` in periods ``[start, start + duration)``,
    and again every ``every`` periods if given. ``factor`` is one number for every product or a
    mapping ``{product: factor}`` (products not named are unaffected); ``stores`` limits it to some
    stores (default: every store). Agents at stores see countdowns to it in their observations."""

    name: Annotated[str, Field(min_length=1, max_length=64)]
    start: _Period
    duration: Annotated[int, Field(ge=1)] = 1
    every: Annotated[int, Field(ge=1)] | None = None
    factor: _FiniteNonNeg | dict[str, _FiniteNonNeg]
    stores: list[str] | None = None

    @model_validator(mode="after")
    def _no_overlap(self) -> CalendarEvent:
        if self.every is not None and self.every < self.duration:
            raise ValueError(
                f"every: must be >= duration ({self.duration}) so that occurrences do not overlap, "
                f"got {self.every}"
            )
        return self


class ActionSpec(_Frozen):
    """How agents act: ``box`` (continuous order quantities), ``discrete`` (one index, mixed radix
    over inbound edges, first edge most significant) or ``multidiscrete`` (one index per edge)."""

    type: str = "box"  # a name in invmgmt_marl.registry.ACTION_TYPES
    max_order: Pos = 20.0

    @field_validator("type")
    @classmethod
    def _known_type(cls, t: str) -> str:
        if t not in ACTION_TYPES:
            raise ValueError(f"unknown action type {t!r}; known: {list(ACTION_TYPES)}")
        return t


class ObservationSpec(_Frozen):
    view: str = "local"  # a name in invmgmt_marl.registry.VIEWS
    scale: Pos | None = None  # quantities are divided by this; default: the largest max_order


class RewardOverride(_Frozen):
    """A role's or an agent's own reward settings; unset fields inherit the scenario's."""

    scheme: str | None = None
    alpha: Annotated[float, Field(ge=0, le=1)] | None = None
    weights: dict[str, float] | None = None


class RewardSpec(_Frozen):
    """Reward settings: a scheme, its own/team mix ``alpha`` and (reconciliation) weights for every
    agent, optionally overridden per role (``roles: {store: {...}}``) and per agent
    (``agents: {warehouse_0: {...}}``; agent settings win over role settings)."""

    scheme: str = "cost"
    alpha: Annotated[float, Field(ge=0, le=1)] = 1.0
    weights: dict[str, float] = Field(default_factory=dict)
    roles: dict[Literal["store", "warehouse", "supplier"], RewardOverride] = Field(default_factory=dict)
    agents: dict[str, RewardOverride] = Field(default_factory=dict)

    def resolve(self, agent: str, role: str) -> tuple[str, float, dict[str, float]]:
        """The effective ``(scheme, alpha, weights)`` of one agent."""
        scheme, alpha, weights = self.scheme, self.alpha, dict(self.weights)
        for o in (self.roles.get(role), self.agents.get(agent)):  # type: ignore[call-overload]
            if o is None:
                continue
            if o.scheme is not None and o.scheme != scheme:
                scheme, weights = o.scheme, {}  # weights belong to the scheme they were given for
            alpha = o.alpha if o.alpha is not None else alpha
            weights = dict(o.weights) if o.weights is not None else weights
        return scheme, alpha, weights


class Scenario(_Frozen):
    """A validated scenario. Build with :func:`validate_scenario` or ``load_scenario``."""

    name: str = "custom"
    description: str = ""
    periods: Annotated[int, Field(ge=1, le=MAX_PERIODS)]
    nodes: Annotated[list[NodeSpec], Field(min_length=1)]
    edges: Annotated[list[EdgeSpec], Field(min_length=1)]
    actions: ActionSpec = Field(default_factory=ActionSpec)
    observation: ObservationSpec = Field(default_factory=ObservationSpec)
    reward: RewardSpec = Field(default_factory=RewardSpec)
    # customer demand correlated across stores by a Gaussian copula: one rho for every pair, or an
    # (S, S) matrix over the stores in node order (docs/demand.md)
    demand_correlation: Annotated[float, Field(allow_inf_nan=False)] | list[list[float]] | None = None
    # products (docs/products.md): a list, or a CSV table next to the YAML (one row per product, a
    # column per ProductSpec field, ``demand.<key>`` columns for the demand); never both
    products: list[ProductSpec] | None = None
    product_table: str | None = None
    product_overrides: list[ProductOverride] = Field(default_factory=list)
    # the event calendar (products only; docs/products.md, "Events")
    events: list[CalendarEvent] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _expand_modes(cls, data: Any) -> Any:
        """An edge with ``modes:`` becomes one parallel edge per mode (docs/products.md)."""
        if not isinstance(data, Mapping) or not isinstance(data.get("edges"), list):
            return data
        if not any(isinstance(e, Mapping) and "modes" in e for e in data["edges"]):
            return data
        from invmgmt_marl.scenario.retail import expand_modes

        return expand_modes(data)

    @model_validator(mode="before")
    @classmethod
    def _read_product_table(cls, data: Any, info: Any) -> Any:
        if not isinstance(data, Mapping) or data.get("product_table") is None:
            return data
        from invmgmt_marl.scenario.products import read_product_table

        if data.get("products") is not None:
            raise ValueError(
                f"product_table: give products as a list or as a table, not both, got "
                f"{quote(data.get('product_table'))} and a list of {len(data['products'])}"
            )
        base = (info.context or {}).get("base_dir")
        path, rows = read_product_table(data["product_table"], base)
        return {**data, "product_table": path, "products": rows}

    @model_validator(mode="after")
    def _check_products(self) -> Scenario:
        if self.products is None:
            for i, n in enumerate(self.nodes):
                for f in ("overflow", "overflow_cost", "order_budget"):
                    if f in n.model_fields_set:
                        raise ValueError(
                            f"nodes[{i}] ({self.agents[i]}).{f}: shared constraints need products: (a "
                            f"scenario with a product list), got {quote(getattr(n, f))}"
                        )
            if self.product_overrides:
                raise ValueError(
                    f"product_overrides: need products:, got {len(self.product_overrides)} override(s)"
                )
            for i, n in enumerate(self.nodes):
                for f in ("cash", "liquidation"):
                    if getattr(n, f) is not None:
                        raise ValueError(
                            f"nodes[{i}] ({self.agents[i]}).{f}: requires products: declare at least one "
                            f"product, got {quote(getattr(n, f).model_dump())}"
                        )
            from invmgmt_marl.scenario.retail import refuse_retail_without_products

            refuse_retail_without_products(self)
            return self
        from invmgmt_marl.scenario.products import check_products

        check_products(self)
        return self

    @property
    def has_products(self) -> bool:
        """Whether the scenario declares products (the simulator then carries a product axis)."""
        return self.products is not None

    @field_validator("name")
    @classmethod
    def _safe_name(cls, name: str) -> str:
        # the name becomes part of file names (tuning cache, default output folders): a safe slug only
        from invmgmt_marl._io import SAFE_NAME

        if SAFE_NAME.fullmatch(name) is None:
            raise ValueError(
                "must be a name of letters, digits, '_', '-' or '.' (at most 100 characters, not "
                f"starting with '.'), since it is used in file names; got {quote(name)}"
            )
        return name

    @field_validator("reward")
    @classmethod
    def _known_scheme(cls, r: RewardSpec) -> RewardSpec:
        _check_reward("", r.scheme, r.weights)
        for kind, table in (("roles", r.roles), ("agents", r.agents)):
            for key, o in table.items():
                scheme = o.scheme if o.scheme is not None else r.scheme
                weights = o.weights if o.weights is not None else (r.weights if scheme == r.scheme else {})
                _check_reward(f"{kind}.{key}.", scheme, weights)
        return r

    @field_validator("observation")
    @classmethod
    def _known_view(cls, o: ObservationSpec) -> ObservationSpec:
        if o.view not in VIEWS:
            raise ValueError(f"view: unknown observation view {o.view!r}; known: {list(VIEWS)}")
        return o

    @model_validator(mode="after")
    def _check_demand(self) -> Scenario:
        """Demand checks that need the episode length or the number of stores: each store's process can
        serve ``periods`` (e.g. a CSV series has enough rows), and ``demand_correlation`` is a
        correlation matrix over the stores, whose processes all have an inverse CDF."""
        names = self.agents
        stores = [i for i, n in enumerate(self.nodes) if n.role == "store"]
        for i in stores:
            d = self.nodes[i].demand
            if d is not None:
                try:
                    d.check_periods(self.periods)
                except ValueError as err:  # "<param>: <message>"
                    raise ValueError(f"nodes[{i}] ({names[i]}).demand.{err}") from None
        if self.demand_correlation is not None:
            try:
                correlation_matrix(self.demand_correlation, len(stores))
            except ValueError as err:
                raise ValueError(f"demand_correlation: {err}") from None
            have = [k for k, v in DEMAND_PROCESSES.items() if v.ppf is not None]
            for i in stores:
                d = self.nodes[i].demand
                if d is not None and DEMAND_PROCESSES[d.process].ppf is None:
                    raise ValueError(
                        f"nodes[{i}] ({names[i]}).demand.process: demand_correlation needs a process with an "
                        f"inverse CDF ({', '.join(have)}), got {d.process!r}"
                    )
        return self

    @model_validator(mode="after")
    def _check_sizes(self) -> Scenario:
        """Numbers within +-MAX_MAGNITUDE, and action spaces and lead times of a sane size (before any
        array is allocated)."""
        where, value = _first_huge(self.to_dict(), "")
        if where:
            raise ValueError(f"{where}: must lie within +-{MAX_MAGNITUDE:g}, got {quote(value)}")
        for j, e in enumerate(self.edges):
            total = e.lead_time + (len(e.lead_time_extra) - 1 if e.lead_time_extra else 0)
            if total > MAX_LEAD_TIME:
                raise ValueError(
                    f"edges[{j}].lead_time_extra: lead_time plus extra periods must be <= {MAX_LEAD_TIME}, "
                    f"got {total}"
                )
        if self.actions.type == "box":
            return self
        for a in self.agents:
            size = 1.0
            for j, e in enumerate(self.edges):
                if e.target != a:
                    continue
                mo = e.max_order if e.max_order is not None else self.actions.max_order
                field = f"edges[{j}].max_order" if e.max_order is not None else "actions.max_order"
                size = size * (mo + 1) if self.actions.type == "discrete" else mo + 1
                if size > MAX_DISCRETE_ACTIONS:
                    what = "Discrete space" if self.actions.type == "discrete" else "MultiDiscrete component"
                    raise ValueError(
                        f"{field}: {a}'s {what} would have {size:g} actions, more than "
                        f"{MAX_DISCRETE_ACTIONS}; lower max_order or use box actions, got {mo:g}"
                    )
        return self

    # ---------------------------------------------------------------------------------------------
    @property
    def agents(self) -> list[str]:
        """Agent names in node order: ``<role>_<k>`` with k counting within the role."""
        counts = dict.fromkeys(ROLES, 0)
        names = []
        for n in self.nodes:
            names.append(f"{n.role}_{counts[n.role]}")
            counts[n.role] += 1
        return names

    @model_validator(mode="after")
    def _check_network(self) -> Scenario:
        names = self.agents
        index = {a: i for i, a in enumerate(names)}
        discrete = self.actions.type != "box"
        unknown = sorted(set(self.reward.agents) - set(names))
        if unknown:
            raise ValueError(f"reward.agents: unknown agent {unknown[0]!r}; agents are {names}")
        for i, n in enumerate(self.nodes):
            where = f"nodes[{i}] ({names[i]})"
            d = n.demand
            if (
                d is not None
                and d.process == "fixed"
                and not d.params.cycle
                and len(d.params.values) < self.periods
            ):
                raise ValueError(
                    f"{where}.demand.values: {len(d.params.values)} values for {self.periods} periods "
                    "(give one per period or set cycle: true)"
                )
            if n.storage_capacity is not None and n.initial_on_hand > n.storage_capacity:
                raise ValueError(
                    f"{where}.initial_on_hand: exceeds storage_capacity={n.storage_capacity}, got "
                    f"{n.initial_on_hand}"
                )
            if n.goodwill is not None and n.role != "store":
                raise ValueError(f"{where}.goodwill: only stores have customer goodwill, got a {n.role}")
            if n.bom is not None and n.shelf_life is not None:
                raise ValueError(
                    f"{where}.shelf_life: an assembly node (bom) cannot be perishable, got {n.shelf_life}"
                )
            if n.production_capacity is not None and n.bom is None:
                raise ValueError(
                    f"{where}.production_capacity: only assembly nodes (with a bom) produce, got "
                    f"{n.production_capacity}"
                )
            if n.role == "store" and n.demand is None and self.products is None:  # products may bring theirs
                raise ValueError(f"{where}.demand: a store needs a demand process, got None")
            if n.role != "store":
                for field in (
                    "demand",
                    "lost_sales",
                    "lost_sales_cost",
                    "price",
                    "initial_backlog",
                    "initial_demand",
                ):
                    if field in n.model_fields_set and getattr(n, field) not in (None, False, 0, 0.0):
                        raise ValueError(
                            f"{where}.{field}: only stores face customers, got {getattr(n, field)!r} "
                            f"on a {n.role}"
                        )
            if n.lost_sales and n.initial_backlog > 0:
                raise ValueError(
                    f"{where}.initial_backlog: a lost-sales store carries no backlog, got {n.initial_backlog}"
                )
            if n.lost_sales and n.backlog_cost > 0:
                raise ValueError(
                    f"{where}.backlog_cost: a lost-sales store never owes backlog (use lost_sales_cost), "
                    f"got {n.backlog_cost}"
                )
        seen: set[tuple[str, str, str | None]] = set()
        g = nx.DiGraph()
        g.add_nodes_from([EXTERNAL, *names])
        for j, e in enumerate(self.edges):
            where = f"edges[{j}]"
            if e.source != EXTERNAL and e.source not in index:
                raise ValueError(
                    f"{where}.from: unknown node {e.source!r}; nodes are {names} or {EXTERNAL!r}"
                )
            if e.target not in index:
                raise ValueError(f"{where}.to: unknown node {e.target!r}; nodes are {names}")
            if e.source == e.target:
                raise ValueError(f"{where}.from: a node cannot supply itself, got {e.source!r}")
            if (e.source, e.target, e.mode) in seen and e.source != EXTERNAL:  # modes: parallel edges
                raise ValueError(f"{where}: duplicate edge {e.source!r} -> {e.target!r}")
            seen.add((e.source, e.target, e.mode))
            if e.source == EXTERNAL and self.nodes[index[e.target]].role not in (
                ("supplier", "store") if self.products is not None else ("supplier",)
            ):
                raise ValueError(
                    f"{where}.to: only suppliers order from {EXTERNAL!r}, got {e.target!r} "
                    f"(role {self.nodes[index[e.target]].role})"
                )
            if len(e.initial_pipeline) > e.lead_time:
                raise ValueError(
                    f"{where}.initial_pipeline: at most lead_time={e.lead_time} entries (arrivals in periods "
                    f"0..lead_time-1), got {len(e.initial_pipeline)}"
                )
            if discrete:
                field_name, mo = (
                    (f"{where}.max_order", e.max_order)
                    if e.max_order is not None
                    else ("actions.max_order", self.actions.max_order)
                )
                if float(mo) != int(mo):
                    raise ValueError(
                        f"{field_name}: {self.actions.type} actions need an integer max_order, got {mo}"
                    )
            g.add_edge(e.source, e.target)
        for i, n in enumerate(self.nodes):
            if n.bom is None:
                continue
            sources = [e.source for e in self.edges if e.target == names[i]]
            where = f"nodes[{i}] ({names[i]}).bom"
            if len(set(sources)) != len(sources):
                raise ValueError(
                    f"{where}: an assembly node needs one inbound edge per component, got sources {sources}"
                )
            if set(sources) != set(n.bom):
                raise ValueError(
                    f"{where}: must name exactly the node's suppliers {sorted(sources)}, got {sorted(n.bom)}"
                )
        if not nx.is_directed_acyclic_graph(g):
            cycle = nx.find_cycle(g)
            raise ValueError(f"edges: the supply network must be acyclic, got the cycle {cycle}")
        for i, a in enumerate(names):
            role = self.nodes[i].role
            if g.in_degree(a) == 0:
                raise ValueError(
                    f"nodes[{i}] ({a}): no inbound edge; every node must be supplied by something"
                )
            if role == "supplier" and not g.has_edge(EXTERNAL, a):
                raise ValueError(f"nodes[{i}] ({a}): a supplier needs an edge from {EXTERNAL!r}")
            # with an inbound edge everywhere, no cycles and external edges only into suppliers, every
            # store is reachable from a supplier: checked here all the same, against future relaxations
            if (
                role == "store"
                and not any(
                    self.nodes[index[x]].role == "supplier" for x in nx.ancestors(g, a) if x != EXTERNAL
                )
                and not (self.products is not None and g.has_edge(EXTERNAL, a))
            ):
                raise ValueError(f"nodes[{i}] ({a}): store is not reachable from any supplier")
        return self

    def to_dict(self) -> dict[str, Any]:
        """A plain mapping that :func:`validate_scenario` accepts again (round trip)."""
        d = self.model_dump(by_alias=True, exclude_none=True)
        for i, n in enumerate(self.nodes):
            if n.demand is not None:
                d["nodes"][i]["demand"] = n.demand.to_dict()
            for f, default in (("overflow", "refuse"), ("overflow_cost", 0.0)):  # only when set: older
                if d["nodes"][i].get(f) == default:  # scenarios keep their mapping and fingerprint
                    del d["nodes"][i][f]
        for key in ("products", "product_overrides"):
            for i, x in enumerate(getattr(self, key) or ()):
                if x.demand is not None:
                    d[key][i]["demand"] = x.demand.to_dict()
        if not d.get("product_overrides"):
            d.pop("product_overrides", None)
        if not d.get("events"):  # only when given: older scenarios keep their mapping and fingerprint
            d.pop("events", None)
        d.pop("product_table", None)  # the table's rows are in products (and its path is machine-specific)
        return d


def _first_huge(value: Any, where: str) -> tuple[str, Any]:
    """The path and value of the first number in a dumped scenario outside +-MAX_MAGNITUDE
    (``("", None)`` if none)."""
    if isinstance(value, bool):
        return "", None
    if isinstance(value, (int, float)):
        return (where, value) if not -MAX_MAGNITUDE <= value <= MAX_MAGNITUDE else ("", None)
    if isinstance(value, Mapping):
        items: Any = ((f"{where}.{k}" if where else str(k), v) for k, v in value.items())
    elif isinstance(value, (list, tuple)):
        items = ((f"{where}[{k}]", v) for k, v in enumerate(value))
    else:
        return "", None
    for w, v in items:
        found = _first_huge(v, w)
        if found[0]:
            return found
    return "", None


def _check_reward(where: str, scheme: str, weights: dict[str, float]) -> None:
    try:
        known = REWARD_SCHEMES.get(scheme).weights
    except RegistryError as err:
        raise ValueError(f"{where}scheme: {err}") from None
    if weights and not known:
        raise ValueError(
            f"{where}weights: only schemes with weights (e.g. reconciliation) take weights, got "
            f"{weights!r} with scheme {scheme!r}"
        )
    bad = sorted(set(weights) - set(known))
    if bad:
        raise ValueError(f"{where}weights: unknown weight {bad[0]!r}; known: {sorted(known)}")
    negative = {k: v for k, v in weights.items() if v < 0}
    if negative:
        k = sorted(negative)[0]
        raise ValueError(
            f"{where}weights.{k}: must be >= 0 (the scheme applies the signs), got {negative[k]}"
        )


def _format_error(err: ValidationError) -> str:
    lines = []
    for e in err.errors():
        loc = ""
        for part in e["loc"]:
            loc += f"[{part}]" if isinstance(part, int) else (f".{part}" if loc else str(part))
        msg = e["msg"]
        for prefix in ("Value error, ", "Assertion failed, "):
            if msg.startswith(prefix):
                msg = msg[len(prefix) :]
        if e["type"] == "extra_forbidden":
            line = f"{loc}: unknown key (got value {quote(e['input'])})"
        elif e["type"] == "missing":
            line = f"{loc}: required field is missing"
        elif e["type"] in ("value_error", "assertion_error"):
            line = f"{loc}: {msg}" if loc else msg
        else:
            line = f"{loc}: {msg}, got {quote(e['input'])}"
        # validator messages may embed user values too: no line grows past MESSAGE_LIMIT characters
        lines.append(line if len(line) <= MESSAGE_LIMIT else line[: MESSAGE_LIMIT - 15] + " ...[truncated]")
    if len(lines) > 10:
        lines = [*lines[:10], f"... and {len(lines) - 10} more"]
    return "; ".join(lines)


def validate_scenario(
    data: Mapping[str, Any], source: str = "<scenario>", base_dir: str | Path | None = None
) -> Scenario:
    """Validate a raw mapping into a :class:`Scenario`.

    Args:
        data: the scenario mapping (as read from YAML).
        source: where it came from, for error messages.
        base_dir: folder that relative paths in the scenario (CSV demand series) are resolved against;
            ``load_scenario`` passes the YAML file's folder.

    Raises:
        ScenarioError: naming the first invalid field(s) and their values.
    """
    if not isinstance(data, Mapping):
        raise ScenarioError(f"{source}: a scenario must be a mapping, got {type(data).__name__}")
    try:
        context = {"base_dir": str(base_dir)} if base_dir is not None else None
        return Scenario.model_validate(dict(data), context=context)
    except ValidationError as err:
        raise ScenarioError(f"{source}: {_format_error(err)}") from None
