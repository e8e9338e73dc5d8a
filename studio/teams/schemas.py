"""Request and response shapes of the teams API (they become the OpenAPI schema)."""

from datetime import datetime
from typing import Any, Literal

from ninja import Field, Schema

ProviderName = Literal["openai", "anthropic", "openai_compatible", "scripted"]
AgentKindName = Literal["assistant", "user_proxy", "team"]
TeamKindName = Literal["round_robin", "selector", "swarm", "graph"]


class ProblemOut(Schema):
    """One problem and the path of the field it concerns."""

    path: str
    message: str


class CredentialIn(Schema):
    """A credential; `api_key` is write-only (send "" to clear it)."""

    name: str = Field(..., min_length=1, max_length=100)
    provider: ProviderName
    base_url: str = ""
    api_key: str | None = Field(None, max_length=4000)
    key_env_var: str = ""


class CredentialPatch(Schema):
    """Fields to change on a credential."""

    name: str | None = Field(None, min_length=1, max_length=100)
    provider: ProviderName | None = None
    base_url: str | None = None
    api_key: str | None = Field(None, max_length=4000)
    key_env_var: str | None = None


class CredentialOut(Schema):
    """A credential as clients see it: never the key, only whether one is set."""

    id: int
    name: str
    provider: str
    base_url: str
    key_env_var: str
    has_key: bool
    owner: str
    role: str | None
    updated_at: datetime


class ModelIn(Schema):
    """A model configuration."""

    name: str = Field(..., min_length=1, max_length=100)
    provider: ProviderName
    model: str = ""
    credential: int | None = None
    base_url: str = ""
    params: dict[str, Any] = {}
    model_info: dict[str, Any] = {}
    price_input_per_million: float = Field(0.0, ge=0)
    price_output_per_million: float = Field(0.0, ge=0)
    scripted_replies: list[Any] = []


class ModelPatch(Schema):
    """Fields to change on a model configuration."""

    name: str | None = Field(None, min_length=1, max_length=100)
    provider: ProviderName | None = None
    model: str | None = None
    credential: int | None = None
    base_url: str | None = None
    params: dict[str, Any] | None = None
    model_info: dict[str, Any] | None = None
    price_input_per_million: float | None = Field(None, ge=0)
    price_output_per_million: float | None = Field(None, ge=0)
    scripted_replies: list[Any] | None = None


class ModelOut(Schema):
    """A model configuration as stored."""

    id: int
    name: str
    provider: str
    model: str
    credential: int | None
    base_url: str
    params: dict[str, Any]
    model_info: dict[str, Any]
    price_input_per_million: float
    price_output_per_million: float
    scripted_replies: list[Any]
    owner: str
    role: str | None
    is_gallery: bool
    updated_at: datetime


class AgentIn(Schema):
    """An agent: assistant, human seat (user_proxy) or nested team."""

    name: str = Field(..., min_length=1, max_length=64)
    kind: AgentKindName = "assistant"
    description: str = ""
    system_message: str = ""
    model: int | None = None
    tools: list[str] = []
    handoffs: list[str] = []
    reflect_on_tool_use: bool = False
    max_tool_iterations: int = Field(1, ge=1, le=50)
    model_client_stream: bool = False
    team: int | None = None
    instruction: str = ""
    response_prompt: str = ""


class AgentPatch(Schema):
    """Fields to change on an agent."""

    name: str | None = Field(None, min_length=1, max_length=64)
    kind: AgentKindName | None = None
    description: str | None = None
    system_message: str | None = None
    model: int | None = None
    tools: list[str] | None = None
    handoffs: list[str] | None = None
    reflect_on_tool_use: bool | None = None
    max_tool_iterations: int | None = Field(None, ge=1, le=50)
    model_client_stream: bool | None = None
    team: int | None = None
    instruction: str | None = None
    response_prompt: str | None = None


class AgentOut(Schema):
    """An agent as stored."""

    id: int
    name: str
    kind: str
    description: str
    system_message: str
    model: int | None
    tools: list[str]
    handoffs: list[str]
    reflect_on_tool_use: bool
    max_tool_iterations: int
    model_client_stream: bool
    team: int | None
    instruction: str
    response_prompt: str
    owner: str
    role: str | None
    is_gallery: bool
    updated_at: datetime


class GraphEdge(Schema):
    """An edge of a graph team; `condition` is text the source's message must contain."""

    source: str
    target: str
    condition: str | None = None


class TeamIn(Schema):
    """A team; `participants` are agent ids in seat order."""

    name: str = Field(..., min_length=1, max_length=200)
    description: str = ""
    kind: TeamKindName = "round_robin"
    participants: list[int] = []
    termination: dict[str, Any] | None = None
    max_turns: int | None = Field(None, ge=1)
    selector_model: int | None = None
    selector_prompt: str = ""
    allow_repeated_speaker: bool = False
    graph_edges: list[GraphEdge] = []
    layout: dict[str, Any] = {}


class TeamPatch(Schema):
    """Fields to change on a team."""

    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = None
    kind: TeamKindName | None = None
    participants: list[int] | None = None
    termination: dict[str, Any] | None = None
    max_turns: int | None = Field(None, ge=1)
    selector_model: int | None = None
    selector_prompt: str | None = None
    allow_repeated_speaker: bool | None = None
    graph_edges: list[GraphEdge] | None = None
    layout: dict[str, Any] | None = None


class TeamSummary(Schema):
    """A team in a list."""

    id: int
    name: str
    description: str
    kind: str
    owner: str
    role: str | None
    is_gallery: bool
    version: int | None
    updated_at: datetime


class TeamOut(TeamSummary):
    """A team with its fields and its resolved spec."""

    participants: list[int]
    termination: dict[str, Any] | None
    max_turns: int | None
    selector_model: int | None
    selector_prompt: str
    allow_repeated_speaker: bool
    graph_edges: list[dict[str, Any]]
    layout: dict[str, Any]
    spec: dict[str, Any]


class ValidationOut(Schema):
    """The result of validating a team."""

    is_valid: bool
    problems: list[ProblemOut]


class VersionOut(Schema):
    """A saved version of a team."""

    number: int
    content_hash: str
    note: str
    created_by: str | None
    created_at: datetime


class VersionDetail(VersionOut):
    """A version with its spec."""

    spec: dict[str, Any]


class ChangeOut(Schema):
    """One difference between two versions."""

    path: str
    old: Any = None
    new: Any = None


class DiffOut(Schema):
    """Differences from version `old` to version `new`."""

    old: int
    new: int
    changes: list[ChangeOut]


class ImportItemOut(Schema):
    """What happened to one component of an imported file."""

    kind: str
    label: str
    status: Literal["imported", "failed", "skipped"]
    id: int | None
    problems: list[ProblemOut]
    warnings: list[ProblemOut]


class ImportOut(Schema):
    """The import report."""

    imported: int
    failed: int
    items: list[ImportItemOut]


class ToolOut(Schema):
    """A registered tool."""

    name: str
    description: str
    parameters: dict[str, Any]


class ShareIn(Schema):
    """Share with a user (username) or a group (name)."""

    user: str | None = None
    group: str | None = None
    role: Literal["viewer", "editor"] = "viewer"


class ShareOut(Schema):
    """A share."""

    id: int
    user: str | None
    group: str | None
    role: str
