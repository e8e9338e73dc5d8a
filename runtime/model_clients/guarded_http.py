"""The HTTP layer of :class:`runtime.NetworkGuard`: httpx with a checking network backend.

Kept apart from :mod:`runtime.network` because httpx is only loaded with a provider SDK.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import httpcore2
import httpx2

from runtime.errors import AddressNotAllowed

if TYPE_CHECKING:
    from runtime.network import NetworkGuard

__all__: list[str] = []


def guarded_async_client(guard: NetworkGuard, *, timeout: float) -> httpx2.AsyncClient:
    """An async HTTP client whose every connection, redirects included, ``guard`` checks."""
    return httpx2.AsyncClient(transport=_GuardedTransport(guard), timeout=timeout)


class _GuardedBackend(httpcore2.AsyncNetworkBackend):
    """Resolves and checks the host itself, then connects to the checked address."""

    def __init__(self, guard: NetworkGuard) -> None:
        self._guard = guard
        self._inner = httpcore2.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (the httpcore interface)
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        address = await self._guard.aresolve(host, port)
        return await self._inner.connect_tcp(
            str(address),
            port,
            timeout=timeout,
            local_address=local_address,
            socket_options=socket_options,
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (the httpcore interface)
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        raise AddressNotAllowed("connections over unix sockets are refused")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class _GuardedTransport(httpx2.AsyncHTTPTransport):
    """httpx's transport with the guarded network layer (no proxies from the environment:
    a proxy would make the connection the guard sees the proxy's, not the server's)."""

    def __init__(self, guard: NetworkGuard) -> None:
        super().__init__(trust_env=False)
        # The transport offers no parameter for the network layer; its pool does.
        self._pool = httpcore2.AsyncConnectionPool(
            ssl_context=httpx2.create_ssl_context(trust_env=False),
            network_backend=_GuardedBackend(guard),
        )
