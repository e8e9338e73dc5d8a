"""Request and response shapes of the teams API (they become the OpenAPI schema).

A patch may leave a field out (it stays as it is) but may send null only where null
means something (no credential, no model, no termination, no turn limit): the other
fields default to None just to mark them absent, so an explicit null is a 422.
"""

from datetime import datetime
from typing import Any, Literal

from ninja import Field, Schema

from studio.inputs import MAX_SMALL_COUNT, JsonList, JsonObject, ObjectId, Text
from studio.teams.spec import ModelContext

ProviderName = Literal["openai", "anthropic", "openai_compatible", "scripted"]
AgentKindName = Literal["assistant", "user_proxy", "team"]
TeamKindName = Literal["round_robin", "selector", "swarm", "graph"]


def left_out(**constraints: Any) -> Any:
    """The default of a field that may be left out but not sent as null.

    Its None only marks the field absent (the API reads these shapes with
    `exclude_unset`), so the field keeps its non-null type and an explicit null is a 422.
    """
    return Field(None, **constraints)


class ProblemOut(Schema):
    """One problem and the path of the field it concerns."""

    path: str
    message: str


class CredentialIn(Schema):
    """A credential; `api_key` is write-only (send "" to clear it)."""

    name: Text = Field(..., min_length=1, max_length=100)
    provider: ProviderName
    base_url: Text = Field("", max_length=500)
    api_key: Text | None = Field(None, max_length=4000)
    key_env_var: Text = Field("", max_length=100)


class CredentialPatch(Schema):
    """Fields to change on a credential; a null `api_key` keeps the stored one."""

    name: Text = left_out(min_length=1, max_length=100)
    provider: ProviderName = left_out()
    base_url: Text = left_out(max_length=500)
    api_key: Text | None = Field(None, max_length=4000)
    key_env_var: Text = left_out(max_length=100)


class CredentialOut(Schema):
    """A credential as clients see it: never the key, only whether one is set."""

    id: int
    name: str
    provider: str
    base_url: str
    key_env_var: str
    has_key: bool
    label: str = Field(description="Name, provider and whose it is, for pickers.")
    owner: str
    role: str | None
    updated_at: datetime


class ModelIn(Schema):
    """A model configuration."""

    name: Text = Field(..., min_length=1, max_length=100)
    provider: ProviderName
    model: Text = Field("", max_length=200)
    credential: ObjectId | None = None
    base_url: Text = Field("", max_length=500)
    params: JsonObject = {}
    model_info: JsonObject = {}
    price_input_per_million: float = Field(0.0, ge=0, allow_inf_nan=False)
    price_output_per_million: float = Field(0.0, ge=0, allow_inf_nan=False)
    scripted_replies: JsonList = []


class ModelPatch(Schema):
    """Fields to change on a model configuration; a null `credential` removes it."""

    name: Text = left_out(min_length=1, max_length=100)
    provider: ProviderName = left_out()
    model: Text = left_out(max_length=200)
    credential: ObjectId | None = None
    base_url: Text = left_out(max_length=500)
    params: JsonObject = left_out()
    model_info: JsonObject = left_out()
    price_input_per_million: float = left_out(ge=0, allow_inf_nan=False)
    price_output_per_million: float = left_out(ge=0, allow_inf_nan=False)
    scripted_replies: JsonList = left_out()


class ModelOut(Schema):
    """A model configuration as stored."""

    id: int
    label: str = Field(
        description="Name, provider, model and whose it is; unique within the list, for pickers."
    )
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

    name: Text = Field(..., min_length=1, max_length=64)
    kind: AgentKindName = "assistant"
    description: Text = ""
    system_message: Text = ""
    model: ObjectId | None = None
    tools: list[Text] = []
    handoffs: list[Text] = []
    reflect_on_tool_use: bool = False
    max_tool_iterations: int = Field(1, ge=1, le=50)
    model_client_stream: bool = False
    team: ObjectId | None = None
    instruction: Text = ""
    response_prompt: Text = ""
    model_context: ModelContext | None = None
    memory: list[Text] = []
    tool_call_summary_format: Text = Field("{result}", max_length=1000)


class AgentPatch(Schema):
    """Fields to change on an agent; a null `model` or `team` removes it."""

    name: Text = left_out(min_length=1, max_length=64)
    kind: AgentKindName = left_out()
    description: Text = left_out()
    system_message: Text = left_out()
    model: ObjectId | None = None
    tools: list[Text] = left_out()
    handoffs: list[Text] = left_out()
    reflect_on_tool_use: bool = left_out()
    max_tool_iterations: int = left_out(ge=1, le=50)
    model_client_stream: bool = left_out()
    team: ObjectId | None = None
    instruction: Text = left_out()
    response_prompt: Text = left_out()
    model_context: ModelContext | None = None
    memory: list[Text] = left_out()
    tool_call_summary_format: Text = left_out(max_length=1000)


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
    model_context: dict[str, Any] | None
    memory: list[str]
    tool_call_summary_format: str
    owner: str
    role: str | None
    is_gallery: bool
    updated_at: datetime


class GraphEdge(Schema):
    """An edge of a graph team; `condition` is text the source's message must contain."""

    source: Text
    target: Text
    condition: Text | None = None


class TeamIn(Schema):
    """A team: either a whole `spec` (saved as version 1, or refused whole with every
    problem), or fields with `participants` as agent ids in seat order."""

    spec: JsonObject | None = Field(
        None, description="A whole team spec (its JSON Schema is in GET /api/teams/catalog)."
    )
    note: Text = Field("", max_length=200)
    name: Text = left_out(min_length=1, max_length=200)
    description: Text = ""
    kind: TeamKindName = "round_robin"
    participants: list[ObjectId] = []
    termination: JsonObject | None = None
    max_turns: int | None = Field(None, ge=1, le=MAX_SMALL_COUNT)
    selector_model: ObjectId | None = None
    selector_prompt: Text = ""
    allow_repeated_speaker: bool = False
    graph_edges: list[GraphEdge] = []
    layout: JsonObject = {}


class TeamPatch(Schema):
    """Fields to change on a team; a null `termination`, `max_turns` or `selector_model`
    removes it."""

    name: Text = left_out(min_length=1, max_length=200)
    description: Text = left_out()
    kind: TeamKindName = left_out()
    participants: list[ObjectId] = left_out()
    termination: JsonObject | None = None
    max_turns: int | None = Field(None, ge=1, le=MAX_SMALL_COUNT)
    selector_model: ObjectId | None = None
    selector_prompt: Text = left_out()
    allow_repeated_speaker: bool = left_out()
    graph_edges: list[GraphEdge] = left_out()
    layout: JsonObject = left_out()


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


class DraftIn(Schema):
    """Unsaved work on a team: any JSON object, valid or not."""

    spec: JsonObject
    base_version: int | None = Field(None, ge=1, le=MAX_SMALL_COUNT)


class DraftOut(Schema):
    """A user's draft of a team."""

    spec: dict[str, Any]
    base_version: int | None
    updated_at: datetime


class SpecSaveIn(Schema):
    """A whole team spec to save as the next version. `base_version` is the version the
    changes start from: when another was saved since, the save is refused with 409."""

    spec: JsonObject = Field(
        ..., description="The team spec (its JSON Schema is in GET /api/teams/catalog)."
    )
    base_version: int | None = Field(None, ge=1, le=MAX_SMALL_COUNT)
    note: Text = Field("", max_length=200)


class TeamOut(TeamSummary):
    """A team with its fields, its spec, and the caller's draft of it."""

    participants: list[int]
    termination: dict[str, Any] | None
    max_turns: int | None
    selector_model: int | None
    selector_prompt: str
    allow_repeated_speaker: bool
    graph_edges: list[dict[str, Any]]
    layout: dict[str, Any]
    spec: dict[str, Any]
    draft: DraftOut | None = None


class SpecCheckIn(Schema):
    """A team spec to check as a save would, without storing it."""

    spec: JsonObject = Field(
        ..., description="The team spec (its JSON Schema is in GET /api/teams/catalog)."
    )


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

    user: Text | None = Field(None, max_length=150)
    group: Text | None = Field(None, max_length=150)
    role: Literal["viewer", "editor"] = "viewer"


class ShareOut(Schema):
    """A share."""

    id: int
    user: str | None
    group: str | None
    role: str
