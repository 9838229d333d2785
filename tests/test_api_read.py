"""Read endpoints of the JSON API: collection, timeline, search, analytics, playlists. Each is
checked with two users' tokens (a token reaches only its user's data), bad parameters (422
naming the field), next cursors, and a bound on the number of queries."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from collection.models import Album, Artist, CollectionItem
from musictracker.models import ApiToken
from playlists import services
from playlists.models import Playlist

pytestmark = pytest.mark.django_db
# Two days before "now" so the 30-day analytics period and the playlists' 30d period see them.
NOW = datetime.now(UTC).replace(microsecond=0)


def _client(user) -> Client:
    _, raw = ApiToken.issue(user=user, name="tests")
    return Client(HTTP_AUTHORIZATION=f"Token {raw}")


@pytest.fixture
def data(user, other_user, add_listens):
    base = NOW - timedelta(days=2)
    rows = [
        ("Radiohead", f"Song {i}", "OK Computer", base + timedelta(minutes=4 * i), 200)
        for i in range(6)
    ]
    rows += [("Björk", "Joga", "Homogenic", base + timedelta(hours=3, minutes=i)) for i in range(3)]
    rows += [("Air", "La femme d'argent", "Moon Safari", base + timedelta(hours=5))]
    add_listens(user, rows)
    add_listens(other_user, [("Portishead", "Roads", "Dummy", base)])
    ok = Album.objects.get(title="OK Computer")
    CollectionItem.objects.create(user=user, album=ok, support="vinyl", label="Parlophone")
    dummy = Album.objects.get(title="Dummy")
    CollectionItem.objects.create(user=other_user, album=dummy, support="cd")
    return {
        "alice": _client(user),
        "bob": _client(other_user),
        "ok": ok,
        "dummy": dummy,
        "radiohead": Artist.objects.get(name="Radiohead"),
        "portishead": Artist.objects.get(name="Portishead"),
        "base": base,
    }


# ---- collection ------------------------------------------------------------------------------
def test_albums_list_filters_and_isolation(data):
    body = data["alice"].get("/api/v1/collection/albums").json()
    assert [a["title"] for a in body["items"]] == ["OK Computer"]
    card = body["items"][0]
    assert card["plays"] == 6 and card["formats"] == ["Vinyl"] and card["copies"] == 1
    assert body["next_cursor"] is None
    assert data["alice"].get("/api/v1/collection/albums?support=cd").json()["items"] == []
    assert data["alice"].get("/api/v1/collection/albums?never_played=true").json()["items"] == []
    bob = data["bob"].get("/api/v1/collection/albums").json()
    assert [a["title"] for a in bob["items"]] == ["Dummy"]


def test_albums_pagination_by_cursor(data, user):
    for title in ("Homogenic", "Moon Safari"):
        CollectionItem.objects.create(user=user, album=Album.objects.get(title=title))
    first = data["alice"].get("/api/v1/collection/albums?limit=2&sort=title").json()
    assert [a["title"] for a in first["items"]] == ["Homogenic", "Moon Safari"]
    assert first["next_cursor"] == "2" and first["albums"] == 3
    rest = data["alice"].get("/api/v1/collection/albums?limit=2&sort=title&cursor=2").json()
    assert [a["title"] for a in rest["items"]] == ["OK Computer"] and rest["next_cursor"] is None
    past = data["alice"].get("/api/v1/collection/albums?limit=2&cursor=9").json()
    assert past["items"] == [] and past["next_cursor"] is None


@pytest.mark.parametrize(
    "query, field",
    [("sort=nope", "sort"), ("support=gramophone", "support"), ("decade=12", "decade")],
)
def test_albums_bad_parameters_name_the_field(data, query, field):
    response = data["alice"].get(f"/api/v1/collection/albums?{query}")
    assert response.status_code == 422
    assert field in json.dumps(response.json()["detail"])


def test_album_detail_tracklist_with_plays(data, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        response = data["alice"].get(f"/api/v1/collection/albums/{data['ok'].pk}")
    body = response.json()
    assert response.status_code == 200 and body["plays"] == 6
    assert len(body["tracks"]) == 6 and all(t["plays"] == 1 for t in body["tracks"])
    assert body["copies"][0]["support"] == "vinyl" and body["artists"][0]["name"] == "Radiohead"
    assert {link["name"] for link in body["links"]} >= {"Discogs", "Spotify"}


def test_album_and_artist_of_another_user_are_404(data):
    assert data["alice"].get(f"/api/v1/collection/albums/{data['dummy'].pk}").status_code == 404
    assert data["bob"].get(f"/api/v1/collection/albums/{data['ok'].pk}").status_code == 404
    url = f"/api/v1/collection/artists/{data['portishead'].pk}"
    assert data["alice"].get(url).status_code == 404
    assert data["bob"].get(url).status_code == 200
    assert data["alice"].get("/api/v1/collection/albums/999999").status_code == 404
    assert data["alice"].get("/api/v1/collection/albums/0").status_code == 422


def test_artists_list_is_keyset_paginated(data, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        first = data["alice"].get("/api/v1/collection/artists?limit=2").json()
    assert [(a["name"], a["plays"]) for a in first["items"]] == [("Radiohead", 6), ("Björk", 3)]
    rest = data["alice"].get(f"/api/v1/collection/artists?limit=2&cursor={first['next_cursor']}")
    assert [a["name"] for a in rest.json()["items"]] == ["Air"]
    assert rest.json()["next_cursor"] is None
    bad = data["alice"].get("/api/v1/collection/artists?cursor=abc")
    assert bad.status_code == 422 and "cursor" in json.dumps(bad.json()["detail"])
    bob = data["bob"].get("/api/v1/collection/artists").json()
    assert [a["name"] for a in bob["items"]] == ["Portishead"]


def test_artist_detail(data, django_assert_max_num_queries):
    with django_assert_max_num_queries(14):
        body = data["alice"].get(f"/api/v1/collection/artists/{data['radiohead'].pk}").json()
    assert body["name"] == "Radiohead" and body["plays"] == 6
    assert [a["title"] for a in body["owned_albums"]] == ["OK Computer"]
    assert len(body["top_tracks"]) == 6 and body["months"][-1]["listens"] >= 1


# ---- history timeline --------------------------------------------------------------------------
def test_timeline_groups_a_local_day_by_hour(data, user, django_assert_max_num_queries):
    day = data["base"].astimezone(user.profile.tzinfo).date()
    with django_assert_max_num_queries(8):
        body = data["alice"].get(f"/api/v1/history/timeline?date={day}").json()
    assert body["time_zone"] == "Europe/Paris"
    assert sum(len(h["listens"]) for h in body["hours"]) == body["listens"]
    assert body["listens"] >= 6  # the day may end before the later listens in Paris
    assert len(body["hours"]) in (23, 24, 25)
    first_hour = next(h for h in body["hours"] if h["listens"])
    assert first_hour["hour"] == data["base"].astimezone(user.profile.tzinfo).hour
    assert first_hour["listens"][0]["artist"]["name"] == "Radiohead"
    times = [x["listened_at"] for h in body["hours"] for x in h["listens"]]
    assert times == sorted(times)
    bob = data["bob"].get(f"/api/v1/history/timeline?date={day}").json()
    assert {x["track"]["title"] for h in bob["hours"] for x in h["listens"]} <= {"Roads"}


def test_timeline_bad_date(data):
    response = data["alice"].get("/api/v1/history/timeline?date=2024-13-01")
    assert response.status_code == 422 and "date" in json.dumps(response.json()["detail"])
    assert data["alice"].get("/api/v1/history/timeline").status_code == 422
    assert data["alice"].get("/api/v1/history/timeline?date=0").status_code == 422
    far = data["alice"].get("/api/v1/history/timeline?date=0001-01-01").json()
    assert far["listens"] == 0 and far["hours"] == []


# ---- search ------------------------------------------------------------------------------------
def test_search_grouped_and_isolated(data, django_assert_max_num_queries):
    with django_assert_max_num_queries(14):
        body = data["alice"].get("/api/v1/search?q=radio").json()
    assert [a["name"] for a in body["artists"]] == ["Radiohead"]
    assert data["alice"].get("/api/v1/search?q=ok").json()["albums"][0]["is_owned"] is True
    assert data["alice"].get("/api/v1/search?q=roads").json()["tracks"] == []
    assert data["bob"].get("/api/v1/search?q=roads").json()["tracks"][0]["title"] == "Roads"
    empty = data["alice"].get("/api/v1/search?q=")
    assert empty.status_code == 422 and "q" in json.dumps(empty.json()["detail"])


# ---- analytics ---------------------------------------------------------------------------------
def test_analytics_for_a_period(data, django_assert_max_num_queries):
    with django_assert_max_num_queries(60):
        body = data["alice"].get("/api/v1/analytics?period=30d").json()
    assert body["period"]["kind"] == "30d"
    assert body["totals"]["listens"] == 10 and body["totals"]["artists"] == 3
    assert body["top_artists"][0]["name"] == "Radiohead"
    assert body["top_artists"][0]["listens"] == 6
    assert len(body["clock"]) == 24 and sum(body["clock"]) == 10
    assert body["collection"]["owned"] == 1
    bob = data["bob"].get("/api/v1/analytics?period=all").json()
    assert bob["totals"]["listens"] == 1 and bob["top_artists"][0]["name"] == "Portishead"


@pytest.mark.parametrize(
    "query, field",
    [
        ("period=decade", "period"),
        ("period=year&year=abc", "year"),
        ("period=month&month=2024-99", "month"),
        ("period=custom&from=2024-01-01&to=nope", "to"),
        ("period=custom&to=2024-01-01", "from"),
        ("period=custom&from=2024-02-01&to=2024-01-01", "from"),
        ("period=custom&from=0001-01-01&to=2024-01-01", "from"),
        ("period=month&month=0000-01", "month"),
    ],
)
def test_analytics_bad_period_names_the_field(data, query, field):
    response = data["alice"].get(f"/api/v1/analytics?{query}")
    assert response.status_code == 422
    detail = response.json()["detail"]
    if isinstance(detail, str):
        assert detail.startswith(f"{field}:")
    else:
        assert detail[0]["loc"][-1] == field


# ---- playlists ---------------------------------------------------------------------------------
@pytest.fixture
def playlist(data, user):
    result = services.create_playlist(
        user=user, name="Mine", algorithm="top", parameters={"period": "30d", "seed": 3}
    )
    return result.playlist


def test_playlists_list_and_detail(data, playlist, user, django_assert_max_num_queries):
    services.create_playlist(
        user=user, name="Second", algorithm="top", parameters={"period": "30d", "seed": 4}
    )
    with django_assert_max_num_queries(5):
        first = data["alice"].get("/api/v1/playlists?limit=1").json()
    assert [p["name"] for p in first["items"]] == ["Second"] and first["next_cursor"]
    rest = data["alice"].get(f"/api/v1/playlists?limit=1&cursor={first['next_cursor']}").json()
    assert [p["name"] for p in rest["items"]] == ["Mine"] and rest["next_cursor"] is None
    assert rest["items"][0]["tracks"] == playlist.entries.count()
    detail = data["alice"].get(f"/api/v1/playlists/{playlist.pk}").json()
    assert [e["position"] for e in detail["entries"]] == list(range(1, len(detail["entries"]) + 1))
    assert detail["parameters"]["seed"] == 3
    assert data["bob"].get("/api/v1/playlists").json()["items"] == []
    assert data["bob"].get(f"/api/v1/playlists/{playlist.pk}").status_code == 404


def test_create_playlist_by_generator(data):
    response = data["alice"].post(
        "/api/v1/playlists",
        {"algorithm": "top", "name": "Top", "parameters": {"period": "30d", "length": 3}},
        content_type="application/json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "Top" and len(body["entries"]) == 3
    assert Playlist.objects.get(pk=body["id"]).user.username == "alice"


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"algorithm": "nope"}, "algorithm"),
        ({"algorithm": "top", "parameters": {"length": 0}}, "parameters.length"),
        ({"algorithm": "top", "parameters": {"period": "forever"}}, "parameters.period"),
        # true/false are not integers, whatever Python says (found by schemathesis)
        ({"algorithm": "discovery", "parameters": {"k": False}}, "parameters"),
    ],
)
def test_create_playlist_bad_parameters(data, payload, field):
    response = data["alice"].post("/api/v1/playlists", payload, content_type="application/json")
    assert response.status_code == 422
    assert field in json.dumps(response.json()["detail"])


def test_rename_reorder_and_delete(data, playlist):
    url = f"/api/v1/playlists/{playlist.pk}"
    ids = [e["id"] for e in data["alice"].get(url).json()["entries"]]
    reversed_ids = list(reversed(ids))
    response = data["alice"].patch(
        url, {"name": "Renamed", "entry_ids": reversed_ids}, content_type="application/json"
    )
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Renamed" and [e["id"] for e in body["entries"]] == reversed_ids
    bad = data["alice"].patch(url, {"entry_ids": [10**9]}, content_type="application/json")
    assert bad.status_code == 422 and bad.json()["detail"].startswith("entry_ids")
    blank = data["alice"].patch(url, {"name": ""}, content_type="application/json")
    assert blank.status_code == 422 and "name" in json.dumps(blank.json()["detail"])
    other = data["bob"].patch(url, {"name": "Stolen"}, content_type="application/json")
    assert other.status_code == 404
    assert data["bob"].delete(url).status_code == 404
    assert data["alice"].delete(url).status_code == 204
    assert not Playlist.objects.filter(pk=playlist.pk).exists()


@pytest.mark.parametrize(
    "fmt, needle", [("m3u8", "#EXTM3U"), ("xspf", "<playlist"), ("csv", "artist"), ("json", "{")]
)
def test_export(data, playlist, fmt, needle):
    url = f"/api/v1/playlists/{playlist.pk}/export?format={fmt}"
    response = data["alice"].get(url)
    assert response.status_code == 200 and needle in response.content.decode()
    assert "attachment" in response["Content-Disposition"]
    assert data["bob"].get(url).status_code == 404


def test_export_bad_format(data, playlist):
    response = data["alice"].get(f"/api/v1/playlists/{playlist.pk}/export?format=mp3")
    assert response.status_code == 422 and "format" in json.dumps(response.json()["detail"])


def test_without_token_401(data, playlist):
    for url in ("/api/v1/collection/albums", "/api/v1/analytics", "/api/v1/playlists"):
        assert Client().get(url).status_code == 401


@pytest.mark.django_db
def test_history_accepts_any_iso_offset(client, user):
    """Regression (found by schemathesis on PostgreSQL): an offset beyond ±15:59 reached the
    database and failed; the instant is now converted to UTC first."""
    from musictracker.models import ApiToken

    _, raw = ApiToken.issue(user=user, name="t")
    response = client.get(
        "/api/v1/history/listens",
        {"from": "1960-05-22T19:09:33.54-19:39", "to": "5250-06-05T01:13:03Z"},
        HTTP_AUTHORIZATION=f"Token {raw}",
    )
    assert response.status_code == 200


def test_a_nul_character_in_any_text_input_is_ignored(data, auth_client):
    """Regression (schemathesis on PostgreSQL): a search for "a%00" answered 400, as PostgreSQL
    refuses NUL characters in queries and in text and JSON columns. No name means one: they are
    dropped from every text the API, the pages and the importers take in."""
    alice = data["alice"]
    r = alice.get("/api/v1/search?q=Radio%00head")
    assert r.status_code == 200 and [a["name"] for a in r.json()["artists"]] == ["Radiohead"]
    r = alice.get("/api/v1/collection/albums?genre=Rock%00&q=ok%00")
    assert r.status_code == 200
    r = alice.post(
        "/api/v1/playlists",
        {"algorithm": "top", "name": "Best\u0000 of", "parameters": {"period": "all\u0000"}},
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    assert Playlist.objects.get(pk=r.json()["id"]).name == "Best of"
    assert auth_client.get("/search/?q=Radio%00head").status_code == 200
    page = auth_client.get("/collection/?genre=Rock%00&q=ok%00")  # Django's forms refuse NUL
    assert page.status_code == 400 and "Null characters are not allowed" in page.content.decode()


def test_a_nul_character_in_an_imported_name_is_dropped(user, add_listens):
    add_listens(user, [("Ai\x00r", "Sexy\x00 Boy", "Moon\x00 Safari", NOW - timedelta(days=3))])
    add_listens(user, [("Air", "Sexy Boy", "Moon Safari", NOW - timedelta(days=4))])
    assert list(Artist.objects.filter(name__startswith="Ai").values_list("name", flat=True)) == [
        "Air"
    ]
    assert Album.objects.get(title__startswith="Moon").title == "Moon Safari"
