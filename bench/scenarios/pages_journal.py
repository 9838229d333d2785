"""Scenarios of the Journal and the Timeline (issue 6): p95 ≤ 80 ms on 1,000,000 listens."""

from __future__ import annotations

from datetime import timedelta

from bench.context import Scenario
from tracking.models import Listen, UserArtistStat

TARGET = 80


def _deep_cursor(ctx) -> str:
    """A cursor about 5,000 pages back (250,000 listens), found once on the narrow index."""
    if "deep" not in ctx.cache:
        from tracking.queries import Cursor

        at, pk = (
            Listen.objects.filter(user=ctx.user)
            .order_by("-listened_at", "-id")
            .values_list("listened_at", "id")[250_000]
        )
        ctx.cache["deep"] = Cursor(at=at, id=pk).encode()
    return ctx.cache["deep"]


def _top_artist(ctx) -> int:
    if "artist" not in ctx.cache:
        ctx.cache["artist"] = (
            UserArtistStat.objects.filter(user=ctx.user)
            .order_by("-listens")
            .values_list("artist_id", flat=True)[5]
        )
    return ctx.cache["artist"]


def _last_day(ctx):
    if "day" not in ctx.cache:
        ctx.cache["day"] = Listen.objects.filter(user=ctx.user).order_by(
            "-listened_at"
        ).values_list("local_date", flat=True)[0] - timedelta(days=3)
    return ctx.cache["day"]


def _expect(response, text: str):
    body = response.content.decode()
    if text not in body:
        raise AssertionError(f"{text!r} not in the page")


def journal_first(ctx):
    _expect(ctx.get("/journal/"), 'class="listen"')


def journal_deep(ctx):
    _expect(ctx.get(f"/journal/?cursor={_deep_cursor(ctx)}"), 'class="listen"')


def journal_deep_htmx(ctx):
    _expect(
        ctx.get(f"/journal/?cursor={_deep_cursor(ctx)}", headers={"HX-Request": "true"}),
        'class="listen"',
    )


def journal_artist(ctx):
    _expect(ctx.get(f"/journal/?artist={_top_artist(ctx)}"), 'class="listen"')


def journal_range(ctx):
    day = _last_day(ctx)
    _expect(ctx.get(f"/journal/?from={day - timedelta(days=75)}&to={day}"), 'class="listen"')


def journal_loved(ctx):
    _expect(ctx.get("/journal/?loved=1"), 'class="listen"')


def timeline_day(ctx):
    _expect(ctx.get(f"/timeline/?date={_last_day(ctx)}"), 'class="slot has"')


def timeline_week(ctx):
    _expect(ctx.get(f"/timeline/?date={_last_day(ctx)}&view=week"), "heat-cell has")


SCENARIOS = [
    Scenario("pages_journal: journal first page", journal_first, TARGET),
    Scenario("pages_journal: journal deep page (250k back)", journal_deep, TARGET),
    Scenario("pages_journal: journal next page via htmx", journal_deep_htmx, TARGET),
    Scenario("pages_journal: journal filtered by artist", journal_artist, TARGET),
    Scenario("pages_journal: journal date range 75 days", journal_range, TARGET),
    Scenario("pages_journal: journal loved only", journal_loved, TARGET),
    Scenario("pages_journal: timeline day", timeline_day, TARGET),
    Scenario("pages_journal: timeline week", timeline_week, TARGET),
]


def journal_artist_summary(ctx):
    _expect(
        ctx.get(
            f"/journal/?artist={_top_artist(ctx)}&part=summary", headers={"HX-Request": "true"}
        ),
        "Peak hour",
    )


SCENARIOS.append(
    Scenario("pages_journal: artist summary fragment (no target)", journal_artist_summary)
)
