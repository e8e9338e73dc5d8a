"""Real processes for the distributed tests: a redis-server, a Celery worker, daphne.

Each can be stopped the hard way (SIGKILL, as a crash or an OOM kill would) and started
again on the same port, so tests can inject the faults a deployment meets. Every process
binds to 127.0.0.1 and is started in its own process group, which a kill takes down whole.
None outlives the test session, even one ended by SIGTERM (a CI timeout).
"""

from __future__ import annotations

import abc
import atexit
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import redis
from django.db import connection

ROOT = Path(__file__).resolve().parents[3]


def niceness(pid: int, thread: int | None = None) -> int:
    """The niceness of a process's main thread (or of one of its threads), as Linux keeps
    it: field 19 of ``/proc/<pid>/task/<thread>/stat``."""
    path = Path(f"/proc/{pid}/task/{thread or pid}/stat")
    return int(path.read_text().rsplit(")", 1)[1].split()[16])


def thread_niceness(pid: int) -> set[int]:
    """The nicenesses of a process's threads."""
    return {niceness(pid, int(task.name)) for task in Path(f"/proc/{pid}/task").iterdir()}


def expected_run_niceness() -> int:
    """The niceness a run host's loop has: this thread's plus ``RUNS_NICENESS``."""
    from django.conf import settings

    return min(os.nice(0) + settings.RUNS_NICENESS, 19)


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def database_url() -> str:
    """The test database as a URL another process can use."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        if connection.creation.is_in_memory_db(db["NAME"]):
            raise RuntimeError("another process cannot open an in-memory test database")
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgresql://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def wait_for(
    check: Callable[[], bool], what: str, limit: float, process: subprocess.Popen[bytes]
) -> None:
    """Poll ``check()`` until true; fail if the process exits or ``limit`` passes."""
    deadline = time.monotonic() + limit
    while not check():
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start within {limit} s")
        time.sleep(0.05)


def use_broker(url: str) -> str:
    """Point this process's Celery app at ``url``; returns the URL it used before."""
    from studio.celery import app

    previous = str(app.conf.broker_url)
    app.conf.broker_url = url
    # The app has no public way to drop its cached connections; new ones follow the URL.
    app._pool = None
    app.amqp._producer_pool = None
    return previous


#: every service started in this session, stopped at exit whatever ended the session
started: list[Service] = []


def stop_all() -> None:
    """Kill whatever is still running (fixtures stop theirs; this catches the rest)."""
    for service in started:
        service.kill()


def end_session_on_sigterm() -> None:
    """Turn SIGTERM into an ordinary exit, so fixture teardowns and :func:`stop_all` run."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


class Service(abc.ABC):
    """A child process in its own group, restartable with the same arguments."""

    name = "service"

    def __init__(self, log: Path) -> None:
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    @abc.abstractmethod
    def command(self) -> list[str]:
        """The command line."""

    def environment(self) -> dict[str, str]:
        """The environment it runs with."""
        return dict(os.environ)

    @abc.abstractmethod
    def is_ready(self) -> bool:
        """Whether it serves."""

    def start(self, limit: float = 30.0) -> None:
        """Start it and wait until it serves."""
        end_session_on_sigterm()
        if not started:
            atexit.register(stop_all)
        if self not in started:
            started.append(self)
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                self.command(),
                cwd=ROOT,
                env=self.environment(),
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            wait_for(self.is_ready, self.name, limit, self.process)
        except RuntimeError as exc:
            self.kill()
            raise RuntimeError(f"{exc}:\n{self.log.read_text(errors='replace')[-3000:]}") from None

    @property
    def is_running(self) -> bool:
        """Whether its main process is alive."""
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole process group: no clean-up runs, as in a crash."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(10)

    def stop(self, limit: float = 15.0) -> None:
        """SIGTERM, then SIGKILL if it does not exit in time."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(limit)
        except subprocess.TimeoutExpired:
            self.kill()
        else:
            self.kill()  # whatever it left in its group

    def restart(self) -> None:
        """Kill it and start it again."""
        self.kill()
        self.start()

    def restart_cleanly(self) -> None:
        """Stop it with SIGTERM (as a deployment does) and start it again."""
        self.stop()
        self.start()


class RedisServer(Service):
    """A redis-server on a fixed port that keeps nothing on disk: a restart empties it."""

    name = "redis-server"

    def __init__(self, log: Path, port: int | None = None) -> None:
        super().__init__(log)
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def command(self) -> list[str]:
        """See :meth:`Service.command`."""
        return [
            "redis-server",
            *("--port", str(self.port), "--bind", "127.0.0.1"),
            *("--save", "", "--appendonly", "no"),
        ]

    def is_ready(self) -> bool:
        """See :meth:`Service.is_ready`."""
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        try:
            return bool(client.ping())
        except redis.ConnectionError:
            return False
        finally:
            client.close()


class CeleryWorker(Service):
    """A Celery worker on the test database and a given Redis, with the documented
    defaults (one process whose run host executes every run it takes)."""

    name = "celery worker"

    def __init__(self, log: Path, *, redis_url: str, settings: dict[str, str]) -> None:
        super().__init__(log)
        self.redis_url = redis_url
        self.settings = settings
        self.node = f"tests-{os.getpid()}-{free_port()}@%h"
        self._ready_marks = 0

    def command(self) -> list[str]:
        """See :meth:`Service.command`."""
        return [
            *(sys.executable, "-m", "celery", "-A", "studio", "worker"),
            *("--loglevel", "INFO", "--without-gossip", "--without-mingle"),
            *("--without-heartbeat", "-n", self.node),
        ]

    def environment(self) -> dict[str, str]:
        """See :meth:`Service.environment`."""
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "studio.settings",
            "REDIS_URL": self.redis_url,
            "DATABASE_URL": database_url(),
            **self.settings,
        }

    def start(self, limit: float = 30.0) -> None:
        """See :meth:`Service.start`: ready once it logs one more "ready." than before."""
        self._ready_marks = self.ready_marks()
        super().start(limit)

    def ready_marks(self) -> int:
        """How many times a worker logged into this file that it was ready."""
        return self.log.read_bytes().count(b" ready.") if self.log.exists() else 0

    def is_ready(self) -> bool:
        """See :meth:`Service.is_ready`."""
        return self.ready_marks() > self._ready_marks


class Daphne(Service):
    """A daphne server of the studio on 127.0.0.1, in distributed mode."""

    name = "daphne"

    def __init__(self, log: Path, *, redis_url: str, settings: dict[str, str]) -> None:
        super().__init__(log)
        self.port = free_port()
        self.redis_url = redis_url
        self.settings = settings

    def command(self) -> list[str]:
        """See :meth:`Service.command`."""
        return [
            *(sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port)),
            "studio.asgi:application",
        ]

    def environment(self) -> dict[str, str]:
        """See :meth:`Service.environment`."""
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "studio.settings",
            "REDIS_URL": self.redis_url,
            "DATABASE_URL": database_url(),
            **self.settings,
        }

    def is_ready(self) -> bool:
        """See :meth:`Service.is_ready`."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False
