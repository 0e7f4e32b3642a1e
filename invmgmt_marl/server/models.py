"""Request and response bodies of the HTTP server (pydantic; they make the OpenAPI docs at ``/docs``).

Field names follow OpenEnv's HTTP shapes where they overlap (``seed``, ``episode_id``, ``action``,
``observation``, ``reward``, ``done``, ``step_count``) and add what a multi-agent episode needs
(``session_id``, per-agent ``rewards``, ``infos``, ...): docs/server.md.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

__all__ = [
    "ErrorResponse",
    "GradeResponse",
    "HealthResponse",
    "ResetRequest",
    "ResetResponse",
    "SpacesResponse",
    "StateResponse",
    "StepRequest",
    "StepResponse",
    "TaskInfo",
]

Observation = dict[str, list[float]]
SESSION = AliasChoices("session_id", "episode_id")


class ResetRequest(BaseModel):
    """Start an episode: a task (its scenario and seed) or a scenario, with an optional seed; with
    neither, the server's default task (``Settings.default_task``), as an OpenEnv client's ``{}`` expects."""

    model_config = ConfigDict(extra="forbid")

    task: str | None = Field(None, max_length=100, description="a task name from GET /tasks")
    scenario: str | None = Field(None, max_length=100, description="a shipped scenario name (GET /scenarios)")
    seed: int | None = Field(
        None, ge=0, le=2**63 - 1, description="seeds demand; default: the task's seed, or fresh entropy"
    )
    options: dict[str, Any] = Field(
        default_factory=dict,
        description="scenario overrides (periods, action_type, view, reward, alpha, obs_scale) and "
        "'demand': a (periods, stores) path to replay",
    )
    agents: Literal["node", "node_product"] | None = Field(
        None, description="agent form; 'node_product' only in product scenarios"
    )
    session_id: str | None = Field(
        None,
        max_length=100,
        validation_alias=SESSION,
        description="reset this live session instead of starting a new one (OpenEnv's episode_id)",
    )


class ResetResponse(BaseModel):
    session_id: str
    episode_id: str = Field(description="the same as session_id (OpenEnv's name)")
    task: str | None
    scenario: str
    seed: int | None
    periods: int
    agents: list[str]
    observation: Observation = Field(description="observation of every agent")
    reward: float | None = None
    done: bool = False
    step_count: int = 0


class StepRequest(BaseModel):
    """One period: ``action`` keyed by agent, or a bare action when the scenario has one agent."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    session_id: str = Field(max_length=100, validation_alias=SESSION)
    action: Any = Field(
        validation_alias=AliasChoices("action", "actions"),
        description="{agent: action} (an action is a number or a list, as the agent's action space); "
        "a bare action is accepted when there is one agent",
    )
    timeout_s: float | None = Field(None, gt=0, description="accepted for OpenEnv clients; not used")
    request_id: str | None = Field(None, max_length=255, description="accepted for OpenEnv clients; echoed")


class StepResponse(BaseModel):
    session_id: str
    episode_id: str
    observation: Observation
    reward: float = Field(description="the sum of the agents' rewards this period")
    rewards: dict[str, float]
    done: bool
    terminations: dict[str, bool]
    truncations: dict[str, bool]
    infos: dict[str, dict[str, Any]]
    step_count: int
    request_id: str | None = None
    period_profit: float
    profit: float = Field(description="the team's profit so far (minus cost in cost-only scenarios)")


class StateResponse(BaseModel):
    session_id: str
    episode_id: str
    step_count: int
    t: int
    periods: int
    done: bool
    task: str | None
    scenario: str
    seed: int | None
    agents: list[str]
    products: list[str]
    profit: float
    nodes: list[dict[str, Any]] = Field(description="per node: on_hand, in_transit, backlog (per product)")
    sim: dict[str, Any] = Field(description="every simulator state field, batch axis dropped")
    last_period: dict[str, list[Any]] | None = Field(
        description="the last period's ledger, field -> per node"
    )
    history: list[dict[str, float]]
    retail: dict[str, Any] | None = Field(
        default=None,
        description="retail scenarios: stock by product and batch age, deliveries in transit by mode, "
        "events ahead, cash, prices, the last period per product, action labels (docs/retail.md)",
    )


class SpacesResponse(BaseModel):
    agents: list[str]
    action_spaces: dict[str, dict[str, Any]]
    observation_spaces: dict[str, dict[str, Any]]


class TaskInfo(BaseModel):
    name: str
    description: str
    scenario: str
    seed: int
    agents: str
    options: dict[str, Any]
    baseline_policy: str


class GradeResponse(BaseModel):
    task: str
    seed: int
    profit: float
    floor: float
    ceiling: float | None = None
    reference: float | None = None
    top_kind: str = Field(description="'ceiling' (a proven upper bound) or 'reference' (a policy's profit)")
    top_method: str
    grade: float = Field(description="clamp((profit - floor) / (top - floor), 0, 1)")
    session_complete: bool | None = None


class HealthResponse(BaseModel):
    status: str
    version: str
    sessions: int
    max_sessions: int


class ErrorResponse(BaseModel):
    detail: list[dict[str, Any]]
