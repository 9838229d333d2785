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

from musictracker.db import Meanwhile, adapt_datetime, adapters
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


def _clusters(windows: list[list], gap: timedelta) -> list[list]:
    """Sorted windows less than `gap` apart joined into one range: read together, they cost one
    index seek instead of several (a few rows between them cost less than a query)."""
    clusters: list[list] = []
    for lo, hi in windows:
        if clusters and lo - clusters[-1][1] < gap:
            clusters[-1][1] = hi
        else:
            clusters.append([lo, hi])
    return clusters


def _dt(value) -> datetime:
    """A datetime from a raw cursor: SQLite gives naive UTC text, PostgreSQL aware datetimes."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


SESSIONS_SQL = (
    "SELECT id, started_at, last_listened_at, listens, seconds FROM tracking_listeningsession"
    " WHERE user_id = %s AND started_at >= %s AND started_at <= %s"
)
SESSION_BEFORE_SQL = (
    "SELECT id, started_at, last_listened_at, listens, seconds FROM tracking_listeningsession"
    " WHERE user_id = %s AND started_at < %s ORDER BY started_at DESC LIMIT 1"
)


def _touching(user_id: int, wins: list[list]) -> list[tuple]:
    """The stored sessions overlapping the windows, as (start, last, listens, seconds, id) in
    time order. Sessions never overlap each other, so the ones touching a window are those
    starting inside it plus, at most, the last one starting before it. Windows less than two
    days apart are read together: two index seeks per cluster, whatever the history's size (an
    import of a year brings thousands of windows; ranges joined by OR, or an open-ended
    "started before", walk every session)."""
    from bisect import bisect_left, bisect_right

    clusters = _clusters(wins, timedelta(days=2))
    found: dict[int, tuple] = {}
    with connection.cursor() as cursor:
        for lo, hi in clusters:
            cursor.execute(SESSIONS_SQL, [user_id, adapt_datetime(lo), adapt_datetime(hi)])
            rows = cursor.fetchall()
            cursor.execute(SESSION_BEFORE_SQL, [user_id, adapt_datetime(lo)])
            for pk, start, last, n, seconds in rows + cursor.fetchall():
                found[pk] = (_dt(start), _dt(last), n, seconds, pk)
    stored = sorted(found.values())
    starts = [s[0] for s in stored]
    touched: dict[int, tuple] = {}
    for lo, hi in wins:
        i = bisect_left(starts, lo)
        j = bisect_right(starts, hi)
        if i > 0 and stored[i - 1][1] >= lo:
            i -= 1
        for session in stored[i:j]:
            touched[session[4]] = session
    return sorted(touched.values())


def _windows(user_id: int, times: Iterable[datetime]) -> tuple[list[list], list[int]]:
    """The windows around `times`, widened to the stored sessions they overlap, and the ids of
    those sessions."""
    wins = _merge([[t - GAP, t + GAP] for t in times])
    touched = _touching(user_id, wins)
    grown = [[start, last] for start, last, *_ in touched]
    return _merge(wins + grown), [s[4] for s in touched]


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

    clusters = _clusters(windows, timedelta(hours=6))
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
        _finish(change())
        return
    if added and not removed:
        _insert(user_id, times, change, added)
        return
    windows, stale = _windows(user_id, times)
    before = _rows(user_id, windows)
    _finish(change())
    if added:
        after = sorted(before + added, key=lambda r: (r[0], r[1]))
    elif removed:
        after = [r for r in before if (r[0], r[1]) not in removed]
    else:  # durations learnt: same listens, new lengths
        after = before
    _drop(stale)
    _, old = compute(before)
    sessions, new = compute(after)
    _store(user_id, sessions)
    _count_transitions(user_id, new, old)


def _insert(user_id: int, times: list[datetime], change: Callable[[], object], added) -> None:
    """`update` for new listens only, reading just the listens within 30 minutes of them.

    New listens never split a session, they only join and extend them; and every listen next to
    a new one lies within 30 minutes of it, inside the windows. So the parts of the touched
    sessions outside the windows stay attached to their neighbours, and a stored session can
    take part as a whole (its start, last listen, count and the last listen's duration), not
    listen by listen: a backfill that extends one long session batch after batch reads a
    constant amount, not the whole session each time. Transitions change only between
    neighbours inside a window; pairs across two windows are left out before and after alike."""
    wins = _merge([[t - GAP, t + GAP] for t in times])
    touched = _touching(user_id, wins)
    before = _rows(user_id, wins)
    writes = change()  # its writes may still be running: only Python until `_finish`
    later = writes if isinstance(writes, Meanwhile) else None
    try:
        sessions, old, new = _joined(wins, touched, before, added)
        # Queued behind the listens and rollups: the rows are built while SQLite still writes
        # those, instead of after them with the helper idle (2.7 s of a 500,000-play import).
        _drop([s[4] for s in touched], later)
        _store(user_id, sessions, later)
        _add_transitions(user_id, _difference(new, old), later)
    finally:
        _finish(writes)
    _drop_empty_transitions(user_id, new)


def _finish(change_result: object) -> None:
    """A change may hand back the writes it queued (`tracking.listens._insert`): wait for them."""
    if isinstance(change_result, Meanwhile):
        change_result.wait()


def _joined(wins: list, touched: list, before: list, added: list) -> tuple[list, Counter, Counter]:
    """The sessions after adding `added`, and the transitions before and after, in the windows."""
    from bisect import bisect_right

    after = sorted(before + added, key=lambda r: (r[0], r[1]))
    # The last listen of each stored session: its track and duration when it lies in a window
    # (then a new listen may share its time), else from the stored length.
    at_window: dict[datetime, tuple] = {}
    for at, track, _artist, duration, _day in before:
        at_window[at] = (track, duration or 0)
    items = []
    for start, last, n, seconds, _pk in touched:
        track, duration = at_window.get(last, (0, seconds - int((last - start).total_seconds())))
        items.append((start, (last, track), n, duration))
    items += [(at, (at, track), 1, duration or 0) for at, track, _a, duration, _d in added]
    items.sort(key=lambda x: (x[0], x[1]))
    sessions, cur = [], None
    for start, last, n, duration in items:
        if cur is not None and start - cur[1][0] <= GAP:
            cur[2] += n
            if last > cur[1]:
                cur[1], cur[3] = last, duration
            continue
        if cur is not None:
            sessions.append(_close(cur[0], cur[1][0], cur[2], cur[3]))
        cur = [start, last, n, duration]
    sessions.append(_close(cur[0], cur[1][0], cur[2], cur[3]))

    los = [lo for lo, _hi in wins]

    def by_window(rows: list[tuple]) -> list[list[tuple]]:
        parts: list[list[tuple]] = [[] for _ in wins]
        for row in rows:
            parts[bisect_right(los, row[0]) - 1].append(row)
        return parts

    old, new = Counter(), Counter()
    for part in by_window(before):
        old.update(compute(part)[1])
    for part in by_window(after):
        new.update(compute(part)[1])
    return sessions, old, new


def _drop(session_ids: list[int], writes: Meanwhile | None = None) -> None:
    for i in range(0, len(session_ids), 500):
        part = session_ids[i : i + 500]
        if writes is not None:
            marks = ", ".join(["%s"] * len(part))
            writes.execute(f"DELETE FROM tracking_listeningsession WHERE id IN ({marks})", part)
        else:
            ListeningSession.objects.filter(pk__in=part).delete()


def _difference(new: Counter, old: Counter) -> dict:
    """The transitions' change, `new` minus `old` (`new` keeps the difference, for
    `_drop_empty_transitions`)."""
    new.subtract(old)
    return {k: v for k, v in new.items() if v}


def _count_transitions(user_id: int, new: Counter, old: Counter) -> None:
    _add_transitions(user_id, _difference(new, old))
    _drop_empty_transitions(user_id, new)


def _drop_empty_transitions(user_id: int, change: Counter) -> None:
    months = {k[0] for k, v in change.items() if v < 0}  # only fewer transitions leave zeros
    if months:
        MonthTransitionStat.objects.filter(
            user_id=user_id, month__in=months, listens__lte=0
        ).delete()
        UserTransitionStat.objects.filter(user_id=user_id, listens__lte=0).delete()


STORE_SQL = "INSERT INTO tracking_listeningsession (user_id, started_at, last_listened_at, listens, seconds)"


def _store(user_id: int, sessions: list[tuple], writes: Meanwhile | None = None) -> None:
    """Insert sessions (start, last listen, listens, seconds): raw rows, as model instances cost a
    twentieth of a large import. With `writes`, queued there."""
    if not sessions:
        return
    dt, _ = adapters()
    rows = [(user_id, dt(s), dt(last), n, secs) for s, last, n, secs in sessions]
    if writes is not None:
        writes.insert_many(STORE_SQL, 5, rows)
        return
    with connection.cursor() as cursor:
        cursor.executemany(f"{STORE_SQL} VALUES (%s, %s, %s, %s, %s)", rows)


def _add_transitions(user_id: int, counts: dict, writes: Meanwhile | None = None) -> None:
    from tracking.rollups import _upsert

    _, dd = adapters()  # once: `adapt_date` per row was 0.8 s of a 500,000-play import
    months = {m: dd(m) for m, _a, _b in counts}
    _upsert(
        MonthTransitionStat,
        ["month", "from_artist_id", "to_artist_id"],
        ["listens"],
        False,
        [(user_id, months[m], a, b, n) for (m, a, b), n in counts.items()],
        writes,
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
        writes,
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
