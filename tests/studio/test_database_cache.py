"""The database cache the throttles count in: Django's cache semantics, one statement a
write, and increments that lose no count when several writers race."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache as DjangoDatabaseCache
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from studio import database_cache
from studio.database_cache import DatabaseCache

pytestmark = pytest.mark.django_db(transaction=True)

TABLE = "roundtable_cache"


@pytest.fixture
def cache(settings) -> Iterator[DatabaseCache]:
    """The database cache on its table (whatever the test settings' cache is)."""
    settings.CACHES = {
        **settings.CACHES,
        "counting": {
            "BACKEND": "studio.database_cache.DatabaseCache",
            "LOCATION": TABLE,
            "OPTIONS": {"MAX_ENTRIES": 5, "CULL_FREQUENCY": 2},
        },
    }
    made = caches.create_connection("counting")
    assert isinstance(made, DatabaseCache)
    made.clear()
    database_cache.sweep_soon()
    yield made
    made.clear()


def statements(action: Callable[[], object]) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        action()
    return [query["sql"] for query in queries.captured_queries if TABLE in query["sql"]]


def test_set_get_add_and_touch_keep_djangos_meaning(cache: DatabaseCache) -> None:
    cache.set("a", {"n": 1}, timeout=60)
    assert cache.get("a") == {"n": 1}
    cache.set("a", [2], timeout=60)  # set replaces
    assert cache.get("a") == [2]
    assert cache.add("a", "no", timeout=60) is False  # add keeps a live entry
    assert cache.get("a") == [2]
    assert cache.add("b", "yes", timeout=60) is True
    assert cache.get("b") == "yes"
    assert cache.touch("a", timeout=120) is True
    assert cache.touch("missing") is False
    assert cache.get("missing", "default") == "default"


def test_an_expired_entry_is_gone_and_add_takes_its_place(cache: DatabaseCache) -> None:
    cache.set("old", 1, timeout=-1)  # expired already
    assert cache.get("old") is None
    assert cache.touch("old") is False
    with pytest.raises(ValueError, match="not found"):
        cache.incr("old")
    cache.set("old", 1, timeout=-1)
    assert cache.add("old", 2, timeout=60) is True
    assert cache.get("old") == 2


def test_incr_adds_to_a_live_value_and_refuses_a_missing_one(cache: DatabaseCache) -> None:
    cache.set("n", 5, timeout=60)
    assert cache.incr("n") == 6
    assert cache.incr("n", 10) == 16
    assert cache.get("n") == 16
    with pytest.raises(ValueError, match="not found"):
        cache.incr("nothing")


def test_each_write_and_each_increment_is_one_statement(cache: DatabaseCache) -> None:
    cache.set("warm", 0, timeout=60)  # the first write of the test sweeps
    assert len(statements(lambda: cache.set("s", 1, timeout=60))) == 1
    assert len(statements(lambda: cache.add("t", 1, timeout=60))) == 1
    assert len(statements(lambda: cache.add("t", 1, timeout=60))) == 1
    assert len(statements(lambda: cache.touch("t", timeout=60))) == 1
    assert len(statements(lambda: cache.incr("t"))) == 1
    # None of them counts the table.
    everything = statements(lambda: [cache.set(str(n), n, timeout=60) for n in range(3)])
    assert not [sql for sql in everything if "COUNT" in sql.upper()]


def test_a_number_written_as_django_writes_it_is_incremented_too(cache: DatabaseCache) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE}")
    django_format = DjangoDatabaseCache(TABLE, {})
    django_format.set("old", 41, timeout=60)
    assert cache.incr("old") == 42
    assert cache.incr("old") == 43
    assert cache.get("old") == 43
    cache.set("flag", True, timeout=60)
    with pytest.raises(ValueError, match="not found"):
        cache.incr("flag")


def test_racing_increments_lose_no_count(cache: DatabaseCache) -> None:
    cache.set("shared", 0, timeout=60)
    errors: list[BaseException] = []

    def add_up() -> None:
        mine = caches.create_connection("counting")
        try:
            for _ in range(25):
                mine.incr("shared")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=add_up) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert cache.get("shared") == 100


def test_a_sweep_deletes_expired_entries_and_culls_past_max_entries(
    cache: DatabaseCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database_cache, "_next_sweep", float("inf"))  # none while filling
    for number in range(3):
        cache.set(f"expired-{number}", number, timeout=-1)
    for number in range(8):
        cache.set(f"live-{number}", number, timeout=60)

    def rows() -> int:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {TABLE}")
            return int(cursor.fetchone()[0])

    assert rows() == 11
    database_cache.sweep_soon()
    cache.set("after", 1, timeout=60)
    # The three expired went; eight live entries were over MAX_ENTRIES=5: half culled.
    assert rows() == 8 - 8 // 2 + 1
    assert cache.get("after") == 1
    # The next writes do not sweep again for a while.
    cache.set("expired-again", 1, timeout=-1)
    cache.set("one-more", 1, timeout=60)
    assert rows() == 8 - 8 // 2 + 3
