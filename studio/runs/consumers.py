"""The websocket a browser (or a script) watches and steers a run through.

``/ws/runs/<id>/?after=SEQ``: authenticate (session cookie, or ``Authorization: Bearer``),
authorise (watch; steering needs edit rights on the team or having started the run),
then relay every event with seq > after. The Origin is checked in front of the consumer
by :class:`ScriptAwareOriginValidator`. Frames in: ``input``, ``stop``, ``interject``,
``ping``. A bad frame gets an error frame; the socket stays open. With ``presence=1``
the socket also gets ``presence`` frames naming who watches (:mod:`studio.runs.presence`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import uuid
from collections.abc import Callable, Iterable, Mapping
from importlib import import_module
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from channels.auth import AuthMiddlewareStack
from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import User
from django.http.request import validate_host
from django.utils.crypto import constant_time_compare

from studio.accounts.auth import user_from_bearer
from studio.accounts.throttling import RateLimited
from studio.errors import ServiceError
from studio.inputs import json_problem
from studio.logs import bind_run
from studio.runs import backends, services
from studio.runs.jsontext import compact_json
from studio.runs.presence import follow_presence
from studio.runs.streaming import follow_run
from studio.server_threads import server_threads

if TYPE_CHECKING:
    from asgiref.typing import HTTPScope
    from channels.consumer import _ChannelScope

logger = logging.getLogger(__name__)

ERROR_CODES = {400: "invalid", 403: "forbidden", 404: "not_found", 409: "conflict"}
#: "internal error": the client reconnects with ?after=<its last seq> (4400-4499 it does not)
RECONNECT_CLOSE_CODE = 1011
#: frames a socket sends before it lets the server's loop do other work
FRAMES_PER_TURN = 20


def headers(scope: Mapping[str, Any]) -> Iterable[tuple[bytes, bytes]]:
    """The handshake's request headers: (lower-case name, value) pairs."""
    found: Iterable[tuple[bytes, bytes]] = scope.get("headers", [])
    return found


def bearer_token(scope: Mapping[str, Any]) -> str | None:
    """The token of an ``Authorization: Bearer`` header, or None without one.

    A connection with such a header authenticates by it alone, never by its cookie.
    """
    for name, value in headers(scope):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer":
                return token.strip()
    return None


DEFAULT_PORTS = {"http": 80, "ws": 80, "https": 443, "wss": 443}


def header(scope: Mapping[str, Any], name: bytes) -> str | None:
    """One request header of the handshake, decoded, or None."""
    for key, value in headers(scope):
        if key == name:
            return value.decode("latin-1")
    return None


def host_and_port(netloc: str, scheme: str) -> tuple[str, int | None] | None:
    """(host, explicit port or None) of a netloc, or None when it cannot be parsed."""
    try:
        parts = urlsplit(f"{scheme}://{netloc}")
        return (parts.hostname or "").lower(), parts.port
    except ValueError:
        return None


def is_allowed_origin(scope: Mapping[str, Any], origin: str) -> bool:
    """Whether a browser on `origin` may open this socket.

    Same origin: the Origin's host and port must be the ones the handshake was sent to
    (its Host header), and that host one of ALLOWED_HOSTS; when the Host header has no
    port (a proxy on the default port), the Origin must be on its scheme's default
    port too. Other origins only when listed whole in CSRF_TRUSTED_ORIGINS.
    """
    if origin.rstrip("/") in {trusted.rstrip("/") for trusted in settings.CSRF_TRUSTED_ORIGINS}:
        return True
    try:
        parsed = urlsplit(origin)
        origin_host, origin_port = (parsed.hostname or "").lower(), parsed.port
    except ValueError:
        return False
    if parsed.scheme not in {"http", "https"} or not origin_host:
        return False
    own = host_and_port(header(scope, b"host") or "", parsed.scheme)
    if own is None or own[0] != origin_host:
        return False
    if not validate_host(origin_host, list(settings.ALLOWED_HOSTS)):
        return False
    if own[1] is None:
        return origin_port in (None, DEFAULT_PORTS[parsed.scheme])
    return (origin_port or DEFAULT_PORTS[parsed.scheme]) == own[1]


class ScriptAwareOriginValidator:
    """Refuse handshakes from other origins (host and port); let scripts in.

    Browsers send an Origin with every websocket handshake and cannot add an
    Authorization header to one, so a handshake with no Origin and a bearer token comes
    from a script, which cross-site request forgery cannot ride on. Without an Origin
    a cookie is not enough; with one, it must be allowed whatever the credentials.
    """

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: HTTPScope | _ChannelScope, receive: Any, send: Any) -> Any:
        """Pass scripts without an Origin and same-origin browsers on; deny the rest."""
        if scope["type"] != "websocket":
            return await self.application(scope, receive, send)
        origin = header(scope, b"origin")
        if origin is None and bearer_token(scope):
            return await self.application(scope, receive, send)
        if origin is not None and is_allowed_origin(scope, origin):
            return await self.application(scope, receive, send)
        return await WebsocketDenier()(scope, receive, send)


class SessionUnlessBearer:
    """Channels' cookie, session and user lookup, for the sockets that use them.

    A handshake with a bearer token authenticates by the token alone (see
    :func:`bearer_token`): it skips the session's load and the user's, a trip to a thread
    and the database each.
    """

    def __init__(self, application: Any) -> None:
        self.application = application
        self.with_session: Any = AuthMiddlewareStack(application)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> Any:
        """Pass bearer sockets straight on; the rest through the session stack."""
        if bearer_token(scope) is not None:
            return await self.application(scope, receive, send)
        return await self.with_session(scope, receive, send)


#: a steering frame is a flat object; nesting past this is refused before it is walked
MAX_FRAME_DEPTH = 8


def parse_frame(text: str) -> tuple[dict[str, Any] | None, str]:
    """A client frame as a JSON object, or None and what is wrong with it.

    Refused: text that is not strict JSON (``NaN`` is not), nesting that only a hostile
    client sends (the parser would recurse once per bracket), and text a database cannot
    store (NUL characters, unpaired surrogates), as the HTTP API refuses them.
    """
    try:
        frame = json.loads(text, parse_constant=refuse_json_constant)
    except RecursionError:
        return None, f"The frame nests deeper than {MAX_FRAME_DEPTH} levels."
    except ValueError:
        return None, "The frame is not JSON."
    if not isinstance(frame, dict):
        return None, "A frame is a JSON object with a type."
    problem = json_problem(frame, max_depth=MAX_FRAME_DEPTH)
    if problem is not None:
        where, message = problem
        return None, f"{where}: {message}." if where else f"The frame {message}."
    return frame, ""


def refuse_json_constant(name: str) -> Any:
    """``NaN`` and ``Infinity`` are not JSON (Python's parser accepts them)."""
    raise ValueError(f"{name} is not JSON")


class RunConsumer(AsyncWebsocketConsumer):
    """Relays a run's events; passes steering frames to the run services."""

    run_id: int
    user: User
    can_steer: bool
    relay: asyncio.Task[None] | None = None
    rights_watch: asyncio.Task[None] | None = None
    presence: asyncio.Task[None] | None = None

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Handle a message from the socket, as Channels does, without first sending
        Django to a thread to close old database connections: every database call of
        this consumer runs on a server thread, which looks after its own connections
        (:func:`studio.server_threads.call_with_connection`). That trip cost each socket
        three thread hops (connect, disconnect, every frame a client sends)."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        """Authenticate, authorise, accept, and start relaying."""
        self.run_id = int(self.scope["url_route"]["kwargs"]["run_id"])
        bind_run(self.run_id)
        # One trip to a server thread for the user and their rights on the run.
        found = await server_threads().call(self.user_and_rights)
        if found is None:
            await self.close(code=4403)
            return
        self.user, self.can_steer = found
        backend = backends.get_backend()
        backend.ensure_started()
        await self.accept()
        self.relay = asyncio.create_task(self.relay_events(backend, self.after_seq()))
        self.rights_watch = asyncio.create_task(self.watch_rights())
        if self.query_flag("presence"):
            name = self.user.get_username()
            self.presence = asyncio.create_task(
                follow_presence(self.run_id, uuid.uuid4().hex, name, self.send_json)
            )

    def user_and_rights(self) -> tuple[User, bool] | None:
        """The socket's user, and whether they may steer the run; None when they may
        not watch it (or nobody is authenticated)."""
        user = self.authenticate()
        if user is None:
            return None
        may_watch, can_steer = self.rights_of_user(user)
        return (user, can_steer) if may_watch else None

    async def watch_rights(self) -> None:
        """Close the socket once the user may no longer watch the run (a share revoked,
        the account deactivated, the session ended, the token deleted)."""
        while True:
            # Spread out, so that sockets opened together do not all check at once.
            await asyncio.sleep(settings.RUNS_WS_RIGHTS_CHECK_SECONDS * random.uniform(0.5, 1))
            # One trip to the database: with hundreds of watchers these add up.
            may_watch, can_steer = await server_threads().call(self.rights_now)
            if may_watch:
                self.can_steer = can_steer
                continue
            await self.send_error("forbidden", "You may no longer watch this run.")
            await self.close(code=4403)
            return

    def rights_now(self) -> tuple[bool, bool]:
        """Whether the user may still watch the run, and steer it."""
        user = self.user_now()
        if user is None:
            return False, False
        self.user = user
        return self.rights_of_user(user)

    def rights_of_user(self, user: User) -> tuple[bool, bool]:
        """Whether ``user`` may watch the run, and steer it (strangers are refused like
        missing runs)."""
        return services.rights_on_run(user, self.run_id)

    def user_now(self) -> User | None:
        """The active user the credentials the socket opened with still name, or None."""
        token = bearer_token(self.scope)
        if token is not None:
            user = user_from_bearer(token)
        else:
            session = self.scope.get("session")
            key = session.session_key if session is not None else None
            if session is None or key is None:
                return None
            stored = import_module(settings.SESSION_ENGINE).SessionStore(session_key=key).load()
            user = User.objects.filter(pk=self.user.pk).first()
            # The session must still be this user's, unexpired, and from before any
            # password change (Django ties sessions to a hash of the password).
            if user is None or stored.get(SESSION_KEY) != str(user.pk):
                return None
            if not constant_time_compare(
                stored.get(HASH_SESSION_KEY, ""), user.get_session_auth_hash()
            ):
                return None
        if user is None or user.pk != self.user.pk or not user.is_active:
            return None
        return user

    def authenticate(self) -> User | None:
        """The bearer token's user, or else the session's (on a server thread)."""
        token = bearer_token(self.scope)
        if token is not None:  # wrong tokens count against the address (throttled guessing)
            address = (self.scope.get("client") or ["unknown"])[0]
            try:
                return user_from_bearer(token, client_ip=address)
            except RateLimited:
                return None
        # A lazy proxy, which passes for the User (or AnonymousUser) it loads.
        user: object = self.scope.get("user")
        return user if isinstance(user, User) and user.is_authenticated else None

    def query_flag(self, name: str) -> bool:
        """Whether the query string turns ``name`` on (``?name=1``)."""
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        return query.get(name, [""])[0] in {"1", "true"}

    def after_seq(self) -> int:
        """The ``after`` query parameter: the last seq the client already has."""
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        try:
            return max(int(query.get("after", ["0"])[0]), 0)
        except ValueError:
            return 0

    async def relay_events(self, backend: backends.Backend, after: int) -> None:
        """Send every event after ``after``, then keep following the run.

        A follower that fails (the database went away) closes the socket with
        :data:`RECONNECT_CLOSE_CODE`: the client reconnects from its last seq, instead of
        watching an open socket that no longer delivers anything.
        """
        try:
            async for batch in follow_run(self.run_id, after, backend):
                for number, frame in enumerate(batch, start=1):
                    await self.send(text_data=frame.text)
                    if number % FRAMES_PER_TURN == 0:
                        # A send does not wait: let the server's other sockets have the loop.
                        await asyncio.sleep(0)
        except Exception:
            logger.exception(
                "run %s: following it failed; asking the client to reconnect", self.run_id
            )
            await self.close(code=RECONNECT_CLOSE_CODE)

    async def disconnect(self, code: int) -> None:
        """Stop relaying; the run itself goes on."""
        if self.rights_watch is not None:
            self.rights_watch.cancel()
        if self.presence is not None:
            self.presence.cancel()
        if self.relay is not None:
            self.relay.cancel()
            await asyncio.gather(self.relay, return_exceptions=True)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Handle one client frame; every problem becomes an error frame."""
        if text_data is None:
            await self.send_error("bad_frame", "Send JSON text frames.")
            return
        if len(text_data.encode(errors="surrogatepass")) > settings.RUNS_WS_MAX_FRAME_BYTES:
            limit = settings.RUNS_WS_MAX_FRAME_BYTES
            await self.send_error("too_large", f"Frames are limited to {limit} bytes.")
            return
        frame, problem = parse_frame(text_data)
        if frame is None:
            await self.send_error("bad_frame", problem)
            return
        await self.handle(frame)

    async def handle(self, frame: dict[str, Any]) -> None:
        """Answer a ping, or pass a steering frame to its service."""
        kind = frame.get("type")
        if kind == "ping":
            await self.send_json({"type": "pong"})
            return
        if kind not in ("input", "stop", "interject"):
            await self.send_error("bad_frame", f"Unknown frame type {kind!r}.")
            return
        # The service checks the right to steer (a 403 is a "forbidden" error frame), in
        # the same trip to the database as the command itself.
        call, problem = self.command(kind, frame)
        if call is None:
            await self.send_error("bad_frame", problem)
            return
        try:
            await server_threads().call(call)
        except ServiceError as exc:
            await self.send_error(ERROR_CODES.get(exc.status, "invalid"), exc.message)
            return
        await self.send_json({"type": "ack", "command": kind})

    def command(self, kind: str, frame: dict[str, Any]) -> tuple[Callable[[], Any] | None, str]:
        """The service call a steering frame asks for, or None and what is wrong."""
        user, run_id = self.user, self.run_id
        if kind == "stop":
            return (lambda: services.stop_run(user, run_id)), ""
        content = frame.get("content")
        if not isinstance(content, str):
            return None, "content must be a string."
        if kind == "interject":
            return (lambda: services.interject(user, run_id, content)), ""
        request_id = frame.get("request_id")
        if not isinstance(request_id, str) or not request_id:
            return None, "request_id must be a non-empty string."
        return (lambda: services.provide_input(user, run_id, request_id, content)), ""

    async def send_json(self, data: dict[str, Any]) -> None:
        """Send one JSON frame."""
        await self.send(text_data=compact_json(data))

    async def send_error(self, code: str, message: str) -> None:
        """An error frame; the socket stays open."""
        await self.send_json({"type": "error", "code": code, "message": message})
