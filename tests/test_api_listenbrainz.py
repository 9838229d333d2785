"""ListenBrainz-compatible submission, driven by the real liblistenbrainz client on a live server."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
from liblistenbrainz import Listen as LBListen
from liblistenbrainz import ListenBrainz
from liblistenbrainz.errors import InvalidAuthTokenException, ListenBrainzAPIException

from musictracker.models import ApiToken
from tracking.models import Listen, NowPlaying

pytestmark = pytest.mark.django_db(transaction=True)

MBID = "3b1d4bd3-7c8f-4d8f-a2b1-0f8c0f0e2b1a"


@pytest.fixture
def lb(live_server, user):
    _, raw = ApiToken.issue(user=user, name="Navidrome")
    client = ListenBrainz(api_base_url=live_server.url + "/")
    client.set_auth_token(raw)  # calls /1/validate-token and raises if invalid
    client.raw_token = raw
    return client


def test_liblistenbrainz_submits_single_import_and_playing_now(lb, user):
    ts = int(time.time()) - 3600
    lb.submit_single_listen(
        LBListen(
            track_name="Roads",
            artist_name="Portishead",
            release_name="Dummy",
            listened_at=ts,
            recording_mbid=MBID,
            artist_mbids=["8f6bd1e4-fbe1-4f50-aa9b-94c450ec0f11"],
            additional_info={"duration": 305},
        )
    )
    listen = Listen.objects.select_related("track", "artist", "album").get(user=user)
    assert listen.source == "api"
    assert listen.listened_at == datetime.fromtimestamp(ts, UTC)
    assert (listen.artist.name, listen.track.title, listen.album.title) == (
        "Portishead",
        "Roads",
        "Dummy",
    )
    assert str(listen.track.mbid) == MBID
    assert str(listen.artist.mbid) == "8f6bd1e4-fbe1-4f50-aa9b-94c450ec0f11"
    assert listen.track.duration == 305

    lb.submit_multiple_listens(
        [
            LBListen(
                track_name=f"Track {i}", artist_name="Massive Attack", listened_at=ts + 300 * i
            )
            for i in range(1, 4)
        ]
    )
    assert Listen.objects.filter(user=user).count() == 4

    lb.submit_playing_now(
        LBListen(track_name="Teardrop", artist_name="Massive Attack", release_name="Mezzanine")
    )
    playing = NowPlaying.objects.get(user=user)
    assert (playing.artist_name, playing.track_name, playing.album_name) == (
        "Massive Attack",
        "Teardrop",
        "Mezzanine",
    )
    assert playing.expires_at > playing.started_at
    assert Listen.objects.filter(user=user).count() == 4  # playing now is not a listen


def test_validate_token(live_server, lb, user):
    import requests

    ok = requests.get(
        f"{live_server.url}/1/validate-token", headers={"Authorization": f"Token {lb.raw_token}"}
    )
    assert ok.json() == {
        "code": 200,
        "message": "Token valid.",
        "valid": True,
        "user_name": "alice",
    }
    by_param = requests.get(f"{live_server.url}/1/validate-token", params={"token": lb.raw_token})
    assert by_param.json()["valid"] is True
    bad = requests.get(f"{live_server.url}/1/validate-token", params={"token": "nope"})
    assert bad.status_code == 200 and bad.json()["valid"] is False
    missing = requests.get(f"{live_server.url}/1/validate-token")
    assert missing.status_code == 400 and missing.json()["code"] == 400
    with pytest.raises(InvalidAuthTokenException):
        ListenBrainz(api_base_url=live_server.url + "/").set_auth_token("wrong")


def test_submission_without_or_with_a_wrong_token_is_401(live_server, user):
    client = ListenBrainz(api_base_url=live_server.url + "/")
    client.set_auth_token("wrong", check_validity=False)
    with pytest.raises(ListenBrainzAPIException) as exc:
        client.submit_single_listen(
            LBListen(track_name="a", artist_name="b", listened_at=int(time.time()))
        )
    assert exc.value.status_code == 401
    assert not Listen.objects.exists()


def test_a_play_from_lastfm_and_from_a_scrobbler_is_stored_once(lb, user, add_listens):
    at = datetime(2024, 2, 3, 20, 15, 7, tzinfo=UTC)
    add_listens(user, [("Portishead", "Roads", "Dummy", at)], source="lastfm")
    lb.submit_single_listen(
        LBListen(
            track_name="Roads",
            artist_name="Portishead",
            release_name="Dummy",
            listened_at=int(at.timestamp()) + 3,
        )
    )
    assert Listen.objects.filter(user=user).count() == 1
    assert Listen.objects.get(user=user).source == "lastfm"
    # The same track a minute later is a new play.
    lb.submit_single_listen(
        LBListen(
            track_name="Roads",
            artist_name="Portishead",
            release_name="Dummy",
            listened_at=int(at.timestamp()) + 400,
        )
    )
    assert Listen.objects.filter(user=user).count() == 2


def _post(client, token, body):
    return client.post(
        "/1/submit-listens",
        data=json.dumps(body) if not isinstance(body, str) else body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {token}",
    )


@pytest.mark.parametrize(
    "body,message",
    [
        ("not json", "Cannot parse JSON document."),
        ([], "Invalid JSON document submitted."),
        ({"listen_type": "sometimes", "payload": []}, "valid listen_type"),
        ({"listen_type": "single"}, "payload key of type list"),
        ({"listen_type": "single", "payload": []}, "does not contain any listens"),
        (
            {
                "listen_type": "single",
                "payload": [
                    {
                        "listened_at": 1700000000,
                        "track_metadata": {"artist_name": "a", "track_name": "b"},
                    }
                ]
                * 2,
            },
            "exactly one listen for single",
        ),
        (
            {
                "listen_type": "single",
                "payload": [{"track_metadata": {"artist_name": "a", "track_name": "b"}}],
            },
            "listened_at",
        ),
        (
            {
                "listen_type": "playing_now",
                "payload": [
                    {
                        "listened_at": 1700000000,
                        "track_metadata": {"artist_name": "a", "track_name": "b"},
                    }
                ],
            },
            "must not contain listened_at",
        ),
        (
            {
                "listen_type": "single",
                "payload": [
                    {
                        "listened_at": "now",
                        "track_metadata": {"artist_name": "a", "track_name": "b"},
                    }
                ],
            },
            "listened_at is of incorrect type",
        ),
        (
            {
                "listen_type": "single",
                "payload": [
                    {"listened_at": 1000, "track_metadata": {"artist_name": "a", "track_name": "b"}}
                ],
            },
            "listened_at is too low",
        ),
        ({"listen_type": "import", "payload": [{"listened_at": 1700000000}]}, "track_metadata"),
        (
            {
                "listen_type": "import",
                "payload": [{"listened_at": 1700000000, "track_metadata": {"track_name": "b"}}],
            },
            "track_metadata.artist_name",
        ),
        (
            {
                "listen_type": "import",
                "payload": [
                    {
                        "listened_at": 1700000000,
                        "track_metadata": {"artist_name": "a", "track_name": " "},
                    }
                ],
            },
            "track_metadata.track_name",
        ),
        (
            {
                "listen_type": "import",
                "payload": [
                    {
                        "listened_at": 1700000000,
                        "track_metadata": {
                            "artist_name": "a",
                            "track_name": "b",
                            "additional_info": {"recording_mbid": "xyz"},
                        },
                    }
                ],
            },
            "recording_mbid MBID format invalid",
        ),
        (
            {
                "listen_type": "import",
                "payload": [
                    {
                        "listened_at": 1700000000,
                        "track_metadata": {
                            "artist_name": "a",
                            "track_name": "b",
                            "additional_info": [],
                        },
                    }
                ],
            },
            "additional_info",
        ),
    ],
)
def test_invalid_payloads_get_listenbrainz_400s(client, user, body, message):
    _, raw = ApiToken.issue(user=user, name="t")
    response = _post(client, raw, body)
    assert response.status_code == 400
    data = response.json()
    assert data["code"] == 400 and message in data["error"]
    assert not Listen.objects.exists()


def test_one_bad_listen_rejects_the_whole_import(client, user):
    _, raw = ApiToken.issue(user=user, name="t")
    good = {"listened_at": 1700000000, "track_metadata": {"artist_name": "a", "track_name": "b"}}
    bad = {"listened_at": 1700000300, "track_metadata": {"artist_name": "a"}}
    assert _post(client, raw, {"listen_type": "import", "payload": [good, bad]}).status_code == 400
    assert not Listen.objects.exists()
    assert _post(client, raw, {"listen_type": "import", "payload": [good]}).json() == {
        "status": "ok"
    }


def test_latest_import(client, user, other_user):
    _, raw = ApiToken.issue(user=user, name="t")
    _post(
        client,
        raw,
        {
            "listen_type": "import",
            "payload": [
                {
                    "listened_at": 1700000000,
                    "track_metadata": {"artist_name": "a", "track_name": "b"},
                }
            ],
        },
    )
    response = client.get("/1/latest-import?user_name=alice", HTTP_AUTHORIZATION=f"Token {raw}")
    assert response.json() == {"musicbrainz_id": "alice", "latest_import": 1700000000}
    assert (
        client.get("/1/latest-import?user_name=bob", HTTP_AUTHORIZATION=f"Token {raw}").status_code
        == 401
    )
    assert client.get("/1/latest-import?user_name=nobody").status_code == 404
    ok = client.post(
        "/1/latest-import",
        data=json.dumps({"ts": 1700000000}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {raw}",
    )
    assert ok.json() == {"status": "ok"}
    bad = client.post(
        "/1/latest-import",
        data="{}",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {raw}",
    )
    assert bad.status_code == 400


def test_submission_is_csrf_exempt_and_open_without_session(user):
    from django.test import Client

    _, raw = ApiToken.issue(user=user, name="t")
    strict = Client(enforce_csrf_checks=True)
    response = _post(
        strict,
        raw,
        {
            "listen_type": "single",
            "payload": [
                {
                    "listened_at": 1700000000,
                    "track_metadata": {"artist_name": "a", "track_name": "b"},
                }
            ],
        },
    )
    assert response.status_code == 200
