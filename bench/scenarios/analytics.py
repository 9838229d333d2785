"""Scenarios of Analytics (issue 7): each statistic for the last 30 days, a calendar year and all
time, the year in review, collection insights, and the whole page; p95 target 150 ms each.

The seeded history ends on its seeding day, so "last 30 days" is measured against the last day
with listens (the pages use today's date; an empty month would flatter the figures)."""

from __future__ import annotations

from datetime import date

from bench.context import Scenario
from collection.models import CollectionItem
from musictracker.timezones import zone
from tracking.models import UserAlbumStat
from tracking.stats import History, Stats, parse_period, year_review

TZ = zone("Europe/Paris")
PERIODS = {
    "30 days": {"period": "30d"},
    "year": {"period": "year", "year": "2024"},
    "all time": {"period": "all"},
    "12 months": {"period": "12m"},
}


def _stats(ctx, params) -> Stats:
    history = ctx.cache.get("history")
    if history is None:
        history = ctx.cache["history"] = History.of(ctx.user)
        _own_some_records(ctx)
    today = history.last or date.today()
    period = parse_period(params, today=today, first_day=history.first)
    return Stats(ctx.user, period, TZ, history=history, today=today)


def _own_some_records(ctx) -> None:
    """A collection to hold the listening against: 300 played albums and a few formats."""
    if CollectionItem.objects.filter(user=ctx.user).exists():
        return
    ids = list(
        UserAlbumStat.objects.filter(user=ctx.user)
        .order_by("album_id")
        .values_list("album_id", flat=True)[::3][:300]
    )
    supports = ["vinyl", "cd", "digital"]
    CollectionItem.objects.bulk_create(
        [
            CollectionItem(user=ctx.user, album_id=a, support=supports[i % 3])
            for i, a in enumerate(ids)
        ]
    )


STATS = {
    "totals": lambda s: s.totals_with_change(),
    "top artists": lambda s: s.top("artist"),
    "top albums": lambda s: s.top("album"),
    "top tracks": lambda s: s.top("track"),
    "clock + heat map": lambda s: (s.clock, s.heatmap),
    "listens over time": lambda s: s.series,
    "streaks": lambda s: s.streaks,
    "sessions": lambda s: s.sessions,
    "transitions": lambda s: s.transitions(),
    "discovery": lambda s: s.discovery,
    "collection insights": lambda s: s.collection,
}


def _scenario(stat, fn, label, params):
    def run(ctx):
        result = fn(_stats(ctx, params))
        assert result is not None

    return Scenario(f"analytics: {stat} ({label})", run, target_ms=150)


def _year_review(ctx):
    _stats(ctx, PERIODS["year"])
    review = year_review(ctx.user, 2024, TZ, today=ctx.cache["history"].last)
    assert review["months"]


def _page(query):
    def run(ctx):
        _stats(ctx, PERIODS["year"])
        ctx.get(f"/analytics/?{query}")

    return run


SCENARIOS = [
    _scenario(stat, fn, label, params)
    for label, params in PERIODS.items()
    for stat, fn in STATS.items()
] + [
    Scenario("analytics: year in review 2024", _year_review, target_ms=150),
    Scenario("analytics: page, year 2024 (all sections)", _page("period=year&year=2024"), runs=10),
    Scenario("analytics: page, all time (all sections)", _page("period=all"), runs=10),
    Scenario(
        "analytics: year in review page", lambda ctx: ctx.get("/analytics/year/2024/"), runs=10
    ),
]
