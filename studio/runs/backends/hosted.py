"""The embedded mode with its run hosts in child processes (``RUNS_HOST=process``).

A run host on a thread of the server's own process shares the interpreter lock with the
server: a busy run (a model that answers at once, a long team) made the server accept
sockets and answer requests many times slower. By default an embedded server therefore
starts child processes, the *run host processes* (``RUNS_HOST_PROCESSES``, one per core),
and talks to each over a socket pair:

- the server sends ``launch`` (to the children in turn), and to every child ``post``
  (answers, stops, interjections), ``cancel``, ``reset``, ``stop_later`` and
  ``terminate``, which only the child executing the run acts on;
- a child sends back what its runs append to their live logs (``log``), and when a run
  is done with its log (``finish``), gathered per turn of its loop (``batch``).

The server keeps the live logs (its sockets read them), the children the inboxes (their
runs read them), so each side sends only what the other needs. The children do what an
embedded server did at start: the first resumes the runs left interrupted, and each
sweeps for lost ones. When the server goes away, the children see their sockets close,
stop their runs (their leases stay, so the next server resumes them) and exit. When a
child dies, the server starts another in its place at once; it resumes the runs the dead
one was executing (the ``worker`` they carry), and leaves its siblings' runs alone.
"""

from __future__ import annotations

import asyncio
import atexit
import gc
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from django.conf import settings

from studio.runs.backends import LiveLog, Position
from studio.runs.backends.embedded import EmbeddedBackend, MemoryInbox, wake
from studio.runs.events import Frame
from studio.runs.host import current_host, shorten_switch_interval

logger = logging.getLogger(__name__)

#: the run host process's collector thresholds (measured on Python 3.11): a busy run
#: allocates several hundred objects per message, so the young generation is collected
#: every 20,000 allocations (not 700), the middle one every 2nd time and the oldest, when
#: it grew by a quarter, every 4th (not every 11th and 121st): a finished run's objects,
#: old by then, still go soon, and memory stays flat where (20,000, 10, 10) let it grow by
#: 50 MiB over 100,000 messages
RUN_HOST_GC_THRESHOLD = (20_000, 1, 1)

Message = tuple[Any, ...]

#: a child that dies sooner than this after its start is started again only after a pause
#: that doubles each time (up to ``RESTART_PAUSE_MAX`` seconds), not in a tight loop
QUICK_DEATH_SECONDS = 5.0
RESTART_PAUSE_MAX = 10.0
#: how often the run host process looks for runs it no longer holds, to forget them
IDLE_SECONDS = 60.0
#: how the child starts: through an import, so its module and logger are this one
CHILD_ENTRY = "import sys; from studio.runs.backends.hosted import main; main(sys.argv)"


#: whether this process is a server (set by the ASGI entry point): only a server starts a
#: run host process; management commands, shells and workers run runs on a thread
_roles = {"server": False}


def mark_server_process() -> None:
    """This process serves the studio: its embedded runs go to a run host process."""
    _roles["server"] = True


def is_server_process() -> bool:
    """Whether :func:`mark_server_process` was called in this process."""
    return _roles["server"]


class Link:
    """One end of the socket pair: messages out under a lock, a thread reading them in."""

    def __init__(self, connection: Connection, name: str) -> None:
        self._connection = connection
        self._send_lock = threading.Lock()
        # Closing needs no sender to finish: a send blocked on a full socket ends with it.
        self._state_lock = threading.Lock()
        self._name = name
        self.is_closed = False

    def send(self, message: Message) -> bool:
        """Send one message; False when the other side is gone."""
        with self._send_lock:
            if self.is_closed:
                return False
            try:
                self._connection.send(message)
            except (OSError, ValueError):
                self.is_closed = True
                return False
            return True

    def serve(self, on_message: Callable[[Message], None]) -> None:
        """Hand every message received to ``on_message`` until the other side closes."""
        while True:
            try:
                message = self._connection.recv()
            except (EOFError, OSError):
                break
            except Exception:
                logger.exception("%s: a message could not be read; closing the link", self._name)
                break
            try:
                on_message(message)
            except Exception:
                logger.exception("%s: handling %r failed", self._name, message[:2])
        self.close()

    def serve_in_thread(self, on_message: Callable[[Message], None]) -> threading.Thread:
        """:meth:`serve` on a daemon thread (started)."""
        thread = threading.Thread(
            target=self.serve, args=(on_message,), name=self._name, daemon=True
        )
        thread.start()
        return thread

    def close(self) -> None:
        """Close this end once it is no longer read."""
        with self._state_lock:
            self.is_closed = True
            self._connection.close()

    def shut_down(self) -> None:
        """End the link both ways from any thread: both sides' reads end, each closes."""
        with self._state_lock:
            self.is_closed = True
            if self._connection.closed:
                return
            # A duplicate of the descriptor: shutting it down ends the reads (and a send
            # blocked on a full socket) without closing it under the threads using it.
            try:
                with socket.socket(fileno=os.dup(self._connection.fileno())) as duplicate:
                    duplicate.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


# --------------------------------------------------------------------------------------
# The server's side
# --------------------------------------------------------------------------------------


#: what a run host process resumes when it starts (argv[2]): every interrupted run (the
#: first of a server's start), none (the others), or a worker name (a dead one's runs)
ALL = "*"
NONE = ""


class ChildProcess:
    """One run host process and the server's end of the link to it."""

    def __init__(self, on_message: Callable[[Message], None], resume_from: str = ALL) -> None:
        ours, theirs = socket.socketpair()
        package_root = str(Path(__file__).resolve().parents[3])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
        env.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
        self.process = subprocess.Popen(
            [sys.executable, "-c", CHILD_ENTRY, str(theirs.fileno()), resume_from],
            pass_fds=[theirs.fileno()],
            env=env,
            # Ctrl+C in a terminal stops the server; the child follows when the link closes.
            start_new_session=True,
        )
        theirs.close()
        #: when the child said it serves (None until then)
        self.ready_at: float | None = None
        self.link = Link(Connection(ours.detach()), "roundtable-host-link")
        self.reader = self.link.serve_in_thread(on_message)

    @property
    def is_alive(self) -> bool:
        """Whether the child serves: it said so, runs, and the link to it is open."""
        return self.ready_at is not None and not self.link.is_closed and self.process.poll() is None

    def stop(self, timeout: float = 15.0) -> None:
        """End the link (the child stops its runs and exits) and wait for it."""
        self.link.shut_down()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class ServerBackend(EmbeddedBackend):
    """The embedded backend of a server whose runs execute in its run host processes.

    Live logs are kept here, fed by the children. Launches go to the children in turn;
    everything else addressed to a run (an answer, a stop) goes to every child, and the
    one executing the run acts on it, so nothing here needs to know where a run went (a
    child's own sweeps and recoveries launch runs too).
    """

    def __init__(self) -> None:
        super().__init__()
        self._child_lock = threading.Lock()
        #: one slot per run host process (``RUNS_HOST_PROCESSES``), None until started
        self._children: list[ChildProcess | None] = []
        self._restart_pauses: list[float] = []
        self._turn = 0
        self._is_closing = False

    # --- the children ---

    def ensure_started(self) -> None:
        """See :meth:`Backend.ensure_started`: start the run host processes once.

        Replacing a child that died is its watcher's job alone, with a pause that grows
        while children keep dying, never the job of whoever calls next.
        """
        with self._child_lock:
            if self._children or self._is_closing:
                return
            # The run hosts hand the server's threads the lock on every read: keep the
            # hand-over short, or a busy server stalls every run while it sends.
            shorten_switch_interval()
            atexit.register(self.close)  # the server's exit waits for the children
            count = settings.RUNS_HOST_PROCESSES
            self._children = [None] * count
            self._restart_pauses = [0.0] * count
            for slot in range(count):
                # One child resumes what the last server left; two would race for it.
                self._start_child(slot, ALL if slot == 0 else NONE)

    def _start_child(self, slot: int, resume_from: str) -> ChildProcess:
        child = self._children[slot] = ChildProcess(self._receive, resume_from)
        threading.Thread(
            target=self._watch, args=(slot, child), name="roundtable-host-watch", daemon=True
        ).start()
        return child

    def _watch(self, slot: int, child: ChildProcess) -> None:
        """Wait for the child to go; unless the server is closing, start another in its
        slot, which resumes the runs the dead one was executing."""
        child.reader.join()
        code = child.process.wait()
        if self._is_closing:
            return
        served = time.monotonic() - child.ready_at if child.ready_at is not None else 0.0
        pause = self._restart_pauses[slot]
        pause = min(max(pause * 2, 0.5), RESTART_PAUSE_MAX) if served < QUICK_DEATH_SECONDS else 0.0
        self._restart_pauses[slot] = pause
        logger.error(
            "the run host process %s ended (exit code %s) after serving %.1f s; "
            "starting another in %.1f s",
            child.process.pid,
            code,
            served,
            pause,
        )
        time.sleep(pause)
        # Imported here: the run host process imports this module before Django is set up.
        from studio.runs.leases import worker_name

        with self._child_lock:
            if not self._is_closing and self._children[slot] is child:
                successor = self._start_child(slot, worker_name(child.process.pid))
                # Stops sent to the dead child must reach the runs it held, now resumed:
                # the runs asked to stop that have not finished yet.
                with self._lock:
                    stopping = sorted(self._cancelled)
                for run_id in stopping:
                    successor.link.send(("cancel", run_id))

    def close(self) -> None:
        """Stop the run host processes (their runs keep their leases for the next start)."""
        with self._child_lock:
            self._is_closing = True
            children = [child for child in self._children if child is not None]
            self._children = [None] * len(self._children)
        for child in children:
            child.link.shut_down()
        for child in children:
            child.stop()

    @property
    def host_pids(self) -> list[int]:
        """The ids of the run host processes that serve now."""
        return [child.process.pid for child in list(self._children) if child and child.is_alive]

    @property
    def host_count(self) -> int:
        """How many run host processes this server keeps (``RUNS_HOST_PROCESSES``)."""
        return len(self._children)

    @property
    def host_pid(self) -> int | None:
        """The id of the first run host process that serves now."""
        pids = self.host_pids
        return pids[0] if pids else None

    def _send(self, *message: Any) -> None:
        """Send a launch to the next child in turn, anything else to every child."""
        self.ensure_started()
        children = list(self._children)
        if message[0] == "launch":
            self._turn += 1
            serving = [child for child in children if child is not None and child.is_alive]
            children = [serving[self._turn % len(serving)]] if serving else children[:1]
        sent = [child.link.send(message) for child in children if child is not None]
        if not any(sent):
            # The children are being replaced: a successor resumes the runs from the
            # database (queued ones are launched, answers are stored on the run, stops
            # are told again).
            logger.warning("run %s: no run host process was there for %s", message[1], message[0])

    def _receive(self, message: Message) -> None:
        kind, run_id = message[0], message[1]
        if kind == "batch":
            # The appends' readers are woken together: one hand-over to the server's loop.
            woken: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
            for each in message[2]:
                if each[0] == "log":
                    self.log(each[1]).append_nowait(each[2], woken)
                else:
                    self._receive(each)
            wake(woken)
        elif kind == "log":
            self.log(run_id).append_nowait(message[2])
        elif kind == "finish":
            with self._lock:
                self._cancelled.discard(run_id)
            self.log(run_id).finish_nowait()
        elif kind == "ready":
            for child in list(self._children):
                if child is not None and child.process.pid == run_id:
                    child.ready_at = time.monotonic()
        else:
            logger.error("a run host process sent an unknown message %r", kind)

    # --- what goes to a run ---

    def launch(self, run_id: int) -> str:
        """See :meth:`Backend.launch`: the run host process starts it."""
        self._send("launch", run_id)
        return ""

    def post(self, run_id: int, message: dict[str, Any]) -> None:
        """See :meth:`Backend.post`."""
        self._send("post", run_id, message)

    def request_cancel(self, run_id: int) -> None:
        """See :meth:`Backend.request_cancel`."""
        with self._lock:
            self._cancelled.add(run_id)
        self._send("cancel", run_id)

    def reset_inbox(self, run_id: int) -> None:
        """See :meth:`Backend.reset_inbox`."""
        self._send("reset", run_id)

    def check_stop_later(self, run_id: int, delay: float) -> None:
        """See :meth:`Backend.check_stop_later`: a timer in the run host process."""
        self._send("stop_later", run_id, delay)

    def terminate(self, run_id: int, task_id: str) -> None:
        """See :meth:`Backend.terminate`."""
        self._send("terminate", run_id, task_id)


# --------------------------------------------------------------------------------------
# The child's side
# --------------------------------------------------------------------------------------


class Outbox:
    """What a run host process sends the server about its runs' logs, gathered over one
    turn of its loop and sent as one message.

    A transaction holds the events of every run that wrote meanwhile; when it commits,
    each of those runs appends to its log in turn. Sent one by one, that cost both
    processes a message, and the server a wake-up of its loop, per run and turn. What is
    put in one turn of the loop goes as one ``batch`` (the messages in the order they
    were put); from another thread (a database thread), at once, after what waits.
    """

    def __init__(self, link: Link) -> None:
        self._link = link
        self._lock = threading.Lock()  # guards the list
        self._send_lock = threading.Lock()  # keeps the order of what two threads send
        self._messages: list[Message] = []

    def put(self, message: Message) -> None:
        """Send ``message`` with the others of this turn of the loop."""
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        with self._lock:
            self._messages.append(message)
            is_first = len(self._messages) == 1
        if loop is None:
            self.flush()
        elif is_first:
            loop.call_soon(self.flush)

    def flush(self) -> None:
        """Send what was put so far."""
        with self._send_lock:
            with self._lock:
                messages, self._messages = self._messages, []
            if len(messages) == 1:
                self._link.send(messages[0])
            elif messages:
                self._link.send(("batch", 0, messages))


class ForwardedLog(LiveLog):
    """A run's live log as its executor in the run host process sees it: appends and the
    end go to the server, which keeps the log its sockets read."""

    def __init__(self, outbox: Outbox, run_id: int) -> None:
        self._outbox = outbox
        self._run_id = run_id

    async def append(self, frames: Sequence[Frame]) -> None:
        """See :meth:`LiveLog.append`."""
        self._outbox.put(("log", self._run_id, list(frames)))

    async def read(self, position: Position, block: float) -> list[Frame]:
        """Refused: watchers read the server's copy of the log."""
        raise RuntimeError("the run host process serves no watchers; the server does")

    async def finish(self) -> None:
        """See :meth:`LiveLog.finish`."""
        self._outbox.put(("finish", self._run_id))


class HostedBackend(EmbeddedBackend):
    """The embedded backend inside the run host process: runs and inboxes here, live
    logs forwarded to the server."""

    def __init__(self, link: Link) -> None:
        super().__init__()
        self._link = link
        self._outbox = Outbox(link)
        self.is_stopping = False
        self._idle_before: set[int] = set()
        self._idled_at = time.monotonic()

    def log(self, run_id: int) -> ForwardedLog:  # type: ignore[override]
        """See :meth:`Backend.log`."""
        return ForwardedLog(self._outbox, run_id)

    def inbox(self, run_id: int) -> MemoryInbox:
        """See :meth:`Backend.inbox`; forgets, now and then, the runs no longer here."""
        self.forget_idle_runs()
        return super().inbox(run_id)

    def forget_idle_runs(self, *, every: float = IDLE_SECONDS) -> None:
        """Drop the inboxes and stop requests of runs that have not been on this host
        for two looks ``every`` seconds apart (at most once per ``every``).

        The server keeps the logs, so nothing else here would let them go; a run launched
        again starts with a fresh inbox anyway (``reset``).
        """
        now = time.monotonic()
        if now - self._idled_at < every:
            return
        self._idled_at = now
        host = current_host()
        with self._lock:
            known = self._inboxes.keys() | self._cancelled
            idle = {run_id for run_id in known if host is None or not host.is_running(run_id)}
            for run_id in idle & self._idle_before:
                self._inboxes.pop(run_id, None)
                self._cancelled.discard(run_id)
            self._idle_before = idle - self._idle_before

    def launch(self, run_id: int) -> str:
        """See :meth:`Backend.launch`; nothing once the process is stopping."""
        if self.is_stopping:
            return ""
        return super().launch(run_id)

    def publish(self, run_id: int, frames: Sequence[Frame]) -> None:
        """See :meth:`Backend.publish`."""
        self._outbox.put(("log", run_id, list(frames)))

    def receive(self, message: Message) -> None:
        """Do what the server asks."""
        kind, run_id, *rest = message
        handlers: dict[str, Callable[..., object]] = {
            "launch": self.launch,
            "post": self.post,
            "cancel": self.request_cancel,
            "reset": self.reset_inbox,
            "stop_later": self.check_stop_later,
            "terminate": self.terminate,
        }
        handler = handlers.get(kind)
        if handler is None:
            logger.error("the server sent an unknown message %r", kind)
            return
        handler(run_id, *rest)


def main(argv: list[str]) -> None:
    """The run host process: serve the server at the other end of file descriptor argv[1];
    at start, resume what argv[2] says (:data:`ALL`, :data:`NONE` or a dead child's name)."""
    # Its life follows the link: a terminal's Ctrl+C or a service manager's SIGTERM to
    # the whole group reaches the server, whose exit closes the link.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
    import django

    django.setup()
    # The executor is imported now, not by the first launch: it brings the model SDKs,
    # and the first run after a start would wait for them.
    import studio.runs.execution  # noqa: F401
    from studio.runs import backends
    from studio.runs.host import freeze_start_up_objects, get_host, stop_host

    freeze_start_up_objects()
    gc.set_threshold(*RUN_HOST_GC_THRESHOLD)
    link = Link(Connection(int(argv[1])), "roundtable-host-link")
    backend = HostedBackend(link)
    resume_from = argv[2] if len(argv) > 2 else ALL
    if resume_from != ALL:
        backend.resume_from = [resume_from] if resume_from else []
    backends.register_backend("embedded", lambda: backend)
    backends.get_backend.cache_clear()
    backend.ensure_started()
    # Connected before it says it serves: the first run here would wait for it otherwise.
    get_host().open_connections()
    link.send(("ready", os.getpid()))
    logger.info("run host process %s serves the server %s", os.getpid(), os.getppid())
    link.serve(backend.receive)
    backend.is_stopping = True  # a launch by a recovery still under way is the next start's
    stopped = stop_host()
    if stopped:
        logger.info("the server went away; runs %s resume at its next start", stopped)


if __name__ == "__main__":
    main(sys.argv)
