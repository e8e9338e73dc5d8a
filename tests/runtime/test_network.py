"""NetworkGuard: which addresses model clients may reach, checked after DNS on every
connection, with both provider SDKs going through it."""

from __future__ import annotations

import ipaddress

import pytest

from runtime import (
    AddressNotAllowed,
    AnthropicChatCompletionClient,
    ModelClientError,
    NetworkGuard,
    OpenAIChatCompletionClient,
    UserMessage,
    is_public_address,
)
from runtime.model_clients.retry import MAX_ERROR_EXCERPT, error_excerpt, message_from_body
from tests.fakes.llm_server import FakeLLMServer, error, text

HELLO = [UserMessage("Hello", "user")]


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "169.254.169.254",
        "192.168.0.1",
        "::1",
        "fe80::1",
        "::ffff:127.0.0.1",
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "64:ff9b:1::a00:1",
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "::127.0.0.1",
    ],
)
def test_private_loopback_and_link_local_addresses_are_not_public(address: str) -> None:
    assert not is_public_address(ipaddress.ip_address(address))


def test_a_global_address_is_public() -> None:
    assert is_public_address(ipaddress.ip_address("8.8.8.8"))


@pytest.mark.parametrize(
    ("host", "port"),
    [("169.254.169.254", 80), ("127.0.0.1", 6391), ("[::1]", 5432), ("localhost", 11434)],
)
def test_a_guard_without_exceptions_refuses_internal_literals(host: str, port: int) -> None:
    with pytest.raises(AddressNotAllowed, match="private, loopback or reserved"):
        NetworkGuard(hint="Ask the operator.").check_literal(host, port)


def test_a_refusal_carries_the_hint() -> None:
    with pytest.raises(AddressNotAllowed, match="set MODEL_PRIVATE_HOSTS"):
        NetworkGuard(hint="To allow it, set MODEL_PRIVATE_HOSTS.").check_literal("127.0.0.1", 1)


def test_an_exception_for_a_host_and_port_allows_only_that_port() -> None:
    guard = NetworkGuard(["localhost:11434"])
    guard.check_literal("localhost", 11434)
    with pytest.raises(AddressNotAllowed):
        guard.check_literal("localhost", 5432)


def test_network_and_bracketed_v6_exceptions() -> None:
    guard = NetworkGuard(["10.0.0.0/8", "[::1]:8000"])
    loopback6 = ipaddress.ip_address("::1")
    assert guard.is_allowed("models.lan", 443, ipaddress.ip_address("10.20.30.40"))
    assert guard.is_allowed("[::1]", 8000, loopback6)
    assert not guard.is_allowed("[::1]", 8001, loopback6)
    assert not guard.is_allowed("x", 80, ipaddress.ip_address("192.168.1.1"))


def test_a_name_resolving_to_any_refused_address_is_refused() -> None:
    mixed = [ipaddress.ip_address("8.8.8.8"), ipaddress.ip_address("127.0.0.1")]
    with pytest.raises(AddressNotAllowed, match=r"127\.0\.0\.1"):
        NetworkGuard().check_addresses("rebind.example", 443, mixed)


@pytest.mark.parametrize("entry", ["", "localhost:http", "host:0", "[::1]:99999"])
def test_bad_exception_entries_are_refused_or_ignored(entry: str) -> None:
    if not entry:
        assert NetworkGuard([entry]).is_allowed("x", 1, ipaddress.ip_address("1.1.1.1"))
        return
    with pytest.raises(ValueError):
        NetworkGuard([entry])


async def test_openai_client_refuses_a_loopback_server_without_sending_anything(
    llm_server: FakeLLMServer,
) -> None:
    llm_server.add(text("secret internal answer"))
    client = OpenAIChatCompletionClient(
        "gpt-4o", api_key="sk-test", base_url=llm_server.openai_url, network_guard=NetworkGuard()
    )
    with pytest.raises(ModelClientError, match="private, loopback") as caught:
        await client.create(HELLO)
    assert llm_server.requests == []
    assert "attempt" not in str(caught.value) or "1 attempt" in str(caught.value)


async def test_anthropic_client_refuses_a_loopback_server_without_sending_anything(
    llm_server: FakeLLMServer,
) -> None:
    llm_server.add(text("secret internal answer"))
    client = AnthropicChatCompletionClient(
        "claude-opus-4",
        api_key="sk-test",
        base_url=llm_server.anthropic_url,
        network_guard=NetworkGuard(),
    )
    with pytest.raises(ModelClientError, match="private, loopback"):
        await client.create(HELLO)
    assert llm_server.requests == []


async def test_an_allowed_local_server_is_reached_through_the_guard(
    llm_server: FakeLLMServer,
) -> None:
    llm_server.add(text("hello from a local model"))
    client = OpenAIChatCompletionClient(
        "llama3",
        api_key="not-needed",
        base_url=llm_server.openai_url,
        network_guard=NetworkGuard(["127.0.0.1"]),
    )
    result = await client.create(HELLO)
    assert result.content == "hello from a local model"
    assert len(llm_server.requests) == 1


async def test_a_provider_error_body_reaches_the_caller_only_as_a_short_excerpt(
    llm_server: FakeLLMServer,
) -> None:
    body = "<html>" + "internal metadata " * 500 + "\x00\x1b[31m</html>"
    llm_server.add(error(400, body))
    client = OpenAIChatCompletionClient(
        "gpt-4o",
        api_key="sk-test",
        base_url=llm_server.openai_url,
        network_guard=NetworkGuard(["127.0.0.1"]),
        max_retries=0,
    )
    with pytest.raises(ModelClientError) as caught:
        await client.create(HELLO)
    assert len(str(caught.value)) < MAX_ERROR_EXCERPT + 200
    assert "\x00" not in str(caught.value) and "\x1b" not in str(caught.value)


def test_error_excerpts_are_single_line_and_bounded() -> None:
    assert error_excerpt("a\nb\tc") == "a b c"
    long = error_excerpt("x" * 5000)
    assert len(long) == MAX_ERROR_EXCERPT and long.endswith("…")
    assert message_from_body({"error": {"message": "y" * 5000}}, "") == error_excerpt("y" * 5000)


@pytest.mark.parametrize(
    "client_class", [OpenAIChatCompletionClient, AnthropicChatCompletionClient]
)
async def test_a_provider_quoting_the_key_in_its_error_does_not_leak_it(
    llm_server: FakeLLMServer, client_class: type
) -> None:
    key = "sk-canary-0123456789abcdef"
    llm_server.add(error(401, f"Incorrect API key provided: {key}. Check your key."))
    url = llm_server.openai_url if client_class is OpenAIChatCompletionClient else llm_server.url
    client = client_class(
        "gpt-4o" if client_class is OpenAIChatCompletionClient else "claude-opus-4",
        api_key=key,
        base_url=url,
        network_guard=NetworkGuard(["127.0.0.1"]),
        max_retries=0,
    )
    with pytest.raises(ModelClientError) as caught:
        await client.create(HELLO)
    assert key not in str(caught.value)
    assert "Incorrect API key provided: [key]" in str(caught.value)


async def test_a_key_cut_by_the_excerpt_is_still_taken_out(llm_server: FakeLLMServer) -> None:
    key = "sk-canary-0123456789abcdef0123456789"
    llm_server.add(error(401, "x" * 280 + f" provided: {key}"))
    client = OpenAIChatCompletionClient(
        "gpt-4o",
        api_key=key,
        base_url=llm_server.openai_url,
        network_guard=NetworkGuard(["127.0.0.1"]),
        max_retries=0,
    )
    with pytest.raises(ModelClientError) as caught:
        await client.create(HELLO)
    assert key[:8] not in str(caught.value)
