"""Playlist generators: named algorithms over the user's own history, each with typed parameters.

`REGISTRY` maps a key to a `Generator`; `clean_parameters` validates a dict of raw values (from a
form or from a stored playlist) and `run` answers an `Outcome`: track ids, or why there are none.

Speed (p95 ≤ 500 ms on 1,000,000 listens, see bench/scenarios/playlists.py): period and all-time
rankings read the rollups (MonthTrackStat, UserTrackStat, UserArtistStat); everything that needs
listens in order (sessions, transitions, album runs, hour of day) reads only a bounded window of
recent months (`months` parameter, at most `MAX_WINDOW_MONTHS`) through the (user, listened_at)
index, fetching bare integers.

Randomness comes only from `random.Random(seed)` over candidates in a fixed order, so one seed
always gives one playlist for one history.
"""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Count, Q
from django.utils import formats, timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from collection.models import CollectionItem, Track
from collection.normalize import search_key
from musictracker.db import adapt_datetime
from musictracker.models import Profile
from musictracker.timezones import zone
from tracking.models import (
    Listen,
    LovedTrack,
    MonthTrackStat,
    UserAlbumStat,
    UserArtistStat,
    UserTrackStat,
)

SESSION_GAP = 30 * 60  # seconds without a listen that end a listening session
MAX_WINDOW_MONTHS = 36
# Session-based generators read at most this many recent listens, whatever the window in months,
# so a heavy listener's playlist still comes in well under half a second.
TIMELINE_CAP = 20_000
MAX_LENGTH = 200
WEEKDAYS = [
    _("Monday"),
    _("Tuesday"),
    _("Wednesday"),
    _("Thursday"),
    _("Friday"),
    _("Saturday"),
    _("Sunday"),
]


class ParameterError(ValueError):
    """A parameter is missing or out of range; the message is shown to the user."""

    def __init__(self, name: str, message: str):
        super().__init__(message)
        self.name = name
        self.message = message


@dataclass(frozen=True)
class Param:
    name: str
    label: Any
    kind: str  # "int", "choice", "text", "prompt"
    default: Any = None
    min: int | None = None
    max: int | None = None
    choices: tuple = ()
    help: Any = ""
    required: bool = False


@dataclass
class Outcome:
    track_ids: list[int]
    why_empty: str = ""
    note: str = ""  # shown with a non-empty result (e.g. "the album did not fit")


@dataclass
class Context:
    user: Any
    now: datetime
    tz: Any
    rng: random.Random


@dataclass(frozen=True)
class Generator:
    key: str
    label: Any
    description: Any
    params: tuple[Param, ...]
    fn: Callable[[Context, dict], Outcome] = field(repr=False)
    is_ai: bool = False

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)


LENGTH = Param("length", _("Number of tracks"), "int", 25, 1, MAX_LENGTH)
SEED = Param(
    "seed",
    _("Seed"),
    "int",
    None,
    0,
    2**31 - 1,
    help=_("The same seed gives the same playlist. Leave empty for a new one."),
)


def _months(default: int, label=None) -> Param:
    return Param(
        "months",
        label or _("Months of history to read"),
        "int",
        default,
        1,
        MAX_WINDOW_MONTHS,
        help=_(
            "Only the most recent months are read (and at most the last 20,000 listens),"
            " so that the playlist comes quickly."
        ),
    )


PERIODS = (
    ("30d", _("Last 30 days")),
    ("90d", _("Last 90 days")),
    ("12m", _("Last 12 months")),
    ("this-year", _("This year")),
    ("last-year", _("Last year")),
    ("all", _("All time")),
)


# --- helpers -----------------------------------------------------------------------------


def _month_start(d: date, back: int = 0) -> date:
    index = d.year * 12 + d.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def _month_label(d: datetime | date) -> str:
    return formats.date_format(d, "F Y")


def _ago(ctx: Context, months: int) -> datetime:
    """The UTC instant `months` months before now (same local day of the month, clamped)."""
    local = ctx.now.astimezone(ctx.tz)
    first = _month_start(local.date(), months)
    day = min(local.day, 28)
    return datetime(first.year, first.month, day, tzinfo=ctx.tz).astimezone(UTC)


def _weighted_sample(candidates: list[tuple[int, float]], k: int, rng: random.Random) -> list[int]:
    """k distinct ids drawn without replacement, each with probability ∝ its weight
    (Efraimidis–Spirakis keys). `candidates` must come in a fixed order for repeatability."""
    if len(candidates) <= k:
        return [c for c, _w in sorted(candidates, key=lambda c: (-c[1], c[0]))]
    keyed = [(rng.random() ** (1.0 / max(w, 1e-9)), c) for c, w in candidates]
    keyed.sort(reverse=True)
    return [c for _key, c in keyed[:k]]


def _cap_per_artist(track_ids: list[int], limit: int, cap: int) -> list[int]:
    """Keep the order, at most `cap` tracks of one artist, stop at `limit`."""
    artists = dict(Track.objects.filter(pk__in=track_ids).values_list("pk", "artist_id"))
    seen: Counter = Counter()
    out = []
    for tid in track_ids:
        a = artists.get(tid)
        if seen[a] >= cap:
            continue
        seen[a] += 1
        out.append(tid)
        if len(out) >= limit:
            break
    return out


def _track_map(user) -> dict[int, tuple[int, int | None]]:
    """track → (main artist, album) for every track the user played (one row per track)."""
    return {
        tid: (artist, album)
        for tid, artist, album in UserTrackStat.objects.filter(user=user).values_list(
            "track_id", "track__artist_id", "track__album_id"
        )
    }


def _timeline(ctx: Context, since: datetime) -> list[tuple[int, int, int, int | None]]:
    """(epoch seconds, track, artist, album) of the user's listens since `since`, oldest first,
    at most the `TIMELINE_CAP` most recent. Only (listened_at, track) is read, from the covering
    unique index; artist and album come from the catalogue, and no datetime is built per row."""
    table = connection.ops.quote_name(Listen._meta.db_table)
    if connection.vendor == "sqlite":
        epoch = "CAST(strftime('%%s', listened_at) AS INTEGER)"
    else:
        epoch = "CAST(EXTRACT(EPOCH FROM listened_at) AS BIGINT)"
    sql = (
        f"SELECT {epoch}, track_id FROM {table} WHERE user_id = %s AND listened_at >= %s"
        " ORDER BY listened_at DESC, track_id DESC LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [ctx.user.pk, adapt_datetime(since), TIMELINE_CAP])
        rows = cursor.fetchall()
    if not rows:
        return []
    tracks = _track_map(ctx.user)
    rows.reverse()
    return [(at, tid, *tracks.get(tid, (0, None))) for at, tid in rows]


def _sessions(rows: list[tuple]) -> list[list[tuple]]:
    out: list[list[tuple]] = []
    last = None
    for row in rows:
        if last is None or row[0] - last > SESSION_GAP:
            out.append([])
        out[-1].append(row)
        last = row[0]
    return out


def _window_text(months: int) -> str:
    return gettext("in the last %(n)s months") % {"n": months}


# --- the generators ------------------------------------------------------------------------


def _period_bounds(ctx: Context, period: str) -> tuple[datetime | None, date | None, str]:
    """For a period: (UTC start for listens or None, first month for month rollups or None,
    phrase). A period of whole months reads MonthTrackStat; a number of days reads listens."""
    local = ctx.now.astimezone(ctx.tz).date()
    if period == "30d":
        return ctx.now - timedelta(days=30), None, gettext("in the last 30 days")
    if period == "90d":
        return ctx.now - timedelta(days=90), None, gettext("in the last 90 days")
    if period == "12m":
        return None, _month_start(local, 11), gettext("in the last 12 months")
    if period == "this-year":
        return None, date(local.year, 1, 1), gettext("in %(year)s") % {"year": local.year}
    if period == "last-year":
        return None, date(local.year - 1, 1, 1), gettext("in %(year)s") % {"year": local.year - 1}
    if period.isdigit():
        return None, date(int(period), 1, 1), gettext("in %(year)s") % {"year": period}
    return None, None, gettext("yet")


def top_tracks(ctx: Context, p: dict) -> Outcome:
    period, length = p["period"], p["length"]
    since, first_month, phrase = _period_bounds(ctx, period)
    if since is not None:
        # Counted in Python over the covering (user, listened_at, track) range: a GROUP BY here
        # makes SQLite walk all the user's listens through the (user, track) index instead.
        counts = Counter(
            Listen.objects.filter(user=ctx.user, listened_at__gte=since).values_list(
                "track_id", flat=True
            )
        )
        rows = [t for t, _n in sorted(counts.items(), key=lambda x: (-x[1], x[0]))[:length]]
    elif first_month is not None:
        qs = MonthTrackStat.objects.filter(user=ctx.user, month__gte=first_month)
        if period == "last-year" or period.isdigit():
            qs = qs.filter(month__lt=date(first_month.year + 1, 1, 1))
        # Summed in Python: SQLite's planner would GROUP BY through the track index and sort
        # the whole table (0.8 s); the month range itself is a few tens of thousands of rows.
        totals: Counter = Counter()
        for tid, n in qs.values_list("track_id", "listens").iterator(chunk_size=5000):
            totals[tid] += n
        rows = [t for t, _n in sorted(totals.items(), key=lambda x: (-x[1], x[0]))[:length]]
    else:
        rows = (
            UserTrackStat.objects.filter(user=ctx.user)
            .order_by("-listens", "track_id")
            .values_list("track_id", flat=True)[:length]
        )
    ids = list(rows)
    return Outcome(ids, "" if ids else gettext("No listens %(period)s.") % {"period": phrase})


def rediscover(ctx: Context, p: dict) -> Outcome:
    cutoff = _ago(ctx, p["months"])
    length, min_plays = p["length"], p["min_plays"]
    stats = list(
        UserTrackStat.objects.filter(
            user=ctx.user, last_listened_at__lt=cutoff, listens__gte=min_plays
        )
        .order_by("-listens", "track_id")
        .values_list("track_id", "listens")[: length * 4]
    )
    weights = {tid: float(n) for tid, n in stats}
    loved = list(
        LovedTrack.objects.filter(user=ctx.user, loved_at__lt=cutoff).values_list(
            "track_id", flat=True
        )
    )
    if loved:
        recent = set(
            UserTrackStat.objects.filter(
                user=ctx.user, track_id__in=loved, last_listened_at__gte=cutoff
            ).values_list("track_id", flat=True)
        )
        bonus = max(weights.values(), default=0.0) + 1  # a love outweighs any play count
        for tid in loved:
            if tid not in recent:
                weights[tid] = weights.get(tid, 0.0) + bonus
    if not weights:
        when = _month_label(cutoff.astimezone(ctx.tz))
        if not UserTrackStat.objects.filter(user=ctx.user, first_listened_at__lt=cutoff).exists():
            return Outcome([], gettext("No listens before %(when)s.") % {"when": when})
        return Outcome(
            [],
            gettext(
                "Every track you played at least %(n)s times or loved before %(when)s has been"
                " played again since."
            )
            % {"n": min_plays, "when": when},
        )
    ids = _weighted_sample(sorted(weights.items()), length, ctx.rng)
    return Outcome(ids)


def _slots(ctx: Context, weekday: int, hour: int, months: int) -> list[tuple[datetime, datetime]]:
    """UTC ranges from an hour before to an hour after `hour` on each `weekday` of the window."""
    first = _ago(ctx, months).astimezone(ctx.tz).date()
    day = ctx.now.astimezone(ctx.tz).date()
    day -= timedelta(days=(day.weekday() - weekday) % 7)
    out = []
    while day >= first:
        midnight = datetime(day.year, day.month, day.day)
        start = (midnight + timedelta(hours=hour - 1)).replace(tzinfo=ctx.tz)
        end = (midnight + timedelta(hours=hour + 2)).replace(tzinfo=ctx.tz)
        out.append((start.astimezone(UTC), end.astimezone(UTC)))
        day -= timedelta(days=7)
    return out


def time_of_day(ctx: Context, p: dict) -> Outcome:
    hour, weekday, months, length = p["hour"], p["weekday"], p["months"], p["length"]
    # One short range per matching day over the covering (user, listened_at, track) index:
    # filtering local_hour/local_weekday instead would visit every listen of the window.
    ranges = Q()
    for start, end in _slots(ctx, weekday, hour, months):
        ranges |= Q(user=ctx.user, listened_at__gte=start, listened_at__lt=end)
    counts = Counter(Listen.objects.filter(ranges).values_list("track_id", flat=True))
    if not counts:
        return Outcome(
            [],
            gettext("No listens on %(day)ss between %(start)s:00 and %(end)s:00 %(window)s.")
            % {
                "day": WEEKDAYS[weekday],
                "start": (hour - 1) % 24,
                "end": (hour + 2) % 24,
                "window": _window_text(months),
            },
        )
    top = sorted(counts.items(), key=lambda x: (-x[1], x[0]))[: length * 3]
    return Outcome(_weighted_sample(sorted(top), length, ctx.rng))


def _find_artist(user, name: str):
    key = search_key(name.strip())
    for lookup in ("artist__search_key", "artist__search_key__startswith"):
        stat = (
            UserArtistStat.objects.filter(user=user, **{lookup: key})
            .select_related("artist")
            .order_by("-listens", "artist_id")
            .first()
        )
        if stat:
            return stat.artist
    return None


def _find_album(user, title: str, artist=None):
    key = search_key(title.strip())
    for lookup in ("album__search_key", "album__search_key__startswith"):
        qs = UserAlbumStat.objects.filter(user=user, **{lookup: key})
        if artist is not None:
            qs = qs.filter(album__credits__artist=artist)
        stat = qs.select_related("album").order_by("-listens", "album_id").first()
        if stat:
            return stat.album
    return None


def _seed_subject(ctx: Context, p: dict) -> tuple[str, int, str] | Outcome:
    """("artist"|"album", id, display name) of the seed, or an Outcome saying why not."""
    artist = None
    if p.get("artist"):
        artist = _find_artist(ctx.user, p["artist"])
        if artist is None:
            return Outcome(
                [],
                gettext("You have never played an artist called “%(name)s”.")
                % {"name": p["artist"]},
            )
    if p.get("album"):
        album = _find_album(ctx.user, p["album"], artist)
        if album is None:
            return Outcome(
                [],
                gettext("You have never played an album called “%(name)s”.") % {"name": p["album"]},
            )
        return ("album", album.pk, album.title)
    if artist is None:
        return Outcome([], gettext("Choose an artist or an album."))
    return ("artist", artist.pk, artist.name)


def around(ctx: Context, p: dict) -> Outcome:
    subject = _seed_subject(ctx, p)
    if isinstance(subject, Outcome):
        return subject
    kind, seed_id, name = subject
    col = 2 if kind == "artist" else 3
    shared: Counter = Counter()  # track → sessions shared with the seed
    found = 0
    for session in _sessions(_timeline(ctx, _ago(ctx, p["months"]))):
        if not any(row[col] == seed_id for row in session):
            continue
        found += 1
        for tid in {row[1] for row in session if row[col] != seed_id}:
            shared[tid] += 1
    if not shared:
        if not found:
            why = gettext("You have not played %(name)s %(window)s.")
        else:
            why = gettext("You played %(name)s only on its own %(window)s.")
        return Outcome([], why % {"name": name, "window": _window_text(p["months"])})
    length = p["length"]
    order = _weighted_sample(sorted(shared.items()), length * 3, ctx.rng)
    order.sort(key=lambda t: -shared[t])
    return Outcome(_cap_per_artist(order, length, max(2, length // 5)))


def _library_plays(user, track_ids) -> dict[int, int]:
    return dict(
        UserTrackStat.objects.filter(user=user, track_id__in=track_ids).values_list(
            "track_id", "listens"
        )
    )


def from_collection(ctx: Context, p: dict) -> Outcome:
    owned = set(CollectionItem.objects.filter(user=ctx.user).values_list("album_id", flat=True))
    if not owned:
        return Outcome(
            [], gettext("Your collection is empty: connect Discogs in Settings to bring it in.")
        )
    tracks = list(Track.objects.filter(album_id__in=owned).values_list("pk", flat=True))
    if not tracks:
        return Outcome(
            [], gettext("Your records have no tracklists yet (they come with the sync).")
        )
    plays = _library_plays(ctx.user, tracks)
    candidates = [
        (tid, 1.0 / (1 + plays.get(tid, 0)))
        for tid in sorted(tracks)
        if plays.get(tid, 0) <= p["max_plays"]
    ]
    if not candidates:
        return Outcome(
            [],
            gettext("Every track of your records has been played more than %(n)s times.")
            % {"n": p["max_plays"]},
        )
    return Outcome(_weighted_sample(candidates, p["length"], ctx.rng))


def discovery(ctx: Context, p: dict) -> Outcome:
    artist_plays = dict(
        UserArtistStat.objects.filter(user=ctx.user).values_list("artist_id", "listens")
    )
    rows = list(
        UserTrackStat.objects.filter(user=ctx.user, listens__lte=p["max_plays"])
        .order_by("track_id")
        .values_list("track_id", "listens", "track__artist_id")
    )
    if not rows:
        if not artist_plays:
            return Outcome([], gettext("No listens yet."))
        return Outcome(
            [],
            gettext("Every track you know has been played more than %(n)s times.")
            % {"n": p["max_plays"]},
        )
    candidates = [(tid, artist_plays.get(aid, 1) / max(n, 1)) for tid, n, aid in rows]
    length = p["length"]
    order = _weighted_sample(candidates, length * 3, ctx.rng)
    return Outcome(_cap_per_artist(order, length, max(2, length // 10)))


def artist_flow(ctx: Context, p: dict) -> Outcome:
    months = p["months"]
    transitions: dict[int, Counter] = defaultdict(Counter)
    plays: dict[int, Counter] = defaultdict(Counter)
    for session in _sessions(_timeline(ctx, _ago(ctx, months))):
        prev = None
        for row in session:
            plays[row[2]][row[1]] += 1
            if prev is not None and prev != row[2]:
                transitions[prev][row[2]] += 1
            prev = row[2]
    if not transitions:
        return Outcome(
            [],
            gettext("No change from one artist to another within a session %(window)s.")
            % {"window": _window_text(months)},
        )
    if p.get("artist"):
        artist = _find_artist(ctx.user, p["artist"])
        if artist is None or artist.pk not in plays:
            return Outcome(
                [],
                gettext("You have not played “%(name)s” %(window)s.")
                % {"name": p["artist"], "window": _window_text(months)},
            )
        current = artist.pk
    else:
        busiest = sorted(transitions, key=lambda a: (-sum(transitions[a].values()), a))[:5]
        current = ctx.rng.choice(busiest)
    used: set[int] = set()
    visited: set[int] = set()
    out: list[int] = []
    while current is not None and len(out) < p["length"]:
        visited.add(current)
        fresh = [(t, n) for t, n in plays[current].most_common() if t not in used][:3]
        if fresh:
            track = _weighted_sample(sorted(fresh), 1, ctx.rng)[0]
            used.add(track)
            out.append(track)
        nexts = sorted(transitions[current].items(), key=lambda x: (-x[1], x[0]))
        current = next((a for a, _n in nexts if a not in visited), None)
        if current is None:  # a dead end: the most frequent successor that still has tracks
            current = next(
                (a for a, _n in nexts if any(t not in used for t in plays[a])),
                None,
            )
    return Outcome(out)


def complete_albums(ctx: Context, p: dict) -> Outcome:
    months, length = p["months"], p["length"]
    runs: dict[int, list[int]] = defaultdict(list)  # album → distinct tracks of each run
    for session in _sessions(_timeline(ctx, _ago(ctx, months))):
        album, tracks = None, set()
        for row in [*session, (0, 0, 0, None)]:
            if row[3] != album:
                if album is not None and len(tracks) >= 3:
                    runs[album].append(len(tracks))
                album, tracks = row[3], set()
            tracks.add(row[1])
    if not runs:
        return Outcome(
            [],
            gettext("No album played from start to end %(window)s.")
            % {"window": _window_text(months)},
        )
    sizes = dict(
        Track.objects.filter(album_id__in=list(runs))
        .values("album_id")
        .annotate(n=Count("id"))
        .values_list("album_id", "n")
    )
    plays = {
        album: sum(1 for r in album_runs if r >= max(3, math.ceil(0.6 * sizes.get(album, 0))))
        for album, album_runs in runs.items()
    }
    plays = {a: n for a, n in plays.items() if n}
    if not plays:
        return Outcome(
            [],
            gettext("No album played from start to end %(window)s.")
            % {"window": _window_text(months)},
        )
    order = _weighted_sample(sorted(plays.items()), len(plays), ctx.rng)
    tracklists: dict[int, list[int]] = defaultdict(list)
    for tid, album_id in (
        Track.objects.filter(album_id__in=order)
        .order_by("disc_number", "track_number", "position", "title", "pk")
        .values_list("pk", "album_id")
    ):
        tracklists[album_id].append(tid)
    out: list[int] = []
    skipped = 0
    for album_id in order:
        tracks = tracklists[album_id]
        if len(out) + len(tracks) <= length:
            out.extend(tracks)
        else:
            skipped += 1
    if not out:
        return Outcome(
            [],
            gettext("The albums you play whole are longer than %(n)s tracks.") % {"n": length},
        )
    note = ""
    if skipped:
        note = gettext("%(n)s more albums did not fit in %(length)s tracks.") % {
            "n": skipped,
            "length": length,
        }
    return Outcome(out, note=note)


def best_sessions(ctx: Context, p: dict) -> Outcome:
    months = p["months"]
    sessions = _sessions(_timeline(ctx, _ago(ctx, months)))
    if not sessions:
        return Outcome(
            [], gettext("No listening sessions %(window)s.") % {"window": _window_text(months)}
        )
    sessions.sort(key=lambda s: (-len(s), -(s[-1][0] - s[0][0]), s[0][0]))
    out: list[int] = []
    seen: set[int] = set()
    for session in sessions:
        for row in session:
            if row[1] not in seen:
                seen.add(row[1])
                out.append(row[1])
                if len(out) >= p["length"]:
                    return Outcome(out)
    return Outcome(out)


def ai_prompt(ctx: Context, p: dict) -> Outcome:
    from playlists import ai

    return ai.generate(user=ctx.user, prompt=p["prompt"], length=p["length"], rng=ctx.rng)


def _hour_param() -> Param:
    return Param(
        "hour",
        _("Hour"),
        "int",
        None,
        0,
        23,
        help=_("0–23 in your time zone (an hour either side counts); empty for now."),
    )


def _weekday_param() -> Param:
    return Param(
        "weekday",
        _("Day of the week"),
        "choice",
        None,
        choices=tuple((str(i), day) for i, day in enumerate(WEEKDAYS)),
        help=_("Empty for today."),
    )


REGISTRY: dict[str, Generator] = {
    g.key: g
    for g in [
        Generator(
            "top",
            _("Top tracks"),
            _("Your most played tracks of a period."),
            (Param("period", _("Period"), "choice", "90d", choices=PERIODS), LENGTH, SEED),
            top_tracks,
        ),
        Generator(
            "rediscover",
            _("Rediscover"),
            _("Tracks you played often or loved long ago, and not in recent months."),
            (
                Param(
                    "months",
                    _("Not played in the last N months"),
                    "int",
                    12,
                    1,
                    240,
                ),
                Param("min_plays", _("Played at least"), "int", 3, 1, 10_000),
                LENGTH,
                SEED,
            ),
            rediscover,
        ),
        Generator(
            "time_of_day",
            _("This time of day"),
            _("What you tend to play at this hour on this day of the week."),
            (_hour_param(), _weekday_param(), _months(12), LENGTH, SEED),
            time_of_day,
        ),
        Generator(
            "around",
            _("Around an artist or an album"),
            _("Tracks you play in the same listening sessions as an artist or an album."),
            (
                Param("artist", _("Artist"), "text", ""),
                Param("album", _("Album"), "text", "", help=_("Optional: an album title.")),
                _months(12),
                LENGTH,
                SEED,
            ),
            around,
        ),
        Generator(
            "collection",
            _("From the collection"),
            _("Tracks of the records you own that you rarely play."),
            (Param("max_plays", _("Played at most"), "int", 2, 0, 10_000), LENGTH, SEED),
            from_collection,
        ),
        Generator(
            "discovery",
            _("Discovery mix"),
            _("A weighted random mix: tracks with few plays by artists you play a lot."),
            (Param("max_plays", _("Played at most"), "int", 3, 1, 10_000), LENGTH, SEED),
            discovery,
        ),
        Generator(
            "artist_flow",
            _("Artist flow"),
            _("Follows the changes from one artist to the next that you make most often."),
            (
                Param("artist", _("Start with"), "text", "", help=_("Empty: one of your top.")),
                _months(12),
                LENGTH,
                SEED,
            ),
            artist_flow,
        ),
        Generator(
            "complete_albums",
            _("Complete albums"),
            _("Whole albums, in track order, that you play from start to end."),
            (_months(12), Param("length", _("At most N tracks"), "int", 40, 1, MAX_LENGTH), SEED),
            complete_albums,
        ),
        Generator(
            "best_sessions",
            _("Best sessions"),
            _(
                "The tracks of your longest listening sessions (30 minutes without a listen end one)."
            ),
            (_months(12), LENGTH, SEED),
            best_sessions,
        ),
        Generator(
            "ai",
            _("AI from a prompt"),
            _("Describe a mood or a moment; an AI model picks from your own library."),
            (
                Param("prompt", _("Prompt"), "prompt", "", required=True),
                LENGTH,
                SEED,
            ),
            ai_prompt,
            is_ai=True,
        ),
    ]
}


def get(key: str) -> Generator:
    try:
        return REGISTRY[key]
    except KeyError:
        raise ParameterError("algorithm", gettext("Unknown generator “%(key)s”.") % {"key": key})


def _now_local(user) -> tuple[datetime, Any]:
    tz = zone(Profile.objects.filter(user=user).values_list("time_zone", flat=True).first() or "")
    return timezone.now(), tz


def clean_parameters(key: str, raw: dict, *, user=None) -> dict:
    """Typed, complete parameters for a generator; empty seed, hour or weekday take a value now
    so that the stored playlist can be regenerated identically. Raises ParameterError."""
    gen = get(key)
    out: dict[str, Any] = {}
    for param in gen.params:
        value = raw.get(param.name)
        if isinstance(value, str):
            value = value.strip()
        if value in (None, ""):
            value = param.default
        if param.required and value in (None, ""):
            raise ParameterError(
                param.name, gettext("%(label)s is required.") % {"label": param.label}
            )
        if value is not None and param.kind == "int":
            try:
                value = int(value)
            except (TypeError, ValueError):
                raise ParameterError(
                    param.name,
                    gettext("%(label)s must be a whole number.") % {"label": param.label},
                )
            if (param.min is not None and value < param.min) or (
                param.max is not None and value > param.max
            ):
                raise ParameterError(
                    param.name,
                    gettext("%(label)s must be between %(min)s and %(max)s.")
                    % {"label": param.label, "min": param.min, "max": param.max},
                )
        if value is not None and param.kind == "choice":
            allowed = {str(c[0]) for c in param.choices}
            if param.name == "period" and str(value).isdigit() and 1900 < int(value) < 3000:
                allowed.add(str(value))
            if str(value) not in allowed:
                raise ParameterError(
                    param.name, gettext("Choose a valid %(label)s.") % {"label": param.label}
                )
            value = str(value)
        if param.kind in ("text", "prompt"):
            value = str(value or "")[: 2000 if param.kind == "prompt" else 300]
        out[param.name] = value
    if "seed" in out and out["seed"] is None:
        out["seed"] = random.SystemRandom().randrange(0, 1_000_000)
    if user is not None and ("hour" in out or "weekday" in out):
        now, tz = _now_local(user)
        local = now.astimezone(tz)
        if out.get("hour") is None:
            out["hour"] = local.hour
        if out.get("weekday") is None:
            out["weekday"] = str(local.weekday())
    if key == "around" and not out.get("artist") and not out.get("album"):
        raise ParameterError("artist", gettext("Choose an artist or an album."))
    return out


def run(user, key: str, raw: dict) -> Outcome:
    """Run a generator for `user`: validated parameters in, distinct track ids (or why none) out."""
    params = clean_parameters(key, raw, user=user)
    if "weekday" in params:
        params = {**params, "weekday": int(params["weekday"])}
    now, tz = _now_local(user)
    ctx = Context(user=user, now=now, tz=tz, rng=random.Random(params.get("seed", 0)))
    outcome = get(key).fn(ctx, params)
    seen: set[int] = set()
    distinct = [t for t in outcome.track_ids if not (t in seen or seen.add(t))]
    outcome.track_ids = distinct[: params.get("length", MAX_LENGTH)]
    return outcome


def describe(key: str, params: dict) -> str:
    """A short human summary of a playlist's parameters, for lists and pages."""
    gen = REGISTRY.get(key)
    if gen is None:
        return key
    parts = []
    for param in gen.params:
        value = params.get(param.name)
        if value in (None, "") or param.name in ("seed", "prompt"):
            continue
        if param.choices:
            value = {str(k): v for k, v in param.choices}.get(str(value), value)
        parts.append(f"{param.label}: {value}")
    return " · ".join(str(p) for p in parts)
