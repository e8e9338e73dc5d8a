"""Images: MultiModalMessage, the providers' vision formats, and transcripts by reference."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from runtime import (
    AnthropicChatCompletionClient,
    AssistantAgent,
    ConfigurationError,
    DirectoryImageStore,
    Image,
    MaxMessageTermination,
    MultiModalMessage,
    OpenAIChatCompletionClient,
    RoundRobinGroupChat,
    TaskResult,
    UserMessage,
    load_message,
    restore_images,
    store_images,
)
from runtime.testing import ScriptedModelClient
from tests.fakes.llm_server import FakeLLMServer, text

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(32))


def photo(tmp_path: Path) -> Image:
    path = tmp_path / "chart.png"
    path.write_bytes(PNG)
    return Image.from_file(path)


def test_images_come_from_files_base64_and_urls(tmp_path: Path) -> None:
    from_file = photo(tmp_path)
    from_text = Image.from_base64(base64.b64encode(PNG).decode())
    from_uri = Image.from_base64(from_file.data_uri)
    from_url = Image.from_url("https://example.test/chart.png")

    assert from_file == from_text == from_uri
    assert from_file.mime == "image/png"
    assert from_file.data_uri.startswith("data:image/png;base64,")
    assert from_url.url == "https://example.test/chart.png" and from_url.data is None
    with pytest.raises(ConfigurationError, match="base64"):
        Image.from_base64("not base64!")
    with pytest.raises(ConfigurationError, match="http"):
        Image.from_url("file:///etc/passwd")


def test_a_multimodal_message_reads_as_text_with_placeholders_and_round_trips(
    tmp_path: Path,
) -> None:
    message = MultiModalMessage(content=["What is this?", photo(tmp_path)], source="user")

    assert message.to_text() == "What is this?\n<image>"
    assert message.to_model_text() == "What is this? [image]"
    assert message.to_model_message() == UserMessage(["What is this?", photo(tmp_path)], "user")
    assert load_message(json.loads(json.dumps(message.dump()))) == message


async def test_a_model_without_vision_is_a_clear_error_before_any_call(tmp_path: Path) -> None:
    client = ScriptedModelClient(["never"], model="text-only")
    agent = AssistantAgent("a", client)

    with pytest.raises(ConfigurationError, match="text-only cannot see images"):
        await agent.run(task=MultiModalMessage(content=["Look", photo(tmp_path)], source="user"))

    assert client.remaining == 1


async def test_a_vision_agent_keeps_images_in_its_history_and_state(tmp_path: Path) -> None:
    def agent() -> AssistantAgent:
        return AssistantAgent(
            "a", ScriptedModelClient(["A chart."] * 2, model_info={"vision": True})
        )

    first = agent()
    await first.run(task=MultiModalMessage(content=["Look", photo(tmp_path)], source="user"))
    state = json.loads(json.dumps(await first.save_state()))
    second = agent()
    await second.load_state(state)

    history = await second.model_context.get_messages()
    assert history[0] == UserMessage(["Look", photo(tmp_path)], "user")


async def test_openai_gets_images_as_content_parts(
    llm_server: FakeLLMServer, tmp_path: Path
) -> None:
    llm_server.script([text("A chart.")])
    agent = AssistantAgent(
        "a", OpenAIChatCompletionClient("gpt-4o", base_url=llm_server.openai_url)
    )
    image = photo(tmp_path)
    url = Image.from_url("https://example.test/b.png")

    await agent.run(task=MultiModalMessage(content=["Compare", image, url], source="user"))

    user = llm_server.requests[0].messages[-1]
    assert user["content"] == [
        {"type": "text", "text": "Compare"},
        {"type": "image_url", "image_url": {"url": image.data_uri}},
        {"type": "image_url", "image_url": {"url": "https://example.test/b.png"}},
    ]


async def test_anthropic_gets_images_as_image_blocks(
    llm_server: FakeLLMServer, tmp_path: Path
) -> None:
    llm_server.script([text("A chart.")])
    client = AnthropicChatCompletionClient("claude-sonnet-4", base_url=llm_server.anthropic_url)
    agent = AssistantAgent("a", client)

    await agent.run(task=MultiModalMessage(content=["Describe", photo(tmp_path)], source="user"))

    blocks = llm_server.requests[0].messages[-1]["content"]
    assert blocks[0] == {"type": "text", "text": "Describe"}
    assert blocks[1] == {
        "type": "image",
        "source": {
            "type": "base64",
            "media_type": "image/png",
            "data": base64.b64encode(PNG).decode(),
        },
    }


async def test_a_transcript_keeps_images_by_reference_in_a_store(tmp_path: Path) -> None:
    store = DirectoryImageStore(tmp_path / "images")
    agents = [
        AssistantAgent(n, ScriptedModelClient(["Seen."] * 2, model_info={"vision": True}))
        for n in ("a", "b")
    ]
    team = RoundRobinGroupChat(agents, termination_condition=MaxMessageTermination(3))
    image = photo(tmp_path)
    result = await team.run(task=MultiModalMessage(content=["Look", image], source="user"))

    transcript = store_images(result.dump(), store)
    state = store_images(await team.save_state(), store)

    text_form = json.dumps(transcript) + json.dumps(state)
    assert base64.b64encode(PNG).decode() not in text_form
    assert len(list(store.root.iterdir())) == 1
    restored = TaskResult.load(restore_images(json.loads(json.dumps(transcript)), store))
    assert restored.messages[0] == result.messages[0]
    copy = RoundRobinGroupChat(
        [
            AssistantAgent(n, ScriptedModelClient(["Seen."] * 2, model_info={"vision": True}))
            for n in ("a", "b")
        ],
        termination_condition=MaxMessageTermination(3),
    )
    await copy.load_state(restore_images(json.loads(json.dumps(state)), store))
    assert copy.thread[0] == result.messages[0]
    with pytest.raises(ConfigurationError, match="restore_images"):
        load_message(transcript["messages"][0])
