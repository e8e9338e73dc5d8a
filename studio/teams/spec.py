"""The team spec: the one typed definition of what a team is.

Everything that reads or writes a team's shape goes through these classes: the API's
request and response bodies, saving (one transaction, one version), drafts, validation
(pydantic's errors carry the spec's paths; `studio.teams.validation` adds only what
needs the database or the runtime), the builder (through the JSON Schema in the
catalog), versions and runs (they store `TeamSpec.model_dump()`), and AutoGen import and
export (`studio.teams.autogen`).

A spec never holds an API key: models name their credential by id. Agents and models
carry their database `id` when they have one, so a save updates them in place.

To add an agent option or a termination condition, add a field or a class here; the
catalog, the builder's forms and the validation follow from it, and
`studio.teams.building` maps it onto the runtime.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from studio.inputs import MAX_SMALL_COUNT, JsonList, JsonObject, ObjectId, Text

SPEC_FORMAT = "roundtable/team@2"
#: How deep teams nest inside teams, and termination conditions inside combinators.
MAX_NESTING = 8
MAX_CONDITION_DEPTH = 32

Identifier = Annotated[
    Text,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="Letters, digits and underscores, starting with a letter.",
    ),
]
ProviderName = Literal["openai", "anthropic", "openai_compatible", "scripted"]
TeamKindName = Literal["round_robin", "selector", "swarm", "graph"]
Count = Annotated[int, Field(ge=1, le=MAX_SMALL_COUNT)]


class Spec(BaseModel):
    """Base of the spec's parts: unknown keys are dropped, values checked on assignment."""

    model_config = ConfigDict(extra="ignore", validate_assignment=True)


# --- Models ---


class ModelSpec(Spec):
    """A model configuration: provider, model name, parameters, prices (no key)."""

    id: ObjectId | None = Field(None, description="The stored model this is, if any.")
    name: Text = Field("", max_length=100)
    provider: ProviderName
    model: Text = Field("", max_length=200, description="The provider's model name.")
    base_url: Text = Field("", max_length=500, description="Where requests go.")
    credential: ObjectId | None = Field(None, description="The credential's id (no key).")
    params: JsonObject = Field(default_factory=dict, description="temperature, max_tokens, …")
    model_info: JsonObject = Field(default_factory=dict)
    price_input_per_million: float = Field(0.0, ge=0, allow_inf_nan=False)
    price_output_per_million: float = Field(0.0, ge=0, allow_inf_nan=False)
    scripted_replies: JsonList = Field(default_factory=list)


# --- Termination conditions (a tree; `type` tells the kind) ---


class MaxMessages(Spec):
    """Stop after this many messages (the task counts)."""

    type: Literal["max_messages"] = "max_messages"
    max_messages: Count = Field(description="How many messages at most.")
    include_agent_event: bool = Field(False, description="Count agent events too.")


class TextMention(Spec):
    """Stop when a message contains this text."""

    type: Literal["text_mention"] = "text_mention"
    text: Text = Field(min_length=1, max_length=1000, description="The text to look for.")
    sources: list[Identifier] | None = Field(None, description="Only from these agents.")


class TokenUsage(Spec):
    """Stop when the team has used this many tokens."""

    type: Literal["token_usage"] = "token_usage"
    max_total_tokens: Count | None = None
    max_prompt_tokens: Count | None = None
    max_completion_tokens: Count | None = None


class Timeout(Spec):
    """Stop after this many seconds."""

    type: Literal["timeout"] = "timeout"
    timeout_seconds: float = Field(gt=0, le=7 * 24 * 3600, allow_inf_nan=False)


class HandoffTo(Spec):
    """Stop when an agent hands off to this target (often the human)."""

    type: Literal["handoff"] = "handoff"
    target: Identifier = Field(description="The handoff target that stops the team.")


class SourceMatch(Spec):
    """Stop when one of these agents has spoken."""

    type: Literal["source_match"] = "source_match"
    sources: list[Identifier] = Field(min_length=1)


class External(Spec):
    """Stop only when told to from outside (the Stop button)."""

    type: Literal["external"] = "external"


class StopMessageSeen(Spec):
    """Stop when an agent sends a stop message."""

    type: Literal["stop_message"] = "stop_message"


class FunctionCall(Spec):
    """Stop when this tool has been executed."""

    type: Literal["function_call"] = "function_call"
    function_name: Identifier = Field(description="The tool whose execution stops the team.")


class TextMessageSeen(Spec):
    """Stop at the first text message (from one agent, or any)."""

    type: Literal["text_message"] = "text_message"
    source: Identifier | None = None


class Cost(Spec):
    """Stop when the run has cost this many dollars."""

    type: Literal["cost"] = "cost"
    max_cost_usd: float = Field(gt=0, allow_inf_nan=False)


class AnyOf(Spec):
    """Stop when any of these conditions holds."""

    type: Literal["or"] = "or"
    conditions: list[Condition] = Field(min_length=1)


class AllOf(Spec):
    """Stop when all of these conditions have held."""

    type: Literal["and"] = "and"
    conditions: list[Condition] = Field(min_length=1)


Condition = Annotated[
    MaxMessages
    | TextMention
    | TokenUsage
    | Timeout
    | HandoffTo
    | SourceMatch
    | External
    | StopMessageSeen
    | FunctionCall
    | TextMessageSeen
    | Cost
    | AnyOf
    | AllOf,
    Field(discriminator="type"),
]
CONDITION_CLASSES: tuple[type[Spec], ...] = (
    MaxMessages,
    TextMention,
    TokenUsage,
    Timeout,
    HandoffTo,
    SourceMatch,
    External,
    StopMessageSeen,
    FunctionCall,
    TextMessageSeen,
    Cost,
    AnyOf,
    AllOf,
)
COMBINATORS = ("or", "and")


# --- What an assistant's model sees of the conversation (`type` tells which) ---


class WholeHistory(Spec):
    """The model sees the whole conversation."""

    type: Literal["unbounded"] = "unbounded"


class LastMessages(Spec):
    """The model sees only the latest messages: cheaper on long runs."""

    type: Literal["buffered"] = "buffered"
    buffer_size: Count = Field(description="How many of the latest messages it sees.")


class HeadAndTail(Spec):
    """The model sees the first and the latest messages, not those between."""

    type: Literal["head_and_tail"] = "head_and_tail"
    head_size: Count = Field(description="How many of the first messages it sees.")
    tail_size: Count = Field(description="How many of the latest messages it sees.")


class TokenLimited(Spec):
    """The model sees the latest messages that fit in a number of tokens."""

    type: Literal["token_limited"] = "token_limited"
    token_limit: Count = Field(description="Tokens of history the model sees at most.")


ModelContext = Annotated[
    WholeHistory | LastMessages | HeadAndTail | TokenLimited, Field(discriminator="type")
]
CONTEXT_CLASSES: tuple[type[Spec], ...] = (WholeHistory, LastMessages, HeadAndTail, TokenLimited)


# --- Agents (`kind` tells which) ---


class AssistantSpec(Spec):
    """An assistant: a model with a system message, tools and handoffs."""

    kind: Literal["assistant"] = "assistant"
    id: ObjectId | None = None
    name: Identifier
    description: Text = ""
    system_message: Text = ""
    model: ModelSpec | None = None
    tools: list[Identifier] = Field(default_factory=list, description="Registered tool names.")
    handoffs: list[Identifier] = Field(default_factory=list, description="Agents to hand to.")
    reflect_on_tool_use: bool = False
    max_tool_iterations: int = Field(1, ge=1, le=50)
    model_client_stream: bool = Field(False, description="Stream tokens as they arrive.")
    model_context: ModelContext | None = Field(
        None, description="What the model sees of the conversation (default: all of it)."
    )
    memory: list[Annotated[Text, Field(max_length=10_000)]] = Field(
        default_factory=list, description="Facts the agent recalls before each reply."
    )
    tool_call_summary_format: Text = Field(
        "{result}",
        max_length=1000,
        description="How a tool result reads when not reflected on: {tool_name}, "
        "{arguments}, {result}, {is_error}.",
    )


class UserProxySpec(Spec):
    """A human seat: the person watching the run answers for it."""

    kind: Literal["user_proxy"] = "user_proxy"
    id: ObjectId | None = None
    name: Identifier
    description: Text = ""


class NestedTeamSpec(Spec):
    """A whole team acting as one participant (AutoGen's SocietyOfMindAgent)."""

    kind: Literal["team"] = "team"
    id: ObjectId | None = None
    name: Identifier
    description: Text = ""
    model: ModelSpec | None = Field(None, description="Summarises the inner team's work.")
    team: TeamSpec
    instruction: Text = ""
    response_prompt: Text = ""


AgentSpec = Annotated[AssistantSpec | UserProxySpec | NestedTeamSpec, Field(discriminator="kind")]
AGENT_CLASSES: tuple[type[Spec], ...] = (AssistantSpec, UserProxySpec, NestedTeamSpec)


# --- Teams ---


class SelectorSpec(Spec):
    """How a selector team picks its next speaker."""

    model: ModelSpec | None = None
    prompt: Text = ""
    allow_repeated_speaker: bool = False


class GraphEdgeSpec(Spec):
    """An edge of a graph team: after `source` speaks, `target` may (if `condition`, a
    text the source's message must contain, holds). A target waits for all the edges of
    its activation group to fire, or runs on the first of them (`activation_condition`)."""

    source: Identifier
    target: Identifier
    condition: Text | None = Field(
        None, max_length=1000, description="Text the message must contain (none: always)."
    )
    activation_group: Identifier | None = Field(
        None, description="Edges into one target that are waited for together (default: all)."
    )
    activation_condition: Literal["all", "any"] = Field(
        "all", description="Whether the target waits for every edge of its group, or any."
    )


class GraphSpec(Spec):
    """The directed graph of a graph team."""

    edges: list[GraphEdgeSpec] = Field(default_factory=list)


class TeamSpec(Spec):
    """A team: who takes part, how turns pass, when to stop, and where nodes sit."""

    id: ObjectId | None = Field(None, description="The stored team this is, if any.")
    name: Text = Field("Untitled team", min_length=1, max_length=200)
    description: Text = ""
    kind: TeamKindName = "round_robin"
    participants: list[AgentSpec] = Field(default_factory=list)
    termination: Condition | None = None
    max_turns: Count | None = None
    selector: SelectorSpec | None = None
    graph: GraphSpec | None = None
    layout: JsonObject = Field(
        default_factory=dict,
        description='Where the canvas shows each node: {"positions": {name: {"x": …, "y": …}}}.',
    )


NestedTeamSpec.model_rebuild()
AnyOf.model_rebuild()
AllOf.model_rebuild()
TeamSpec.model_rebuild()


def condition_depth(condition: Any) -> int:
    """How deep a termination tree (spec or JSON) nests, counting its leaves."""
    stack, deepest = [(condition, 1)], 0
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        parts = getattr(node, "conditions", None)
        if parts is None and isinstance(node, dict):
            parts = node.get("conditions")
        if isinstance(parts, list):
            stack.extend((part, depth + 1) for part in parts)
    return deepest
