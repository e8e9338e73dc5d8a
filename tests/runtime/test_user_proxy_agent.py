"""UserProxyAgent: the human seat asks through an input function, announcing each request."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from runtime import (
    CancellationToken,
    HandoffMessage,
    InputError,
    Response,
    TeamError,
    TextMessage,
    UserInputRequestedEvent,
    UserProxyAgent,
)
from runtime.agents.user_proxy import current_request_id
from runtime.testing import ScriptedInput


def task(text: str = "Shall we ship?") -> list[TextMessage]:
    return [TextMessage(content=text, source="planner")]


async def test_the_request_event_comes_before_the_input_function_is_called() -> None:
    order: list[str] = []

    async def ask(prompt: str, cancellation_token: CancellationToken) -> str:
        order.append("asked")
        return "Yes."

    agent = UserProxyAgent("human", input_func=ask)
    stream = agent.on_messages_stream(task(), CancellationToken())

    event = await anext(stream)
    order.append("event")
    response = await anext(stream)

    assert order == ["event", "asked"]
    assert isinstance(event, UserInputRequestedEvent)
    assert event.source == "human"
    assert event.request_id
    assert isinstance(response, Response)
    assert response.chat_message == TextMessage(
        content="Yes.",
        source="human",
        id=response.chat_message.id,
        created_at=response.chat_message.created_at,
    )
    assert list(response.inner_messages) == [event]


async def test_the_request_event_names_and_quotes_the_message_the_human_answers() -> None:
    agent = UserProxyAgent("human", input_func=ScriptedInput(["Yes."]))
    messages = [*task("Draft ready."), TextMessage(content="Ship it today?", source="lead")]

    event = await anext(agent.on_messages_stream(messages, CancellationToken()))

    assert isinstance(event, UserInputRequestedEvent)
    assert (event.asked_by, event.question) == ("lead", "Ship it today?")


async def test_the_input_function_learns_the_request_id_of_the_event() -> None:
    human = ScriptedInput(["one", "two"])
    agent = UserProxyAgent("human", input_func=human)

    first = await agent.run(task="a")
    second = await agent.run(task="b")

    events = [m for m in [*first.messages, *second.messages] if m.type == "UserInputRequestedEvent"]
    assert human.request_ids == [e.request_id for e in events]  # type: ignore[attr-defined]
    assert len(set(human.request_ids)) == 2
    assert human.prompts == ["Enter your response: ", "Enter your response: "]
    assert current_request_id() is None


async def test_sync_input_functions_run_in_a_thread_and_see_the_request_id() -> None:
    seen: dict[str, Any] = {}

    def ask(prompt: str) -> str:
        seen["thread"] = threading.current_thread().name
        seen["request_id"] = current_request_id()
        return f"answer to {prompt!r}"

    agent = UserProxyAgent("human", input_func=ask)
    result = await agent.run(task="Go?")

    event, reply = result.messages[1], result.messages[2]
    assert seen["thread"] != threading.current_thread().name
    assert seen["request_id"] == event.request_id  # type: ignore[attr-defined]
    assert reply.to_text() == "answer to 'Enter your response: '"


async def test_sync_input_functions_may_take_the_cancellation_token() -> None:
    tokens: list[CancellationToken] = []

    def ask(prompt: str, cancellation_token: CancellationToken) -> str:
        tokens.append(cancellation_token)
        return "ok"

    token = CancellationToken()
    response = await UserProxyAgent("human", input_func=ask).on_messages(task(), token)

    assert tokens == [token]
    assert response.chat_message.content == "ok"


async def test_a_handoff_to_the_human_is_answered_with_a_handoff_back() -> None:
    human = ScriptedInput(["Approved."])
    agent = UserProxyAgent("human", input_func=human)
    handoff = HandoffMessage(content="Please approve.", target="human", source="planner")

    response = await agent.on_messages([handoff], CancellationToken())

    reply = response.chat_message
    assert isinstance(reply, HandoffMessage)
    assert reply.target == "planner"
    assert reply.content == "Approved."
    assert human.prompts == ["Handoff received from planner. Enter your response: "]


async def test_a_handoff_addressed_to_someone_else_is_refused_without_asking() -> None:
    human = ScriptedInput(["Noted."])
    agent = UserProxyAgent("human", input_func=human)
    handoff = HandoffMessage(content="Over.", target="writer", source="planner")

    with pytest.raises(TeamError, match="addressed to 'writer'"):
        await agent.on_messages([handoff], CancellationToken())

    assert human.prompts == []


async def test_a_handoff_to_someone_else_earlier_in_the_batch_does_not_matter() -> None:
    human = ScriptedInput(["Noted."])
    agent = UserProxyAgent("human", input_func=human)
    handoff = HandoffMessage(content="Over.", target="writer", source="planner")

    response = await agent.on_messages(
        [handoff, TextMessage(content="hi", source="writer")], CancellationToken()
    )

    assert isinstance(response.chat_message, TextMessage)


async def test_an_input_function_failure_is_an_input_error_with_the_cause() -> None:
    async def broken(prompt: str, cancellation_token: CancellationToken) -> str:
        raise ConnectionError("browser went away")

    agent = UserProxyAgent("human", input_func=broken)

    with pytest.raises(InputError, match="browser went away") as caught:
        await agent.on_messages(task(), CancellationToken())
    assert isinstance(caught.value.__cause__, ConnectionError)


async def test_a_non_text_answer_is_an_input_error() -> None:
    async def wrong(prompt: str, cancellation_token: CancellationToken) -> Any:
        return 42

    with pytest.raises(InputError, match="returned int, expected a string"):
        await UserProxyAgent("human", input_func=wrong).on_messages(task(), CancellationToken())


async def test_without_an_input_function_asking_is_an_input_error() -> None:
    agent = UserProxyAgent("human")

    with pytest.raises(InputError, match="has no input_func"):
        await agent.on_messages(task(), CancellationToken())


async def test_cancelling_while_waiting_for_the_human_raises_cancelled_error() -> None:
    waiting = asyncio.Event()

    async def never(prompt: str, cancellation_token: CancellationToken) -> str:
        waiting.set()
        await asyncio.sleep(10)
        return "too late"

    token = CancellationToken()
    agent = UserProxyAgent("human", input_func=never)
    turn = asyncio.ensure_future(agent.on_messages(task(), token))
    await asyncio.wait_for(waiting.wait(), 1)
    token.cancel()

    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(turn, 1)


async def test_a_cancelled_token_means_the_human_is_not_asked() -> None:
    human = ScriptedInput(["x"])
    token = CancellationToken()
    token.cancel()

    with pytest.raises(asyncio.CancelledError):
        await UserProxyAgent("human", input_func=human).on_messages(task(), token)
    assert human.prompts == []


async def test_the_human_seat_has_nothing_to_reset_and_keeps_its_configuration() -> None:
    human = ScriptedInput([])
    agent = UserProxyAgent("human", description="The reviewer", input_func=human)

    await agent.on_reset(CancellationToken())

    assert agent.description == "The reviewer"
    assert agent.input_func is human
    assert await agent.save_state() == {"type": "BaseState", "version": "1.0.0"}


def test_a_non_callable_input_function_is_refused() -> None:
    from runtime import ConfigurationError

    with pytest.raises(ConfigurationError, match="must be callable"):
        UserProxyAgent("human", input_func="stdin")  # type: ignore[arg-type]


async def test_callables_without_a_readable_signature_get_only_the_prompt() -> None:
    class Opaque:
        """A callable whose signature inspect cannot read."""

        __signature__ = "not a signature"

        def __call__(self, *args: Any) -> str:
            return f"{len(args)} argument(s)"

    response = await UserProxyAgent("human", input_func=Opaque()).on_messages(
        task(), CancellationToken()
    )

    assert response.chat_message.content == "1 argument(s)"
