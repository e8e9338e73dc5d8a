"""Memory: ListMemory, the SQLite vector memory with provider embeddings, MemoryQueryEvent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runtime import (
    AssistantAgent,
    ComponentError,
    ConfigurationError,
    Image,
    ListMemory,
    MemoryContent,
    MemoryMimeType,
    MemoryQueryEvent,
    OpenAIEmbeddingClient,
    SQLiteVectorMemory,
    SystemMessage,
    UnboundedChatCompletionContext,
    UserMessage,
    dump_component,
    load_component,
    load_message,
)
from runtime.testing import ScriptedModelClient
from tests.fakes.llm_server import FakeLLMServer


def text(value: str) -> MemoryContent:
    return MemoryContent(content=value, mime_type=MemoryMimeType.TEXT)


async def test_a_list_memory_recalls_everything_into_the_context_as_autogen_does() -> None:
    memory = ListMemory(name="prefs")
    await memory.add(text("Use metric units."))
    await memory.add(MemoryContent(content={"diet": "vegan"}, mime_type=MemoryMimeType.JSON))
    context = UnboundedChatCompletionContext()

    result = await memory.update_context(context)

    assert len(result.memories.results) == 2
    assert await context.get_messages() == [
        SystemMessage(
            "\nRelevant memory content (in chronological order):\n"
            "1. Use metric units.\n2. {'diet': 'vegan'}\n"
        )
    ]
    await memory.clear()
    assert (await memory.query("anything")).results == ()


async def test_an_agent_with_memory_emits_what_it_recalled_before_answering() -> None:
    memory = ListMemory(memory_contents=[text("The user is called Ada.")])
    client = ScriptedModelClient(["Hello Ada."])
    agent = AssistantAgent("a", client, memory=[memory])

    result = await agent.run(task="Greet me.")

    event = result.messages[1]
    assert isinstance(event, MemoryQueryEvent)
    assert [item.content for item in event.content] == ["The user is called Ada."]
    assert load_message(json.loads(json.dumps(event.dump()))) == event
    history = await agent.model_context.get_messages()
    assert isinstance(history[1], SystemMessage) and "Ada" in history[1].content
    assert client.calls[0].messages == 3  # system, task, recalled memory


async def test_an_agent_with_an_empty_memory_emits_no_event() -> None:
    agent = AssistantAgent("a", ScriptedModelClient(["Hi."]), memory=[ListMemory()])

    result = await agent.run(task="Hi")

    assert [m.type for m in result.messages] == ["TextMessage", "TextMessage"]


def vector_memory(server: FakeLLMServer, **options: object) -> SQLiteVectorMemory:
    embedder = OpenAIEmbeddingClient("text-embedding-3-small", base_url=server.openai_url)
    return SQLiteVectorMemory(embedder, **options)  # type: ignore[arg-type]


async def test_the_vector_memory_recalls_the_closest_entries_by_provider_embeddings(
    llm_server: FakeLLMServer,
) -> None:
    memory = vector_memory(llm_server, k=1)
    await memory.add(text("The office cat is called Miso"))
    await memory.add(text("Invoices are due on the first of the month"))

    found = await memory.query("what is the cat called")

    assert [item.content for item in found.results] == ["The office cat is called Miso"]
    assert found.results[0].metadata is not None and found.results[0].metadata["score"] > 0
    request = next(r for r in llm_server.requests if r.api == "embeddings")
    assert request.path == "/v1/embeddings"
    assert request.body["model"] == "text-embedding-3-small"


async def test_the_vector_memory_recalls_for_the_latest_message_into_an_agent_context(
    llm_server: FakeLLMServer,
) -> None:
    memory = vector_memory(llm_server, k=1)
    await memory.add(text("Invoices are due on the first of the month"))
    agent = AssistantAgent("a", ScriptedModelClient(["On the first."]), memory=[memory])

    result = await agent.run(task="When are invoices due?")

    event = result.messages[1]
    assert isinstance(event, MemoryQueryEvent)
    assert event.content[0].content == "Invoices are due on the first of the month"


async def test_the_vector_memory_persists_in_its_file_and_keeps_collections_apart(
    llm_server: FakeLLMServer, tmp_path: Path
) -> None:
    path = str(tmp_path / "memory.sqlite3")
    first = vector_memory(llm_server, path=path, collection_name="a")
    await first.add(MemoryContent(content={"city": "Oslo"}, mime_type=MemoryMimeType.JSON))
    await first.close()
    other = vector_memory(llm_server, path=path, collection_name="b")
    again = vector_memory(llm_server, path=path, collection_name="a")

    assert (await other.query("city Oslo")).results == ()
    (found,) = (await again.query("city Oslo")).results
    assert found.content == {"city": "Oslo"}
    await again.clear()
    assert (await again.query("city Oslo")).results == ()


async def test_the_vector_memory_refuses_images_and_bad_sizes(llm_server: FakeLLMServer) -> None:
    memory = vector_memory(llm_server)

    with pytest.raises(ConfigurationError, match="not images"):
        await memory.add(
            MemoryContent(content=Image.from_url("https://x.test/a.png"), mime_type="image/png")
        )
    with pytest.raises(ConfigurationError, match="k must be"):
        vector_memory(llm_server, k=0)


def test_memories_are_written_and_read_as_components(llm_server: FakeLLMServer) -> None:
    agent = AssistantAgent(
        "a",
        ScriptedModelClient([]),
        memory=[ListMemory(memory_contents=[text("x")]), vector_memory(llm_server, k=2)],
    )

    document = json.loads(json.dumps(dump_component(agent)))
    loaded = load_component(document, expected="agent")

    memories = document["config"]["memory"]
    assert memories[0]["provider"] == "autogen_core.memory.ListMemory"
    assert memories[1]["config"]["k"] == 2
    assert memories[1]["config"]["embedding_client"]["config"]["model"] == (
        "text-embedding-3-small"
    )
    assert [type(m) for m in loaded.memory] == [ListMemory, SQLiteVectorMemory]


def test_a_vector_memory_file_may_not_name_a_path(llm_server: FakeLLMServer) -> None:
    document = dump_component(vector_memory(llm_server))
    document["config"]["path"] = "/etc/memory.sqlite3"

    with pytest.raises(ComponentError, match="bare file name"):
        load_component(document)


async def test_a_memory_finds_nothing_for_a_context_without_a_user_message(
    llm_server: FakeLLMServer,
) -> None:
    memory = vector_memory(llm_server)
    await memory.add(text("something"))
    context = UnboundedChatCompletionContext([UserMessage("", "user"), SystemMessage("s")])

    assert (await memory.update_context(context)).memories.results == ()
