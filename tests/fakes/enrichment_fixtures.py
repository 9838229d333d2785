"""Fixtures for the enrichment tests: each fake started on loopback and wired into the
configuration through pytest-django's `settings`. Import with
`from tests.fakes.enrichment_fixtures import *  # noqa: F403`."""

from __future__ import annotations

import pytest

from tests.fakes import openai_notes, spotify
from tests.fakes.coverartarchive import FakeCoverArt
from tests.fakes.deezer import FakeDeezer
from tests.fakes.openai_notes import FakeOpenAI
from tests.fakes.spotify import FakeSpotify

__all__ = [
    "fake_spotify",
    "fake_deezer",
    "fake_coverart",
    "fake_ai",
    "no_pacing",
    "configure",
]


def configure(settings, section: str, **values) -> None:
    tree = settings.MUSICTRACKER
    settings.MUSICTRACKER = {**tree, section: {**tree.get(section, {}), **values}}


@pytest.fixture
def no_pacing(settings):
    """Tests need not wait a second between Cover Art Archive calls."""
    configure(settings, "coverartarchive", min_interval_seconds=0)
    configure(settings, "deezer", min_interval_seconds=0, quota_wait_seconds=0.05)
    configure(settings, "spotify", min_interval_seconds=0)


@pytest.fixture
def fake_spotify(settings, no_pacing):
    from enrichment import spotify as client_module

    client_module._TOKEN_CACHES.clear()  # a new fake is a new Spotify: no token from the last one
    with FakeSpotify() as fake:
        configure(
            settings,
            "spotify",
            client_id=spotify.CLIENT_ID,
            client_secret=spotify.CLIENT_SECRET,
            api_url=fake.api_url,
            token_url=fake.token_url,
            timeout_seconds=5,
        )
        yield fake


@pytest.fixture
def fake_deezer(settings, no_pacing):
    with FakeDeezer() as fake:
        configure(settings, "deezer", base_url=fake.url, timeout_seconds=5)
        yield fake


@pytest.fixture
def fake_coverart(settings, no_pacing):
    with FakeCoverArt() as fake:
        configure(settings, "coverartarchive", base_url=fake.url, timeout_seconds=5)
        yield fake


@pytest.fixture
def fake_ai(settings):
    with FakeOpenAI() as fake:
        configure(
            settings,
            "ai",
            base_url=fake.base_url,
            api_key=openai_notes.API_KEY,
            product_id=openai_notes.PRODUCT_ID,
            model="mistral3",
            timeout_seconds=1,
        )
        yield fake
