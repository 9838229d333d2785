"""Small database helpers shared by the bulk writers."""

from __future__ import annotations

import functools
import gc
import os
import sqlite3
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, date, datetime

import orjson
from django.db import connection

MEANWHILE_MIN_ROWS = 1000  # below this, a thread costs more than it saves
# Rows per multi-row VALUES statement (`Meanwhile.insert_many(values=True)`), far below
# SQLite's limit of bound parameters (32,766 by default). Used for the listens only: the driver
# keeps each statement it compiled (5 MB for 2,000 rows of 10 columns), and with statements of
# 500 or 1,000 rows for every rollup table too, a 500,000-play import's peak grew by 40 and
# 22 MB instead of 6, for little more speed.
VALUES_ROWS = 2000
# `->>` arrived in SQLite 3.38 (Python's own build may be older: then rows go one by one).
JSON_EACH = tuple(int(x) for x in sqlite3.sqlite_version.split(".")) >= (3, 38)


def _sqlite_datetime(value: datetime) -> str:
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(" ")[:-6]  # naive UTC text, as Django stores it: drop "+00:00"


def _sqlite_date(value: date) -> str:
    return value.isoformat()


def as_stored(value):
    """A value the backend already takes as it is (PostgreSQL's, or one adapted before)."""
    return value


def adapters():
    """(datetime adapter, date adapter) for the current backend, chosen once per batch: the hot
    loops then skip the connection proxy lookup that `adapt_datetime` pays on every call."""
    if connection.vendor == "sqlite":
        return _sqlite_datetime, _sqlite_date
    return as_stored, as_stored


def adapt_datetime(value: datetime):
    """A timestamp as the backend stores it, several times faster than Django's adapter on the
    hot paths (imports, rollups): SQLite keeps naive UTC text, PostgreSQL takes the object."""
    if connection.vendor == "sqlite":
        return _sqlite_datetime(value)
    return value


def adapt_date(value: date):
    if connection.vendor == "sqlite":
        return value.isoformat()
    return value


def insert_many(sql: str, columns: int, rows: list[tuple], tail: str = "") -> None:
    """`sql` ("INSERT INTO t (a, b, …)") for every row, then `tail` (e.g. an ON CONFLICT clause).

    On SQLite the rows go as one JSON array read by `json_each`: the batch is one statement, so
    SQLite works through it with the GIL released from start to end. With `executemany` the
    GIL was taken back after every row, and each time the import's parser thread held it the
    writer waited for Python's switch interval: the two threads ran one after the other.
    PostgreSQL gets `executemany` (psycopg pipelines it)."""
    if not rows:
        return
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite" and JSON_EACH:
            cursor.execute(_from_json(sql, columns, tail, "%s"), [orjson.dumps(rows).decode()])
        else:
            marks = ", ".join(["%s"] * columns)
            cursor.executemany(f"{sql} VALUES ({marks}) {tail}", rows)


@functools.lru_cache(maxsize=64)
def _values(sql: str, columns: int, rows: int, tail: str) -> str:
    row = "(" + ", ".join(["?"] * columns) + ")"
    return f"{sql} VALUES {', '.join([row] * rows)} {tail}"


def _from_json(sql: str, columns: int, tail: str, mark: str) -> str:
    """`sql` reading its rows from one JSON array parameter (`mark`: the driver's placeholder).
    WHERE true: SQLite needs it to read a following ON CONFLICT as an upsert clause."""
    picks = ", ".join(f"value ->> {i}" for i in range(columns))
    return f"{sql} SELECT {picks} FROM json_each({mark}) WHERE true {tail}"


class Meanwhile:
    """Writes queued on this connection and run in order by one helper thread, while the caller
    goes on with Python work (a batch's next part, its rollup sums, its sessions): SQLite
    releases the GIL during each statement, so both cores work. `wait()` returns once every
    queued write is done and raises the first error, as Django's cursor would have raised it.
    Until then the caller must not use the connection.

    Only for a batch of `MEANWHILE_MIN_ROWS` rows or more on SQLite: otherwise (and on
    PostgreSQL) each write runs at once, in the caller's thread."""

    def __init__(self, rows: int):
        self.queued = connection.vendor == "sqlite" and JSON_EACH and rows >= MEANWHILE_MIN_ROWS
        self._futures: list = []

    def insert_many(
        self, sql: str, columns: int, rows: list[tuple], tail: str = "", values: bool = False
    ) -> None:
        """`values`: whole statements of VALUES_ROWS rows given as parameters (see below)."""
        if not rows:
            return
        if not self.queued:
            insert_many(sql, columns, rows, tail)
            return
        connection.ensure_connection()
        raw = connection.connection  # Django opens SQLite connections for use from any thread
        whole = len(rows) - len(rows) % VALUES_ROWS if values else 0
        if whole:
            # Whole statements of VALUES_ROWS rows as parameters: SQLite stores them with a fifth
            # less work than rows it reads out of JSON (182 against 223 ms of CPU for 10,000
            # listens). Always the same text, so the driver compiles it once and keeps it; the
            # rest goes as JSON, as a statement of its own length would be compiled and kept too.
            statement = _values(sql, columns, VALUES_ROWS, tail)
            for i in range(0, whole, VALUES_ROWS):
                params = [v for row in rows[i : i + VALUES_ROWS] for v in row]
                self._futures.append(_helper().submit(raw.execute, statement, params))
        if whole < len(rows):  # the rest in one JSON array: any count, one compiled statement
            statement = _from_json(sql, columns, tail, "?")
            rest = orjson.dumps(rows[whole:]).decode()
            self._futures.append(_helper().submit(raw.execute, statement, (rest,)))

    def execute(self, sql: str, params: list) -> None:
        """One statement with Django's `%s` placeholders, queued like the inserts."""
        if not self.queued:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
            return
        connection.ensure_connection()
        statement = sql.replace("%s", "?")
        self._futures.append(_helper().submit(connection.connection.execute, statement, params))

    def wait(self) -> None:
        step = getattr(_MEANWHILE_WORK, "step", None)
        if step is not None and self._futures:
            last = self._futures[-1]  # run in order: when it is done, all are
            while not last.done() and step():
                pass
        failed = None
        for future in self._futures:  # every one, even after a failure: none may still run
            try:
                future.result()
            except Exception as exc:  # noqa: BLE001  (the first is raised below)
                failed = failed or exc
        self._futures.clear()
        if failed is not None:
            with connection.wrap_database_errors:
                raise failed


_MEANWHILE_WORK = threading.local()


@contextmanager
def meanwhile_work(step: Callable[[], bool]):
    """Within the block, a `Meanwhile` waiting for its writes calls `step()` until they are
    done or it returns False: a small piece of work (a few milliseconds) that the caller
    would do later anyway, done instead while SQLite writes (e.g. an import matching its
    next rows)."""
    before = getattr(_MEANWHILE_WORK, "step", None)
    _MEANWHILE_WORK.step = step
    try:
        yield
    finally:
        _MEANWHILE_WORK.step = before


_HELPER: ThreadPoolExecutor | None = None
_HELPER_LOCK = threading.Lock()


def _helper() -> ThreadPoolExecutor:
    """One thread for the whole process, reused: a new thread per statement left its own
    malloc arena behind each time, and the importer's resident memory grew by 30 MB."""
    global _HELPER
    with _HELPER_LOCK:
        if _HELPER is None:
            _HELPER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bulk-insert")
        return _HELPER


def _forget_helper() -> None:
    """A forked process (django-q's workers, gunicorn's) has no copy of the parent's thread:
    it starts its own helper instead of queueing on one that will never run."""
    global _HELPER, _HELPER_LOCK
    _HELPER, _HELPER_LOCK = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_helper)


def optimize() -> None:
    """Refresh the planner's statistics after a large write (PERFORMANCE-NOTES rule 4)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA optimize")
        else:
            cursor.execute("ANALYZE")


# 32 MB of page cache instead of 64 during bulk work: the same import speed (35.3 and 36.8 s
# against 35.6 s for 500,000 plays), 31 MB less resident memory (with its parser process, a
# 1 GB import had reached 293 MB of the 300 allowed).
CACHE_KB_BULK = -32_000
WAL_PAGES_BULK = 20_000  # about 80 MB of WAL between checkpoints during a long import


GC_THRESHOLDS_BULK = (50_000, 20, 100)
# Seconds between Python's thread switches during bulk work (the default is 0.005).
SWITCH_INTERVAL_BULK = 0.0005


@contextmanager
def bulk_writes():
    """Around a long series of write transactions (an import, a backfill).

    - Python's cyclic garbage collector runs less often: a long job keeps hundreds of thousands
      of objects alive (the catalogue's maps, a batch's rows), and each full collection walked
      them all, a fifth of a 500,000-listen import. The usual thresholds come back at the end.
    - On SQLite the WAL is checkpointed every ~80 MB instead of every 4 MB, so a page that
      several batches change (an index page, a rollup row) is copied back into the database
      once, not once per batch; it is checkpointed (without waiting for readers) at the end.
    - On SQLite the database is read without memory-mapping it: a long import touches most of
      a large database, and every mapped page it read counted in the process's resident memory
      (400 MB for a 500,000-play import into a million-listen install, 240 MB without; the
      import's own data is under 220 MB). Same speed within the noise of a run.
    - On SQLite the page cache is halved (`CACHE_KB_BULK`), for the same reason.
    - Python hands the GIL over every 0.5 ms instead of every 5 (`SWITCH_INTERVAL_BULK`): the
      helper thread needs it back at the end of each statement it runs, and the reader thread
      to take each parsed chunk, while the importer's thread holds it for its Python work.
      With 5 ms, the importer waited for the helper 5.0 s of a 500,000-play import; with
      0.5 ms, 3.5 s, and the import took 6 % less (two runs each, alternated)."""
    thresholds = gc.get_threshold()
    switch = sys.getswitchinterval()
    gc.set_threshold(*GC_THRESHOLDS_BULK)
    sys.setswitchinterval(SWITCH_INTERVAL_BULK)
    try:
        with _sqlite_bulk_settings():
            yield
    finally:
        gc.set_threshold(*thresholds)
        sys.setswitchinterval(switch)


@contextmanager
def _sqlite_bulk_settings():
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield  # (inside a transaction, as in tests, a checkpoint could not run anyway)
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        wal = cursor.fetchone()[0].lower() == "wal"
        cursor.execute("PRAGMA wal_autocheckpoint")
        before = int(cursor.fetchone()[0])
        cursor.execute("PRAGMA mmap_size")
        row = cursor.fetchone()
        mmap = int(row[0]) if row else 0
        cursor.execute("PRAGMA cache_size")
        cache = int(cursor.fetchone()[0])
        if cache < CACHE_KB_BULK:  # both in KiB (negative); a smaller cache is left as it is
            cursor.execute(f"PRAGMA cache_size={CACHE_KB_BULK}")
        if wal:
            cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_PAGES_BULK}")
        if mmap:
            cursor.execute("PRAGMA mmap_size=0")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size={cache}")
            if mmap:
                cursor.execute(f"PRAGMA mmap_size={mmap}")
            if wal:
                cursor.execute(f"PRAGMA wal_autocheckpoint={before}")
                cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
