"""Prometheus metrics shared by every process.

Counters and summaries are kept in the MetricSample table, because the web server runs several
workers and the background worker is another process: memory of one process would show a part.
Writes are buffered per process and flushed at most every few seconds (one short upsert per
metric), so counting costs nothing on hot paths; gauges (backlogs, ages) are computed at scrape.

    from musictracker import metrics
    metrics.inc("listens_stored_total", 250, source="lastfm")
    metrics.observe("task_duration_seconds", 1.7, task="poll_lastfm")
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import threading
import time
from collections import defaultdict

from django.db import connection, transaction

log = logging.getLogger(__name__)

FLUSH_SECONDS = 5.0
_lock = threading.Lock()
_pending: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0])
_last_flush = time.monotonic()

HELP = {
    "listens_stored_total": ("counter", "Listens stored, by source."),
    "polls_total": ("counter", "Last.fm polls, by outcome."),
    "external_requests_total": ("counter", "Calls to outside services, by service and status."),
    "ai_cache_total": ("counter", "AI notes requested, by result (hit or miss)."),
    "task_duration_seconds": ("summary", "Background task durations, by task."),
    "request_duration_seconds": ("summary", "HTTP request latency, by view."),
}


def _labels(labels: dict[str, object]) -> str:
    def esc(v: object) -> str:
        return str(v).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")

    return ",".join(f'{k}="{esc(v)}"' for k, v in sorted(labels.items()))


def inc(name: str, amount: float = 1, **labels) -> None:
    _add(name, _labels(labels), amount, 0)


def observe(name: str, value: float, **labels) -> None:
    _add(name, _labels(labels), value, 1)


def _add(name: str, labels: str, value: float, count: int) -> None:
    with _lock:
        cell = _pending[(name, labels)]
        cell[0] += value
        cell[1] += count
    if time.monotonic() - _last_flush >= FLUSH_SECONDS and not connection.in_atomic_block:
        flush()


def flush(*, quiet: bool = False) -> None:
    """Write this process's buffered samples (outside any caller transaction)."""
    global _last_flush
    with _lock:
        items = [(k, v) for k, v in _pending.items() if v[0] or v[1]]
        _pending.clear()
        _last_flush = time.monotonic()
    if not items:
        return
    # In key order: two processes upserting the same rows in different orders deadlocked on
    # PostgreSQL (each waiting for a row the other had just inserted).
    items.sort()
    from musictracker.models import MetricSample

    table = connection.ops.quote_name(MetricSample._meta.db_table)
    sql = (
        f"INSERT INTO {table} (name, labels, value, count, updated_at) VALUES (%s, %s, %s, %s, %s)"
        f" ON CONFLICT (name, labels) DO UPDATE SET value = {table}.value + excluded.value,"
        f" count = {table}.count + excluded.count, updated_at = excluded.updated_at"
    )
    from django.utils import timezone

    from musictracker.db import adapt_datetime

    now = adapt_datetime(timezone.now())
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, [(n, lab, v[0], v[1], now) for (n, lab), v in items])
    except Exception:  # metrics must never break the work they count
        if not quiet:
            log.warning("could not write %d metric samples", len(items), exc_info=True)


@atexit.register
def _flush_at_exit() -> None:
    with contextlib.suppress(Exception):  # the interpreter is going away; nothing more to do
        flush(quiet=True)


def render() -> str:
    """The Prometheus text exposition of every stored sample plus live gauges."""
    from musictracker.models import MetricSample

    flush()
    lines: list[str] = []
    by_name: dict[str, list[MetricSample]] = defaultdict(list)
    for sample in MetricSample.objects.order_by("name", "labels"):
        by_name[sample.name].append(sample)
    for name, samples in by_name.items():
        kind, text = HELP.get(name, ("counter", name.replace("_", " ")))
        full = f"musictracker_{name}"
        lines += [f"# HELP {full} {text}", f"# TYPE {full} {kind}"]
        for s in samples:
            lab = f"{{{s.labels}}}" if s.labels else ""
            if kind == "summary":
                lines.append(f"{full}_sum{lab} {s.value:g}")
                lines.append(f"{full}_count{lab} {s.count}")
            else:
                lines.append(f"{full}{lab} {s.value:g}")
    for name, text, value_labels in gauges():
        full = f"musictracker_{name}"
        lines += [f"# HELP {full} {text}", f"# TYPE {full} gauge"]
        for labels, value in value_labels:
            lab = f"{{{_labels(labels)}}}" if labels else ""
            lines.append(f"{full}{lab} {value:g}")
    return "\n".join(lines) + "\n"


def gauges() -> list[tuple[str, str, list[tuple[dict, float]]]]:
    """Values computed at scrape time from the database (cheap, indexed queries only)."""
    from django.db.models import Q

    from collection.models import Album, AlbumMetadata, Artist
    from musictracker.health import check

    health = check()
    out = [
        (
            "up",
            "1 when the app answers; overall health as a label.",
            [({"status": health["status"]}, 1)],
        ),
        (
            "worker_heartbeat_age_seconds",
            "Seconds since the background worker last reported.",
            [
                (
                    {},
                    health["worker"]["age_seconds"]
                    if health["worker"]["age_seconds"] is not None
                    else -1,
                )
            ],
        ),
        (
            "enrichment_backlog",
            "Artists and albums still waiting for an image or notes.",
            [
                ({"kind": "artist_image"}, Artist.objects.filter(image_url="").count()),
                ({"kind": "album_cover"}, Album.objects.filter(cover_url="").count()),
                (
                    {"kind": "album_notes"},
                    Album.objects.exclude(
                        Q(metadata__isnull=False) & ~Q(metadata__description="")
                    ).count()
                    if AlbumMetadata
                    else 0,
                ),
            ],
        ),
    ]
    return out
