"""Dumps of an append-only model context: each message dumped once, in a list that only grows."""

from __future__ import annotations

from runtime import AssistantMessage, UserMessage
from runtime.agents.encoded_context import EncodedContext
from runtime.llm import LLMMessage


def said(*texts: str) -> list[LLMMessage]:
    return [UserMessage(text, "user") for text in texts]


def test_only_appended_messages_are_dumped_and_earlier_dumps_are_reused() -> None:
    encoded = EncodedContext()
    context = said("one", "two")
    first = encoded.dump(context)
    context.append(AssistantMessage(content="three", source="ada"))

    second = encoded.dump(context)

    assert second[:2] == first and all(a is b for a, b in zip(first, second, strict=False))
    assert second[2] == {"type": "AssistantMessage", "content": "three", "source": "ada"}
    assert second is not first


def test_a_shared_dump_is_one_list_that_grows_and_a_copy_is_not() -> None:
    encoded = EncodedContext()
    context = said("one")
    shared = encoded.dump(context, shared=True)
    context.extend(said("two"))

    assert encoded.dump(context, shared=True) is shared
    assert len(shared) == 2
    assert encoded.dump(context) is not shared


def test_a_replaced_context_is_dumped_afresh_into_a_new_list() -> None:
    encoded = EncodedContext()
    context = said("one", "two")
    shared = encoded.dump(context, shared=True)
    # another list, as long, whose last message is even the same object
    replaced = [*said("other"), context[-1]]

    dumps = encoded.dump(replaced, shared=True)

    assert dumps is not shared
    assert [entry["content"] for entry in dumps] == ["other", "two"]
    assert [entry["content"] for entry in shared] == ["one", "two"]


def test_a_context_shortened_in_place_is_dumped_afresh() -> None:
    encoded = EncodedContext()
    context = said("one", "two")
    shared = encoded.dump(context, shared=True)
    del context[0]
    context.extend(said("three"))

    assert [entry["content"] for entry in encoded.dump(context)] == ["two", "three"]
    assert [entry["content"] for entry in shared] == ["one", "two"]
