"""The event envelope a run reports through, and one schema per event type.

Every event travels as::

    {"run": 12, "seq": 41, "type": "tool.call", "source": "coder",
     "at": "2026-01-01T12:00:00.000000Z", "data": {...}}

``seq`` is gap-free per run and assigned by the sink; streaming chunks
(``message.chunk``) are live only: they carry ``"seq": null``, the seq they follow in
``after`` and their position in ``index``. :func:`describe_item` maps what the runtime
emits onto these types; :data:`DATA_SCHEMAS` validates each type's ``data``.

Text in an event is whatever a model or a tool produced, NUL characters included, and
PostgreSQL can store those in neither ``jsonb`` nor ``text``: :class:`EventDataEncoder`
and :class:`EventDataDecoder` write them escaped into the ``data`` column and read them
back exactly, and :func:`searchable_text` leaves them out of the search column.
"""

from __future__ import annotations

import enum
import json
import re
import time
from datetime import UTC, datetime
from typing import Any, NamedTuple

from django.conf import settings
from pydantic import BaseModel, ConfigDict

from runtime import (
    BaseChatMessage,
    BaseMessage,
    HandoffMessage,
    ModelClientStreamingChunkEvent,
    SelectSpeakerEvent,
    ThoughtEvent,
    ToolCallExecutionEvent,
    ToolCallRequestEvent,
    ToolCallSummaryMessage,
    UserInputRequestedEvent,
)
from studio.runs.jsontext import compact_json, quote_json, spaced_json


class EventType(enum.StrEnum):
    """Every event type a run can report."""

    RUN_STATUS = "run.status"
    MESSAGE = "message"
    MESSAGE_CHUNK = "message.chunk"
    THOUGHT = "thought"
    TOOL_CALL = "tool.call"
    TOOL_RESULT = "tool.result"
    HANDOFF = "handoff"
    SPEAKER_SELECTED = "speaker.selected"
    INPUT_REQUESTED = "input.requested"
    INPUT_PROVIDED = "input.provided"
    INTERJECTION = "interjection"
    USAGE = "usage"
    ERROR = "error"
    RUN_RESUMED = "run.resumed"
    RUN_FINISHED = "run.finished"


#: event types whose text is worth searching
SEARCHABLE_TYPES = frozenset(
    {EventType.MESSAGE, EventType.HANDOFF, EventType.INPUT_PROVIDED, EventType.INTERJECTION}
)


class EventData(BaseModel):
    """Base of every ``data`` schema: unknown keys are a defect, so they are refused."""

    model_config = ConfigDict(extra="forbid")


class Usage(EventData):
    """Tokens of one model call."""

    prompt_tokens: int
    completion_tokens: int


class RunStatusData(EventData):
    """The run moved to ``status``; ``reason`` says why when it is not obvious."""

    status: str
    reason: str = ""


class MessageData(EventData):
    """A chat message an agent (or the task, or a person) said."""

    id: str
    kind: str
    content: str
    models_usage: Usage | None = None
    metadata: dict[str, str] = {}
    tool_calls: list[dict[str, Any]] | None = None
    results: list[dict[str, Any]] | None = None
    edited: bool = False


class MessageChunkData(EventData):
    """A piece of a reply while it streams; the final ``message`` has ``full_message_id``."""

    content: str
    full_message_id: str | None = None


class ThoughtData(EventData):
    """Reasoning a model gave alongside its answer."""

    id: str
    content: str


class ToolCallData(EventData):
    """Tool calls a model asked for."""

    id: str
    calls: list[dict[str, Any]]
    models_usage: Usage | None = None


class ToolResultData(EventData):
    """Results of executed tool calls, matched by ``call_id``; ``durations_ms`` holds how
    long each took, in the order of ``results`` (empty when not measured)."""

    id: str
    results: list[dict[str, Any]]
    durations_ms: list[float] = []


class HandoffData(EventData):
    """The conversation passes to ``target``."""

    id: str
    target: str
    content: str
    models_usage: Usage | None = None
    metadata: dict[str, str] = {}
    context: list[dict[str, Any]] = []
    edited: bool = False


class SpeakerSelectedData(EventData):
    """Who speaks next."""

    speakers: list[str]


class InputRequestedData(EventData):
    """The human seat waits for an answer to ``request_id``.

    ``asked_by`` and ``question`` name and quote the message the human answers (the
    question is cut at :data:`QUESTION_CHARS`; the message itself is in the transcript);
    the run times out ``timeout_seconds`` after this event when nobody answers.
    """

    request_id: str
    prompt: str
    asked_by: str = ""
    question: str = ""
    timeout_seconds: int | None = None


class InputProvidedData(EventData):
    """A person answered ``request_id``."""

    request_id: str
    content: str
    user: str


class InterjectionData(EventData):
    """A person's message queued for the next turn boundary."""

    content: str
    user: str


class UsageData(EventData):
    """One model call's usage and cost, and the run's totals after it."""

    model: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    total_tokens: int
    total_cost_usd: float


class ErrorData(EventData):
    """Something failed; ``code`` is stable, ``message`` is for people."""

    code: str
    message: str


class RunResumedData(EventData):
    """The run resumed from the checkpoint at ``checkpoint_seq``.

    Events ``discarded_from`` … ``discarded_to`` (inclusive; empty when from > to) were
    produced after that checkpoint by an attempt that did not finish: viewers drop them.
    """

    checkpoint_seq: int
    discarded_from: int
    discarded_to: int
    reason: str


class RunFinishedData(EventData):
    """The run ended (it may still be continued later)."""

    status: str
    stop_reason: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float


DATA_SCHEMAS: dict[EventType, type[EventData]] = {
    EventType.RUN_STATUS: RunStatusData,
    EventType.MESSAGE: MessageData,
    EventType.MESSAGE_CHUNK: MessageChunkData,
    EventType.THOUGHT: ThoughtData,
    EventType.TOOL_CALL: ToolCallData,
    EventType.TOOL_RESULT: ToolResultData,
    EventType.HANDOFF: HandoffData,
    EventType.SPEAKER_SELECTED: SpeakerSelectedData,
    EventType.INPUT_REQUESTED: InputRequestedData,
    EventType.INPUT_PROVIDED: InputProvidedData,
    EventType.INTERJECTION: InterjectionData,
    EventType.USAGE: UsageData,
    EventType.ERROR: ErrorData,
    EventType.RUN_RESUMED: RunResumedData,
    EventType.RUN_FINISHED: RunFinishedData,
}


class Envelope(BaseModel):
    """The JSON every event travels in (the API's and the websocket's shape)."""

    run: int
    seq: int | None
    type: str
    source: str
    at: str
    data: dict[str, Any]
    discarded: bool = False
    after: int | None = None
    index: int | None = None


def validate_data(event_type: str, data: dict[str, Any]) -> EventData:
    """Check ``data`` against its type's schema; raises ``pydantic.ValidationError``."""
    return DATA_SCHEMAS[EventType(event_type)].model_validate(data)


def format_time(moment: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``, as every envelope carries it."""
    return moment.isoformat().replace("+00:00", "Z")


class Moment(NamedTuple):
    """When an event happened, to the microsecond, in UTC: what a run's sink stamps each
    event with, and the texts it needs of it (the envelope's, SQLite's).

    Every event of a busy run takes the time, and its envelope and its row each wrote
    it out from a ``datetime``: a twentieth of a run host's work. The date and time to
    the second are written once per second here, the microseconds added to them, in
    the spelling ``datetime.isoformat`` has (no fraction when it is zero).
    """

    seconds: int
    micro: int

    @classmethod
    def now(cls) -> Moment:
        """This microsecond."""
        seconds, micro = divmod(time.time_ns() // 1000, 1_000_000)
        return cls(seconds, micro)

    @classmethod
    def of(cls, moment: datetime) -> Moment:
        """An aware ``datetime``'s moment."""
        since = moment - EPOCH
        return cls(since.days * 86_400 + since.seconds, since.microseconds)

    def _prefixes(self) -> tuple[str, str]:
        global _second
        seconds, iso, sqlite = _second
        if seconds != self.seconds:
            iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(self.seconds))
            sqlite = iso.replace("T", " ")
            _second = (self.seconds, iso, sqlite)
        return iso, sqlite

    def _fraction(self) -> str:
        return f".{self.micro:06d}" if self.micro else ""

    def text(self) -> str:
        """As :func:`format_time` writes it."""
        return f"{self._prefixes()[0]}{self._fraction()}Z"

    def sqlite_text(self) -> str:
        """As Django's SQLite backend stores an aware ``datetime`` in UTC."""
        return f"{self._prefixes()[1]}{self._fraction()}"

    def as_datetime(self) -> datetime:
        """The aware ``datetime``."""
        return datetime.fromtimestamp(self.seconds, UTC).replace(microsecond=self.micro)


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: the second :class:`Moment` last wrote out, in its two spellings
_second: tuple[int, str, str] = (-1, "", "")


def make_envelope(
    run_id: int, seq: int, event_type: str, source: str, at: datetime, data: dict[str, Any]
) -> dict[str, Any]:
    """A persisted event's envelope."""
    return {
        "run": run_id,
        "seq": seq,
        "type": event_type,
        "source": source,
        "at": format_time(at),
        "data": data,
    }


def make_chunk_envelope(
    run_id: int, after: int, index: int, source: str, at: Moment, data: dict[str, Any]
) -> dict[str, Any]:
    """A streaming chunk's envelope: no seq of its own, placed after seq ``after``."""
    return {
        "run": run_id,
        "seq": None,
        "after": after,
        "index": index,
        "type": EventType.MESSAGE_CHUNK.value,
        "source": source,
        "at": at.text(),
        "data": data,
    }


class Frame(NamedTuple):
    """An event as the live logs carry it and the sockets send it: where it sits in its
    run (``(seq, 0)``, or ``(after, index)`` for a streaming chunk) and its envelope as
    JSON text, written once where the event is made.

    Servers relay the text as it is: decoding and encoding every event again for every
    hop and every watcher cost more than the rest of relaying it.
    """

    position: tuple[int, int]
    text: str

    @property
    def seq(self) -> int | None:
        """The event's seq; None for a streaming chunk."""
        seq, index = self.position
        return seq if index == 0 else None

    def envelope(self) -> dict[str, Any]:
        """The envelope as data."""
        envelope: dict[str, Any] = json.loads(self.text)
        return envelope


def make_frame(envelope: dict[str, Any]) -> Frame:
    """The frame of an envelope given as data."""
    return Frame(envelope_position(envelope), compact_json(envelope))


def event_frame(
    run_id: int,
    seq: int,
    event_type: str,
    source: str,
    at: str,
    data_text: str,
    *,
    discarded: bool = False,
) -> Frame:
    """The frame of a persisted event whose data is JSON text already (``at`` as
    :func:`format_time` writes it): the envelope :func:`make_envelope` makes, in the
    order it has, around the text as it is."""
    end = ',"discarded":true}' if discarded else "}"
    text = (
        f'{{"run":{run_id:d},"seq":{seq:d},"type":{quote_json(event_type)},'
        f'"source":{quote_json(source)},"at":{quote_json(at)},"data":{data_text}{end}'
    )
    return Frame((seq, 0), text)


def envelope_position(envelope: dict[str, Any]) -> tuple[int, int]:
    """Where an envelope sits in a live log: ``(seq, 0)`` or ``(after, index)`` for chunks."""
    if envelope["seq"] is None:
        return (envelope["after"], envelope["index"])
    return (envelope["seq"], 0)


def _usage(message: BaseMessage) -> dict[str, int] | None:
    return message.models_usage.to_dict() if message.models_usage else None


def _chat_data(message: BaseChatMessage) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": message.id,
        "kind": message.type,
        "content": message.content,
        "models_usage": _usage(message),
        "metadata": dict(message.metadata),
    }
    if isinstance(message, ToolCallSummaryMessage):
        data["tool_calls"] = [call.to_dict() for call in message.tool_calls]
        data["results"] = [result.to_dict() for result in message.results]
    return data


Described = tuple[EventType, dict[str, Any]]

#: how much of the message a human answers an ``input.requested`` event quotes
QUESTION_CHARS = 1000


def describe_item(item: BaseMessage) -> Described | None:
    """Map one runtime message or event onto an event type and its ``data``.

    Returns None for runtime items the studio does not report.
    """
    if isinstance(item, HandoffMessage):
        return EventType.HANDOFF, {
            "id": item.id,
            "target": item.target,
            "content": item.content,
            "models_usage": _usage(item),
            "metadata": dict(item.metadata),
            "context": [message.to_dict() for message in item.context],
        }
    if isinstance(item, BaseChatMessage):
        return EventType.MESSAGE, _chat_data(item)
    if isinstance(item, ModelClientStreamingChunkEvent):
        return EventType.MESSAGE_CHUNK, {
            "content": item.content,
            "full_message_id": item.full_message_id,
        }
    if isinstance(item, ToolCallRequestEvent):
        return EventType.TOOL_CALL, {
            "id": item.id,
            "calls": [call.to_dict() for call in item.content],
            "models_usage": _usage(item),
        }
    if isinstance(item, ToolCallExecutionEvent):
        return EventType.TOOL_RESULT, {
            "id": item.id,
            "results": [result.to_dict() for result in item.content],
            "durations_ms": [round(seconds * 1000, 1) for seconds in item.durations],
        }
    if isinstance(item, SelectSpeakerEvent):
        return EventType.SPEAKER_SELECTED, {"speakers": list(item.content)}
    if isinstance(item, UserInputRequestedEvent):
        return EventType.INPUT_REQUESTED, {
            "request_id": item.request_id,
            "prompt": item.content,
            "asked_by": item.asked_by,
            "question": shorten(item.question, QUESTION_CHARS),
            "timeout_seconds": settings.RUNS_INPUT_TIMEOUT_SECONDS,
        }
    if isinstance(item, ThoughtEvent):
        return EventType.THOUGHT, {"id": item.id, "content": item.content}
    return None


def shorten(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, an ellipsis marking a cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def searchable_text(event_type: str, data: dict[str, Any]) -> str:
    """The text of an event that history search looks at ("" for most types).

    NUL characters and unpaired surrogates are left out: the ``data`` column keeps them.
    """
    if event_type in SEARCHABLE_TYPES:
        return _UNSTORABLE.sub(_drop_unstorable, str(data.get("content", "")))
    return ""


def _drop_unstorable(match: re.Match[str]) -> str:
    return match.group(0) if match.group(0) == NUL_ESCAPE else ""


# --- storing text with NUL characters ---

NUL = "\x00"
#: a private-use character that marks an escape in stored event data: ``NUL_ESCAPE + "0"``
#: stands for NUL, ``NUL_ESCAPE + "u" + 4 hex digits`` for an unpaired surrogate, and a
#: doubled ``NUL_ESCAPE`` for itself, so every string reads back as it was written
NUL_ESCAPE = "\ue000"
_UNSTORABLE = re.compile("[\x00\ue000\ud800-\udfff]")
_ESCAPED = re.compile(NUL_ESCAPE + "(?:(0)|u([0-9a-f]{4})|(" + NUL_ESCAPE + "))")
#: how NUL, a surrogate or the escape character can show up in JSON text
_MAY_NEED_ESCAPING = re.compile(r"\\u0000|\\u[eE]000|\\u[dD][89a-fA-F]|[\ue000\ud800-\udfff]")
_MAY_BE_ESCAPED = re.compile(r"\\u[eE]000|\ue000")


def _escape_one(match: re.Match[str]) -> str:
    character = match.group(0)
    if character == NUL:
        return NUL_ESCAPE + "0"
    if character == NUL_ESCAPE:
        return NUL_ESCAPE * 2
    return f"{NUL_ESCAPE}u{ord(character):04x}"


def _unescape_one(match: re.Match[str]) -> str:
    nul, surrogate, escape = match.groups()
    if nul:
        return NUL
    return chr(int(surrogate, 16)) if surrogate else escape


def escape_nul(value: Any) -> Any:
    """A copy of a JSON value whose strings (keys too) hold no NUL or lone surrogate."""
    if isinstance(value, str):
        return _UNSTORABLE.sub(_escape_one, value)
    if isinstance(value, dict):
        return {escape_nul(key): escape_nul(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [escape_nul(item) for item in value]
    return value


def unescape_nul(value: Any) -> Any:
    """The JSON value :func:`escape_nul` was given."""
    if isinstance(value, str):
        return _ESCAPED.sub(_unescape_one, value) if NUL_ESCAPE in value else value
    if isinstance(value, dict):
        return {unescape_nul(key): unescape_nul(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unescape_nul(item) for item in value]
    return value


def event_data_text(data: Any) -> str:
    """JSON text of event data holding no NUL character (see :func:`escape_nul`), as
    ``json.dumps`` writes it. Data without NUL or the escape character, nearly all of it,
    is encoded once as is."""
    return event_data_texts(data)[0]


def event_data_texts(data: Any) -> tuple[str, str]:
    """JSON text of event data as stored (:func:`event_data_text`) and as sent, which
    is the same text unless the data holds what storing escapes (one encoding)."""
    text = spaced_json(data)
    # ASCII text without an escape sequence (nearly all) holds nothing to escape.
    if (text.isascii() and "\\u" not in text) or _MAY_NEED_ESCAPING.search(text) is None:
        return text, text
    return spaced_json(escape_nul(data)), text


def sent_data_text(stored: str) -> str:
    """The JSON text to send of event data stored as ``stored`` (:func:`event_data_text`,
    or what the database gives back for it): the same text, unless it holds escapes."""
    if _MAY_BE_ESCAPED.search(stored) is None:
        return stored
    return spaced_json(decode_event_data(stored))


class EventDataEncoder(json.JSONEncoder):
    """The event data field's encoder: :func:`event_data_text`.

    The field makes it with json's default settings, which that function writes.
    """

    def encode(self, o: Any) -> str:
        """JSON text of ``o`` holding no NUL character."""
        return event_data_text(o)


class EventDataDecoder(json.JSONDecoder):
    """Decodes what :class:`EventDataEncoder` wrote back into the original data."""

    def decode(self, s: str, *args: Any, **kwargs: Any) -> Any:
        """The value of the JSON text ``s``, NUL characters restored."""
        value = super().decode(s, *args, **kwargs)
        return unescape_nul(value) if _MAY_BE_ESCAPED.search(s) else value


def decode_event_data(text: str) -> Any:
    """What :class:`EventDataDecoder` reads from stored JSON text, without making a decoder
    for each value as ``json.loads(text, cls=...)`` does."""
    value = json.loads(text)
    return unescape_nul(value) if _MAY_BE_ESCAPED.search(text) else value
