"""Statistics over a period of a user's listening, for the Analytics pages and the API.

A period is a range of local days in the user's time zone. Its statistics read whole local months
from the Month* rollups and the days at its edges from the raw listens (a UTC range on the
(user, listened_at) index); when a period covers the whole history the all-time User* rollups
answer directly. Days and hours come from DayStat/DayHourStat, sessions from ListeningSession.
"""

from __future__ import annotations

import calendar
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property

from django.db import connection
from django.db.models import Avg, Count, Max, Min, Sum
from django.utils.translation import gettext as _

from collection.models import Album, Artist, CollectionItem, Track, TrackArtist
from musictracker.db import adapt_date
from musictracker.timezones import UTC, day_bounds, range_bounds
from tracking import sessions as sessions_mod
from tracking.models import (
    DayStat,
    Listen,
    ListeningSession,
    LovedTrack,
    MonthAlbumStat,
    MonthArtistStat,
    MonthTrackStat,
    UserAlbumStat,
    UserArtistStat,
    UserTrackStat,
    UserTransitionStat,
)

KINDS = ("7d", "30d", "12m", "year", "month", "all", "custom")
DEFAULT_KIND = "30d"


class PeriodError(ValueError):
    """A period in the URL that cannot be used; the message says why, for the page."""


def _add_months(d: date, n: int) -> date:
    m = d.year * 12 + d.month - 1 + n
    return date(m // 12, m % 12 + 1, 1)


def _month_end(d: date) -> date:
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


@dataclass(frozen=True)
class Period:
    kind: str
    first: date  # local days, inclusive
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def key(self) -> str:
        """Identifies the period for caches (AI reviews)."""
        if self.kind == "year":
            return f"year:{self.first.year}"
        if self.kind == "month":
            return f"month:{self.first:%Y-%m}"
        if self.kind in ("custom",):
            return f"custom:{self.first}:{self.last}"
        return f"{self.kind}:{self.last}"

    @property
    def query(self) -> dict[str, str]:
        q = {"period": self.kind}
        if self.kind == "year":
            q["year"] = str(self.first.year)
        elif self.kind == "month":
            q["month"] = f"{self.first:%Y-%m}"
        elif self.kind == "custom":
            q["from"], q["to"] = self.first.isoformat(), self.last.isoformat()
        return q

    @property
    def label(self) -> str:
        if self.kind == "7d":
            return _("Last 7 days")
        if self.kind == "30d":
            return _("Last 30 days")
        if self.kind == "12m":
            return _("Last 12 months")
        if self.kind == "year":
            return str(self.first.year)
        if self.kind == "month":
            return f"{self.first:%Y-%m}"
        if self.kind == "all":
            return _("All time")
        return f"{self.first} – {self.last}"

    def previous(self) -> Period | None:
        """The period of the same length just before this one (None for all time)."""
        if self.kind == "all":
            return None
        if self.kind == "year":
            y = self.first.year - 1
            return Period("year", date(y, 1, 1), date(y, 12, 31))
        if self.kind in ("month", "12m"):
            months = (self.last.year - self.first.year) * 12 + self.last.month - self.first.month
            first = _add_months(self.first, -(months + 1))
            return Period("custom", first, self.first - timedelta(days=1))
        return Period("custom", self.first - timedelta(days=self.days), self.first - timedelta(1))


def parse_period(params: Mapping[str, str], *, today: date, first_day: date | None) -> Period:
    """The period named by URL parameters (`period`, `year`, `month`, `from`, `to`)."""
    kind = (params.get("period") or DEFAULT_KIND).strip()
    if kind not in KINDS:
        raise PeriodError(
            _("Unknown period “%(kind)s”: choose one of %(kinds)s.")
            % {"kind": kind, "kinds": ", ".join(KINDS)}
        )
    if kind == "7d":
        return Period(kind, today - timedelta(days=6), today)
    if kind == "30d":
        return Period(kind, today - timedelta(days=29), today)
    if kind == "12m":
        return Period(kind, _add_months(today.replace(day=1), -11), today)
    if kind == "all":
        return Period(kind, min(first_day or today, today), today)
    if kind == "year":
        raw = params.get("year") or str(today.year)
        if not raw.isdigit() or not 1900 <= int(raw) <= 2200:
            raise PeriodError(_("“%(year)s” is not a year (for example 2024).") % {"year": raw})
        y = int(raw)
        return Period(kind, date(y, 1, 1), date(y, 12, 31))
    if kind == "month":
        raw = params.get("month") or f"{today:%Y-%m}"
        try:
            first = datetime.strptime(raw, "%Y-%m").date()
        except ValueError:
            raise PeriodError(
                _("“%(month)s” is not a month (write it as 2024-03).") % {"month": raw}
            ) from None
        return Period(kind, first, _month_end(first))
    dates = []
    for name in ("from", "to"):
        raw = params.get(name) or ""
        try:
            dates.append(date.fromisoformat(raw))
        except ValueError:
            raise PeriodError(
                _("The custom period needs “%(name)s” as a date like 2024-03-31, not “%(raw)s”.")
                % {"name": name, "raw": raw}
            ) from None
    first, last = dates
    if first > last:
        raise PeriodError(_("The custom period starts after it ends."))
    if (last - first).days > 366 * 100:
        raise PeriodError(_("The custom period is longer than a hundred years."))
    return Period(kind, first, last)


def _pct(now: float, before: float) -> float | None:
    if not before:
        return None
    return round((now - before) * 100 / before, 1)


def _sql(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


@dataclass
class History:
    """The first and last local day with listens of a user (None, None when empty)."""

    first: date | None
    last: date | None

    @classmethod
    def of(cls, user) -> History:
        span = DayStat.objects.filter(user=user, listens__gt=0).aggregate(
            a=Min("day"), b=Max("day")
        )
        return cls(span["a"], span["b"])


class Stats:
    """Every statistic of one period; each one computed once and kept for the request."""

    COUNTERS = {
        "artist": (MonthArtistStat, UserArtistStat, "artist_id"),
        "album": (MonthAlbumStat, UserAlbumStat, "album_id"),
        "track": (MonthTrackStat, UserTrackStat, "track_id"),
    }

    def __init__(self, user, period: Period, tz, *, history: History | None = None, today=None):
        self.user = user
        self.period = period
        self.tz = tz
        self.history = history or History.of(user)
        self.today = today or datetime.now(tz).date()
        self.start, self.end = range_bounds(period.first, period.last, tz)
        # Whole local months inside the period, and the edge day ranges outside them.
        first_month = period.first if period.first.day == 1 else _add_months(period.first, 1)
        last_month = period.last.replace(day=1)
        if _month_end(period.last) != period.last:
            last_month = _add_months(last_month, -1)
        self.months = (first_month, last_month) if first_month <= last_month else None
        if self.months:
            edges = [(period.first, first_month - timedelta(days=1))]
            edges.append((_add_months(last_month, 1), period.last))
        else:
            edges = [(period.first, period.last)]
        self.edges = [(a, b) for a, b in edges if a <= b]

    @cached_property
    def is_all_time(self) -> bool:
        h = self.history
        return h.first is None or (self.period.first <= h.first and self.period.last >= h.last)

    def previous(self) -> Stats | None:
        prev = self.period.previous()
        if prev is None:
            return None
        return Stats(self.user, prev, self.tz, history=self.history, today=self.today)

    # ---- raw edge rows -------------------------------------------------------------------
    @cached_property
    def _edge_rows(self) -> list[tuple]:
        rows: list[tuple] = []
        for a, b in self.edges:
            s, e = range_bounds(a, b, self.tz)
            rows.extend(
                Listen.objects.filter(
                    user=self.user, listened_at__gte=s, listened_at__lt=e
                ).values_list("track_id", "album_id", "artist_id")
            )
        return rows

    def counts(self, kind: str) -> Counter:
        """Listens per artist, album or track id in the period (featured artists count)."""
        cache = self.__dict__.setdefault("_counts", {})
        if kind in cache:
            return cache[kind]
        month_model, user_model, key = self.COUNTERS[kind]
        counter: Counter = Counter()
        if self.is_all_time:
            counter.update(
                dict(user_model.objects.filter(user=self.user).values_list(key, "listens"))
            )
        else:
            if self.months:
                table = month_model._meta.db_table
                counter.update(
                    dict(
                        _sql(
                            f"SELECT {key}, SUM(listens) FROM {table} WHERE user_id = %s"
                            f" AND month >= %s AND month <= %s GROUP BY {key}",
                            [self.user.pk, adapt_date(self.months[0]), adapt_date(self.months[1])],
                        )
                    )
                )
            rows = self._edge_rows
            if kind == "track":
                counter.update(r[0] for r in rows)
            elif kind == "album":
                counter.update(r[1] for r in rows if r[1])
            else:
                credits: dict[int, list[int]] = {}
                for t, a in TrackArtist.objects.filter(
                    track_id__in={r[0] for r in rows}
                ).values_list("track_id", "artist_id"):
                    credits.setdefault(t, []).append(a)
                for t, _al, a in rows:
                    counter.update(credits.get(t) or [a])
        counter = Counter({k: v for k, v in counter.items() if v > 0})
        cache[kind] = counter
        return counter

    # ---- totals ----------------------------------------------------------------------------
    @cached_property
    def day_rows(self) -> list[tuple]:
        return list(
            DayStat.objects.filter(
                user=self.user, day__gte=self.period.first, day__lte=self.period.last
            )
            .order_by("day")
            .values_list("day", "listens", "seconds", "unknown_duration")
        )

    @cached_property
    def totals(self) -> dict:
        listens = sum(r[1] for r in self.day_rows)
        seconds = sum(r[2] for r in self.day_rows)
        unknown = sum(r[3] for r in self.day_rows)
        known = listens - unknown
        average = seconds / known if known else 0
        estimate = round(average * unknown)
        return {
            "listens": listens,
            "seconds": seconds,
            "unknown_duration": unknown,
            "estimated_seconds": estimate,
            "total_seconds": seconds + estimate,
            "hours": round((seconds + estimate) / 3600, 1),
            "artists": len(self.counts("artist")),
            "albums": len(self.counts("album")),
            "tracks": len(self.counts("track")),
        }

    def totals_with_change(self) -> dict:
        """Totals, and the change (in %) against the previous period of the same length."""
        now = dict(self.totals)
        prev = self.previous()
        keys = ("listens", "total_seconds", "artists", "albums", "tracks")
        now["previous"] = {k: prev.totals[k] for k in keys} if prev else None
        now["change"] = {k: _pct(now[k], prev.totals[k]) for k in keys} if prev else {}
        return now

    # ---- tops ------------------------------------------------------------------------------
    @staticmethod
    def _ranked(counter: Counter) -> list[tuple[int, int]]:
        return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))

    def top(self, kind: str, limit: int = 10) -> list[dict]:
        """Top items with counts, rank and rank change against the previous period."""
        ranked = self._ranked(self.counts(kind))[:limit]
        prev = self.previous()
        prev_rank = {}
        if prev is not None:
            prev_rank = {k: i + 1 for i, (k, _n) in enumerate(self._ranked(prev.counts(kind)))}
        ids = [k for k, _n in ranked]
        if kind == "artist":
            objs = Artist.objects.in_bulk(ids)
        elif kind == "album":
            objs = Album.objects.in_bulk(ids)
        else:
            objs = Track.objects.select_related("artist", "album").in_bulk(ids)
        out = []
        for i, (k, n) in enumerate(ranked, start=1):
            before = prev_rank.get(k)
            out.append(
                {
                    "rank": i,
                    "obj": objs.get(k),
                    "id": k,
                    "listens": n,
                    "previous_rank": before,
                    "change": None if before is None else before - i,
                    "is_new": prev is not None and before is None,
                }
            )
        return out

    # ---- rhythms ---------------------------------------------------------------------------
    @cached_property
    def _hour_rows(self) -> list[tuple]:
        return _sql(
            "SELECT day, hour, listens FROM tracking_dayhourstat WHERE user_id = %s"
            " AND day >= %s AND day <= %s",
            [self.user.pk, adapt_date(self.period.first), adapt_date(self.period.last)],
        )

    @cached_property
    def clock(self) -> list[int]:
        """Listens per local hour of day, 0..23."""
        hours = [0] * 24
        for _d, h, n in self._hour_rows:
            hours[h] += n
        return hours

    @cached_property
    def heatmap(self) -> list[list[int]]:
        """Listens per weekday (0 = Monday) × hour."""
        grid = [[0] * 24 for _ in range(7)]
        weekday: dict = {}
        for d, h, n in self._hour_rows:
            wd = weekday.get(d)
            if wd is None:
                wd = weekday[d] = _as_date(d).weekday()
            grid[wd][h] += n
        return grid

    @cached_property
    def series_step(self) -> str:
        first = max(self.period.first, self.history.first or self.period.first)
        days = (self.period.last - first).days + 1
        if days <= 62:
            return "day"
        if days <= 731:
            return "week"
        return "month"

    @cached_property
    def series(self) -> list[tuple[date, int]]:
        """Listens per day, week (from Monday) or month across the period, zeros included."""
        step = self.series_step
        first = self.period.first
        if self.period.kind == "all" and self.history.first:
            first = self.history.first
        last = min(self.period.last, max(self.today, first))

        def bucket(d: date) -> date:
            if step == "day":
                return d
            if step == "week":
                return d - timedelta(days=d.weekday())
            return d.replace(day=1)

        counts: Counter = Counter()
        for d, n, _s, _u in self.day_rows:
            counts[bucket(d)] += n
        out = []
        b = bucket(first)
        while b <= last:
            out.append((b, counts.get(b, 0)))
            if step == "day":
                b += timedelta(days=1)
            elif step == "week":
                b += timedelta(days=7)
            else:
                b = _add_months(b, 1)
        return out

    @cached_property
    def streaks(self) -> dict:
        """Longest run of consecutive listening days in the period, and the current run."""
        days = list(
            DayStat.objects.filter(user=self.user, listens__gt=0)
            .order_by("day")
            .values_list("day", flat=True)
        )
        longest = (0, None, None)
        run_start = prev = None
        run = 0
        for d in days:
            if not self.period.first <= d <= self.period.last:
                continue
            if prev is not None and (d - prev).days == 1:
                run += 1
            else:
                run, run_start = 1, d
            if run > longest[0]:
                longest = (run, run_start, d)
            prev = d
        day_set = set(days)
        current = 0
        d = self.today if self.today in day_set else self.today - timedelta(days=1)
        while d in day_set:
            current += 1
            d -= timedelta(days=1)
        return {
            "longest": longest[0],
            "longest_from": longest[1],
            "longest_to": longest[2],
            "current": current,
        }

    # ---- sessions --------------------------------------------------------------------------
    @cached_property
    def sessions(self) -> dict:
        agg = ListeningSession.objects.filter(
            user=self.user, started_at__gte=self.start, started_at__lt=self.end
        ).aggregate(
            n=Count("id"), avg=Avg("seconds"), longest=Max("seconds"), listens=Sum("listens")
        )
        return {
            "count": agg["n"] or 0,
            "average_seconds": round(agg["avg"] or 0),
            "longest_seconds": agg["longest"] or 0,
            "average_listens": round((agg["listens"] or 0) / agg["n"], 1) if agg["n"] else 0,
        }

    def transitions(self, limit: int = 10) -> list[dict]:
        """Artists most often played one right after the other (within a session)."""
        counter: Counter = Counter()
        if self.is_all_time:
            counter.update(
                {
                    (a, b): n
                    for a, b, n in UserTransitionStat.objects.filter(user=self.user).values_list(
                        "from_artist_id", "to_artist_id", "listens"
                    )
                }
            )
        elif self.months:
            counter.update(
                {
                    (a, b): n
                    for a, b, n in _sql(
                        "SELECT from_artist_id, to_artist_id, SUM(listens) FROM"
                        " tracking_monthtransitionstat WHERE user_id = %s AND month >= %s"
                        " AND month <= %s GROUP BY from_artist_id, to_artist_id",
                        [self.user.pk, adapt_date(self.months[0]), adapt_date(self.months[1])],
                    )
                }
            )
        for a, b in [] if self.is_all_time else self.edges:
            s, e = range_bounds(a, b, self.tz)
            rows = (
                Listen.objects.filter(
                    user=self.user,
                    listened_at__gte=s - sessions_mod.GAP,
                    listened_at__lt=e,
                )
                .order_by(*sessions_mod.ORDER)
                .values_list(*sessions_mod.FIELDS)
            )
            # Keep transitions whose second listen is inside the edge; the listen before it
            # may sit up to 30 minutes earlier.
            rows = list(rows)
            inside = [i for i, r in enumerate(rows) if r[0] >= s]
            if not inside:
                continue
            k = inside[0]
            head = rows[max(0, k - 1) : k] if k else []
            _, trans = sessions_mod.compute(head + rows[k:])
            for (_m, x, y), n in trans.items():
                counter[(x, y)] += n
        ranked = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
        names = Artist.objects.in_bulk({x for (p, _n) in ranked for x in p})
        return [{"from": names.get(a), "to": names.get(b), "count": n} for (a, b), n in ranked]

    # ---- discovery -------------------------------------------------------------------------
    def _firsts(self, model, key: str) -> list[tuple[int, datetime]]:
        return list(
            model.objects.filter(
                user=self.user, first_listened_at__gte=self.start, first_listened_at__lt=self.end
            ).values_list(key, "first_listened_at")
        )

    @cached_property
    def discovery(self) -> dict:
        """New artists and albums per local month, and the share of listens to new tracks."""
        per_month: dict[date, list[int]] = {}
        firsts = {}
        for i, (model, key) in enumerate(
            ((UserArtistStat, "artist_id"), (UserAlbumStat, "album_id"))
        ):
            rows = self._firsts(model, key)
            firsts[key] = [k for k, _at in rows]
            for _k, at in rows:
                m = at.astimezone(self.tz).date().replace(day=1)
                per_month.setdefault(m, [0, 0])[i] += 1
        new_tracks = {k for k, _at in self._firsts(UserTrackStat, "track_id")}
        tracks = self.counts("track")
        new_listens = sum(n for k, n in tracks.items() if k in new_tracks)
        total = self.totals["listens"]
        artists = self.counts("artist")
        top_new = sorted(firsts["artist_id"], key=lambda k: (-artists.get(k, 0), k))[:10]
        names = Artist.objects.in_bulk(top_new)
        return {
            "months": sorted((m, v[0], v[1]) for m, v in per_month.items()),
            "new_artists": len(firsts["artist_id"]),
            "new_albums": len(firsts["album_id"]),
            "new_tracks": len(new_tracks),
            "new_listens": new_listens,
            "new_share": round(new_listens * 100 / total, 1) if total else 0.0,
            "top_new_artists": [
                {"obj": names.get(k), "listens": artists.get(k, 0)} for k in top_new
            ],
        }

    # ---- collection ------------------------------------------------------------------------
    @cached_property
    def collection(self) -> dict:
        """Owned records held against the listening: played, forgotten, wished, per format."""
        owned: dict[int, set[str]] = {}
        for album_id, support in CollectionItem.objects.filter(user=self.user).values_list(
            "album_id", "support"
        ):
            owned.setdefault(album_id, set()).add(support)
        albums = self.counts("album")
        most_played = sorted(
            ((k, n) for k, n in albums.items() if k in owned), key=lambda kv: (-kv[1], kv[0])
        )[:10]
        spans = {
            k: (n, last)
            for k, n, last in UserAlbumStat.objects.filter(
                user=self.user, album_id__in=list(owned)
            ).values_list("album_id", "listens", "last_listened_at")
        }
        year_ago = datetime.combine(self.today, datetime.min.time(), tzinfo=self.tz) - timedelta(
            days=365
        )
        never = sorted(k for k in owned if k not in spans)
        dormant = sorted(
            (k for k, (_n, last) in spans.items() if last < year_ago), key=lambda k: spans[k][1]
        )
        wish_rows = list(
            UserAlbumStat.objects.filter(user=self.user)
            .exclude(album_id__in=list(owned))
            .order_by("-listens", "album_id")
            .values_list("album_id", "listens")[:10]
        )
        formats: dict[str, list[int]] = {}
        for k, supports in owned.items():
            for s in supports:
                f = formats.setdefault(s, [0, 0])
                f[0] += 1
                f[1] += albums.get(k, 0)
        ids = {k for k, _n in most_played} | set(never[:10]) | set(dormant[:10])
        ids |= {k for k, _n in wish_rows}
        objs = Album.objects.in_bulk(ids)
        labels = dict(CollectionItem.Support.choices)
        return {
            "owned": len(owned),
            "most_played": [{"obj": objs.get(k), "listens": n} for k, n in most_played],
            "never_played": [objs.get(k) for k in never[:10]],
            "never_played_count": len(never),
            "dormant": [
                {"obj": objs.get(k), "last": spans[k][1], "listens": spans[k][0]}
                for k in dormant[:10]
            ],
            "dormant_count": len(dormant),
            "wish_list": [{"obj": objs.get(k), "listens": n} for k, n in wish_rows],
            "formats": sorted(
                (
                    {"support": s, "label": labels.get(s, s), "records": v[0], "listens": v[1]}
                    for s, v in formats.items()
                ),
                key=lambda f: -f["listens"],
            ),
        }


def item_history(user, tz, *, artist_id: int | None = None, album_id: int | None = None) -> dict:
    """Plays per local month and first/last listen of one artist or album (for its page)."""
    if artist_id is not None:
        months = MonthArtistStat.objects.filter(user=user, artist_id=artist_id)
        span = UserArtistStat.objects.filter(user=user, artist_id=artist_id)
    else:
        months = MonthAlbumStat.objects.filter(user=user, album_id=album_id)
        span = UserAlbumStat.objects.filter(user=user, album_id=album_id)
    row = span.values_list("listens", "first_listened_at", "last_listened_at").first()
    listens, first, last = row or (0, None, None)
    return {
        "listens": listens,
        "first_listened_at": first.astimezone(tz) if first else None,
        "last_listened_at": last.astimezone(tz) if last else None,
        "months": list(months.order_by("month").values_list("month", "listens")),
    }


def year_review(user, year: int, tz, *, today: date | None = None) -> dict:
    """A year looked back on: totals, each month's top items, first listens of the year that
    became favourites, and the busiest day."""
    period = Period("year", date(year, 1, 1), date(year, 12, 31))
    stats = Stats(user, period, tz, today=today)
    months_top: dict[date, dict] = {}
    for kind, model, key in (
        ("artist", MonthArtistStat, "artist_id"),
        ("album", MonthAlbumStat, "album_id"),
        ("track", MonthTrackStat, "track_id"),
    ):
        best: dict = {}
        for m, k, n in _sql(
            f"SELECT month, {key}, listens FROM {model._meta.db_table} WHERE user_id = %s"
            " AND month >= %s AND month <= %s",
            [user.pk, adapt_date(period.first), adapt_date(period.last)],
        ):
            cur = best.get(m)
            if cur is None or n > cur[1] or (n == cur[1] and k < cur[0]):
                best[m] = (k, n)
        for m, (k, n) in best.items():
            months_top.setdefault(_as_date(m), {})[kind] = (k, n)
    ids = {kind: {v[kind][0] for v in months_top.values() if kind in v} for kind in COUNTER_KINDS}
    start, end = stats.start, stats.end
    favourites = {}
    for kind, model, key in (
        ("artist", UserArtistStat, "artist_id"),
        ("album", UserAlbumStat, "album_id"),
        ("track", UserTrackStat, "track_id"),
    ):
        rows = list(
            model.objects.filter(user=user, first_listened_at__gte=start, first_listened_at__lt=end)
            .order_by("-listens", key)
            .values_list(key, "listens", "first_listened_at")[:5]
        )
        favourites[kind] = rows
        ids[kind] |= {r[0] for r in rows}
    objs = {
        "artist": Artist.objects.in_bulk(ids["artist"]),
        "album": Album.objects.in_bulk(ids["album"]),
        "track": Track.objects.select_related("artist").in_bulk(ids["track"]),
    }
    loved = set(
        LovedTrack.objects.filter(user=user, track_id__in=ids["track"]).values_list(
            "track_id", flat=True
        )
    )
    busiest = (
        DayStat.objects.filter(user=user, day__gte=period.first, day__lte=period.last)
        .order_by("-listens", "day")
        .values_list("day", "listens")
        .first()
    )
    return {
        "year": year,
        "period": period,
        "stats": stats,
        "totals": stats.totals_with_change(),
        "months": [
            {
                "month": m,
                **{
                    kind: {"obj": objs[kind].get(v[0]), "listens": v[1]}
                    for kind, v in months_top[m].items()
                },
            }
            for m in sorted(months_top)
        ],
        "favourites": {
            kind: [
                {
                    "obj": objs[kind].get(k),
                    "listens": n,
                    "first": at.astimezone(tz),
                    "loved": kind == "track" and k in loved,
                }
                for k, n, at in rows
            ]
            for kind, rows in favourites.items()
        },
        "busiest_day": {"day": busiest[0], "listens": busiest[1]} if busiest else None,
    }


COUNTER_KINDS = ("artist", "album", "track")


def local_today(tz) -> date:
    return datetime.now(UTC).astimezone(tz).date()


__all__ = [
    "History",
    "Period",
    "PeriodError",
    "Stats",
    "day_bounds",
    "item_history",
    "local_today",
    "parse_period",
    "year_review",
]
