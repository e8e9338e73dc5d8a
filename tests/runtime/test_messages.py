"""Messages and events: lossless JSON round trips, AutoGen-shaped input, clear load errors."""

from __future__ import annotations

import base64
import json
import os
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from runtime import (
    AssistantMessage,
    BaseMessage,
    ConfigurationError,
    CreateResult,
    FunctionCall,
    FunctionExecutionResult,
    FunctionExecutionResultMessage,
    HandoffMessage,
    Image,
    ModelClientStreamingChunkEvent,
    RequestUsage,
    SelectSpeakerEvent,
    StopMessage,
    SystemMessage,
    TaskResult,
    TextMessage,
    ThoughtEvent,
    ToolCallExecutionEvent,
    ToolCallRequestEvent,
    ToolCallSummaryMessage,
    UserInputRequestedEvent,
    UserMessage,
    load_message,
)
from runtime.messages import new_id

CALL = FunctionCall(id="call_1", arguments='{"city": "Oslo"}', name="weather")
RESULT = FunctionExecutionResult(content="sunny", name="weather", call_id="call_1")

EVERY_KIND: list[BaseMessage] = [
    TextMessage(content="hi", source="a", models_usage=RequestUsage(3, 4), metadata={"m": "x"}),
    StopMessage(content="done", source="a"),
    HandoffMessage(
        content="over to b",
        target="b",
        source="a",
        context=(
            SystemMessage("be brief"),
            UserMessage("hi", "user"),
            AssistantMessage(content=[CALL], source="a", thought="check the weather"),
            FunctionExecutionResultMessage([RESULT]),
        ),
    ),
    ToolCallSummaryMessage(content="sunny", source="a", tool_calls=(CALL,), results=(RESULT,)),
    ToolCallRequestEvent(content=(CALL,), source="a"),
    ToolCallExecutionEvent(content=(RESULT,), source="a"),
    ToolCallExecutionEvent(content=(RESULT,), source="a", durations=(0.25,)),
    ModelClientStreamingChunkEvent(content="su", source="a", full_message_id="m1"),
    ThoughtEvent(content="hmm", source="a"),
    SelectSpeakerEvent(content=("a", "b"), source="team"),
    UserInputRequestedEvent(request_id="r1", content="your turn", source="human"),
    UserInputRequestedEvent(request_id="r2", source="human", asked_by="a", question="Why?"),
]


@pytest.mark.parametrize("message", EVERY_KIND, ids=lambda m: m.type)
def test_every_message_and_event_survives_json_unchanged(message: BaseMessage) -> None:
    data = json.loads(json.dumps(message.dump()))

    assert load_message(data) == message


def test_a_speaker_selection_reads_as_the_chosen_names() -> None:
    event = SelectSpeakerEvent(content=["writer", "critic"], source="team")

    assert event.to_text() == "writer, critic"


def test_a_task_result_survives_json_with_its_stop_reason() -> None:
    result = TaskResult(EVERY_KIND, stop_reason="Text 'done' mentioned")

    assert TaskResult.load(json.loads(json.dumps(result.dump()))) == result


def test_a_message_without_id_or_time_gets_fresh_ones() -> None:
    before = datetime.now(UTC)

    message = load_message({"type": "TextMessage", "source": "a", "content": "hi"})

    assert message.id
    assert message.created_at >= before


def test_a_message_keeps_a_datetime_given_as_an_object() -> None:
    moment = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

    message = load_message({"type": "StopMessage", "source": "a", "created_at": moment})

    assert message.created_at == moment


def test_an_autogen_multimodal_user_message_keeps_its_text_and_images() -> None:
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"0" * 8).decode()
    data = {
        "type": "HandoffMessage",
        "source": "a",
        "target": "b",
        "content": "over",
        "context": [
            {"type": "UserMessage", "content": ["look", {"data": png}, "here"], "source": "u"}
        ],
    }

    message = load_message(data)

    assert isinstance(message, HandoffMessage)
    image = Image.from_base64(png)
    assert image.mime == "image/png"
    assert message.context == (UserMessage(["look", image, "here"], "u"),)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"type": "Gossip", "source": "a"}, "unknown message type 'Gossip'"),
        ({"source": "a"}, "unknown message type None"),
        ({"type": "TextMessage", "content": "no source"}, "malformed TextMessage"),
        ({"type": "HandoffMessage", "source": "a"}, "malformed HandoffMessage"),
        (
            {"type": "TextMessage", "source": "a", "created_at": "yesterday"},
            "malformed TextMessage",
        ),
        (
            {"type": "HandoffMessage", "source": "a", "target": "b", "context": [{"type": "X"}]},
            "unknown LLM message type 'X'",
        ),
    ],
)
def test_unreadable_message_data_is_a_configuration_error(data: dict[str, Any], error: str) -> None:
    with pytest.raises(ConfigurationError, match=error):
        load_message(data)


def test_usage_adds_up_and_reports_its_total() -> None:
    total = RequestUsage(10, 5) + RequestUsage(1, 2)

    assert total == RequestUsage(11, 7)
    assert total.total_tokens == 18


@pytest.mark.parametrize(
    "result",
    [
        CreateResult(content="an answer", usage=RequestUsage(5, 2), thought="short"),
        CreateResult(content=[CALL], finish_reason="function_calls", cached=True),
    ],
    ids=["text", "tool calls"],
)
def test_a_model_result_survives_json_unchanged(result: CreateResult) -> None:
    assert CreateResult.from_dict(json.loads(json.dumps(result.to_dict()))) == result


def test_message_ids_are_version_4_uuids_and_do_not_repeat() -> None:
    ids = [TextMessage(content="hi", source="a").id for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for text in ids[:200]:
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_process_draws_other_ids_than_its_parent() -> None:
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its first ids, then leave at once
        os.write(writer, " ".join(new_id() for _ in range(3)).encode())
        os._exit(0)
    os.close(writer)
    os.waitpid(pid, 0)
    with os.fdopen(reader) as pipe:
        childs = pipe.read().split()
    parents = [new_id() for _ in range(3)]
    assert len(childs) == 3 and not set(childs) & set(parents)
