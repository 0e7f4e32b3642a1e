"""LLM agents: a text rendering of the state, a JSON action schema, and a chat-driven agent.

A language model plays every agent of a :class:`~invmgmt_marl.env.InventoryParallelEnv` at once: each
period it reads :func:`observation_text` (what a store manager would see: stock, what is owed, what is
on the way, last period's demand and costs; never the future) and answers with one JSON object that
:func:`parse_actions` turns into the env's actions::

    {"orders": {"retailer": {"wholesaler": 12}, "wholesaler": {"distributor": 8}}}

Keys are agent names, then *slots*: the source an order goes to (``"<product>/<source>"`` with
products). A slot left out orders nothing. Values must lie in ``[0, max]`` (the schema gives each
bound); anything else is an :class:`~invmgmt_marl.errors.InvalidActionError` naming the slot, which
:class:`ChatAgent` shows the model once before falling back to ordering nothing (counted).

The model is any function ``chat(messages) -> str`` taking OpenAI-style ``[{"role", "content"}]``
messages: :func:`openai_chat` talks to an OpenAI-compatible ``/chat/completions`` endpoint over HTTP
(standard library only); tests pass a scripted function. ``examples/llm_agent.py`` runs an episode.
"""

from __future__ import annotations

import json
import logging
import re
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from invmgmt_marl.env import InventoryParallelEnv
from invmgmt_marl.errors import InvalidActionError, quote
from invmgmt_marl.sim.calendar import event_clock
from invmgmt_marl.sim.ledger import COST_FIELDS, node_totals

__all__ = [
    "ChatAgent",
    "ChatFn",
    "EpisodeResult",
    "Slot",
    "action_schema",
    "action_slots",
    "observation_text",
    "openai_chat",
    "parse_actions",
    "play_episode",
]

logger = logging.getLogger(__name__)

ChatFn = Callable[[Sequence[Mapping[str, str]]], str]
F64 = NDArray[np.float64]

MAX_REPLY_CHARS = 100_000  # a longer reply is refused before parsing
QUANTITY_ACTIONS = ("box", "multidiscrete")


@dataclass(frozen=True)
class Slot:
    """One entry of an agent's action vector, as the model names it."""

    agent: str
    label: str  # key in the JSON action: the source ("warehouse") or "<product>/<source>"
    index: int  # position in the agent's action vector
    high: float  # largest value accepted
    integer: bool  # the action space takes integers only
    kind: str = "order"  # "order", "liquidate" (units to clear) or "price" (a multiplier of list price)
    low: float = 0.0  # smallest value accepted
    default: float = 0.0  # the value of a slot the answer leaves out


def _source_name(env: InventoryParallelEnv, edge: int) -> str:
    """The source of an edge, and its shipping mode (``external:fast``) when it is one."""
    net = env.net
    src = int(net.edge_src[edge])
    name = "external" if src >= net.n_nodes else net.agents[src]
    mode = getattr(env.scenario.edges[edge], "mode", None)
    return f"{name}:{mode}" if mode else name


def _labels(env: InventoryParallelEnv, node: int) -> list[str]:
    """Source names of a node's inbound edges; repeated sources get ``#2``, ``#3``, ... in edge order."""
    names = [_source_name(env, int(e)) for e in env.net.agent_edges[node]]
    out, seen = [], dict[str, int]()
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if names.count(n) == 1 else f"{n}#{seen[n]}")
    return out


def action_slots(env: InventoryParallelEnv) -> dict[str, list[Slot]]:
    """Every agent's action entries with their JSON names and bounds.

    Raises:
        ValueError: the env's actions are not order quantities (``box`` or ``multidiscrete``).
    """
    interface = env.interface
    action_type = getattr(interface, "action_type", None) or getattr(interface.codec, "action_type", "")
    if action_type not in QUANTITY_ACTIONS:
        raise ValueError(
            f"action_type: LLM agents give order quantities; make the env with action_type='box' "
            f"(or 'multidiscrete'), got {action_type!r}"
        )
    net = env.net
    integer = action_type == "multidiscrete"
    slots: dict[str, list[Slot]] = {}
    for agent in env.possible_agents:
        node_name, _, product = agent.partition("__")
        node = net.agents.index(node_name)
        sources = _labels(env, node)
        space: Any = env.action_space(agent)
        high = np.asarray(space.nvec - 1 if integer else space.high)
        if not net.product_axis or product:  # one product, or an SKU agent's own product
            labels = sources
        else:  # a node agent with products: (product, edge) pairs, product-major
            labels = [f"{p}/{s}" for p in net.products for s in sources]
        slots[agent] = [Slot(agent, lab, k, float(high[k]), integer) for k, lab in enumerate(labels)]
    if net.product_axis:
        _control_slots(env, slots)
    return slots


def _control_slots(env: InventoryParallelEnv, slots: dict[str, list[Slot]]) -> None:
    """Add the liquidation and price entries of product networks (after each agent's orders)."""
    interface: Any = env.interface
    net = env.net
    liq = getattr(interface, "liquidation_positions", None)
    if liq is not None:
        for agent, local, cells, highs in liq.per_agent:
            for pos, cell, high in zip(local, cells, highs, strict=True):
                product = net.products[int(cell) // net.n_nodes]
                slots[agent].append(
                    Slot(agent, f"liquidate/{product}", int(pos), float(high), False, "liquidate")
                )
    if net.any_pricing:
        pos = interface.price_positions
        lo, hi = net.price_bounds
        for k, offset, q, st in zip(pos.agent, pos.offset, pos.product, pos.store, strict=True):
            agent = interface.agents[int(k)]
            label = f"price/{net.products[int(q)]}"
            slots[agent].append(
                Slot(agent, label, int(offset), float(hi[st]), False, "price", float(lo[st]), 1.0)
            )
    for agent in slots:
        slots[agent].sort(key=lambda s: s.index)


def action_schema(env: InventoryParallelEnv) -> dict[str, Any]:
    """A JSON schema (draft 2020-12) of the action object :func:`parse_actions` accepts."""
    agents: dict[str, Any] = {}
    for agent, slots in action_slots(env).items():
        agents[agent] = {
            "type": "object",
            "properties": {
                s.label: {"type": "integer" if s.integer else "number", "minimum": s.low, "maximum": s.high}
                for s in slots
            },
            "additionalProperties": False,
        }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {
            "orders": {"type": "object", "properties": agents, "additionalProperties": False},
        },
        "required": ["orders"],
        "additionalProperties": False,
    }


def _zeros(env: InventoryParallelEnv, agent: str) -> NDArray[Any]:
    space: Any = env.action_space(agent)
    return np.zeros(space.shape, dtype=space.dtype)


def _json_object(reply: str) -> Any:
    """The JSON object in a model's reply: the whole reply, a fenced block, or the outermost braces."""
    if not isinstance(reply, str):
        raise InvalidActionError(f"reply: expected text, got {type(reply).__name__}")
    if len(reply) > MAX_REPLY_CHARS:
        raise InvalidActionError(f"reply: {len(reply)} characters, more than {MAX_REPLY_CHARS}")
    candidates = [reply.strip()]
    candidates += re.findall(r"```(?:json)?\s*(.*?)```", reply, flags=re.DOTALL)
    first, last = reply.find("{"), reply.rfind("}")
    if 0 <= first < last:
        candidates.append(reply[first : last + 1])
    for text in candidates:
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            continue
    raise InvalidActionError("reply: no JSON object found (answer with one JSON object, see the schema)")


def parse_actions(env: InventoryParallelEnv, reply: str) -> dict[str, NDArray[Any]]:
    """The env's actions from a model's reply (see the module docstring for the format).

    Raises:
        InvalidActionError: no JSON object, an unknown agent or slot, or a value that is not a
            number in the slot's ``[0, max]`` (integers for ``multidiscrete``); the message names it.
    """
    data = _json_object(reply)
    if not isinstance(data, dict) or not isinstance(data.get("orders"), dict):
        raise InvalidActionError('reply: expected an object {"orders": {agent: {slot: quantity}}}')
    orders: dict[str, Any] = data["orders"]
    slots = action_slots(env)
    unknown = [a for a in orders if a not in slots]
    if unknown:
        raise InvalidActionError(f"orders: unknown agent {quote(unknown[0])}; agents: {sorted(slots)}")
    actions: dict[str, NDArray[Any]] = {}
    for agent in env.agents:
        agent_slots = slots[agent]
        vec = _zeros(env, agent)
        for s in agent_slots:
            vec[s.index] = s.default
        given = orders.get(agent, {})
        if not isinstance(given, dict):
            raise InvalidActionError(f"orders[{agent!r}]: expected an object {{slot: quantity}}")
        by_label = {s.label: s for s in agent_slots}
        for label, value in given.items():
            slot = by_label.get(label)
            where = f"orders[{agent!r}][{label!r}]"
            if slot is None:
                raise InvalidActionError(f"{where}: unknown slot; slots: {sorted(by_label)}")
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
                raise InvalidActionError(f"{where}: expected a number, got {quote(value)}")
            if value < slot.low or value > slot.high:
                raise InvalidActionError(f"{where}: must be in [{slot.low:g}, {slot.high:g}], got {value!r}")
            if slot.integer and value != int(value):
                raise InvalidActionError(f"{where}: must be a whole number, got {value!r}")
            vec[slot.index] = value
        actions[agent] = vec
    return actions


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def _product_rows(values: F64, products: Sequence[str]) -> str:
    return ", ".join(f"{p} {_fmt(v)}" for p, v in zip(products, values, strict=True))


def _order_terms(net: Any, edge: int, product: int | None = None) -> str:
    """What ordering one unit on an edge (a shipping mode is its own edge) costs and how long it takes:
    ``"unit cost 110, lead time 1 period(s)"``, or ``"lead time 3-7 period(s)"`` with a random delay
    (``net.lead_time`` up to ``+ net.lead_extra_max``); a fixed cost per order is named when set."""

    def cell(values: Any) -> float:  # (E,) or, per product, (P, E)
        arr = np.asarray(values)
        return float(arr[product, edge] if product is not None and arr.ndim == 2 else arr[edge])

    lead = int(cell(net.lead_time))
    longest = lead + int(net.lead_extra_max[edge])
    span = f"{lead}-{longest}" if longest > lead else f"{lead}"
    fixed = cell(net.fixed_cost)
    extra = f", fixed cost {_fmt(fixed)} per order" if fixed else ""
    return f"unit cost {_fmt(cell(net.unit_cost))}{extra}, lead time {span} period(s)"


def observation_text(env: InventoryParallelEnv) -> str:
    """What the agents know at the start of the current period, as plain text.

    Per node: stock on hand, units it owes (downstream and customers), units owed to it by its
    suppliers, per supplier (and shipping mode) the unit cost and lead-time range of an order, arrivals
    due in each of the next periods (what is already on the way), its last orders,
    and for stores last period's customer demand; then last period's costs. Never future demand.
    With products, every quantity is listed per product.
    """
    net, st = env.net, env.sim_state
    t, periods = st.t, net.periods
    prod = net.product_axis
    products = net.products if prod else ("",)
    if t < periods:
        lines = [f"Scenario {net.name}: period {t + 1} of {periods} (periods left: {periods - t})."]
    else:
        lines = [f"Scenario {net.name}: the episode is over ({periods} periods)."]
    slots = net.pipeline_slots(t) if t < periods else net.pipeline_slots(0)
    pipeline = st.pipeline[0][..., slots]  # (E, L) or (P, E, L): arrivals due in t, t+1, ...
    backlog = st.backlog[0]  # (O,) or (P, O)
    on_hand = st.on_hand[0]
    last_orders = st.last_orders[0]
    store_of = {int(n): s for s, n in enumerate(net.store_nodes)}
    for i, agent in enumerate(net.agents):
        e_in = net.agent_edges[i]
        out_mask = net.out_src == i
        stock = np.atleast_1d(on_hand[..., i])
        owes = np.atleast_1d(backlog[..., out_mask].sum(axis=-1))
        owed_to = np.atleast_1d(backlog[..., e_in].sum(axis=-1))
        lines.append(f"- {agent} ({net.roles[i]}):")
        if prod:
            lines.append(f"  on hand: {_product_rows(stock, products)}")
            lines.append(f"  owes (backlog): {_product_rows(owes, products)}")
        else:
            lines.append(f"  on hand {_fmt(stock[0])}; owes {_fmt(owes[0])}; owed to it {_fmt(owed_to[0])}")
        for e, src in zip(e_in, _labels(env, i), strict=True):
            due = pipeline[..., int(e), :]  # (L,) or (P, L)
            horizon = net.max_lead  # (the ring buffer's length: the longest lead time, jitter included)
            if prod:
                for q, p in enumerate(products):
                    arr = " ".join(_fmt(v) for v in due[q, :horizon])
                    lines.append(
                        f"  from {src}, {p}: {_order_terms(net, int(e), q)}, last order "
                        f"{_fmt(last_orders[q, e])}, owed {_fmt(backlog[q, e])}, "
                        f"arriving next periods [{arr}]"
                    )
            else:
                arr = " ".join(_fmt(v) for v in due[:horizon])
                lines.append(
                    f"  from {src}: {_order_terms(net, int(e))}, last order {_fmt(last_orders[e])}, "
                    f"arriving next periods [{arr}]"
                )
        if i in store_of:
            d = np.atleast_1d(st.last_demand[0][..., store_of[i]])
            text = _product_rows(d, products) if prod else _fmt(d[0])
            lines.append(f"  customer demand last period: {text}")
    if prod:
        lines += _retail_lines(env)
    ledger = env.last_ledger
    if ledger is not None:
        led = node_totals(ledger) if prod else ledger
        costs = {f: float(getattr(led, f)[0].sum()) for f in COST_FIELDS}
        revenue = float(led.revenue[0].sum())
        cost_text = ", ".join(f"{k} {_fmt(v)}" for k, v in costs.items() if v)
        lines.append(f"Last period: total cost {_fmt(sum(costs.values()))} ({cost_text or 'none'})")
        if revenue:
            lines.append(f"Last period revenue (incl. internal transfers): {_fmt(revenue)}")
    return "\n".join(lines)


def _retail_lines(env: InventoryParallelEnv) -> list[str]:
    """Cash, last prices, stock by age and the event calendar of a product network, as text."""
    net, st = env.net, env.sim_state
    lines: list[str] = []
    if st.cash is not None:
        for i in np.flatnonzero(net.cash_on):
            lines.append(f"Cash at {net.agents[i]}: {_fmt(float(st.cash[0, i]))}")
    if st.price is not None:
        for s, node in enumerate(net.store_nodes):
            if net.pricing_on[s]:
                lo, hi = net.price_bounds[:, s]
                row = _product_rows(st.price[0, :, s], net.products)
                lines.append(
                    f"Price multipliers at {net.agents[node]} last period (allowed {_fmt(lo)}-{_fmt(hi)} "
                    f"x list price): {row}"
                )
    if st.age is not None and net.any_perishable_products:
        for k, cell in enumerate(net.perish_pairs.tolist()):
            q, i = divmod(cell, net.n_nodes)
            life = int(net.pair_shelf_life[k])
            ages = " ".join(_fmt(v) for v in st.age[0, k, :life])
            lines.append(
                f"{net.products[q]} at {net.agents[i]} by age in periods (0 = newest; sellable for "
                f"{life} periods): [{ages}]"
            )
    if net.any_events:
        until, left = event_clock(net, st.t)
        for name, u, lft, dur in zip(net.event_names, until, left, net.event_duration, strict=True):
            if lft > 0:
                lines.append(f"Event {name}: active, {int(lft)} more period(s)")
            elif u >= 0:
                lines.append(f"Event {name}: starts in {int(u)} period(s), lasts {int(dur)}")
    return lines


SYSTEM_PROMPT = """You manage the inventory of a supply chain, period by period.
Each period you see the state and decide how much every node orders from each of its suppliers.
Costs: holding stock costs money each period, unmet demand costs more (backlog or lost sales),
and orders cost their unit cost. Each supplier line shows the unit cost of ordering there and the
lead time until arrival (a range when the delay is random); faster shipping modes cost more.
Where the scenario has them, you also set price multipliers ("price/<product>"; demand falls as the
price rises), liquidate stock ("liquidate/<product>", oldest first), and must pay orders from cash.
Answer with ONE JSON object and nothing else, of this form:
{example}
Slots you leave out order nothing. The JSON schema of the answer:
{schema}"""


@dataclass
class ChatAgent:
    """A language model acting for every agent of an env, one chat turn per period.

    Args:
        chat: the model: ``chat(messages) -> reply text``.
        history: how many earlier (state, answer) turns to keep in the prompt (a rolling window).
        retries: how many times a reply that does not parse is sent back with the error before the
            agent falls back to ordering nothing for that period.
    """

    chat: ChatFn
    history: int = 4
    retries: int = 1
    turns: list[tuple[str, str]] = field(default_factory=list)
    failures: int = 0  # periods that fell back to ordering nothing

    def system_prompt(self, env: InventoryParallelEnv) -> str:
        example = {a: {s.label: 0 for s in slots[:2]} for a, slots in list(action_slots(env).items())[:2]}
        return SYSTEM_PROMPT.format(
            example=json.dumps({"orders": example}), schema=json.dumps(action_schema(env))
        )

    def reset(self) -> None:
        self.turns.clear()
        self.failures = 0

    def act(self, env: InventoryParallelEnv) -> dict[str, NDArray[Any]]:
        """Ask the model for this period's actions (every agent's)."""
        messages: list[dict[str, str]] = [{"role": "system", "content": self.system_prompt(env)}]
        for seen, answered in self.turns[-self.history :] if self.history else []:
            messages += [{"role": "user", "content": seen}, {"role": "assistant", "content": answered}]
        seen = observation_text(env)
        messages.append({"role": "user", "content": seen})
        for attempt in range(self.retries + 1):
            reply = self.chat(messages)
            try:
                actions = parse_actions(env, reply)
            except InvalidActionError as err:
                logger.info("period %d: reply refused (%s)", env.sim_state.t, err)
                if attempt == self.retries:
                    break
                messages += [
                    {"role": "assistant", "content": str(reply)[:2000]},
                    {"role": "user", "content": f"That answer was refused: {err}. Answer again."},
                ]
                continue
            self.turns.append((seen, reply))
            return actions
        self.failures += 1
        self.turns.append((seen, '{"orders": {}}'))
        return parse_actions(env, '{"orders": {}}')  # every slot at its default: no orders, list prices


@dataclass(frozen=True)
class EpisodeResult:
    """One episode played by a :class:`ChatAgent`."""

    total_cost: float  # team cost over the episode (sum of the ledger's cost fields)
    revenue: float  # team revenue from customer sales
    rewards: dict[str, float]  # each agent's summed reward
    periods: int
    failures: int  # periods the agent fell back to ordering nothing


def play_episode(env: InventoryParallelEnv, agent: ChatAgent, seed: int | None = None) -> EpisodeResult:
    """Play one episode of ``env`` with ``agent``."""
    env.reset(seed=seed)
    agent.reset()
    totals = dict.fromkeys(env.possible_agents, 0.0)
    cost = revenue = 0.0
    net = env.net
    while env.agents:
        _, rewards, _, _, _ = env.step(agent.act(env))
        for a, r in rewards.items():
            totals[a] += r
        ledger = env.last_ledger
        if ledger is None:  # (step always sets it)
            raise RuntimeError("env.step did not record a ledger")
        cost += sum(float(getattr(ledger, f)[0].sum()) for f in COST_FIELDS)
        sales = ledger.sold[0] * net.price  # customer sales at list price, (N,) or (P, N)
        mult = env.sim_state.price  # (1, P, S) the period's price multipliers (stores with pricing)
        if mult is not None:
            sales[..., np.asarray(net.store_nodes)] *= mult[0]
        revenue += float(sales.sum())
    return EpisodeResult(cost, revenue, totals, net.periods, agent.failures)


def openai_chat(
    base_url: str,
    model: str,
    api_key: str | None = None,
    *,
    temperature: float = 0.0,
    timeout: float = 60.0,
    max_tokens: int = 1024,
) -> ChatFn:
    """A chat function for any OpenAI-compatible server (``POST {base_url}/chat/completions``).

    Uses only the standard library. The key is sent as a bearer token when given.
    """
    if not base_url.startswith(("http://", "https://")):
        raise ValueError(f"base_url: expected an http(s) URL, got {base_url!r}")
    url = base_url.rstrip("/") + "/chat/completions"

    def chat(messages: Sequence[Mapping[str, str]]) -> str:
        body = json.dumps(
            {"model": model, "messages": list(messages), "temperature": temperature, "max_tokens": max_tokens}
        ).encode()
        headers = {"Content-Type": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (http(s) checked)
                data = json.loads(response.read(MAX_REPLY_CHARS * 4))
        except urllib.error.HTTPError as err:
            raise RuntimeError(f"{url}: HTTP {err.code} {err.reason}") from err
        try:
            return str(data["choices"][0]["message"]["content"])
        except (KeyError, IndexError, TypeError) as err:
            raise RuntimeError(f"{url}: unexpected response (no choices[0].message.content)") from err

    return chat
