"""What the SDK-backed model clients share: settings, retry policy and usage bookkeeping.

:class:`ProviderClient` holds the constructor settings every provider takes (model,
key, URL, temperature, timeouts, retries, headers, extra request arguments) as read-only
properties, which is also what component dumps read back, and sums usage over calls.
Subclasses build their SDK client and translate requests and answers.
"""

from __future__ import annotations

import dataclasses
from abc import abstractmethod
from collections.abc import Callable, Mapping
from typing import Any

from runtime.errors import ConfigurationError
from runtime.llm import ModelInfo, RequestUsage
from runtime.model_clients.base import ChatCompletionClient
from runtime.model_clients.retry import ProviderFailure, RetryPolicy

# Internal to the model clients: the concrete clients are the public names.
__all__: list[str] = []


class ProviderClient(ChatCompletionClient):
    """Settings and usage bookkeeping common to the clients of a provider's SDK."""

    def __init__(
        self,
        model: str,
        *,
        api_key: str | None,
        base_url: str | None,
        model_info: ModelInfo | None,
        default_model_info: Callable[[str], ModelInfo],
        temperature: float | None,
        max_retries: int,
        timeout: float,
        retry_backoff: float,
        default_headers: Mapping[str, str] | None,
        create_args: Mapping[str, Any],
    ) -> None:
        if not model:
            raise ConfigurationError(f"{type(self).__name__} needs a model name")
        self._model = model
        self._api_key = api_key
        self._base_url = base_url
        self._temperature = temperature
        self._timeout = timeout
        self._default_headers = dict(default_headers or {})
        self._create_args = dict(create_args)
        self._retry = RetryPolicy(max_retries=max_retries, backoff=retry_backoff)
        self._model_info = ModelInfo(**{**default_model_info(model), **(model_info or {})})
        self._last_usage = RequestUsage()
        self._total_usage = RequestUsage()

    @property
    def model(self) -> str:
        """The model name sent with each request."""
        return self._model

    @property
    def model_info(self) -> ModelInfo:
        """Capabilities: defaults for the model name, overridden by the ``model_info`` given."""
        return self._model_info

    @property
    def api_key(self) -> str | None:
        """The key given to the constructor (None when it comes from the environment)."""
        return self._api_key

    @property
    def base_url(self) -> str | None:
        """The API root, or None for the provider's own."""
        return self._base_url

    @property
    def temperature(self) -> float | None:
        """Sampling temperature sent with each request (None: the server's default)."""
        return self._temperature

    @property
    def max_retries(self) -> int:
        """Retries after the first attempt on 429, 5xx, timeouts and connection errors."""
        return self._retry.max_retries

    @property
    def retry_backoff(self) -> float:
        """Base of the exponential backoff between retries, in seconds."""
        return self._retry.backoff

    @property
    def timeout(self) -> float:
        """Seconds one HTTP attempt may take."""
        return self._timeout

    @property
    def default_headers(self) -> dict[str, str]:
        """Extra HTTP headers sent with every request."""
        return dict(self._default_headers)

    @property
    def create_args(self) -> dict[str, Any]:
        """Extra request parameters given to the constructor."""
        return dict(self._create_args)

    def actual_usage(self) -> RequestUsage:
        """Usage of the last call."""
        return self._last_usage

    def total_usage(self) -> RequestUsage:
        """Usage summed over every call of this client."""
        return self._total_usage

    def _classify(self, error: BaseException) -> ProviderFailure | None:
        """The subclass's reading of an SDK error, with this client's key cut out of the
        message: some providers quote the key they were sent in their error text."""
        failure = self._classify_sdk_error(error)
        key = self._api_key
        if failure is None or not key or len(key) < 8:
            return failure
        message = failure.message
        # Longest first: the whole key, then what an excerpt's cut may have left of it.
        for length in range(len(key), 7, -1):
            if key[:length] in message:
                message = message.replace(key[:length], "[key]")
                break
        return dataclasses.replace(failure, message=message)

    @staticmethod
    @abstractmethod
    def _classify_sdk_error(error: BaseException) -> ProviderFailure | None:
        """How the subclass's SDK error reads as a ProviderFailure (None: not the SDK's)."""

    def _record_usage(self, usage: RequestUsage) -> None:
        self._last_usage = usage
        self._total_usage = self._total_usage + usage
