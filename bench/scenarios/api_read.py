"""Scenarios of the API's read endpoints (issue 9): each a call through the test client with the
bench user's session, on whatever the seeded history holds. No p95 target is set by the issue
for these; they are measured to be compared with the pages that call the same queries."""

from bench.context import Scenario
from collection.models import CollectionItem
from tracking.models import Listen, UserAlbumStat, UserArtistStat


def _first(ctx, key, fn):
    if key not in ctx.cache:
        ctx.cache[key] = fn()
    return ctx.cache[key]


def _album_id(ctx) -> int:
    def pick():
        owned = CollectionItem.objects.filter(user=ctx.user).values_list("album_id", flat=True)
        first = owned.first()
        if first:
            return first
        return UserAlbumStat.objects.filter(user=ctx.user).order_by("-listens").first().album_id

    return _first(ctx, "album", pick)


def _artist_id(ctx) -> int:
    return _first(
        ctx,
        "artist",
        lambda: UserArtistStat.objects.filter(user=ctx.user).order_by("-listens").first().artist_id,
    )


def _last_day(ctx):
    return _first(
        ctx,
        "day",
        lambda: Listen.objects.filter(user=ctx.user).order_by("-listened_at").first().local_date,
    )


def _json(ctx, url: str) -> dict:
    return ctx.get(url, HTTP_ACCEPT="application/json").json()


def albums(ctx):
    _json(ctx, "/api/v1/collection/albums?sort=-plays")


def album(ctx):
    assert _json(ctx, f"/api/v1/collection/albums/{_album_id(ctx)}")["id"]


def artists(ctx):
    body = _json(ctx, "/api/v1/collection/artists?limit=50")
    if body["next_cursor"]:
        _json(ctx, f"/api/v1/collection/artists?limit=50&cursor={body['next_cursor']}")


def artist(ctx):
    assert _json(ctx, f"/api/v1/collection/artists/{_artist_id(ctx)}")["plays"] > 0


def timeline(ctx):
    assert _json(ctx, f"/api/v1/history/timeline?date={_last_day(ctx)}")["listens"] > 0


def search(ctx):
    _json(ctx, "/api/v1/search?q=the")


def analytics(period):
    def run(ctx):
        assert _json(ctx, f"/api/v1/analytics?period={period}")["period"]["kind"] == period

    return run


def playlists(ctx):
    _json(ctx, "/api/v1/playlists")


SCENARIOS = [
    Scenario("api-read: collection albums (most played)", albums),
    Scenario("api-read: album detail", album),
    Scenario("api-read: artists, two pages", artists),
    Scenario("api-read: artist detail (top artist)", artist),
    Scenario("api-read: timeline of the last day", timeline),
    Scenario("api-read: search 'the'", search),
    Scenario("api-read: analytics 30d", analytics("30d")),
    Scenario("api-read: analytics 12m", analytics("12m"), runs=5),
    Scenario("api-read: analytics all", analytics("all"), runs=5),
    Scenario("api-read: playlists list", playlists),
]
