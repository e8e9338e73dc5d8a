"""Throttles against guessing and flooding: counters in fixed windows, kept in Django's
cache so that every server process (and every worker) sees the same counts.

A :class:`Throttle` counts attempts per key (a username, a client address, a user id)
in windows of ``window_seconds``; once ``limit`` attempts are on record, the key is
refused until its window ends, and :meth:`Throttle.retry_after` says how long that is.
Log-ins count failures per username and per client address, bearer tokens count wrong
tokens per address, and run services count starts per user (all limits in settings).
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from studio.errors import ServiceError


@dataclass
class RateLimited(ServiceError):
    """A request refused for coming too often; the API adds ``Retry-After``."""

    status: int = 429
    retry_after: int = 1


@dataclass(frozen=True, slots=True)
class Throttle:
    """At most ``limit`` counted attempts per key in each window of ``window_seconds``."""

    scope: str
    limit: int
    window_seconds: int

    def _window(self) -> tuple[int, float]:
        """The current window's number and the seconds left in it."""
        now = time.time()
        number = int(now // self.window_seconds)
        return number, (number + 1) * self.window_seconds - now

    def _key(self, ident: str, window: int) -> str:
        # Hashed: idents are user input (usernames) of any length and alphabet.
        digest = hashlib.sha256(ident.encode()).hexdigest()[:32]
        return f"throttle:{self.scope}:{digest}:{window}"

    def retry_after(self, ident: str) -> int:
        """Seconds until ``ident`` may try again; 0 when it may now."""
        window, left = self._window()
        if cache.get(self._key(ident, window), 0) < self.limit:
            return 0
        return max(1, math.ceil(left))

    def record(self, ident: str) -> int:
        """Count one attempt by ``ident``; return the count in this window."""
        key = self._key(ident, self._window()[0])
        cache.add(key, 0, timeout=self.window_seconds)
        return self._increment(key)

    def hit(self, ident: str) -> int:
        """Count an attempt; return 0 if it is allowed, or the seconds to wait if not.

        In as few cache operations as it takes (with the database cache each is a
        statement or two, inside the caller's transaction): an increment, or for the first
        attempt of a window (nothing to increment) an add. A refused attempt is counted
        too, which changes nothing: the window ends when it ends.
        """
        window, left = self._window()
        key = self._key(ident, window)
        if self.limit <= 0:
            return max(1, math.ceil(left))
        try:
            count = int(cache.incr(key))
        except ValueError:  # the window's first attempt (or its counter just expired)
            if cache.add(key, 1, timeout=self.window_seconds):
                return 0
            count = self._increment(key)  # a concurrent attempt added it first
        if count > self.limit:
            return max(1, math.ceil(left))
        return 0

    def _increment(self, key: str) -> int:
        try:
            count = cache.incr(key)
        except ValueError:  # expired since it was looked at or added
            cache.set(key, 1, timeout=self.window_seconds)
            count = 1
        # Some caches' incr sets the default expiry again: a counter must not expire
        # before its window ends (its key names the window, so outliving it is harmless).
        if cache.default_timeout is not None and cache.default_timeout < self.window_seconds:
            cache.touch(key, timeout=self.window_seconds)
        return int(count)

    def forget(self, ident: str) -> None:
        """Drop ``ident``'s count in the current window."""
        cache.delete(self._key(ident, self._window()[0]))


def client_ip(request: HttpRequest) -> str:
    """The address a request came from (daphne's --proxy-headers puts the real one here)."""
    return str(request.META.get("REMOTE_ADDR") or "unknown")


def describe_wait(seconds: int) -> str:
    """``45 seconds`` or ``15 minutes``, for messages people read."""
    if seconds < 120:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    return f"{math.ceil(seconds / 60)} minutes"


# --- log-ins ---


def username_throttle() -> Throttle:
    """Failed log-ins per username."""
    return Throttle(
        "login-user",
        settings.LOGIN_MAX_FAILURES_PER_USERNAME,
        settings.LOGIN_THROTTLE_WINDOW_SECONDS,
    )


def login_address_throttle() -> Throttle:
    """Failed log-ins per client address."""
    return Throttle(
        "login-ip", settings.LOGIN_MAX_FAILURES_PER_IP, settings.LOGIN_THROTTLE_WINDOW_SECONDS
    )


def normalize_username(username: str) -> str:
    """Count ``Olivia`` and ``olivia`` as one name, so case does not multiply guesses."""
    return username.strip().casefold()


def login_retry_after(username: str, address: str) -> int:
    """Seconds before a log-in as ``username`` from ``address`` may be tried; 0 if now."""
    return max(
        username_throttle().retry_after(normalize_username(username)),
        login_address_throttle().retry_after(address),
    )


def record_login_failure(username: str, address: str) -> None:
    """Count a failed log-in against the username and the address."""
    username_throttle().record(normalize_username(username))
    login_address_throttle().record(address)


def forget_login_failures(username: str) -> None:
    """A successful log-in clears its username's failures (not its address's)."""
    username_throttle().forget(normalize_username(username))


# --- bearer tokens ---


def bad_token_throttle() -> Throttle:
    """Wrong bearer tokens per client address."""
    return Throttle(
        "bearer-ip", settings.API_MAX_BAD_TOKENS_PER_IP, settings.LOGIN_THROTTLE_WINDOW_SECONDS
    )


def check_token_address(address: str) -> None:
    """Raise :class:`RateLimited` while ``address`` has sent too many wrong tokens."""
    wait = bad_token_throttle().retry_after(address)
    if wait:
        raise RateLimited(
            f"Too many wrong API tokens from your address (API_MAX_BAD_TOKENS_PER_IP is "
            f"{settings.API_MAX_BAD_TOKENS_PER_IP}); try again in {describe_wait(wait)}.",
            retry_after=wait,
        )


def record_bad_token(address: str) -> None:
    """Count a wrong bearer token against the address."""
    bad_token_throttle().record(address)


# --- run starts ---


def check_run_start(user_id: int) -> None:
    """Count a run start by the user; raise :class:`RateLimited` past the per-minute limit."""
    limit = settings.RUNS_STARTS_PER_MINUTE
    if not limit:
        return
    wait = Throttle("run-start", limit, 60).hit(str(user_id))
    if wait:
        raise RateLimited(
            f"You may start {limit} runs a minute (RUNS_STARTS_PER_MINUTE); "
            f"try again in {describe_wait(wait)}.",
            retry_after=wait,
        )
