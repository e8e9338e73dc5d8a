"""The cache the throttles count in when there is no Redis: Django's database cache, with
each write one statement.

Django's ``DatabaseCache`` counts the whole table before every write (to see whether to
cull it), then reads the row and writes it in a savepoint: an ``add`` or a ``set`` is five
statements and an ``incr`` six, and the count reads every row the table holds (up to
``MAX_ENTRIES``, 100,000 here). Every run start counts itself (``RUNS_STARTS_PER_MINUTE``,
inside the start's transaction): with the limits on, a ``POST /api/runs`` made 18
statements where 11 did the rest of its work, and took 6.1 ms in Django's test client
where it took 2.5 ms without the limits.

Here ``set``, ``add`` and ``touch`` are one statement each (an upsert: SQLite and
PostgreSQL both have ``ON CONFLICT``), and so is ``incr``: a whole number is stored as
its digits (``i:42``; pickles in base64 never hold a colon), which the ``UPDATE`` adds to
in place, so two processes counting at once lose nothing. Expired entries are deleted,
and the table culled as Django culls it when it holds more than ``MAX_ENTRIES``, at most
once every :data:`SWEEP_SECONDS` per process.
"""

from __future__ import annotations

import base64
import pickle
import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.db import DatabaseCache as DjangoDatabaseCache
from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

#: seconds between two sweeps of one process (expired entries, culling past MAX_ENTRIES)
SWEEP_SECONDS = 60.0

#: how a whole number is stored: this, then its digits
NUMBER = "i:"

#: when this process sweeps next (``time.monotonic()``), shared by its threads' caches
_next_sweep = 0.0
_sweep_lock = threading.Lock()


def encode(value: Any) -> str:
    """A value as the table stores it: a whole number as its digits (for ``incr``),
    anything else pickled in base64, as Django's database cache stores it."""
    if type(value) is int:
        return f"{NUMBER}{value}"
    return base64.b64encode(pickle.dumps(value, pickle.HIGHEST_PROTOCOL)).decode("latin1")


def decode(stored: str) -> Any:
    """A value as the table stored it."""
    if stored.startswith(NUMBER):
        return int(stored[len(NUMBER) :])
    return pickle.loads(base64.b64decode(stored.encode()))


class DatabaseCache(DjangoDatabaseCache):
    """Django's database cache on the same table, writing with one statement each."""

    #: the table's name (Django sets it; its type stubs leave it out)
    _table: str

    def _names(self, connection: BaseDatabaseWrapper) -> tuple[str, str, str, str]:
        quote = connection.ops.quote_name
        return quote(self._table), quote("cache_key"), quote("value"), quote("expires")

    def _expiry(self, timeout: float | None) -> datetime:
        """When an entry written now with ``timeout`` (as the backend counts it) expires."""
        if timeout is None:
            return datetime.max.replace(microsecond=0)
        zone = UTC if settings.USE_TZ else None
        return datetime.fromtimestamp(timeout, tz=zone).replace(microsecond=0)

    @staticmethod
    def _now(connection: BaseDatabaseWrapper) -> Any:
        return connection.ops.adapt_datetimefield_value(timezone.now().replace(microsecond=0))

    def _base_set(
        self, mode: str, key: str, value: Any, timeout: float | None = DEFAULT_TIMEOUT
    ) -> bool:
        """``set``, ``add`` or ``touch`` an entry, in one statement; whether it was done."""
        backend_timeout = self.get_backend_timeout(timeout)
        connection = connections[router.db_for_write(self.cache_model_class)]
        self._sweep_now_and_then(connection)
        table, key_column, value_column, expires = self._names(connection)
        expiry = connection.ops.adapt_datetimefield_value(self._expiry(backend_timeout))
        now = self._now(connection)
        with connection.cursor() as cursor:
            if mode == "touch":
                cursor.execute(
                    f"UPDATE {table} SET {expires} = %s "
                    f"WHERE {key_column} = %s AND {expires} >= %s",
                    [expiry, key, now],
                )
                return bool(cursor.rowcount)
            statement = (
                f"INSERT INTO {table} ({key_column}, {value_column}, {expires}) "
                f"VALUES (%s, %s, %s) ON CONFLICT ({key_column}) DO UPDATE SET "
                f"{value_column} = excluded.{value_column}, {expires} = excluded.{expires}"
            )
            params = [key, encode(value), expiry]
            if mode == "add":  # over an expired entry only
                statement += f" WHERE {table}.{expires} < %s"
                params.append(now)
            cursor.execute(statement, params)
            return mode == "set" or bool(cursor.rowcount)

    def get_many(self, keys: Iterable[str], version: int | None = None) -> dict[str, Any]:
        """The live entries of ``keys`` (expired ones are deleted on the way)."""
        wanted = {self.make_and_validate_key(key, version=version): key for key in keys}
        if not wanted:
            return {}
        connection = connections[router.db_for_read(self.cache_model_class)]
        table, key_column, value_column, expires = self._names(connection)
        places = ", ".join(["%s"] * len(wanted))
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {key_column}, {value_column}, {expires} >= %s FROM {table} "
                f"WHERE {key_column} IN ({places})",
                [self._now(connection), *wanted],
            )
            rows = cursor.fetchall()
        found, expired = {}, []
        for key, stored, is_live in rows:
            if is_live:
                found[wanted[key]] = decode(connection.ops.process_clob(stored))
            else:
                expired.append(key)
        self._base_delete_many(expired)  # type: ignore[attr-defined]  # Django's, not in its stubs
        return found

    def incr(self, key: str, delta: int = 1, version: int | None = None) -> Any:
        """Add ``delta`` to a live entry's whole number, in one statement (ValueError when
        there is no such entry)."""
        key = self.make_and_validate_key(key, version=version)
        connection = connections[router.db_for_write(self.cache_model_class)]
        table, key_column, value_column, expires = self._names(connection)
        start = len(NUMBER) + 1
        for _ in range(2):
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {table} SET {value_column} = %s || "
                    f"CAST(CAST(SUBSTR({value_column}, {start}) AS BIGINT) + %s AS VARCHAR(32)) "
                    f"WHERE {key_column} = %s AND {expires} >= %s AND {value_column} LIKE %s "
                    f"RETURNING {value_column}",
                    [NUMBER, int(delta), key, self._now(connection), f"{NUMBER}%"],
                )
                row = cursor.fetchone()
                if row is not None:
                    return decode(row[0])
                # Not stored as digits: missing, expired, or a number pickled (as Django's
                # cache writes it), which is rewritten as digits, its expiry kept.
                cursor.execute(
                    f"SELECT {value_column} FROM {table} "
                    f"WHERE {key_column} = %s AND {expires} >= %s",
                    [key, self._now(connection)],
                )
                found = cursor.fetchone()
                if found is None:
                    break
                stored = connection.ops.process_clob(found[0])
                value = decode(stored)
                if type(value) is not int:
                    break
                cursor.execute(
                    f"UPDATE {table} SET {value_column} = %s "
                    f"WHERE {key_column} = %s AND {value_column} = %s",
                    [encode(value), key, stored],
                )
        raise ValueError(f"Key '{key}' not found.")

    def _sweep_now_and_then(self, connection: BaseDatabaseWrapper) -> None:
        """Delete expired entries, and cull the table past ``MAX_ENTRIES`` as Django does,
        when this process has not for :data:`SWEEP_SECONDS`."""
        global _next_sweep
        with _sweep_lock:
            if time.monotonic() < _next_sweep:
                return
            _next_sweep = time.monotonic() + SWEEP_SECONDS
        table, _, _, expires = self._names(connection)
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE {expires} < %s", [self._now(connection)])
            cursor.execute(f"SELECT COUNT(*) FROM {table}")
            count = cursor.fetchone()[0]
            if count > self._max_entries:
                self._cull(  # type: ignore[attr-defined]  # Django's, not in its stubs
                    connection.alias, cursor, timezone.now(), count
                )


def sweep_soon() -> None:
    """Let the next write sweep (for tests)."""
    global _next_sweep
    with _sweep_lock:
        _next_sweep = 0.0
