"""Reads behind the Journal and the Timeline, shared by the pages and (later) the API.

Rules kept here (see PERFORMANCE-NOTES): listens are paged with a keyset cursor on
(listened_at, id), never OFFSET nor COUNT(*); the page's ids come from a narrow index first and
the rows are loaded by id afterwards (the "sort all 1M rows" trap); local days become UTC ranges
through `musictracker.timezones`; totals come from the rollup tables whenever they can.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.db.models import Count, Exists, OuterRef, Q, Sum

from collection.models import AlbumMetadata, TrackArtist
from musictracker.timezones import day_bounds, range_bounds
from tracking.links import links_out
from tracking.models import (
    DayHourStat,
    DayStat,
    Listen,
    LovedTrack,
    MonthAlbumStat,
    MonthArtistStat,
    NowPlaying,
    UserAlbumStat,
    UserArtistStat,
)

PAGE_SIZE = 50


class BadParameter(ValueError):
    """A malformed cursor or filter value; its message is shown to the user."""


# --- Cursor -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    """Where a page ends: the (listened_at, id) of its last row. Encoded as
    "<microseconds since the epoch>.<id>" so it survives a URL untouched."""

    at: datetime
    id: int

    def encode(self) -> str:
        delta = self.at.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
        micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
        return f"{micros}.{self.id}"

    @classmethod
    def decode(cls, raw: str) -> Cursor:
        try:
            micros, _, pk = raw.strip().partition(".")
            at = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(micros))
            cursor = cls(at=at, id=int(pk))
        except (ValueError, OverflowError):
            raise BadParameter("malformed cursor")
        if cursor.id < 0:
            raise BadParameter("malformed cursor")
        return cursor


# --- Filters ------------------------------------------------------------------------------


@dataclass(frozen=True)
class JournalFilters:
    start: date | None = None  # local days, inclusive
    end: date | None = None
    artist_id: int | None = None
    album_id: int | None = None
    loved: bool = False

    @property
    def is_dates_only(self) -> bool:
        return self.artist_id is None and self.album_id is None and not self.loved

    @property
    def is_empty(self) -> bool:
        return self.is_dates_only and self.start is None and self.end is None

    def utc_bounds(self, tz: ZoneInfo) -> tuple[datetime | None, datetime | None]:
        lo = day_bounds(self.start, tz)[0] if self.start else None
        hi = day_bounds(self.end, tz)[1] if self.end else None
        return lo, hi


def _base(user, filters: JournalFilters, tz: ZoneInfo):
    qs = Listen.objects.filter(user=user)
    lo, hi = filters.utc_bounds(tz)
    if lo is not None:
        qs = qs.filter(listened_at__gte=lo)
    if hi is not None:
        qs = qs.filter(listened_at__lt=hi)
    if filters.album_id is not None:
        qs = qs.filter(album_id=filters.album_id)
    if filters.loved:
        # EXISTS rather than IN: the planner keeps walking the time index (no sort of every
        # loved listen) and probes the small loved-tracks index for each row.
        qs = qs.filter(Exists(LovedTrack.objects.filter(user=user, track_id=OuterRef("track_id"))))
    return qs


def artist_named(name: str):
    """The artist a typed name means (case, spacing and aliases forgiven), or None."""
    from collection.models import Artist, ArtistAlias
    from collection.normalize import name_key

    key = name_key(name)
    artist = Artist.objects.filter(name_key=key).first()
    if artist is None:
        alias = ArtistAlias.objects.filter(name_key=key).select_related("artist").first()
        artist = alias.artist if alias else None
    return artist


def featured_track_ids(artist_id: int) -> list[int]:
    """Tracks on which the artist is credited but is not the main (first) artist."""
    return list(
        TrackArtist.objects.filter(artist_id=artist_id)
        .exclude(track__artist_id=artist_id)
        .values_list("track_id", flat=True)
    )


def _id_querysets(user, filters: JournalFilters, tz: ZoneInfo) -> list:
    """One queryset per index-friendly slice of the filtered listens. An artist filter splits
    into "main artist" (the (user, artist, listened_at) index) and "featured on" (by track);
    their pages are merged in Python, which keeps each plan a simple index walk."""
    base = _base(user, filters, tz)
    if filters.artist_id is None:
        return [base]
    parts = [base.filter(artist_id=filters.artist_id)]
    featured = featured_track_ids(filters.artist_id)
    if featured:
        parts.append(base.filter(track_id__in=featured).exclude(artist_id=filters.artist_id))
    return parts


def _page_ids(qs, cursor: Cursor | None, limit: int):
    if cursor is not None:
        # `listened_at <= at` is the range the index walks; the exclusion breaks ties by id.
        qs = qs.filter(listened_at__lte=cursor.at).exclude(listened_at=cursor.at, id__gte=cursor.id)
    return qs.order_by("-listened_at", "-id").values_list("listened_at", "id")[:limit]


def journal_ids(
    user, *, tz: ZoneInfo, filters: JournalFilters, cursor: Cursor | None, size: int = PAGE_SIZE
) -> tuple[list[tuple[datetime, int]], bool]:
    """The (listened_at, id) of one page, newest first, and whether an older page exists."""
    parts = [list(_page_ids(qs, cursor, size + 1)) for qs in _id_querysets(user, filters, tz)]
    merged = parts[0] if len(parts) == 1 else list(heapq.merge(*parts, reverse=True))
    return merged[:size], len(merged) > size


@dataclass
class Credit:
    artist_id: int
    name: str
    role: str


@dataclass
class JournalRow:
    listen: Listen
    credits: list[Credit]
    is_loved: bool
    note: str = ""
    local_hm: str = ""  # the local time, "21:05"

    @property
    def track(self):
        return self.listen.track

    @property
    def album(self):
        return self.listen.album

    @property
    def links(self) -> list[tuple[str, str]]:
        main = self.credits[0].name if self.credits else self.listen.artist.name
        return links_out(artist=main, track=self.listen.track.title, album=self.listen.album)


@dataclass
class DayGroup:
    day: date
    total: int  # listens that day, all of them (DayStat)
    rows: list[JournalRow] = field(default_factory=list)
    continued: bool = False  # the day began on the previous page


@dataclass
class JournalPage:
    days: list[DayGroup]
    next_cursor: str | None
    count: int


# What a row shows (and its opened part links to): loading only these keeps 50 rows cheap.
ROW_FIELDS = (
    "user_id",
    "track_id",
    "artist_id",
    "album_id",
    "listened_at",
    "local_date",
    "source",
    "track__title",
    "track__artist_credit",
    "artist__name",
    "album__title",
    "album__cover_url",
    "album__spotify_url",
    "album__discogs_release_id",
    "album__discogs_master_id",
)


def load_rows(user, ids: list[int]) -> list[JournalRow]:
    """Rows for the given listen ids, in that order, in a constant number of queries."""
    if not ids:
        return []
    by_id = {
        listen.pk: listen
        # By primary key only (adding user_id lets SQLite walk the user's index instead);
        # ownership is checked on the loaded rows.
        for listen in Listen.objects.filter(pk__in=ids)
        .select_related("track", "artist", "album")
        .only(*ROW_FIELDS)
        if listen.user_id == user.pk
    }
    listens = [by_id[i] for i in ids if i in by_id]
    track_ids = {listen.track_id for listen in listens}
    album_ids = {listen.album_id for listen in listens if listen.album_id}
    credits: dict[int, list[Credit]] = {}
    for track_id, artist_id, name, role in (
        TrackArtist.objects.filter(track_id__in=track_ids)
        .order_by("track_id", "position")
        .values_list("track_id", "artist_id", "artist__name", "role")
    ):
        credits.setdefault(track_id, []).append(Credit(artist_id, name, role))
    loved = set(
        LovedTrack.objects.filter(user=user, track_id__in=track_ids).values_list(
            "track_id", flat=True
        )
    )
    notes = dict(
        AlbumMetadata.objects.filter(album_id__in=album_ids)
        .exclude(summary="")
        .values_list("album_id", "summary")
    )
    rows = []
    for listen in listens:
        cr = credits.get(listen.track_id) or [
            Credit(listen.artist_id, listen.artist.name, TrackArtist.Role.MAIN)
        ]
        rows.append(
            JournalRow(
                listen=listen,
                credits=cr,
                is_loved=listen.track_id in loved,
                note=notes.get(listen.album_id, ""),
            )
        )
    return rows


def journal_page(
    user,
    *,
    tz: ZoneInfo,
    filters: JournalFilters,
    cursor: Cursor | None = None,
    size: int = PAGE_SIZE,
) -> JournalPage:
    """One page of the Journal: listens newest first, grouped by local day with day totals."""
    keys, has_more = journal_ids(user, tz=tz, filters=filters, cursor=cursor, size=size)
    rows = load_rows(user, [pk for _, pk in keys])
    days: list[DayGroup] = []
    for row in rows:
        row.local_hm = row.listen.listened_at.astimezone(tz).strftime("%H:%M")
        day = row.listen.local_date
        if not days or days[-1].day != day:
            days.append(DayGroup(day=day, total=0))
        days[-1].rows.append(row)
    if days:
        totals = dict(
            DayStat.objects.filter(user=user, day__in=[d.day for d in days]).values_list(
                "day", "listens"
            )
        )
        for d in days:
            d.total = totals.get(d.day, len(d.rows))
        if cursor is not None and cursor.at.astimezone(tz).date() == days[0].day:
            days[0].continued = True
    next_cursor = None
    if has_more and keys:
        at, pk = keys[-1]
        next_cursor = Cursor(at=at, id=pk).encode()
    return JournalPage(days=days, next_cursor=next_cursor, count=len(rows))


# --- Summary of the filtered range --------------------------------------------------------


@dataclass
class Summary:
    listens: int
    artists: int
    albums: int
    seconds: int
    unknown_duration: int  # listens whose duration is unknown (not in `seconds`)
    peak_hour: int | None
    from_rollups: bool

    @property
    def hours(self) -> float:
        return self.seconds / 3600


def _month_start(d: date) -> date:
    return d.replace(day=1)


def _next_month(d: date) -> date:
    return (d.replace(day=28) + timedelta(days=4)).replace(day=1)


def _distinct_from_rollups(user, start: date, end: date, tz: ZoneInfo) -> tuple[int, int]:
    """Distinct artists (featured included) and albums heard on local days start..end: whole
    months from the month rollups, the partial months at both ends from their listens."""
    first_full = start if start.day == 1 else _next_month(start)
    day_after = end + timedelta(days=1)
    after_last_full = day_after if day_after.day == 1 else _month_start(end)
    artists: set[int] = set()
    albums: set[int] = set()
    edges: list[tuple[date, date]] = []
    if first_full < after_last_full:
        months = {"user": user, "month__gte": first_full, "month__lt": after_last_full}
        artists.update(
            MonthArtistStat.objects.filter(**months).values_list("artist_id", flat=True).distinct()
        )
        albums.update(
            MonthAlbumStat.objects.filter(**months).values_list("album_id", flat=True).distinct()
        )
        if start < first_full:
            edges.append((start, first_full - timedelta(days=1)))
        if after_last_full <= end:
            edges.append((after_last_full, end))
    else:
        edges.append((start, end))
    for lo_day, hi_day in edges:
        lo, hi = range_bounds(lo_day, hi_day, tz)
        listens = Listen.objects.filter(user=user, listened_at__gte=lo, listened_at__lt=hi)
        artists.update(
            TrackArtist.objects.filter(track_id__in=listens.values("track_id"))
            .values_list("artist_id", flat=True)
            .distinct()
        )
        albums.update(listens.exclude(album_id=None).values_list("album_id", flat=True).distinct())
    return len(artists), len(albums)


def summary_is_cheap(filters: JournalFilters) -> bool:
    """True when the summary comes from rollups alone: no filter, or whole months. Other
    summaries read listens (an artist's, or the partial months at a range's ends)."""
    if not filters.is_dates_only:
        return False
    starts_a_month = filters.start is None or filters.start.day == 1
    ends_a_month = filters.end is None or (filters.end + timedelta(days=1)).day == 1
    return starts_a_month and ends_a_month


def _peak(rows) -> int | None:
    best = max(rows, key=lambda r: r[1], default=None)
    return best[0] if best and best[1] else None


def journal_summary(user, *, tz: ZoneInfo, filters: JournalFilters) -> Summary:
    """Listens, distinct artists and albums, listening time and peak hour of the filtered
    listens: from the rollups when the filter is only a date range, else bounded queries."""
    if filters.is_dates_only:
        days = DayStat.objects.filter(user=user)
        hours = DayHourStat.objects.filter(user=user)
        if filters.start:
            days, hours = days.filter(day__gte=filters.start), hours.filter(day__gte=filters.start)
        if filters.end:
            days, hours = days.filter(day__lte=filters.end), hours.filter(day__lte=filters.end)
        totals = days.aggregate(n=Sum("listens"), s=Sum("seconds"), u=Sum("unknown_duration"))
        # The hour profile of a long range reads tens of thousands of rollup rows: keep it
        # while the range's totals (which any added or deleted listen changes) stay the same.
        key = f"peak:{user.pk}:{filters.start}:{filters.end}:{totals['n']}:{totals['s']}:{totals['u']}"
        peak = cache.get(key, "miss")
        if peak == "miss":
            peak = _peak(hours.values_list("hour").annotate(n=Sum("listens")).order_by())
            cache.set(key, peak, 3600)
        if filters.start is None and filters.end is None:
            artists = UserArtistStat.objects.filter(user=user, listens__gt=0).count()
            albums = UserAlbumStat.objects.filter(user=user, listens__gt=0).count()
        elif not totals["n"]:
            artists = albums = 0
        else:
            start = filters.start or _first_day(user)
            end = filters.end or _last_day(user)
            artists, albums = _distinct_from_rollups(user, start, end, tz)
        return Summary(
            listens=totals["n"] or 0,
            artists=artists,
            albums=albums,
            seconds=totals["s"] or 0,
            unknown_duration=totals["u"] or 0,
            peak_hour=peak,
            from_rollups=True,
        )
    listens = _base(user, replace(filters, loved=False), tz)
    if filters.loved:  # here IN is right: every loved listen is read, by the track index
        listens = listens.filter(
            track_id__in=LovedTrack.objects.filter(user=user).values("track_id")
        )
    if filters.artist_id is not None:
        featured = featured_track_ids(filters.artist_id)
        listens = listens.filter(Q(artist_id=filters.artist_id) | Q(track_id__in=featured))
    agg = listens.aggregate(
        n=Count("pk"),
        albums=Count("album_id", distinct=True),
        s=Sum("track__duration"),
        u=Count("pk", filter=Q(track__duration__isnull=True)),
    )
    artists = (
        TrackArtist.objects.filter(track_id__in=listens.values("track_id"))
        .values("artist_id")
        .distinct()
        .count()
        if agg["n"]
        else 0
    )
    peak = _peak(listens.values_list("local_hour").annotate(n=Count("pk")).order_by())
    return Summary(
        listens=agg["n"],
        artists=artists,
        albums=agg["albums"],
        seconds=agg["s"] or 0,
        unknown_duration=agg["u"],
        peak_hour=peak,
        from_rollups=False,
    )


def _first_day(user) -> date:
    row = DayStat.objects.filter(user=user).order_by("day").values_list("day", flat=True).first()
    return row or date.today()


def _last_day(user) -> date:
    row = DayStat.objects.filter(user=user).order_by("-day").values_list("day", flat=True).first()
    return row or date.today()


# --- Now playing --------------------------------------------------------------------------


def now_playing(user, *, now: datetime) -> NowPlaying | None:
    return NowPlaying.objects.filter(user=user, expires_at__gt=now).select_related("track").first()


# --- Timeline -----------------------------------------------------------------------------


@dataclass
class HourSlot:
    start: datetime  # local, aware
    label: str  # "02:00", or "02:00 CEST" / "02:00 CET" on a day that repeats an hour
    listens: list[Listen] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.listens)


@dataclass
class DayTimeline:
    day: date
    slots: list[HourSlot]
    total: int
    max_count: int

    @property
    def hours(self) -> int:
        return len(self.slots)


def day_timeline(user, *, tz: ZoneInfo, day: date) -> DayTimeline:
    """The listens of one local day in hour slots: 24, or 23/25 on daylight-saving days."""
    start, end = day_bounds(day, tz)
    n_hours = round((end - start).total_seconds() / 3600)
    slots = []
    for i in range(n_hours):
        local = (start + timedelta(hours=i)).astimezone(tz)
        slots.append(HourSlot(start=local, label=local.strftime("%H:00")))
    labels = [s.label for s in slots]
    for s in slots:
        if labels.count(s.label) > 1:  # the repeated hour when clocks go back
            s.label = f"{s.label} {s.start.tzname()}"
    listens = (
        Listen.objects.filter(user=user, listened_at__gte=start, listened_at__lt=end)
        .select_related("track", "album")
        .only(
            "listened_at",
            "album_id",
            "track__title",
            "track__artist_credit",
            "album__title",
            "album__cover_url",
        )
        .order_by("listened_at", "id")
    )
    for listen in listens:
        listen.local_hm = listen.listened_at.astimezone(tz).strftime("%H:%M")
        i = int((listen.listened_at - start).total_seconds() // 3600)
        slots[min(max(i, 0), n_hours - 1)].listens.append(listen)
    counts = [s.count for s in slots]
    return DayTimeline(day=day, slots=slots, total=sum(counts), max_count=max(counts, default=0))


@dataclass
class HeatDay:
    day: date
    total: int
    hours: list[int]  # 24 local hours


@dataclass
class WeekHeat:
    days: list[HeatDay]
    max_count: int


def week_heat(user, *, first: date, days: int = 7) -> WeekHeat:
    """Listens per local hour for `days` days from `first`, from DayHourStat (one query)."""
    last = first + timedelta(days=days - 1)
    grid = {first + timedelta(days=i): [0] * 24 for i in range(days)}
    for day, hour, n in DayHourStat.objects.filter(
        user=user, day__gte=first, day__lte=last
    ).values_list("day", "hour", "listens"):
        if day in grid and 0 <= hour < 24:
            grid[day][hour] += n
    heat = [HeatDay(day=d, total=sum(h), hours=h) for d, h in grid.items()]
    top = max((n for d in heat for n in d.hours), default=0)
    return WeekHeat(days=heat, max_count=top)
