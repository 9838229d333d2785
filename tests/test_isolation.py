"""One user's data and the admin are out of reach of another user (issue 10, requirement 5).

Alice ("A") has a full, realistic dataset whose every name carries the marker ``ZZ-A-SECRET``:
listens from several sources, an owned record, a playlist, a loved track, jobs with reports, an
API token, an AI review, now-playing, the tracker's status. Bob ("B") is signed in (session) and
has his own API token. The walk is automatic, so a route added later is covered without anyone
remembering to add it here:

- every page pattern of Django's URL resolver, with A's object ids in its path converters, by
  GET and by POST;
- every operation of the ninja OpenAPI schema (GET, POST, PATCH, DELETE), aimed at A's objects,
  with B's session and with B's token;
- every export (history CSV/JSONL, playlists in every format) and the ListenBrainz /1/ routes;
- every admin page of every registered model, for a signed-in user who is not staff.

B must get 404/403/401/400/405/a redirect, or an answer holding none of A's markers; nothing may
answer 500; and A's rows must be exactly as they were after B's mutating calls. A route whose
parameters the walk cannot fill fails the test with a message saying where to add it.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from collection.catalogue import Catalogue, ListenRecord, resolve
from collection.models import Album, AlbumMetadata, Artist, CollectionItem, Image, Track
from enrichment.models import EnrichmentState
from musictracker.models import ApiToken, Job, Profile
from playlists.models import Playlist, PlaylistTrack
from tracking.listens import ingest
from tracking.models import AiReview, Listen, LovedTrack, NowPlaying, TrackerStatus

pytestmark = pytest.mark.django_db

SECRET = "ZZ-A-SECRET"
SECRETS = (SECRET.lower().encode(), b"zz-a-secret", b"zz_a_secret")
A_TOKEN_NAME = f"{SECRET} token"


# ---- A's dataset ---------------------------------------------------------------------------------


def _listen_records(base: datetime) -> list[ListenRecord]:
    rows = [
        ("Artist", "Track One", "Album", "lastfm"),
        ("Artist", "Track Two", "Album", "lastfm"),
        ("Artist feat. ZZ-A-SECRET Guest", "Track Three", "Album", "spotify"),
        ("Other Artist", "Single", "", "api"),
        ("Artist", "Track One", "Album", "import"),
    ]
    return [
        ListenRecord(
            artist=f"{SECRET} {artist}" if not artist.startswith("Artist feat") else artist,
            track=f"{SECRET} {track}",
            album=f"{SECRET} {album}" if album else "",
            listened_at=base + timedelta(minutes=7 * i),
            duration=200,
            source=source,
            source_id=f"zz-a-secret-{i}" if source == "spotify" else "",
        )
        for i, (artist, track, album, source) in enumerate(rows)
    ]


def _build_alice(make_user) -> dict:
    alice = make_user("zz-a-secret-alice", time_zone="Europe/Paris")
    Profile.objects.filter(user=alice).update(
        lastfm_username="zz-a-secret-lfm",
        lastfm_session_key="zz-a-secret-session-key",
        discogs_username="zz-a-secret-discogs",
        discogs_token="zz-a-secret-discogs-token",
    )
    base = datetime(2021, 3, 14, 20, 0, tzinfo=UTC)
    ingest(alice, _listen_records(base), catalogue=Catalogue(), enrich=False)
    track = Track.objects.get(title=f"{SECRET} Track One")
    album = track.album
    artist = Artist.objects.get(name=f"{SECRET} Artist")
    # A record she owns and never played (only the collection knows it).
    with transaction.atomic():
        (owned,) = resolve(
            [
                ListenRecord(
                    artist=f"{SECRET} Vinyl Artist",
                    track=f"{SECRET} Side A",
                    album=f"{SECRET} Owned Record",
                    listened_at=datetime.fromtimestamp(0, UTC),
                )
            ]
        )
    item = CollectionItem.objects.create(
        user=alice,
        album_id=owned.album_id,
        support="vinyl",
        label=f"{SECRET} Label",
        catalogue_number="ZZ-A-SECRET-001",
        folder=f"{SECRET} Shelf",
        notes=f"{SECRET} signed copy",
        rating=5,
    )
    AlbumMetadata.objects.create(
        album=album,
        description=f"{SECRET} liner notes",
        summary=f"{SECRET} summary",
        ai_status="failed",
        ai_error="the model refused",
    )
    # Enrichment's last errors (shown in Settings) about A's artist and owned record.
    EnrichmentState.objects.create(
        artist=artist, service="spotify", outcome="error", reason="HTTP 502", tried_at=base
    )
    EnrichmentState.objects.create(
        album_id=owned.album_id, service="deezer", outcome="error", reason="timeout", tried_at=base
    )
    image = Image.objects.create(
        kind="album", album=album, url="https://img.example/zz-a-secret.jpg", source="spotify"
    )
    playlist = Playlist.objects.create(user=alice, name=f"{SECRET} Playlist", algorithm="top")
    entries = [
        PlaylistTrack.objects.create(playlist=playlist, track=t, position=i + 1)
        for i, t in enumerate(Track.objects.filter(title__startswith=SECRET).order_by("pk")[:3])
    ]
    ai_playlist = Playlist.objects.create(
        user=alice,
        name=f"{SECRET} AI Playlist",
        algorithm="ai",
        ai_prompt=f"{SECRET} rainy sunday",
        status=Playlist.Status.FAILED,
        message=f"{SECRET} model said no",
    )
    LovedTrack.objects.create(user=alice, track=track, loved_at=base, is_on_lastfm=True)
    now = timezone.now()
    NowPlaying.objects.create(
        user=alice,
        artist_name=f"{SECRET} Artist",
        track_name=f"{SECRET} Now",
        album_name=f"{SECRET} Album",
        source="lastfm",
        started_at=now,
        updated_at=now,
        expires_at=now + timedelta(hours=1),
    )
    TrackerStatus.objects.create(
        user=alice,
        last_poll_at=now,
        last_error=f"{SECRET} Last.fm said no",
        last_error_at=now,
        consecutive_failures=4,
    )
    import_job = Job.objects.create(
        user=alice,
        kind=Job.Kind.IMPORT,
        status=Job.Status.DONE,
        label=f"{SECRET} history.json",
        message=f"{SECRET} 5 listens imported",
        report=[{"line": f"{SECRET} line 7", "reason": "no timestamp"}],
        state={"path": "/nonexistent/zz-a-secret.json"},
    )
    backfill_job = Job.objects.create(
        user=alice,
        kind=Job.Kind.LASTFM_BACKFILL,
        status=Job.Status.RUNNING,
        label=f"{SECRET} backfill",
        message=f"{SECRET} page 3 of 9",
    )
    token, raw = ApiToken.issue(user=alice, name=A_TOKEN_NAME)
    review = AiReview.objects.create(
        user=alice,
        period_key="year:2021",
        style="prose",
        status="ready",
        text=f"{SECRET} your year in music",
    )
    listen = Listen.objects.filter(user=alice).order_by("pk").first()
    return {
        "user": alice,
        "token": token,
        "raw_token": raw,
        "listen": listen,
        "track": track,
        "album": album,
        "artist": artist,
        "owned_album": Album.objects.get(pk=owned.album_id),
        "owned_artist": Artist.objects.get(pk=owned.artist_id),
        "item": item,
        "image": image,
        "playlist": playlist,
        "ai_playlist": ai_playlist,
        "entries": entries,
        "import_job": import_job,
        "backfill_job": backfill_job,
        "review": review,
        "year": 2021,
        "day": base.date(),
    }


def _snapshot(alice) -> dict:
    """Everything of A's that B might try to change, as plain values."""
    uid = alice.pk
    return {
        "user": list(
            get_user_model()
            .objects.filter(pk=uid)
            .values("username", "password", "is_active", "is_staff", "email")
        ),
        "profile": list(Profile.objects.filter(user_id=uid).values()),
        "listens": sorted(
            Listen.objects.filter(user_id=uid).values_list("pk", "track_id", "listened_at")
        ),
        "loved": sorted(LovedTrack.objects.filter(user_id=uid).values_list("track_id", flat=True)),
        "playlists": sorted(
            Playlist.objects.filter(user_id=uid).values_list("pk", "name", "status", "message")
        ),
        "entries": sorted(
            PlaylistTrack.objects.filter(playlist__user_id=uid).values_list(
                "pk", "track_id", "position"
            )
        ),
        "items": list(CollectionItem.objects.filter(user_id=uid).order_by("pk").values()),
        "jobs": list(Job.objects.filter(user_id=uid).order_by("pk").values()),
        "tokens": list(
            ApiToken.objects.filter(user_id=uid).order_by("pk").values("pk", "revoked_at")
        ),
        "reviews": list(AiReview.objects.filter(user_id=uid).order_by("pk").values()),
        "now_playing": list(NowPlaying.objects.filter(user_id=uid).values()),
        "tracker": list(TrackerStatus.objects.filter(user_id=uid).values()),
        # the catalogue entries only A's data brought in
        "album_meta": list(AlbumMetadata.objects.filter(album__title__startswith=SECRET).values()),
        "images": list(Image.objects.filter(url__contains="zz-a-secret").values()),
        "albums": list(
            Album.objects.filter(title__startswith=SECRET).order_by("pk").values("pk", "cover_url")
        ),
        "artists": list(
            Artist.objects.filter(name__startswith=SECRET).order_by("pk").values("pk", "image_url")
        ),
    }


@pytest.fixture
def world(make_user, settings):
    settings.MUSICTRACKER = {
        **settings.MUSICTRACKER,
        # a configured Last.fm and AI, so no page stops at "configure this first"
        "lastfm": {**settings.MUSICTRACKER["lastfm"], "api_key": "k", "api_secret": "s"},
    }
    a = _build_alice(make_user)
    bob = make_user("bob", time_zone="America/New_York")
    ingest(
        bob,
        [
            ListenRecord(
                artist="Bob's Band",
                track=f"Bob Song {i}",
                album="Bob's Album",
                listened_at=datetime(2021, 3, 14, 21, tzinfo=UTC) + timedelta(minutes=5 * i),
                source="lastfm",
            )
            for i in range(3)
        ],
        catalogue=Catalogue(),
        enrich=False,
    )
    Profile.objects.filter(user=bob).update(lastfm_username="bob-lfm")
    bob_playlist = Playlist.objects.create(user=bob, name="Bob's mix", algorithm="top")
    PlaylistTrack.objects.create(
        playlist=bob_playlist, track=Track.objects.get(title="Bob Song 0"), position=1
    )
    _, bob_raw = ApiToken.issue(user=bob, name="bob's script")
    return {"a": a, "bob": bob, "bob_raw": bob_raw, "bob_playlist": bob_playlist}


# ---- checking one answer ------------------------------------------------------------------------

ALLOWED = {200, 201, 204, 301, 302, 303, 400, 401, 403, 404, 405, 409, 422}


def _body(response) -> bytes:
    """The answer's bytes (a streamed export is read once and kept)."""
    if response.streaming:
        response.kept = getattr(response, "kept", None) or b"".join(response.streaming_content)
        return response.kept
    return response.content


class Leaks(list):
    def check(self, what: str, response) -> None:
        status = response.status_code
        if status >= 500 or status not in ALLOWED:
            self.append(f"{what}: answered {status}")
        body = _body(response)
        text = (body + str(response.get("Location", "")).encode()).lower()
        for marker in SECRETS:
            if marker in text:
                at = text.index(marker)
                self.append(
                    f"{what}: {status}, A's data in the answer: …{text[max(0, at - 80) : at + 60]!r}…"
                )
                break

    def assert_none(self) -> None:
        assert not self, "B reached A's data:\n" + "\n".join(self)


def _request(client, method: str, url: str, **kw):
    try:
        return getattr(client, method.lower())(url, **kw)
    except Exception as exc:  # a 500: the test client re-raises the view's exception
        raise AssertionError(f"{method} {url} raised {type(exc).__name__}: {exc}") from exc


# ---- the URL walk -------------------------------------------------------------------------------

# Routes with no path parameters are requested as they are. These hold no user data at all and
# are left out of the walk (each for the reason given):
NO_USER_DATA = {
    "admin": "walked separately below, model by model (test_admin_is_out_of_reach)",
    "api-root": "ninja's mount point; every operation is walked through the OpenAPI schema",
    "openapi-view": "the API's documentation page: the schema, no data",
}


def _walk(patterns, prefix="", namespace=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = namespace
            if p.namespace:
                ns = f"{namespace}:{p.namespace}" if namespace else p.namespace
            if p.namespace == "admin" or str(p.pattern) == "admin/":
                yield "admin", prefix + str(p.pattern), p
                continue
            yield from _walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            name = f"{namespace}:{p.name}" if namespace and p.name else (p.name or "")
            yield name, prefix + str(p.pattern), p


def _is_api(route: str) -> bool:
    return route.startswith("api/v1/")


def _fills(a: dict) -> dict[str, list[dict]]:
    """Path parameters of every route that has some: A's objects, every format of an export."""
    playlist, entry = a["playlist"].pk, a["entries"][0].pk
    return {
        "job-progress": [{"pk": a["import_job"].pk}, {"pk": a["backfill_job"].pk}],
        "token-revoke": [{"pk": a["token"].pk}],
        "tracking-imports:export-download": [{"fmt": "csv"}, {"fmt": "jsonl"}, {"fmt": "json"}],
        "tracking:listen-detail": [{"pk": a["listen"].pk}],
        "tracking:listen-delete": [{"pk": a["listen"].pk}],
        "tracking:track-love": [{"track_id": a["track"].pk}],
        "tracking:analytics-year": [{"year": a["year"]}],
        "collection:album-detail": [{"pk": a["album"].pk}, {"pk": a["owned_album"].pk}],
        "collection:artist-detail": [{"pk": a["artist"].pk}, {"pk": a["owned_artist"].pk}],
        "playlists:playlist-detail": [{"pk": playlist}, {"pk": a["ai_playlist"].pk}],
        "playlists:playlist-rename": [{"pk": playlist}],
        "playlists:playlist-regenerate": [{"pk": playlist}, {"pk": a["ai_playlist"].pk}],
        "playlists:playlist-delete": [{"pk": playlist}],
        "playlists:playlist-reorder": [{"pk": playlist}],
        "playlists:playlist-move": [{"pk": playlist, "entry_pk": entry}],
        "playlists:playlist-remove": [{"pk": playlist, "entry_pk": entry}],
        "playlists:playlist-track-search": [{"pk": playlist}],
        "playlists:playlist-add": [{"pk": playlist}],
        "playlists:playlist-export": [
            {"pk": playlist, "fmt": f} for f in ("m3u8", "xspf", "csv", "json")
        ],
        "enrichment:artist-images": [{"pk": a["artist"].pk}],
        "enrichment:album-images": [{"pk": a["album"].pk}],
        "enrichment:album-notes": [{"pk": a["album"].pk}],
        "enrichment:album-notes-regenerate": [{"pk": a["album"].pk}],
    }


def _query_strings(a: dict) -> list[str]:
    """Query strings every page also gets: A's ids and names where a page takes them."""
    return [
        "",
        "?q=SECRET",  # not the marker itself: a page may echo the query
        f"?artist={a['artist'].pk}&album={a['album'].pk}&track={a['track'].pk}",
        f"?date={a['day'].isoformat()}&year={a['year']}&period=year",
    ]


def _post_data(a: dict) -> dict:
    """One form body for every POST: each form takes the fields it knows, aimed at A's things."""
    entries = ",".join(str(e.pk) for e in reversed(a["entries"]))
    return {
        "name": "renamed by B",
        "track": a["track"].pk,
        "order": entries,
        "direction": "down",
        "loved": "1",
        "image": a["image"].pk,
        "url": "https://img.example/b.jpg",
        "confirm": "1",
        "artist": "B typed this artist",
        "album": "B typed this album",
        "date": "2021-03-14",
        "time": "21:00",
        "algorithm": "top",
        "language": "en",
        "next": "/journal/",
    }


def _page_requests(fills: dict) -> tuple[list[tuple[str, str, list[dict]]], list[str]]:
    """(name, route, kwargs to try) of every page route, and the routes nobody can fill."""
    routes, unfilled = [], []
    for name, route, _pattern in _walk(get_resolver().url_patterns):
        if name.rsplit(":", 1)[-1] in NO_USER_DATA or _is_api(route):
            continue  # see NO_USER_DATA; the API is walked through its schema below
        if re.search(r"<(?:\w+:)?\w+>", route):
            if name not in fills:
                unfilled.append(f"{name or route!r} ({route})")
                continue
            routes.append((name, route, fills[name]))
        else:
            routes.append((name, route, [{}]))
    return routes, unfilled


def _a_new_view(request, pk):  # pragma: no cover - never called
    raise AssertionError


def test_a_new_route_with_parameters_fails_the_walk_until_it_is_filled(settings, world):
    """Someone adds a page with an id in its path: the walk names it instead of skipping it."""
    import sys
    import types

    from django.urls import clear_url_caches, include, path

    from musictracker.urls import urlpatterns

    module = types.ModuleType("isolation_probe_urls")
    module.urlpatterns = [
        path("things/<int:pk>/", _a_new_view, name="thing-detail"),
        path("", include(urlpatterns)),
    ]
    sys.modules["isolation_probe_urls"] = module
    settings.ROOT_URLCONF = "isolation_probe_urls"
    clear_url_caches()
    try:
        routes, unfilled = _page_requests(_fills(world["a"]))
    finally:
        del sys.modules["isolation_probe_urls"]
        clear_url_caches()
    assert unfilled == ["'thing-detail' (things/<int:pk>/)"]
    assert any(name == "tracking:listen-detail" for name, _, _ in routes)


def test_every_page_and_post_keeps_alices_data_from_bob(client, world):
    a, bob = world["a"], world["bob"]
    before = _snapshot(a["user"])
    fills = _fills(a)
    leaks = Leaks()
    routes, unfilled = _page_requests(fills)
    walked = 0
    for name, route, kwargs_list in routes:
        for kwargs in kwargs_list:
            url = reverse(name, kwargs=kwargs) if name else "/" + route
            for query in _query_strings(a):
                client.force_login(bob)
                leaks.check(f"GET {url}{query}", _request(client, "GET", url + query))
                walked += 1
            client.force_login(bob)  # the fragment htmx asks for, which may differ from the page
            hx = _request(client, "GET", url, HTTP_HX_REQUEST="true")
            leaks.check(f"GET {url} (htmx)", hx)
            client.force_login(bob)
            leaks.check(f"POST {url}", _request(client, "POST", url, data=_post_data(a)))
            client.force_login(bob)
            hx = _request(client, "POST", url, data=_post_data(a), HTTP_HX_REQUEST="true")
            leaks.check(f"POST {url} (htmx)", hx)
    assert not unfilled, (
        "The isolation walk cannot fill the path parameters of these routes: add A's object for "
        "them in _fills() of tests/test_isolation.py (or, if the route holds no user data, to "
        "NO_USER_DATA with the reason):\n" + "\n".join(unfilled)
    )
    assert walked > 100
    leaks.assert_none()
    assert _snapshot(a["user"]) == before


# ---- the API walk -------------------------------------------------------------------------------


def _api_schema(client, bob) -> dict:
    client.force_login(bob)
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


def _api_path_values(a: dict) -> dict[str, list[int]]:
    return {
        "job_id": [a["import_job"].pk, a["backfill_job"].pk],
        "album_id": [a["album"].pk, a["owned_album"].pk],
        "artist_id": [a["artist"].pk, a["owned_artist"].pk],
        "playlist_id": [a["playlist"].pk, a["ai_playlist"].pk],
    }


def _api_query_values(a: dict) -> dict[str, str]:
    return {
        "artist": str(a["artist"].pk),
        "album": str(a["album"].pk),
        "q": "SECRET",
        "date": a["day"].isoformat(),
        "year": str(a["year"]),
        "from": "2021-01-01",
        "to": "2021-12-31",
    }


def _api_bodies(a: dict) -> dict[tuple[str, str], dict]:
    return {
        ("post", "/api/v1/playlists"): {
            "algorithm": "top",
            "name": "B's",
            "parameters": {"artist": a["artist"].pk},
        },
        ("patch", "/api/v1/playlists/{playlist_id}"): {
            "name": "renamed by B",
            "entry_ids": [e.pk for e in reversed(a["entries"])],
        },
    }


def _api_calls(schema: dict, a: dict):
    """(method, url, json body or None) for every operation, each query parameter with an
    enum or pattern tried in every value, path parameters set to A's objects."""
    paths = _api_path_values(a)
    queries = _api_query_values(a)
    bodies = _api_bodies(a)
    unfilled = []
    calls = []
    for path, operations in schema["paths"].items():
        for method, op in operations.items():
            path_params = [p["name"] for p in op.get("parameters", []) if p["in"] == "path"]
            missing = [p for p in path_params if p not in paths]
            if missing:
                unfilled.append(f"{method.upper()} {path}: {missing}")
                continue
            variants = [{}]
            for name in path_params:
                variants = [{**v, name: value} for v in variants for value in paths[name]]
            query_sets = [{}]
            fixed = {}
            for p in op.get("parameters", []):
                if p["in"] != "query":
                    continue
                schema_p = p.get("schema", {})
                choices = schema_p.get("enum")
                if not choices and schema_p.get("pattern", "").startswith("^("):
                    choices = schema_p["pattern"][2:-2].split("|")
                if choices:
                    query_sets = [{**q, p["name"]: c} for q in query_sets for c in choices]
                elif p["name"] in queries:
                    fixed[p["name"]] = queries[p["name"]]
            query_sets.append({})
            query_sets.append(fixed)
            body = bodies.get((method, path))
            if "requestBody" in op and body is None and path != "/api/v1/imports":
                unfilled.append(f"{method.upper()} {path}: no request body in _api_bodies()")
                continue
            for v in variants:
                url = path.format(**v)
                for q in query_sets:
                    qs = "&".join(f"{k}={val}" for k, val in q.items())
                    calls.append((method, url + (f"?{qs}" if qs else ""), body))
    assert not unfilled, (
        "The isolation walk cannot fill these API operations: add A's objects or a body in "
        "tests/test_isolation.py (_api_path_values / _api_bodies):\n" + "\n".join(unfilled)
    )
    return calls


@pytest.mark.parametrize("auth", ["session", "token"])
def test_every_api_operation_keeps_alices_data_from_bob(client, world, auth):
    a, bob = world["a"], world["bob"]
    schema = _api_schema(client, bob)
    before = _snapshot(a["user"])
    headers = {}
    if auth == "token":
        client.logout()
        headers = {"HTTP_AUTHORIZATION": f"Token {world['bob_raw']}"}
    leaks = Leaks()
    calls = _api_calls(schema, a)
    assert len(calls) > 40
    ops = set()
    for method, url, body in calls:
        if auth == "session":
            client.force_login(bob)
        kw = dict(headers)
        if body is not None:
            kw.update(data=json.dumps(body), content_type="application/json")
        if url == "/api/v1/imports":
            continue  # B's own upload: test_isolation_import_is_bobs below
        response = _request(client, method, url, **kw)
        leaks.check(f"{method.upper()} {url} ({auth})", response)
        ops.add((method, url.split("?")[0]))
    # every operation of the schema was reached
    assert {m for m, _ in ops} >= {"get", "post", "patch", "delete"}
    leaks.assert_none()
    assert _snapshot(a["user"]) == before


NINJA_OWN = {"api-root", "openapi-json", "openapi-view"}  # the schema and its docs, no data


def test_every_ninja_route_is_in_the_schema(client, world):
    """The URL walk leaves api/v1/ to the schema walk: nothing mounted may hide from it."""
    schema = _api_schema(client, world["bob"])
    documented = {re.sub(r"\{(\w+)\}", r"<\1>", p).removeprefix("/") for p in schema["paths"]}
    for name, route, _pattern in _walk(get_resolver().url_patterns):
        if _is_api(route) and name.rsplit(":", 1)[-1] not in NINJA_OWN:
            assert route in documented, f"{route} is mounted but not in the OpenAPI schema"


def test_history_exports_hold_bobs_listens_and_none_of_alices(client, world):
    a = world["a"]
    before = _snapshot(a["user"])
    headers = {"HTTP_AUTHORIZATION": f"Token {world['bob_raw']}"}
    leaks = Leaks()
    for fmt in ("csv", "jsonl"):
        response = client.get(f"/api/v1/history/export?format={fmt}", **headers)
        assert response.status_code == 200
        leaks.check(f"API export {fmt}", response)
        assert b"Bob Song" in _body(response)  # B's own history is there
        client.force_login(world["bob"])
        response = client.get(f"/settings/imports/export/{fmt}/")
        assert response.status_code == 200
        leaks.check(f"Settings export {fmt}", response)
        assert b"Bob Song" in _body(response)
    leaks.assert_none()
    assert _snapshot(a["user"]) == before


# ---- ListenBrainz-compatible /1/ -----------------------------------------------------------------


def test_listenbrainz_routes_keep_alices_data_from_bob(client, world):
    a = world["a"]
    before = _snapshot(a["user"])
    name = a["user"].username
    leaks = Leaks()
    bob_auth = {"HTTP_AUTHORIZATION": f"Token {world['bob_raw']}"}
    # B may read only his own bookmark, whatever name he asks for.
    response = client.get(f"/1/latest-import?user_name={name}", **bob_auth)
    assert response.status_code in (401, 403, 404)
    leaks.check("latest-import of A", response)
    # B's token is B's: it validates as bob, not as anyone else.
    response = client.get("/1/validate-token", **bob_auth)
    assert response.json()["user_name"] == "bob"
    # B cannot set A's bookmark or submit into A's history by naming A.
    body = {"ts": 2_000_000_000, "user_name": name}
    response = client.post(
        "/1/latest-import", data=json.dumps(body), content_type="application/json", **bob_auth
    )
    leaks.check("POST latest-import", response)
    listen = {
        "listen_type": "single",
        "user_name": name,
        "payload": [
            {
                "listened_at": 1_700_000_000,
                "track_metadata": {"artist_name": "B's band", "track_name": "B's song"},
            }
        ],
    }
    response = client.post(
        "/1/submit-listens", data=json.dumps(listen), content_type="application/json", **bob_auth
    )
    assert response.status_code == 200
    assert Listen.objects.filter(user=world["bob"], track__title="B's song").exists()
    # A's own token is not usable by anyone without it; a wrong one is refused.
    response = client.get("/1/validate-token", HTTP_AUTHORIZATION="Token " + "x" * 43)
    assert response.json()["valid"] is False
    leaks.assert_none()
    assert _snapshot(a["user"]) == before


# ---- the admin ----------------------------------------------------------------------------------


def _admin_urls(a: dict) -> list[str]:
    """The index, each app's index, and every registered model's list, add, and change/delete/
    history pages of one of A's rows (or of any row when A has none of that model)."""
    urls = ["/admin/"]
    mine = {
        Listen: a["listen"].pk,
        Playlist: a["playlist"].pk,
        CollectionItem: a["item"].pk,
        Job: a["import_job"].pk,
        ApiToken: a["token"].pk,
        AiReview: a["review"].pk,
        get_user_model(): a["user"].pk,
    }
    apps = set()
    for model in admin.site._registry:
        meta = model._meta
        apps.add(meta.app_label)
        base = f"/admin/{meta.app_label}/{meta.model_name}/"
        urls += [base, base + "add/"]
        pk = mine.get(model) or model.objects.order_by("pk").values_list("pk", flat=True).first()
        if pk is not None:
            urls += [f"{base}{pk}/change/", f"{base}{pk}/delete/", f"{base}{pk}/history/"]
    urls += [f"/admin/{label}/" for label in sorted(apps)]
    return urls


def test_admin_is_out_of_reach_of_a_user_who_is_not_staff(client, world):
    a, bob = world["a"], world["bob"]
    before = _snapshot(a["user"])
    urls = _admin_urls(a)
    assert len(urls) > 30
    leaks = Leaks()
    for url in urls:
        for method in ("GET", "POST"):
            client.force_login(bob)
            response = _request(client, method, url, data={"post": "yes"})
            leaks.check(f"admin {method} {url}", response)
            assert response.status_code == 302, f"{method} {url}: {response.status_code}"
            assert response["Location"].startswith("/admin/login/"), url
    # The admin's login refuses him too: he is no staff.
    client.logout()
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "bob", "password": "correct horse battery", "next": "/admin/"},
    )
    assert response.status_code == 200  # the form again, with an error
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302
    leaks.assert_none()
    assert _snapshot(a["user"]) == before


# ---- B's own things built from A's ids -----------------------------------------------------------


def test_bob_cannot_pull_alices_catalogue_into_his_own_things(client, world):
    """Ids of A's tracks, albums and artists given to B's own playlist, love button and filters
    must not bring A's names into B's pages."""
    a, bob = world["a"], world["bob"]
    mine = world["bob_playlist"]
    client.force_login(bob)
    leaks = Leaks()
    add = reverse("playlists:playlist-add", args=[mine.pk])
    leaks.check("add A's track to B's playlist", client.post(add, {"track": a["track"].pk}))
    love = reverse("tracking:track-love", args=[a["track"].pk])
    leaks.check("love A's track", client.post(love, {"loved": "1"}))
    for url in (
        reverse("playlists:playlist-detail", args=[mine.pk]),
        *(
            reverse("playlists:playlist-export", args=[mine.pk, f])
            for f in ("m3u8", "xspf", "csv", "json")
        ),
        "/journal/",
        f"/journal/?artist={a['artist'].pk}",
        f"/journal/?album={a['album'].pk}",
        "/settings/imports/export/csv/",
        "/settings/imports/export/jsonl/",
        "/api/v1/history/listens?loved=true",
        f"/api/v1/playlists/{mine.pk}",
        "/search/?q=SECRET",
    ):
        leaks.check(f"B's page {url}", _request(client, "GET", url))
    leaks.assert_none()
    assert not PlaylistTrack.objects.filter(playlist=mine, track=a["track"]).exists()
    assert not LovedTrack.objects.filter(user=bob, track=a["track"]).exists()
