"""The Last.fm client: pylast itself against the fake; conversion, errors, retries, rate limit."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.fakes.lastfm import Scrobble, running
from tracking.lastfm import Client, LastfmError, parse_recent

DATA = Path(__file__).parent / "data" / "lastfm"


@pytest.fixture
def lastfm_fake(settings):
    yield from running(settings)


def test_sample_page_converts_to_listen_records():
    page = parse_recent(ET.fromstring((DATA / "recenttracks_extended.xml").read_bytes()))
    assert page.total == 3 and page.total_pages == 2
    assert page.now_playing.track == "Reckoner"
    assert page.now_playing.image_url == ""  # the grey star is not an image
    assert [r.track for r in page.records] == [
        "Get Lucky (feat. Pharrell Williams)",
        "Loose Single",
    ]
    lucky, single = page.records
    assert lucky.listened_at == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert lucky.artist_mbid == "056e4f3e-d505-4dad-8ec1-d04f521cbb56"
    assert lucky.album_mbid == "8f4c6b1e-1a8f-4d3e-9a0e-2f8c7f9b8b1a"
    assert lucky.track_mbid.startswith("6ad4a3a3")
    assert lucky.album_image_url.endswith("/300x300/ram.png")
    assert lucky.source == "lastfm"
    assert single.album == "" and single.album_mbid is None
    assert page.loved == [("Daft Punk", "Get Lucky (feat. Pharrell Williams)")]


def test_recent_tracks_through_pylast_asks_for_200_extended(lastfm_fake):
    lastfm_fake.scrobble(
        "rj", Scrobble(1_700_000_000, "Björk", "Jóga", "Homogenic", "", "", "", "x")
    )
    lastfm_fake.user("rj").now_playing = Scrobble(0, "Air", "La femme d'argent", "Moon Safari")
    page = Client().recent_tracks("rj", time_from=1_600_000_000, time_to=1_800_000_000)
    sent = lastfm_fake.requests[-1]
    assert sent["method"] == "user.getRecentTracks"
    assert (sent["limit"], sent["page"], sent["extended"]) == ("200", "1", "1")
    assert (sent["from"], sent["to"]) == ("1600000000", "1800000000")
    assert page.records[0].artist == "Björk" and page.records[0].album == "Homogenic"
    assert page.now_playing.artist == "Air"
    assert page.total == 1  # the now-playing track is not counted


def test_empty_history_is_zero_pages(lastfm_fake):
    lastfm_fake.user("new")
    page = Client().recent_tracks("new")
    assert (page.records, page.total, page.total_pages) == ([], 0, 0)


@pytest.mark.parametrize("code", [8, 11, 16, 29, 500, 503])
def test_transient_errors_are_retried_with_backoff(lastfm_fake, code):
    lastfm_fake.scrobble("rj", Scrobble(1_700_000_000, "A", "B"))
    lastfm_fake.errors = [code, code]
    delays = []
    client = Client(sleep=delays.append)
    page = client.recent_tracks("rj")
    assert len(page.records) == 1
    assert len(lastfm_fake.requests) == 3
    assert delays == [0.01, 0.02]  # exponential


def test_retries_give_up_with_one_clear_error(lastfm_fake):
    lastfm_fake.user("rj")
    lastfm_fake.errors = [29] * 10
    with pytest.raises(LastfmError) as info:
        Client(sleep=lambda s: None).recent_tracks("rj")
    assert info.value.code == "29" and not info.value.fatal
    assert "Rate Limit Exceeded" in str(info.value) and "5 tries" in str(info.value)
    assert len(lastfm_fake.requests) == 5  # 1 + max_retries, and pylast added none of its own


@pytest.mark.parametrize(
    ("code", "words"), [(8, "Operation failed"), (11, "Service Offline"), (16, "temporary error")]
)
def test_an_error_document_sent_with_a_5xx_status_keeps_its_code_and_words(
    lastfm_fake, code, words
):
    """Last.fm sends errors 8, 11 and 16 with HTTP 500/503 and its error document; pylast stops
    at the status. The user saw "HTTP 503" where Last.fm said it was offline (error 11)."""
    lastfm_fake.user("rj")
    lastfm_fake.errors = [code] * 10
    with pytest.raises(LastfmError) as info:
        Client(sleep=lambda s: None).recent_tracks("rj")
    assert info.value.code == str(code) and not info.value.fatal
    assert words.lower() in str(info.value).lower() and f"(error {code})" in str(info.value)
    assert "HTTP" not in str(info.value)


def test_a_bare_5xx_page_is_still_reported_as_the_http_status(lastfm_fake):
    lastfm_fake.user("rj")
    lastfm_fake.errors = [503] * 10
    with pytest.raises(LastfmError) as info:
        Client(sleep=lambda s: None).recent_tracks("rj")
    assert info.value.code == "503" and "HTTP 503" in str(info.value)


@pytest.mark.parametrize(
    ("code", "words"),
    [(6, "does not know this user"), (10, "API key"), (17, "private"), (26, "suspended")],
)
def test_fatal_errors_stop_at_once(lastfm_fake, code, words):
    lastfm_fake.user("rj")
    lastfm_fake.errors = [code]
    with pytest.raises(LastfmError) as info:
        Client(sleep=lambda s: pytest.fail("must not retry")).recent_tracks("rj")
    assert info.value.fatal and info.value.code == str(code)
    assert words in str(info.value)
    assert len(lastfm_fake.requests) == 1


def test_unknown_user_private_and_bad_key_come_from_the_fake_itself(lastfm_fake):
    with pytest.raises(LastfmError, match="error 6"):
        Client().recent_tracks("nobody")
    lastfm_fake.user("secret").private = True
    with pytest.raises(LastfmError, match="private"):
        Client().recent_tracks("secret")
    with pytest.raises(LastfmError, match="API key"):
        Client(api_key="wrong").recent_tracks("secret")


def test_rate_limit_spaces_requests(lastfm_fake):
    lastfm_fake.user("rj")
    client = Client(requests_per_second=20)
    started = time.monotonic()
    for _ in range(11):
        client.recent_tracks("rj")
    assert time.monotonic() - started >= 0.5 - 0.01  # 10 gaps of 1/20 s


def test_missing_key_is_one_clear_error(settings):
    settings.MUSICTRACKER = {
        **settings.MUSICTRACKER,
        "lastfm": {**settings.MUSICTRACKER["lastfm"], "api_key": ""},
    }
    with pytest.raises(LastfmError, match="lastfm.api_key"):
        Client()
