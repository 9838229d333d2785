"""The one writer of listens: every source hands its resolved batch to `record`.

Guarantees, whatever the source or how often it retries:
- a play is stored once: the unique (user, listened_at, track) constraint, plus a cross-source
  window (the same track within `general.duplicate_window_seconds` is the same play arriving by two
  paths, e.g. Last.fm and a ListenBrainz client);
- the listen carries its artist, album and local date/hour/weekday in the user's time zone;
- rollups change in the same transaction as the listens, so statistics never drift;
- new artists and albums are handed to enrichment after commit.
"""

from __future__ import annotations

import logging
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction

from collection.catalogue import Catalogue, ListenRecord, ResolvedListen, resolve
from musictracker import config, metrics
from musictracker.db import Meanwhile, adapters
from musictracker.models import Profile
from musictracker.timezones import zone
from tracking import rollups, sessions
from tracking.models import Listen

log = logging.getLogger(__name__)

INSERT_PART = 2000  # listens per part of a batch (see `_insert`): one statement of VALUES_ROWS


@dataclass
class RecordResult:
    added: int = 0
    duplicates: int = 0
    invalid: int = 0
    added_listens: list[ResolvedListen] = field(default_factory=list, repr=False)

    def __iadd__(self, other: RecordResult) -> RecordResult:
        self.added += other.added
        self.duplicates += other.duplicates
        self.invalid += other.invalid
        return self


def _window() -> timedelta:
    return timedelta(seconds=int(config.get("general.duplicate_window_seconds", 10) or 0))


def _profile_for_update(user: AbstractBaseUser) -> Profile:
    """Lock the user's profile row: on PostgreSQL this serializes one user's writers, so the
    duplicate check below sees every committed listen (SQLite's IMMEDIATE transactions already
    serialize all writers)."""
    Profile.objects.get_or_create(user=user)
    return Profile.objects.select_for_update().get(user=user)


def _time_clusters(times: list, gap: timedelta) -> list[tuple]:
    clusters = []
    start = prev = times[0]
    for t in times[1:]:
        if t - prev > gap:
            clusters.append((start, prev))
            start = t
        prev = t
    clusters.append((start, prev))
    return clusters


def _existing(user_id: int, rows: Sequence[ResolvedListen], window: timedelta) -> dict:
    """Stored listen times per track near the batch's times.

    One plain range query per cluster of times: SQLite answers a single range on the unique
    (user, listened_at, track) index, but for ranges joined by OR it falls back to walking every
    listen of the user through another index, which made each batch slower as history grew.
    Clusters closer than two days are read as one range (a few extra rows cost less than a
    query)."""
    from musictracker.db import adapt_datetime

    times = sorted(r.listened_at for r in rows)
    clusters = _time_clusters(times, timedelta(days=2))
    found: dict[int, list] = {}
    track_ids = {r.track_id for r in rows}
    sql = (
        f"SELECT track_id, listened_at FROM {connection.ops.quote_name(Listen._meta.db_table)}"
        " WHERE user_id = %s AND listened_at >= %s AND listened_at <= %s"
    )
    convert = _datetime_from_db()
    with connection.cursor() as cursor:
        for start, end in clusters:
            cursor.execute(
                sql, [user_id, adapt_datetime(start - window), adapt_datetime(end + window)]
            )
            for track_id, at in cursor.fetchall():
                if track_id in track_ids:
                    found.setdefault(track_id, []).append(convert(at))
    for v in found.values():
        v.sort()
    return found


def _datetime_from_db():
    """Raw cursors give SQLite's naive UTC text; PostgreSQL gives aware datetimes."""
    from datetime import UTC, datetime

    if connection.vendor == "sqlite":
        return lambda value: (
            datetime.fromisoformat(value) if isinstance(value, str) else value
        ).replace(tzinfo=UTC)
    return lambda value: value


def _near(sorted_times: list, at, window: timedelta) -> bool:
    i = bisect_left(sorted_times, at - window)
    return i < len(sorted_times) and sorted_times[i] <= at + window


def record(user: AbstractBaseUser, rows: Iterable[ResolvedListen | None]) -> RecordResult:
    """Store a batch of resolved listens for `user`; returns what was added and skipped."""
    result = RecordResult()
    batch = []
    for r in rows:
        if r is None:
            result.invalid += 1
        else:
            batch.append(r)
    if not batch:
        return result
    window = _window()
    with transaction.atomic():
        profile = _profile_for_update(user)
        tz = zone(profile.time_zone)
        stored = _existing(user.pk, batch, window)
        new: list[ResolvedListen] = []
        for r in sorted(batch, key=lambda x: x.listened_at):
            times = stored.setdefault(r.track_id, [])
            if _near(times, r.listened_at, window):
                result.duplicates += 1
                continue
            times.insert(bisect_left(times, r.listened_at), r.listened_at)
            new.append(r)
        if new:
            local_times = [r.listened_at.astimezone(tz) for r in new]  # once: 1 µs each
            sessions.update(
                user.pk,
                [r.listened_at for r in new],
                lambda: _insert(user.pk, new, local_times),
                added=[
                    (r.listened_at, r.track_id, r.artist_id, r.duration, local.date())
                    for r, local in zip(new, local_times, strict=True)
                ],
            )
            by_source: dict[str, int] = {}
            for r in new:
                by_source[r.source] = by_source.get(r.source, 0) + 1
            for source, n in by_source.items():
                metrics.inc("listens_stored_total", n, source=source)
        result.added = len(new)
        result.added_listens = new
    return result


def _insert(user_id: int, rows: list[ResolvedListen], local_times: list) -> Meanwhile:
    """Store the listens (`local_times`: each one's time in the user's zone) and add them to
    the rollups; returns the writes, maybe still running, for `sessions.update` to queue its own
    behind them and wait for them all.

    A large batch goes in parts queued on the connection's helper thread (`Meanwhile`): while
    SQLite stores one part, this thread converts the next one, then the rollup sums, whose
    upserts queue behind the listens, then (in `sessions`) the sessions."""
    table = connection.ops.quote_name(Listen._meta.db_table)
    sql = (
        f"INSERT INTO {table} (user_id, track_id, artist_id, album_id, listened_at, local_date,"
        " local_hour, local_weekday, source, source_id)"
    )
    adapt_dt, adapt_d = adapters()
    delta = rollups.Delta(adapted=True)  # the sums get each time as stored
    writes = Meanwhile(len(rows))
    try:
        for i in range(0, len(rows), INSERT_PART):
            params, sums = [], []
            part = zip(rows[i : i + INSERT_PART], local_times[i : i + INSERT_PART], strict=True)
            for r, local in part:
                at = adapt_dt(r.listened_at)
                local_date = local.date()
                params.append(
                    (
                        user_id,
                        r.track_id,
                        r.artist_id,
                        r.album_id,
                        at,
                        adapt_d(local_date),
                        local.hour,
                        local.weekday(),
                        r.source,
                        (r.source_id or "")[:100],
                    )
                )
                sums.append(
                    (local_date, local.hour, at, r.track_id, r.album_id, r.artist_ids, r.duration)
                )
            writes.insert_many(sql, 10, params, "ON CONFLICT DO NOTHING", values=True)
            delta.add_many(sums)
        rollups.apply(user_id, delta, writes=writes)
    except BaseException:
        writes.wait()
        raise
    return writes


def ingest(
    user: AbstractBaseUser,
    records: Sequence[ListenRecord],
    *,
    catalogue: Catalogue | None = None,
    enrich: bool = True,
    prepared: Sequence[ResolvedListen | None] | None = None,
) -> RecordResult:
    """Resolve and record one batch in one transaction: all of it lands, or none of it.
    `prepared`: what `collection.catalogue.prepare` matched of `records` beforehand."""
    catalogue = catalogue if catalogue is not None else Catalogue()
    with transaction.atomic():
        resolved = resolve(records, catalogue, prepared)
        if catalogue.learnt_durations:
            rollups.learn_durations(catalogue.learnt_durations)
            catalogue.learnt_durations.clear()
        result = record(user, resolved)
        artists, albums = catalogue.drain_new()
        if enrich and (artists or albums):
            transaction.on_commit(lambda: queue_enrichment(artists, albums))
    return result


def queue_enrichment(artist_ids: list[int], album_ids: list[int]) -> None:
    """Ask the enrichment app (above us: reached by a dotted task name, not an import)."""
    from django.conf import settings
    from django_q.tasks import async_task

    task = getattr(settings, "ENRICH_NEW_TASK", "enrichment.tasks.enrich_new")
    if not task:
        return
    try:
        async_task(task, artist_ids, album_ids, group="enrichment")
    except Exception:  # enrichment must never break the recording of listens
        log.exception(
            "could not queue enrichment for %d artists, %d albums", len(artist_ids), len(album_ids)
        )


def delete_listens(user: AbstractBaseUser, listen_ids: Sequence[int]) -> int:
    """Delete some of a user's listens and take them out of the rollups."""
    from collection.models import TrackArtist

    with transaction.atomic():
        profile = _profile_for_update(user)
        tz = zone(profile.time_zone)
        rows = list(
            Listen.objects.filter(user=user, pk__in=list(listen_ids)).values(
                "pk", "track_id", "album_id", "listened_at", "track__duration"
            )
        )
        if not rows:
            return 0
        credits: dict[int, list[int]] = {}
        for track_id, artist_id in (
            TrackArtist.objects.filter(track_id__in={r["track_id"] for r in rows})
            .order_by("position")
            .values_list("track_id", "artist_id")
        ):
            credits.setdefault(track_id, []).append(artist_id)
        delta = rollups.Delta()
        for r in rows:
            local = r["listened_at"].astimezone(tz)
            delta.add(
                local_date=local.date(),
                local_hour=local.hour,
                listened_at=r["listened_at"],
                track_id=r["track_id"],
                album_id=r["album_id"],
                artist_ids=credits.get(r["track_id"], []),
                duration=r["track__duration"],
            )
        sessions.update(
            user.pk,
            [r["listened_at"] for r in rows],
            lambda: Listen.objects.filter(pk__in=[r["pk"] for r in rows]).delete(),
            removed={(r["listened_at"], r["track_id"]) for r in rows},
        )
        rollups.apply(user.pk, delta, sign=-1)
        rollups.prune(user.pk)
        rollups.refresh_spans(user.pk, delta)
    return len(rows)


def rebuild_rollups(user: AbstractBaseUser, *, chunk: int = 20_000) -> int:
    """Recompute every rollup of a user from their listens (after a merge or a zone change)."""
    from collection.models import Track, TrackArtist

    with transaction.atomic():
        _profile_for_update(user)
        for model in rollups.ALL_MODELS:
            model.objects.filter(user=user).delete()
        durations = dict(
            Track.objects.filter(listens__user=user).distinct().values_list("pk", "duration")
        )
        credits: dict[int, list[int]] = {}
        for track_id, artist_id in (
            TrackArtist.objects.filter(track_id__in=list(durations))
            .order_by("position")
            .values_list("track_id", "artist_id")
        ):
            credits.setdefault(track_id, []).append(artist_id)
        delta = rollups.Delta()
        n = 0
        qs = Listen.objects.filter(user=user).values_list(
            "track_id", "album_id", "artist_id", "listened_at", "local_date", "local_hour"
        )
        for track_id, album_id, artist_id, at, local_date, hour in qs.iterator(chunk_size=chunk):
            delta.add(
                local_date=local_date,
                local_hour=hour,
                listened_at=at,
                track_id=track_id,
                album_id=album_id,
                artist_ids=credits.get(track_id) or [artist_id],
                duration=durations.get(track_id),
            )
            n += 1
        rollups.apply(user.pk, delta)
        sessions.rebuild(user.pk)
    return n


def recompute_local_times(user: AbstractBaseUser, *, chunk: int = 5000) -> int:
    """Re-derive local date/hour/weekday after a time zone change, then rebuild rollups."""
    profile = Profile.objects.get(user=user)
    tz = zone(profile.time_zone)
    last_id, n = 0, 0
    while True:
        with transaction.atomic():
            rows = list(
                Listen.objects.filter(user=user, pk__gt=last_id)
                .order_by("pk")
                .values_list("pk", "listened_at")[:chunk]
            )
            if not rows:
                break
            objs = []
            for pk, at in rows:
                local = at.astimezone(tz)
                objs.append(
                    Listen(
                        pk=pk,
                        local_date=local.date(),
                        local_hour=local.hour,
                        local_weekday=local.weekday(),
                    )
                )
            Listen.objects.bulk_update(objs, ["local_date", "local_hour", "local_weekday"])
            last_id = rows[-1][0]
            n += len(rows)
    rebuild_rollups(user)
    return n
