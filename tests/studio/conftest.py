"""Personas for studio tests: an owner, a teammate (things get shared with them) and a
stranger (who must see 404s), each with a logged-in test client."""

from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.studio.runs.processes import RedisServer


def make_user(username: str) -> User:
    """Create an active user with an unusable password (tests log in directly)."""
    user = User.objects.create_user(username=username, email=f"{username}@example.test")
    user.set_unusable_password()
    user.save(update_fields=["password"])
    return user


def logged_in_client(user: User) -> Client:
    """A test client with `user`'s session (CSRF checks off, as Django tests default)."""
    client = Client(enforce_csrf_checks=False)
    client.force_login(user)
    return client


@pytest.fixture
def owner(db) -> User:
    """The user who creates the objects under test."""
    return make_user("olivia")


@pytest.fixture
def teammate(db) -> User:
    """A user the owner shares objects with."""
    return make_user("tomas")


@pytest.fixture
def stranger(db) -> User:
    """A user with no access to the owner's objects."""
    return make_user("sam")


@pytest.fixture
def owner_client(owner: User) -> Client:
    """The owner's logged-in client."""
    return logged_in_client(owner)


@pytest.fixture
def teammate_client(teammate: User) -> Client:
    """The teammate's logged-in client."""
    return logged_in_client(teammate)


@pytest.fixture
def stranger_client(stranger: User) -> Client:
    """The stranger's logged-in client."""
    return logged_in_client(stranger)


@pytest.fixture
def anonymous_client() -> Client:
    """A client with no session and no token."""
    return Client()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    """Tests that set passwords should not spend a second hashing each one."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def runs_on_a_thread(settings) -> Iterator[None]:
    """In-process tests share the test database with their runs: no run host process and
    no sweeper (a test that wants one says so); afterwards, no run left executing and no
    connection held by the run host's database threads (the database is emptied or
    dropped next)."""
    from django.db import connections

    from studio.runs import backends
    from studio.runs.backends.hosted import ServerBackend
    from studio.runs.host import current_host

    settings.RUNS_HOST = "thread"
    settings.RUNS_RECOVER_ON_START = False
    if isinstance(backends.get_backend(), ServerBackend):
        backends.get_backend.cache_clear()
    yield
    host = current_host()
    if host is not None:
        host.cancel_all()
        host.database.on_every_thread(connections.close_all)


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A throwaway redis-server on a free port, nothing persisted, for the module's tests
    that talk to Redis (never the machine's own)."""
    server = RedisServer(tmp_path_factory.mktemp("redis") / "redis.log")
    server.start()
    yield server.url
    server.stop()
