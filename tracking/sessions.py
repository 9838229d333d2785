"""Listening sessions and artist-to-artist transitions, kept current as listens arrive.

A session ends after more than 30 minutes without a listen. Sessions are stored one row each
(`ListeningSession`); transitions (artist A followed by a different artist B within a session)
are counted per local month of the second listen (`MonthTransitionStat`).

A change of listens (insert or delete) only touches the sessions near the changed times: we take
the windows [t - 30 min, t + 30 min] around them, widen them to the stored sessions they overlap,
read the window's listens before and after the change, replace the window's sessions and add the
difference of its transitions. `rebuild` recomputes everything from the listens; tests prove both
roads give the same rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta

from django.db import connection

from tracking.models import Listen, ListeningSession, MonthTransitionStat, UserTransitionStat

GAP = timedelta(minutes=30)
# Listen order inside one instant must be the same everywhere (rebuild, incremental, statistics).
ORDER = ("listened_at", "track_id")
FIELDS = ("listened_at", "track_id", "artist_id", "track__duration", "local_date")


def compute(rows: Iterable[tuple]) -> tuple[list[tuple], Counter]:
    """Sessions (start, last listen, listens, seconds) and transitions {(month, a, b): n} of
    listens given in ORDER as (listened_at, track_id, artist_id, duration, local_date)."""
    sessions: list[tuple] = []
    transitions: Counter = Counter()
    start = prev_at = prev_artist = prev_duration = None
    n = 0
    for at, _track, artist, duration, local_date in rows:
        if prev_at is None or at - prev_at > GAP:
            if prev_at is not None:
                sessions.append(_close(start, prev_at, n, prev_duration))
            start, n = at, 0
        elif artist != prev_artist:
            transitions[(local_date.replace(day=1), prev_artist, artist)] += 1
        n += 1
        prev_at, prev_artist, prev_duration = at, artist, duration
    if prev_at is not None:
        sessions.append(_close(start, prev_at, n, prev_duration))
    return sessions, transitions


def _close(start: datetime, last: datetime, n: int, duration: int | None) -> tuple:
    return (start, last, n, int((last - start).total_seconds()) + (duration or 0))


def _merge(intervals: list[list]) -> list[list]:
    intervals.sort()
    out: list[list] = []
    for lo, hi in intervals:
        if out and lo <= out[-1][1]:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return out


def _dt(value) -> datetime:
    """A datetime from a raw cursor: SQLite gives naive UTC text, PostgreSQL aware datetimes."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


SESSIONS_SQL = (
    "SELECT id, started_at, last_listened_at FROM tracking_listeningsession"
    " WHERE user_id = %s AND started_at >= %s AND started_at <= %s"
)
SESSION_BEFORE_SQL = (
    "SELECT id, started_at, last_listened_at FROM tracking_listeningsession"
    " WHERE user_id = %s AND started_at < %s ORDER BY started_at DESC LIMIT 1"
)


def _windows(user_id: int, times: Iterable[datetime]) -> tuple[list[list], list[int]]:
    """The windows around `times`, widened to the stored sessions they overlap, and the ids of
    those sessions. Sessions never overlap each other, so the ones touching a window are those
    starting inside it plus, at most, the last one starting before it. Windows less than two
    days apart are read together: two index seeks per cluster, whatever the history's size (an
    import of a year brings thousands of windows; ranges joined by OR, or an open-ended
    "started before", walk every session)."""
    from bisect import bisect_left, bisect_right

    from musictracker.db import adapt_datetime

    wins = _merge([[t - GAP, t + GAP] for t in times])
    clusters: list[list] = []
    for lo, hi in wins:
        if clusters and lo - clusters[-1][1] < timedelta(days=2):
            clusters[-1][1] = hi
        else:
            clusters.append([lo, hi])
    found: dict[int, tuple] = {}
    with connection.cursor() as cursor:
        for lo, hi in clusters:
            cursor.execute(SESSIONS_SQL, [user_id, adapt_datetime(lo), adapt_datetime(hi)])
            rows = cursor.fetchall()
            cursor.execute(SESSION_BEFORE_SQL, [user_id, adapt_datetime(lo)])
            for pk, start, last in rows + cursor.fetchall():
                found[pk] = (_dt(start), _dt(last), pk)
    stored = sorted(found.values())
    starts = [s[0] for s in stored]
    grown, touched = [], []
    for lo, hi in wins:
        i = bisect_left(starts, lo)
        j = bisect_right(starts, hi)
        if i > 0 and stored[i - 1][1] >= lo:
            i -= 1
        for start, last, pk in stored[i:j]:
            grown.append([start, last])
            touched.append(pk)
    return _merge(wins + grown), touched


# CROSS JOIN fixes the order on SQLite: with the statistics of a one-user install (every listen
# has the same user_id), its planner scanned every track and probed the listens of each: 30 ms a
# window instead of a fraction of one. PostgreSQL plans it as a plain join.
ROWS_SQL = (
    "SELECT l.listened_at, l.track_id, l.artist_id, t.duration, l.local_date"
    " FROM tracking_listen l CROSS JOIN collection_track t"
    " WHERE t.id = l.track_id AND l.user_id = %s AND l.listened_at >= %s AND l.listened_at <= %s"
)


def _rows(user_id: int, windows: list[list]) -> list[tuple]:
    """The listens inside the windows, in ORDER. Raw rows: the ORM's per-row conversions cost
    more than the whole session computation on large imports. Close windows share one range
    scan; rows between them are dropped so that only the windows' listens take part."""
    from bisect import bisect_right

    from musictracker.db import adapt_datetime

    clusters: list[list] = []
    for lo, hi in windows:
        if clusters and lo - clusters[-1][1] < timedelta(hours=6):
            clusters[-1][1] = hi
        else:
            clusters.append([lo, hi])
    los = [w[0] for w in windows]
    out: list[tuple] = []
    dates: dict = {}
    with connection.cursor() as cursor:
        for lo, hi in clusters:
            cursor.execute(ROWS_SQL, [user_id, adapt_datetime(lo), adapt_datetime(hi)])
            for at, track, artist, duration, local_date in cursor.fetchall():
                at = _dt(at)
                i = bisect_right(los, at) - 1
                if i < 0 or at > windows[i][1]:
                    continue
                d = dates.get(local_date)
                if d is None:
                    d = dates[local_date] = (
                        local_date
                        if isinstance(local_date, date)
                        else date.fromisoformat(local_date)
                    )
                out.append((at, track, artist, duration, d))
    out.sort(key=lambda r: (r[0], r[1]))
    return out


def update(
    user_id: int,
    times: list[datetime],
    change: Callable[[], object],
    *,
    added: list[tuple] | None = None,
    removed: set | None = None,
) -> None:
    """Run `change` (which inserts the `added` rows or deletes the `removed` (listened_at,
    track_id) keys at `times`) and bring the sessions and transitions around those times up to
    date. Call inside the change's transaction."""
    if not times:
        change()
        return
    windows, stale = _windows(user_id, times)
    before = _rows(user_id, windows)
    change()
    if added:
        after = sorted(before + added, key=lambda r: (r[0], r[1]))
    elif removed:
        after = [r for r in before if (r[0], r[1]) not in removed]
    else:  # durations learnt: same listens, new lengths
        after = before
    for i in range(0, len(stale), 500):
        ListeningSession.objects.filter(pk__in=stale[i : i + 500]).delete()
    _, old = compute(before)
    sessions, new = compute(after)
    _store(user_id, sessions)
    new.subtract(old)
    _add_transitions(user_id, {k: v for k, v in new.items() if v})
    months = {k[0] for k, v in new.items() if v < 0}  # only fewer transitions leave zeros
    if months:
        MonthTransitionStat.objects.filter(
            user_id=user_id, month__in=months, listens__lte=0
        ).delete()
        UserTransitionStat.objects.filter(user_id=user_id, listens__lte=0).delete()


def _store(user_id: int, sessions: list[tuple]) -> None:
    ListeningSession.objects.bulk_create(
        [
            ListeningSession(
                user_id=user_id, started_at=s, last_listened_at=last, listens=n, seconds=secs
            )
            for s, last, n, secs in sessions
        ],
        batch_size=2000,
    )


def _add_transitions(user_id: int, counts: dict) -> None:
    from musictracker.db import adapt_date
    from tracking.rollups import _upsert

    _upsert(
        MonthTransitionStat,
        ["month", "from_artist_id", "to_artist_id"],
        ["listens"],
        False,
        [(user_id, adapt_date(m), a, b, n) for (m, a, b), n in counts.items()],
    )
    pairs: Counter = Counter()
    for (_m, a, b), n in counts.items():
        pairs[(a, b)] += n
    _upsert(
        UserTransitionStat,
        ["from_artist_id", "to_artist_id"],
        ["listens"],
        False,
        [(user_id, a, b, n) for (a, b), n in pairs.items() if n],
    )


def rebuild(user_id: int) -> None:
    """Recompute every session and transition of a user from their listens."""
    ListeningSession.objects.filter(user_id=user_id).delete()
    MonthTransitionStat.objects.filter(user_id=user_id).delete()
    UserTransitionStat.objects.filter(user_id=user_id).delete()
    rows = Listen.objects.filter(user_id=user_id).order_by(*ORDER).values_list(*FIELDS)
    sessions, transitions = compute(rows.iterator(chunk_size=20_000))
    _store(user_id, sessions)
    _add_transitions(user_id, transitions)
