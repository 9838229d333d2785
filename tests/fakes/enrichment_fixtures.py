"""Fixtures for the enrichment tests: each fake started on loopback and wired into the
configuration through pytest-django's `settings`. Import with
`from tests.fakes.enrichment_fixtures import *  # noqa: F403`."""

from __future__ import annotations

import json
import re

import pytest

from tests.fakes import spotify
from tests.fakes.coverartarchive import FakeCoverArt
from tests.fakes.deezer import FakeDeezer
from tests.fakes.openai import FakeChat
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


class NotesChat(FakeChat):
    """Album notes as the prompt asks for them: a JSON object, in French when asked, with the film
    of a soundtrack."""

    def answer(self, request, behaviour):
        prompt = " ".join(m["content"] for m in request.get("messages", []))
        return json.dumps(_notes(prompt))


def _notes(prompt: str) -> dict:
    match = re.search(r'Album: "([^"]+)" by ([^.(]+)', prompt)
    title, artist = (match.group(1), match.group(2).strip()) if match else ("?", "?")
    if "in French" in prompt:
        summary = f"{title}, un album marquant de {artist}."
        description = f"{title} paraît dans un contexte fertile.\n\nLe son est ample et précis."
    else:
        summary = f"{title} is a landmark record by {artist}."
        description = f"{title} arrived at a fertile time.\n\nIts sound is wide and precise."
    soundtrack = "soundtrack" in title.lower() or "ost" in title.lower().split()
    film = (
        {"title": "Blade Runner", "year": 1982, "director": "Ridley Scott"} if soundtrack else None
    )
    return {
        "summary": summary,
        "description": description,
        "is_soundtrack": soundtrack,
        "film": film,
    }


@pytest.fixture
def fake_ai(settings):
    with NotesChat(api_key="fake-ai-key", product="104242") as fake:
        configure(
            settings,
            "ai",
            base_url=fake.base_url,
            api_key=fake.api_key,
            product_id=fake.product,
            model="mistral3",
            timeout_seconds=1,
        )
        yield fake
