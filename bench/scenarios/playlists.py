"""Scenarios of the playlists: every rule-based generator with its default parameters (p95 ≤ 500 ms
on 1,000,000 listens, issue 8), the session-based ones also with their widest window, and pages."""

from datetime import timedelta

import time_machine

from bench.context import Scenario
from playlists import generators
from tracking.models import Listen, UserAlbumStat, UserArtistStat

TARGET = 500


def _top_artist(ctx) -> str:
    if "playlists_top_artist" not in ctx.cache:
        stat = UserArtistStat.objects.filter(user=ctx.user).order_by("-listens").first()
        ctx.cache["playlists_top_artist"] = stat.artist.name
    return ctx.cache["playlists_top_artist"]


def _top_album(ctx) -> str:
    if "playlists_top_album" not in ctx.cache:
        stat = UserAlbumStat.objects.filter(user=ctx.user).order_by("-listens").first()
        ctx.cache["playlists_top_album"] = stat.album.title
    return ctx.cache["playlists_top_album"]


def _now(ctx):
    """An hour after the bench user's last listen: the seeded history may end months before the
    machine's clock, and windows such as "last 90 days" must hold a real user's recent listens."""
    if "now" not in ctx.cache:
        last = Listen.objects.filter(user=ctx.user).order_by("-listened_at").first()
        ctx.cache["now"] = last.listened_at + timedelta(hours=1)
    return ctx.cache["now"]


def _gen(key: str, **params):
    def run(ctx):
        extra = dict(params)
        if extra.pop("_artist", False):
            extra["artist"] = _top_artist(ctx)
        if extra.pop("_album", False):
            extra["album"] = _top_album(ctx)
        with time_machine.travel(_now(ctx), tick=True):
            outcome = generators.run(ctx.user, key, {"seed": ctx.rng.randrange(1000), **extra})
        if not outcome.track_ids:
            raise AssertionError(f"{key} found nothing: {outcome.why_empty}")

    return run


SCENARIOS = [
    Scenario("playlists: top tracks, last 90 days", _gen("top", period="90d"), TARGET),
    Scenario("playlists: top tracks, last 12 months", _gen("top", period="12m"), TARGET),
    Scenario("playlists: top tracks, all time", _gen("top", period="all"), TARGET),
    Scenario("playlists: rediscover", _gen("rediscover", months=12), TARGET),
    Scenario("playlists: this time of day", _gen("time_of_day", hour=21, weekday=4), TARGET),
    Scenario(
        "playlists: this time of day, 36 months",
        _gen("time_of_day", hour=21, weekday=4, months=36),
        TARGET,
    ),
    Scenario("playlists: around an artist", _gen("around", _artist=True), TARGET),
    Scenario(
        "playlists: around an artist, 36 months", _gen("around", _artist=True, months=36), TARGET
    ),
    Scenario("playlists: around an album", _gen("around", _album=True), TARGET),
    Scenario("playlists: from the collection", _gen("collection", max_plays=1000), TARGET),
    Scenario("playlists: discovery mix", _gen("discovery"), TARGET),
    Scenario("playlists: artist flow", _gen("artist_flow"), TARGET),
    Scenario("playlists: artist flow, 36 months", _gen("artist_flow", months=36), TARGET),
    Scenario("playlists: complete albums", _gen("complete_albums"), TARGET),
    Scenario("playlists: complete albums, 36 months", _gen("complete_albums", months=36), TARGET),
    Scenario("playlists: best sessions", _gen("best_sessions"), TARGET),
    Scenario("playlists: best sessions, 36 months", _gen("best_sessions", months=36), TARGET),
]
