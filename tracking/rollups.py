"""Incremental rollups: per-batch aggregates upserted with `n = n + excluded.n`.

One statement per table per batch, portable between SQLite (3.24+) and PostgreSQL: both accept
`INSERT ... ON CONFLICT (...) DO UPDATE SET col = table.col + excluded.col`, and CASE keeps the
earliest/latest timestamps without SQLite's min()/PostgreSQL's LEAST() split.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import connection

from musictracker.db import Meanwhile, adapters, as_stored, insert_many
from tracking.models import (
    DayHourStat,
    DayStat,
    ListeningSession,
    MonthAlbumStat,
    MonthArtistStat,
    MonthTrackStat,
    MonthTransitionStat,
    MonthWeekdayHourStat,
    UserAlbumStat,
    UserArtistStat,
    UserTrackStat,
    UserTransitionStat,
)


@dataclass
class Delta:
    """Aggregates of a set of listens, to add to (sign=1) or remove from (sign=-1) rollups."""

    day: dict = field(default_factory=lambda: defaultdict(lambda: [0, 0, 0]))
    day_hour: dict = field(default_factory=lambda: defaultdict(int))
    month_weekday_hour: dict = field(default_factory=lambda: defaultdict(int))
    month_artist: dict = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    month_album: dict = field(default_factory=lambda: defaultdict(int))
    month_track: dict = field(default_factory=lambda: defaultdict(int))
    user_artist: dict = field(default_factory=dict)
    user_album: dict = field(default_factory=dict)
    user_track: dict = field(default_factory=dict)
    # The first/last listen times are given already as the database stores them (`adapters()`,
    # text on SQLite): `apply` then writes them as they are, and comparing two of them while
    # summing costs a string comparison instead of an aware datetimes' one.
    adapted: bool = False

    def add(
        self,
        *,
        local_date: date,
        local_hour: int,
        listened_at: datetime,
        track_id: int,
        album_id: int | None,
        artist_ids: Iterable[int],
        duration: int | None,
    ) -> None:
        month = local_date.replace(day=1)
        d = self.day[local_date]
        d[0] += 1
        if duration:
            d[1] += duration
        else:
            d[2] += 1
        self.day_hour[(local_date, local_hour)] += 1
        self.month_weekday_hour[(month, local_date.weekday(), local_hour)] += 1
        for artist_id in artist_ids:
            m = self.month_artist[(month, artist_id)]
            m[0] += 1
            m[1] += duration or 0
            _span(self.user_artist, artist_id, listened_at)
        self.month_track[(month, track_id)] += 1
        _span(self.user_track, track_id, listened_at)
        if album_id:
            self.month_album[(month, album_id)] += 1
            _span(self.user_album, album_id, listened_at)

    def add_many(self, rows: Iterable[tuple]) -> None:
        """`add` for many listens given as (local_date, local_hour, listened_at, track_id,
        album_id, artist_ids, duration): the same sums, without a call per listen."""
        day, day_hour, weekday_hour = self.day, self.day_hour, self.month_weekday_hour
        month_artist, month_album, month_track = (
            self.month_artist,
            self.month_album,
            self.month_track,
        )
        user_artist, user_album, user_track = self.user_artist, self.user_album, self.user_track
        months: dict = {}
        for local_date, hour, at, track_id, album_id, artist_ids, duration in rows:
            month = months.get(local_date)
            if month is None:
                month = months[local_date] = (local_date.replace(day=1), local_date.weekday())
            month, weekday = month
            d = day[local_date]
            d[0] += 1
            if duration:
                d[1] += duration
            else:
                d[2] += 1
            day_hour[(local_date, hour)] += 1
            weekday_hour[(month, weekday, hour)] += 1
            for artist_id in artist_ids:
                m = month_artist[(month, artist_id)]
                m[0] += 1
                m[1] += duration or 0
                _span(user_artist, artist_id, at)
            month_track[(month, track_id)] += 1
            _span(user_track, track_id, at)
            if album_id:
                month_album[(month, album_id)] += 1
                _span(user_album, album_id, at)


def _span(target: dict, key: int, at: datetime) -> None:
    cur = target.get(key)
    if cur is None:
        target[key] = [1, at, at]
    else:
        cur[0] += 1
        if at < cur[1]:
            cur[1] = at
        if at > cur[2]:
            cur[2] = at


def _upsert(
    model,
    keys: list[str],
    adds: list[str],
    spans: bool,
    rows: list[tuple],
    writes: Meanwhile | None = None,
) -> None:
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    cols = ["user_id", *keys, *adds] + (["first_listened_at", "last_listened_at"] if spans else [])
    sets = [f"{c} = {table}.{c} + excluded.{c}" for c in adds]
    if spans:
        sets.append(
            f"first_listened_at = CASE WHEN excluded.first_listened_at < {table}.first_listened_at"
            f" THEN excluded.first_listened_at ELSE {table}.first_listened_at END"
        )
        sets.append(
            f"last_listened_at = CASE WHEN excluded.last_listened_at > {table}.last_listened_at"
            f" THEN excluded.last_listened_at ELSE {table}.last_listened_at END"
        )
    sql = f"INSERT INTO {table} ({', '.join(cols)})"
    tail = f"ON CONFLICT ({', '.join(['user_id', *keys])}) DO UPDATE SET {', '.join(sets)}"
    # In key order, each row lands next to the previous one in the unique index (and at the
    # end of it for a new user) instead of on a random page: about a quarter faster.
    rows.sort()
    (writes.insert_many if writes else insert_many)(sql, len(cols), rows, tail)


def apply(user_id: int, delta: Delta, sign: int = 1, writes: Meanwhile | None = None) -> None:
    """Add (sign=1) or subtract (sign=-1) a batch's aggregates. Call inside the batch's
    transaction. After a subtraction, call `prune` and `refresh_spans`. With `writes`, the
    upserts are queued there (the caller waits for them)."""
    dt, dd = adapters()
    span = as_stored if delta.adapted else dt
    s = sign
    _upsert(
        DayStat,
        ["day"],
        ["listens", "seconds", "unknown_duration"],
        False,
        [(user_id, dd(k), s * v[0], s * v[1], s * v[2]) for k, v in delta.day.items()],
        writes,
    )
    _upsert(
        DayHourStat,
        ["day", "hour"],
        ["listens"],
        False,
        [(user_id, dd(d), h, s * n) for (d, h), n in delta.day_hour.items()],
        writes,
    )
    _upsert(
        MonthWeekdayHourStat,
        ["month", "weekday", "hour"],
        ["listens"],
        False,
        [(user_id, dd(m), w, h, s * n) for (m, w, h), n in delta.month_weekday_hour.items()],
        writes,
    )
    _upsert(
        MonthArtistStat,
        ["month", "artist_id"],
        ["listens", "seconds"],
        False,
        [(user_id, dd(m), a, s * v[0], s * v[1]) for (m, a), v in delta.month_artist.items()],
        writes,
    )
    _upsert(
        MonthAlbumStat,
        ["month", "album_id"],
        ["listens"],
        False,
        [(user_id, dd(m), a, s * n) for (m, a), n in delta.month_album.items()],
        writes,
    )
    _upsert(
        MonthTrackStat,
        ["month", "track_id"],
        ["listens"],
        False,
        [(user_id, dd(m), t, s * n) for (m, t), n in delta.month_track.items()],
        writes,
    )
    for model, key, data in (
        (UserArtistStat, "artist_id", delta.user_artist),
        (UserAlbumStat, "album_id", delta.user_album),
        (UserTrackStat, "track_id", delta.user_track),
    ):
        _upsert(
            model,
            [key],
            ["listens"],
            True,
            [(user_id, k, s * v[0], span(v[1]), span(v[2])) for k, v in data.items()],
            writes,
        )


ALL_MODELS = (
    DayStat,
    DayHourStat,
    MonthWeekdayHourStat,
    MonthArtistStat,
    MonthAlbumStat,
    MonthTrackStat,
    UserArtistStat,
    UserAlbumStat,
    UserTrackStat,
    MonthTransitionStat,
    UserTransitionStat,
    ListeningSession,
)


def prune(user_id: int) -> None:
    """Drop rows whose count fell to zero (after listens were deleted)."""
    for model in ALL_MODELS:
        model.objects.filter(user_id=user_id, listens__lte=0).delete()


def refresh_spans(user_id: int, delta: Delta) -> None:
    """Recompute first/last listen of the artists, albums and tracks a deletion touched."""
    from django.db.models import Max, Min

    from tracking.models import Listen

    for model, field_name, keys in (
        (UserArtistStat, "artist_id", delta.user_artist),
        (UserAlbumStat, "album_id", delta.user_album),
        (UserTrackStat, "track_id", delta.user_track),
    ):
        for key in keys:
            if field_name == "artist_id":
                # Featured credits count too: look through the track credits.
                qs = Listen.objects.filter(user_id=user_id, track__credits__artist_id=key)
            else:
                qs = Listen.objects.filter(user_id=user_id, **{field_name: key})
            span = qs.aggregate(first=Min("listened_at"), last=Max("listened_at"))
            if span["first"] is not None:
                model.objects.filter(user_id=user_id, **{field_name: key}).update(
                    first_listened_at=span["first"], last_listened_at=span["last"]
                )


def learn_durations(durations: dict[int, int]) -> None:
    """Tracks whose duration just became known: their stored listens, counted as "unknown
    duration" until now, count their seconds instead (for every user who played them)."""
    from collection.models import TrackArtist
    from tracking.models import Listen

    if not durations:
        return
    credits: dict[int, list[int]] = {}
    for track_id, artist_id in TrackArtist.objects.filter(track_id__in=list(durations)).values_list(
        "track_id", "artist_id"
    ):
        credits.setdefault(track_id, []).append(artist_id)
    deltas: dict[int, Delta] = {}
    rows = Listen.objects.filter(track_id__in=list(durations)).values_list(
        "user_id", "local_date", "track_id", "artist_id"
    )
    times: dict[int, list] = {}
    rows = rows.values_list("user_id", "local_date", "track_id", "artist_id", "listened_at")
    for user_id, local_date, track_id, artist_id, at in rows.iterator(chunk_size=5000):
        times.setdefault(user_id, []).append(at)
        delta = deltas.setdefault(user_id, Delta())
        seconds = durations[track_id]
        day = delta.day[local_date]
        day[1] += seconds
        day[2] -= 1
        for a in credits.get(track_id) or [artist_id]:
            delta.month_artist[(local_date.replace(day=1), a)][1] += seconds
    for user_id, delta in deltas.items():
        apply(user_id, delta)
    # A session's length ends with its last track's duration, now known.
    from tracking import sessions

    for user_id, ts in times.items():
        sessions.update(user_id, ts, lambda: None)
