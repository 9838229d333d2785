"""The enrichment clients against their fakes: spotipy and requests for real, over loopback."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest

from enrichment import ai
from enrichment.coverart import CoverArtClient
from enrichment.deezer import DeezerClient, DeezerRateLimited
from enrichment.spotify import SpotifyClient, SpotifyError, SpotifyRateLimited
from enrichment.throttle import Limiter
from tests.fakes.enrichment_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db


def test_spotify_takes_the_matching_artist_not_the_first_hit(fake_spotify, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    client = SpotifyClient.from_config()
    match = client.find_artist("AIR")
    assert match.name == "Air"  # "Airbourne" came first in the results
    assert match.id == "5pmVGB4Wj1o3mx5CzK3u6c"
    assert match.url == "https://open.spotify.com/artist/5pmVGB4Wj1o3mx5CzK3u6c"
    assert [i.width for i in match.images] == [640, 320, 160]
    assert client.find_artist("Airbourne Tribute Band") is None
    assert not list(Path(tmp_path).glob(".cache*")), "spotipy must not write its .cache file"
    searches = fake_spotify.hits("/v1/search")
    assert all(int(r["query"]["limit"]) <= 10 for r in searches)


def test_spotify_album_matches_despite_edition_suffix_and_checks_the_artist(fake_spotify):
    client = SpotifyClient.from_config()
    match = client.find_album("Moon Safari", "Air")
    assert match.name == "Moon Safari (Remastered 2018)"  # not "Moon Safari Live", listed first
    assert len(match.images) == 3
    assert client.find_album("Moon Safari", "Daft Punk") is None


def test_spotify_token_is_kept_until_it_expires(fake_spotify):
    SpotifyClient.from_config().find_artist("Air")
    SpotifyClient.from_config().find_artist("Björk")
    assert fake_spotify.tokens_issued == 1
    assert len(fake_spotify.hits("/api/token")) == 1


def test_spotify_429_waits_retry_after_then_succeeds(fake_spotify):
    fake_spotify.rate_limit(times=1, retry_after=1)
    client = SpotifyClient.from_config(limiter=Limiter("spotify", 0))
    started = time.monotonic()
    assert client.find_artist("Air").name == "Air"
    assert time.monotonic() - started >= 0.9  # it honoured Retry-After
    assert len(fake_spotify.hits("/v1/search")) == 2


def test_spotify_long_retry_after_raises_instead_of_sleeping(fake_spotify, settings):
    fake_spotify.rate_limit(times=1, retry_after=3600)
    client = SpotifyClient.from_config()
    started = time.monotonic()
    with pytest.raises(SpotifyRateLimited) as exc:
        client.find_artist("Air")
    assert exc.value.retry_after == 3600
    assert time.monotonic() - started < 5


def test_spotify_limit_above_ten_is_a_400_in_dev_mode(fake_spotify):
    client = SpotifyClient.from_config()
    with pytest.raises(Exception) as exc:
        client.sp.search(q="Air", type="artist", limit=20)
    assert getattr(exc.value, "http_status", None) == 400


def test_spotify_bad_credentials_say_what_to_check(fake_spotify, settings):
    tree = settings.MUSICTRACKER
    settings.MUSICTRACKER = {
        **tree,
        "spotify": {**tree["spotify"], "client_id": f"wrong-{uuid.uuid4()}"},
    }
    with pytest.raises(SpotifyError, match="client_id"):
        SpotifyClient.from_config().find_artist("Air")


def test_spotify_not_configured_is_skipped(settings):
    tree = settings.MUSICTRACKER
    settings.MUSICTRACKER = {**tree, "spotify": {**tree["spotify"], "client_id": ""}}
    assert SpotifyClient.from_config() is None


def test_deezer_matches_by_name_and_returns_every_size(fake_deezer):
    client = DeezerClient.from_config()
    match = client.find_artist("daft punk")
    assert match.id == "27"  # not the tribute band listed first
    assert [i.width for i in match.images] == [1000, 500, 250]
    album = client.find_album("Discovery", "Daft Punk")
    assert album.id == "302127" and album.images[0].url.endswith("1000x1000-000000-80-0-0.jpg")
    assert client.find_album("Discovery", "Air") is None
    assert client.find_artist("Nobody At All") is None


def test_deezer_quota_error_is_waited_out_once_then_raised(fake_deezer):
    client = DeezerClient.from_config()
    fake_deezer.quota(1)
    assert client.find_artist("Daft Punk").id == "27"
    fake_deezer.quota(2)
    with pytest.raises(DeezerRateLimited):
        client.find_artist("Daft Punk")


def test_cover_art_archive_follows_nothing_and_keeps_the_redirect(fake_coverart):
    group, release = str(uuid.uuid4()), str(uuid.uuid4())
    fake_coverart.add(release, release=True, image_id=42)
    client = CoverArtClient.from_config()
    found = client.front(release_group=group, release=release)
    assert found.url == f"{fake_coverart.url}/release/{release}/42.jpg"
    assert [r["path"] for r in fake_coverart.requests] == [
        f"/release-group/{group}/front",  # 404 first
        f"/release/{release}/front",  # then the 307
    ]
    assert client.front(release_group=str(uuid.uuid4())) is None


def test_cover_art_archive_is_paced_one_request_a_second(fake_coverart, settings):
    tree = settings.MUSICTRACKER
    settings.MUSICTRACKER = {
        **tree,
        "coverartarchive": {**tree["coverartarchive"], "min_interval_seconds": 0.5},
    }
    client = CoverArtClient.from_config(limiter=Limiter("musicbrainz", 0.5))
    started = time.monotonic()
    for _ in range(3):
        client.front(release=str(uuid.uuid4()))
    assert time.monotonic() - started >= 0.95


def test_ai_chat_json_sends_bearer_model_and_json_format(fake_ai):
    answer = ai.chat_json(
        [{"role": "user", "content": 'Album: "Discovery" by Daft Punk.'}],
        {"summary": "string"},
        required=["summary"],
    )
    assert answer.model == "mistral3"
    assert "Discovery" in answer.data["summary"]
    body = fake_ai.bodies[-1]
    assert body["model"] == "mistral3"
    assert body["response_format"] == {"type": "json_object"}
    assert fake_ai.requests[-1]["path"] == "/2/ai/104242/openai/v1/chat/completions"


def test_ai_malformed_json_is_retried_once(fake_ai):
    fake_ai.script = ["malformed", "good"]
    answer = ai.chat_json([{"role": "user", "content": "x"}], "{}", required=["summary"])
    assert answer.data["summary"]
    assert len(fake_ai.bodies) == 2
    fake_ai.script = ["malformed", "malformed"]
    with pytest.raises(ai.AiError, match="malformed JSON twice"):
        ai.chat_json([{"role": "user", "content": "x"}], "{}", required=["summary"])


def test_ai_timeout_and_401_give_clear_errors(fake_ai):
    fake_ai.script = ["timeout"]
    fake_ai.delay = 2
    with pytest.raises(ai.AiError, match="did not answer within 1 s"):
        ai.chat_json([{"role": "user", "content": "x"}], "{}")
    fake_ai.script = ["401"]
    with pytest.raises(ai.AiError, match="check ai.api_key"):
        ai.chat_json([{"role": "user", "content": "x"}], "{}")


def test_ai_not_configured_names_the_keys(settings):
    tree = settings.MUSICTRACKER
    settings.MUSICTRACKER = {**tree, "ai": {**tree["ai"], "api_key": "", "product_id": ""}}
    assert {m["key"] for m in ai.missing()} == {"ai.api_key", "ai.product_id"}
    with pytest.raises(ai.AiNotConfigured):
        ai.chat_json([{"role": "user", "content": "x"}], "{}")


def test_ai_local_server_needs_no_key(settings, fake_ai):
    tree = settings.MUSICTRACKER
    settings.MUSICTRACKER = {
        **tree,
        "ai": {**tree["ai"], "base_url": fake_ai.url + "/v1", "api_key": "", "product_id": ""},
    }
    assert ai.missing() == []


def test_spotify_token_is_renewed_after_it_expires(fake_spotify):
    import time_machine

    client = SpotifyClient.from_config()
    client.find_artist("Air")
    issued = fake_spotify.tokens_issued
    with time_machine.travel(time.time() + 2 * 3600, tick=True):
        client.find_artist("Air")
    assert fake_spotify.tokens_issued == issued + 1


def test_spotify_server_error_is_retried(fake_spotify):
    fake_spotify.server_errors = 1
    client = SpotifyClient.from_config()
    assert client.find_artist("Björk").name == "Björk"
    assert len(fake_spotify.hits("/v1/search")) == 2
