"""How provider calls are retried and cancelled, shared by every SDK-backed model client.

A call is retried when the provider is busy or unreachable: HTTP 408, 429 and 5xx,
timeouts and connection errors. Waits grow exponentially with jitter, a ``Retry-After``
header from the provider is honoured (up to a cap), and the number of attempts is
bounded. Once retries are used up, or on an error no retry can fix (a bad request, a
wrong key), :class:`~runtime.errors.ModelClientError` is raised with the provider's own
message and HTTP status.

Each client module turns its SDK's exceptions into a :class:`ProviderFailure`; this
module knows nothing about any SDK. It also holds the other plumbing both SDK clients
share: cancelling in-flight requests through a token and passing extra parameters.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import re
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from runtime.cancellation import CancellationToken
from runtime.errors import (
    AddressNotAllowed,
    ConfigurationError,
    ModelClientError,
    ModelResponseError,
)

__all__: list[str] = []  # internal: shared by the SDK-backed clients, not public API

T = TypeVar("T")

#: HTTP statuses worth another attempt besides every 5xx.
RETRYABLE_STATUSES = frozenset({408, 429})


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderFailure:
    """A provider error, described independently of the SDK that raised it.

    ``status_code`` is ``None`` for timeouts and connection errors. ``is_response_error``
    marks answers that arrived but could not be parsed.
    """

    message: str
    status_code: int | None = None
    retry_after: float | None = None
    is_retryable: bool = False
    is_response_error: bool = False


#: Turns an exception into a ProviderFailure, or None when it is not a provider error.
FailureClassifier = Callable[[BaseException], ProviderFailure | None]


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """Bounded retries with exponential backoff, jitter and a capped ``Retry-After``.

    ``max_retries`` counts retries after the first attempt (0 disables retrying).
    The n-th retry waits ``backoff * 2**n`` seconds (at most ``max_backoff``), jittered
    to between half and all of that, unless the provider said how long to wait:
    then its ``Retry-After`` is used, cut to ``max_retry_after``.
    """

    max_retries: int = 4
    backoff: float = 0.5
    max_backoff: float = 30.0
    max_retry_after: float = 60.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ConfigurationError(f"max_retries must be 0 or more, got {self.max_retries}")
        if self.backoff < 0 or self.max_backoff < 0 or self.max_retry_after < 0:
            raise ConfigurationError(
                "backoff, max_backoff and max_retry_after must not be negative"
            )

    def delay(self, retry_number: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry ``retry_number`` (0 for the first retry)."""
        if retry_after is not None and retry_after >= 0:
            return min(retry_after, self.max_retry_after)
        ceiling = min(self.max_backoff, self.backoff * (2.0**retry_number))
        return ceiling / 2 + self.rng.uniform(0.0, ceiling / 2)


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds a provider asked us to wait, from ``retry-after-ms`` or ``retry-after``.

    ``retry-after`` may be a number of seconds or an HTTP date; anything unreadable is
    ignored (the normal backoff applies then).
    """
    milliseconds = headers.get("retry-after-ms")
    if milliseconds is not None:
        try:
            return max(0.0, float(milliseconds) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def is_retryable_status(status_code: int) -> bool:
    """Whether an HTTP status means "try again later" rather than "this cannot work"."""
    return status_code in RETRYABLE_STATUSES or status_code >= 500


#: The most of a provider's error text a failure carries: an error body can be a whole
#: HTML page of whatever answered, and it ends up in stop reasons and logs.
MAX_ERROR_EXCERPT = 300
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


def error_excerpt(text: str) -> str:
    """A short, single-line excerpt of a provider's error text, control characters removed."""
    flat = " ".join(_CONTROL.sub(" ", text).split())
    if len(flat) <= MAX_ERROR_EXCERPT:
        return flat
    return flat[: MAX_ERROR_EXCERPT - 1].rstrip() + "…"


def message_from_body(body: object, fallback: str) -> str:
    """The human message inside a provider error body (OpenAI and Anthropic shapes), as a
    short excerpt: never the whole body."""
    if isinstance(body, Mapping):
        error = body.get("error", body)
        if isinstance(error, Mapping):
            message = error.get("message")
            if isinstance(message, str) and message:
                return error_excerpt(message)
        elif isinstance(error, str) and error:
            return error_excerpt(error)
    elif isinstance(body, str) and body.strip():
        return error_excerpt(body)
    return error_excerpt(fallback)


def refusal_of(error: BaseException) -> ProviderFailure | None:
    """A final failure when the network guard refused the address (raised as it is, or
    wrapped by the SDK as a connection error); None otherwise."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, AddressNotAllowed):
            return ProviderFailure(message=str(cause), is_retryable=False)
        cause = cause.__cause__ or cause.__context__
    return None


def connection_failure(error: BaseException, message: str) -> ProviderFailure:
    """A failed connection: retried, unless the network guard refused the address."""
    return refusal_of(error) or ProviderFailure(
        message=f"could not connect: {message}", is_retryable=True
    )


def move_unknown_to_extra_body(args: dict[str, Any], known: frozenset[str]) -> dict[str, Any]:
    """Pass request parameters the SDK does not name (newer or vendor ones) in ``extra_body``."""
    unknown = [name for name in args if name not in known]
    if unknown:
        extra_body = dict(args.pop("extra_body", None) or {})
        for name in unknown:
            extra_body[name] = args.pop(name)
        args["extra_body"] = extra_body
    return args


class TokenScope:
    """Runs awaitables as tasks that a :class:`CancellationToken` cancels.

    The scope is linked to the token only while an awaitable runs, so neither a long
    stream nor a long-lived token collects callbacks. Without a token, awaitables are
    simply awaited.
    """

    __slots__ = ("_current", "_token")

    def __init__(self, token: CancellationToken | None) -> None:
        self._token = token
        self._current: asyncio.Future[Any] | None = None

    def _cancel(self) -> None:
        if self._current is not None:
            self._current.cancel()

    async def run(self, awaitable: Awaitable[T]) -> T:
        """Await ``awaitable``; raise ``CancelledError`` if the token is (or gets) cancelled."""
        token = self._token
        if token is None:
            return await awaitable
        if token.is_cancelled():
            if asyncio.iscoroutine(awaitable):
                awaitable.close()
            raise asyncio.CancelledError("the cancellation token was cancelled")
        task: asyncio.Future[T] = asyncio.ensure_future(awaitable)
        self._current = task
        token.add_callback(self._cancel)
        try:
            return await task
        finally:
            self._current = None
            token.remove_callback(self._cancel)

    async def sleep(self, seconds: float) -> None:
        """Sleep, waking up early (with ``CancelledError``) when the token is cancelled."""
        if seconds > 0 or (self._token is not None and self._token.is_cancelled()):
            await self.run(asyncio.sleep(seconds))


def to_model_client_error(
    failure: ProviderFailure, *, provider: str, attempts: int
) -> ModelClientError:
    """The error a caller sees: the provider's message, its status, and how often we tried."""
    status = f" (HTTP {failure.status_code})" if failure.status_code is not None else ""
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    text = f"{provider} request failed{status}{tries}: {failure.message}"
    kind = ModelResponseError if failure.is_response_error else ModelClientError
    return kind(text, status_code=failure.status_code, provider=provider)


async def call_with_retries(
    call: Callable[[], Awaitable[T]],
    *,
    policy: RetryPolicy,
    classify: FailureClassifier,
    provider: str,
    scope: TokenScope,
) -> T:
    """Run ``call()`` (a fresh request per attempt) under ``policy`` inside ``scope``.

    Exceptions that ``classify`` does not recognise propagate unchanged, and so does
    ``CancelledError``; recognised ones are retried or raised as ModelClientError.
    """
    retry_number = 0
    while True:
        try:
            return await scope.run(call())
        except Exception as error:
            failure = refusal_of(error) or classify(error)
            if failure is None:
                raise
            if not failure.is_retryable or retry_number >= policy.max_retries:
                raise to_model_client_error(
                    failure, provider=provider, attempts=retry_number + 1
                ) from error
        await scope.sleep(policy.delay(retry_number, failure.retry_after))
        retry_number += 1


async def stream_items(
    items: AsyncIterator[T],
    *,
    classify: FailureClassifier,
    provider: str,
    scope: TokenScope,
) -> AsyncGenerator[T, None]:
    """The items of an open provider stream, each awaited inside ``scope``.

    A provider error part way through is raised as ModelClientError at once: what was
    already yielded cannot be taken back, so it is not retried.
    """
    while True:
        try:
            item = await scope.run(anext(items))
        except StopAsyncIteration:
            return
        except Exception as error:
            failure = refusal_of(error) or classify(error)
            if failure is None:
                raise
            raise to_model_client_error(failure, provider=provider, attempts=1) from error
        yield item
