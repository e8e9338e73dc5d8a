"""The shared retry policy: which failures are retried, how long it waits, what it raises."""

from __future__ import annotations

import asyncio
import random
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from runtime import CancellationToken, ConfigurationError, ModelClientError, ModelResponseError
from runtime.model_clients.retry import (
    ProviderFailure,
    RetryPolicy,
    TokenScope,
    call_with_retries,
    is_retryable_status,
    message_from_body,
    move_unknown_to_extra_body,
    parse_retry_after,
    stream_items,
)


class ProviderTrouble(Exception):
    """What a fake SDK raises: carries the failure the classifier reports."""

    def __init__(self, failure: ProviderFailure) -> None:
        super().__init__(failure.message)
        self.failure = failure


def classify(error: BaseException) -> ProviderFailure | None:
    return error.failure if isinstance(error, ProviderTrouble) else None


class FlakyCall:
    """Fails with the given failures in order, then answers ``"ok"``."""

    def __init__(self, *failures: ProviderFailure | Exception) -> None:
        self.failures = list(failures)
        self.attempts = 0

    async def __call__(self) -> str:
        self.attempts += 1
        if self.failures:
            failure = self.failures.pop(0)
            raise ProviderTrouble(failure) if isinstance(failure, ProviderFailure) else failure
        return "ok"


BUSY = ProviderFailure(message="busy", status_code=503, is_retryable=True)
FAST = RetryPolicy(max_retries=3, backoff=0.001)


async def run(call: FlakyCall, policy: RetryPolicy = FAST, token: CancellationToken | None = None):
    return await call_with_retries(
        call, policy=policy, classify=classify, provider="fake", scope=TokenScope(token)
    )


async def test_retryable_failures_are_retried_until_the_call_succeeds():
    call = FlakyCall(BUSY, BUSY)

    assert await run(call) == "ok"
    assert call.attempts == 3


async def test_retries_are_bounded_and_the_last_failure_is_raised():
    call = FlakyCall(BUSY, BUSY, BUSY, BUSY, BUSY)

    with pytest.raises(ModelClientError) as caught:
        await run(call)

    assert call.attempts == 4
    assert caught.value.status_code == 503
    assert caught.value.provider == "fake"
    assert str(caught.value) == "fake request failed (HTTP 503) after 4 attempts: busy"
    assert isinstance(caught.value.__cause__, ProviderTrouble)


async def test_zero_retries_means_one_attempt():
    call = FlakyCall(BUSY)

    with pytest.raises(ModelClientError, match="fake request failed \\(HTTP 503\\): busy"):
        await run(call, RetryPolicy(max_retries=0))

    assert call.attempts == 1


async def test_a_failure_no_retry_can_fix_is_raised_at_once():
    call = FlakyCall(ProviderFailure(message="bad key", status_code=401))

    with pytest.raises(ModelClientError, match="bad key"):
        await run(call)

    assert call.attempts == 1


async def test_an_unusable_answer_is_a_model_response_error():
    call = FlakyCall(ProviderFailure(message="not JSON", is_response_error=True))

    with pytest.raises(ModelResponseError, match="not JSON") as caught:
        await run(call)

    assert caught.value.status_code is None


async def test_exceptions_the_classifier_does_not_know_propagate_unchanged():
    call = FlakyCall(KeyError("bug in our code"))

    with pytest.raises(KeyError):
        await run(call)

    assert call.attempts == 1


async def test_the_wait_the_provider_asks_for_is_honoured():
    call = FlakyCall(
        ProviderFailure(message="429", status_code=429, is_retryable=True, retry_after=0.2)
    )

    started = time.monotonic()
    await run(call)

    assert time.monotonic() - started >= 0.2


async def test_cancelling_during_the_backoff_wait_stops_at_once():
    call = FlakyCall(BUSY)
    token = CancellationToken()
    asyncio.get_running_loop().call_later(0.05, token.cancel)

    started = time.monotonic()
    with pytest.raises(asyncio.CancelledError):
        await run(call, RetryPolicy(backoff=100.0), token)

    assert time.monotonic() - started < 1.0
    assert call.attempts == 1


def test_backoff_grows_exponentially_with_jitter_up_to_the_cap():
    policy = RetryPolicy(backoff=1.0, max_backoff=8.0, rng=random.Random(7))

    for retry_number, ceiling in [(0, 1.0), (1, 2.0), (2, 4.0), (3, 8.0), (6, 8.0)]:
        delays = [policy.delay(retry_number) for _ in range(50)]
        assert all(ceiling / 2 <= delay <= ceiling for delay in delays)
        assert len(set(delays)) > 1, "delays should be jittered"


def test_retry_after_is_used_as_given_but_capped():
    policy = RetryPolicy(backoff=1.0, max_retry_after=30.0)

    assert policy.delay(0, retry_after=3.0) == 3.0
    assert policy.delay(5, retry_after=0.0) == 0.0
    assert policy.delay(0, retry_after=3600.0) == 30.0


def test_impossible_policies_are_configuration_errors():
    with pytest.raises(ConfigurationError, match="max_retries"):
        RetryPolicy(max_retries=-1)
    with pytest.raises(ConfigurationError, match="negative"):
        RetryPolicy(backoff=-0.5)


def test_retry_after_headers_are_read_in_every_form():
    in_a_minute = datetime.now(UTC) + timedelta(seconds=60)

    assert parse_retry_after({"retry-after": "7"}) == 7.0
    assert parse_retry_after({"retry-after": "0.25"}) == 0.25
    assert parse_retry_after({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert parse_retry_after({"retry-after-ms": "soon", "retry-after": "9"}) == 9.0
    assert 55 < (parse_retry_after({"retry-after": format_datetime(in_a_minute)}) or 0) <= 60
    assert parse_retry_after({"retry-after": "whenever"}) is None
    assert parse_retry_after({}) is None
    assert parse_retry_after({"retry-after": "-3"}) == 0.0


def test_busy_and_unreachable_statuses_are_retryable_but_client_errors_are_not():
    assert all(is_retryable_status(code) for code in (408, 429, 500, 502, 503, 529))
    assert not any(is_retryable_status(code) for code in (400, 401, 403, 404, 422))


def test_the_providers_message_is_found_in_its_error_body():
    assert message_from_body({"error": {"message": "quota"}}, "x") == "quota"
    assert message_from_body({"message": "flat"}, "x") == "flat"
    assert message_from_body({"error": "just text"}, "x") == "just text"
    assert message_from_body("  plain body ", "x") == "plain body"
    assert message_from_body({"error": {"code": 1}}, "fallback") == "fallback"
    assert message_from_body(None, "fallback") == "fallback"
    assert message_from_body({"error": ""}, "fallback") == "fallback"


def test_parameters_the_sdk_does_not_know_move_into_the_extra_body():
    args = {"model": "m", "top_k": 3, "extra_body": {"keep": True}}

    moved = move_unknown_to_extra_body(args, frozenset({"model", "extra_body"}))

    assert moved == {"model": "m", "extra_body": {"keep": True, "top_k": 3}}
    assert move_unknown_to_extra_body({"model": "m"}, frozenset({"model"})) == {"model": "m"}


async def test_a_scope_without_a_token_just_awaits():
    scope = TokenScope(None)

    assert await scope.run(asyncio.sleep(0, result="done")) == "done"
    await scope.sleep(0)


async def test_a_scope_whose_token_is_already_cancelled_runs_nothing():
    token = CancellationToken()
    token.cancel()
    scope = TokenScope(token)
    coroutine = asyncio.sleep(0, result="never")

    with pytest.raises(asyncio.CancelledError):
        await scope.run(coroutine)
    with pytest.raises(asyncio.CancelledError):
        await scope.sleep(0)
    with pytest.raises(asyncio.CancelledError):
        await scope.run(asyncio.get_running_loop().create_future())

    assert coroutine.cr_frame is None, "the coroutine should be closed, not left pending"


async def test_a_scope_leaves_no_callbacks_on_the_token_after_its_calls_finish():
    token = CancellationToken()
    scope = TokenScope(token)

    for _ in range(50):
        await scope.run(asyncio.sleep(0))

    assert token._callbacks == []


async def test_a_linked_future_is_unlinked_from_the_token_once_done():
    token = CancellationToken()
    future = token.link_future(asyncio.ensure_future(asyncio.sleep(0)))
    assert len(token._callbacks) == 1

    await future
    await asyncio.sleep(0)

    assert token._callbacks == []


async def items_then(error: Exception):
    yield "a"
    yield "b"
    raise error


async def read_stream(error: Exception) -> tuple[list[str], BaseException]:
    received: list[str] = []
    stream = stream_items(
        items_then(error), classify=classify, provider="fake", scope=TokenScope(None)
    )
    with pytest.raises(Exception) as caught:
        async for item in stream:
            received.append(item)
    return received, caught.value


async def test_a_provider_error_part_way_through_a_stream_is_a_model_client_error():
    received, raised = await read_stream(ProviderTrouble(BUSY))

    assert received == ["a", "b"]
    assert isinstance(raised, ModelClientError)
    assert str(raised) == "fake request failed (HTTP 503): busy"


async def test_other_errors_part_way_through_a_stream_propagate_unchanged():
    received, raised = await read_stream(KeyError("ours"))

    assert received == ["a", "b"]
    assert isinstance(raised, KeyError)
