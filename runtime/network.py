"""Where outgoing connections may go: public addresses, plus the exceptions an operator names.

A model client pointed at a URL of someone's choosing must not become a way into the
machine's own network (cloud metadata at 169.254.169.254, a database on loopback, an
admin panel on the LAN). :class:`NetworkGuard` decides after DNS resolution, for every
address a name resolves to, and the connection then goes to the address that was checked,
so a DNS answer that changes between check and connect cannot slip past. Every connection
is checked, redirects included, because the check sits in the HTTP client's network layer.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from runtime.errors import AddressNotAllowed

if TYPE_CHECKING:
    import httpx2

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

__all__ = ["NetworkGuard", "is_public_address"]


#: IPv6 ranges that carry an IPv4 address inside them: NAT64 (well-known and local-use)
#: in the last 32 bits, and IPv4-compatible addresses.
_EMBEDDING_LAST_32 = (
    ipaddress.IPv6Network("64:ff9b::/96"),
    ipaddress.IPv6Network("64:ff9b:1::/48"),
    ipaddress.IPv6Network("::/96"),
)
_SIX_TO_FOUR = ipaddress.IPv6Network("2002::/16")


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, NAT64, 6to4), if any."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if address in _SIX_TO_FOUR:
        return address.sixtofour
    if any(address in network for network in _EMBEDDING_LAST_32):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public_address(address: IPAddress) -> bool:
    """True for globally routable unicast addresses; an IPv6 address carrying an IPv4 one
    (mapped, NAT64, 6to4) is judged by the IPv4 address it reaches."""
    inner = embedded_ipv4(address)
    if inner is not None:
        address = inner
    return address.is_global and not address.is_multicast


@dataclass(frozen=True, slots=True)
class _Exception:
    """One allowed non-public destination: a host name or a network, on a port or any."""

    host: str
    network: ipaddress.IPv4Network | ipaddress.IPv6Network | None
    port: int | None

    @classmethod
    def parse(cls, entry: str) -> _Exception:
        text = entry.strip()
        port: int | None = None
        if text.startswith("["):  # [v6] or [v6]:port
            host, _, rest = text[1:].partition("]")
            if rest.startswith(":"):
                port = int(rest[1:])
        elif text.count(":") == 1:
            host, _, port_text = text.partition(":")
            port = int(port_text)
        else:
            host = text
        try:
            network = ipaddress.ip_network(host, strict=False)
        except ValueError:
            network = None
        if not host or (port is not None and not 0 < port < 65536):
            raise ValueError(f"not a host, host:port or network: {entry!r}")
        return cls(host.lower(), network, port)

    def matches(self, host: str, port: int, address: IPAddress) -> bool:
        if self.port is not None and self.port != port:
            return False
        if self.network is not None:
            if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
                address = address.ipv4_mapped
            return address.version == self.network.version and address in self.network
        return host.lower().rstrip(".") == self.host


class NetworkGuard:
    """Allows connections to public addresses and to the listed exceptions only.

    ``allowed`` names the non-public destinations that are fine, each as ``host``,
    ``host:port``, ``[v6]:port``, an address or a network (``10.0.0.0/8``); a host name
    entry matches the name as written in the URL. ``hint`` is added to every refusal, to
    say how to allow a destination (for example which setting lists the exceptions).
    """

    def __init__(self, allowed: Iterable[str] = (), *, hint: str = "") -> None:
        self._exceptions = tuple(_Exception.parse(entry) for entry in allowed if entry.strip())
        self._hint = hint

    def is_allowed(self, host: str, port: int, address: IPAddress) -> bool:
        """Whether a connection to ``address`` (resolved from ``host``) may be made."""
        if is_public_address(address):
            return True
        return any(exception.matches(host, port, address) for exception in self._exceptions)

    def check_literal(self, host: str, port: int) -> None:
        """Refuse a host that names a non-public address without DNS (an IP, localhost).

        Lets a caller report an obviously refused URL before any connection is tried.
        """
        name = host.strip("[]").lower().rstrip(".")
        if name == "localhost" or name.endswith(".localhost"):
            candidates: list[IPAddress] = [ipaddress.ip_address("127.0.0.1")]
        else:
            try:
                candidates = [ipaddress.ip_address(name.split("%")[0])]
            except ValueError:
                return
        self._check(host, port, candidates)

    def check_addresses(self, host: str, port: int, addresses: list[IPAddress]) -> IPAddress:
        """The address to connect to, once every address ``host`` resolved to is allowed."""
        self._check(host, port, addresses)
        return addresses[0]

    def resolve(self, host: str, port: int) -> IPAddress:
        """Resolve ``host`` (blocking) and return a checked address to connect to."""
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        return self.check_addresses(host, port, _addresses(infos))

    async def aresolve(self, host: str, port: int) -> IPAddress:
        """Resolve ``host`` without blocking the loop and return a checked address."""
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        return self.check_addresses(host, port, _addresses(infos))

    def async_http_client(self, *, timeout: float) -> httpx2.AsyncClient:
        """An HTTP client whose every connection (redirects too) goes through this guard."""
        from runtime.model_clients.guarded_http import guarded_async_client

        return guarded_async_client(self, timeout=timeout)

    def _check(self, host: str, port: int, addresses: list[IPAddress]) -> None:
        refused = [str(a) for a in addresses if not self.is_allowed(host, port, a)]
        if refused or not addresses:
            hint = f" {self._hint}" if self._hint else ""
            raise AddressNotAllowed(
                f"{host}:{port} resolves to a private, loopback or reserved address "
                f"({', '.join(refused) or 'none'}); connections there are refused.{hint}"
            )


def _addresses(infos: list[Any]) -> list[IPAddress]:
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
