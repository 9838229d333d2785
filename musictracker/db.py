"""Small database helpers shared by the bulk writers."""

from __future__ import annotations

import gc
from contextlib import contextmanager
from datetime import UTC, date, datetime

from django.db import connection


def _sqlite_datetime(value: datetime) -> str:
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(" ")[:-6]  # naive UTC text, as Django stores it: drop "+00:00"


def _sqlite_date(value: date) -> str:
    return value.isoformat()


def _same(value):
    return value


def adapters():
    """(datetime adapter, date adapter) for the current backend, chosen once per batch: the hot
    loops then skip the connection proxy lookup that `adapt_datetime` pays on every call."""
    if connection.vendor == "sqlite":
        return _sqlite_datetime, _sqlite_date
    return _same, _same


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


def optimize() -> None:
    """Refresh the planner's statistics after a large write (PERFORMANCE-NOTES rule 4)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA optimize")
        else:
            cursor.execute("ANALYZE")


WAL_PAGES_BULK = 20_000  # about 80 MB of WAL between checkpoints during a long import


GC_THRESHOLDS_BULK = (50_000, 20, 100)


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
      import's own data is under 220 MB). Same speed within the noise of a run."""
    thresholds = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLDS_BULK)
    try:
        with _sqlite_bulk_settings():
            yield
    finally:
        gc.set_threshold(*thresholds)


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
        if wal:
            cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_PAGES_BULK}")
        if mmap:
            cursor.execute("PRAGMA mmap_size=0")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if mmap:
                cursor.execute(f"PRAGMA mmap_size={mmap}")
            if wal:
                cursor.execute(f"PRAGMA wal_autocheckpoint={before}")
                cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
