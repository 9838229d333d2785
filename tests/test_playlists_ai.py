"""The AI generator against a fake OpenAI-compatible server, through the real requests client and
the real background task (tasks run inline in tests)."""

from __future__ import annotations

import json
import random
import re

import pytest

from collection.models import Track
from playlists import ai, generators, services
from playlists.models import Playlist
from tests.conftest import utc
from tests.fakes.openai import FakeChat

pytestmark = pytest.mark.django_db


class PlaylistChat(FakeChat):
    """Answers with the first `pick` candidate ids of the user's message, as {"track_ids": [...]};
    "unknown": two ids that are not candidates, a duplicate, and two real ones."""

    pick = 3

    def answer(self, request, behaviour):
        user_text = next(m["content"] for m in request["messages"] if m["role"] == "user")
        candidates = [int(x) for x in re.findall(r"^(\d+)\t", user_text, re.M)]
        if behaviour == "unknown":
            real = candidates[:2]
            return json.dumps({"track_ids": [999_999, real[0], 888_888, real[0], *real[1:]]})
        return json.dumps({"track_ids": candidates[: self.pick]})


@pytest.fixture
def fake(settings):
    with PlaylistChat() as server:
        settings.MUSICTRACKER = {
            **settings.MUSICTRACKER,
            "ai": {
                **settings.MUSICTRACKER.get("ai", {}),
                "base_url": server.base_url,
                "api_key": "test-key",
                "product_id": "1234",
                "model": "mistral3",
                "timeout_seconds": 0.5,
            },
        }
        yield server


@pytest.fixture
def library(user, add_listens):
    rows = []
    for i in range(6):
        rows += [
            (f"Artist {i}", f"Song {i}", f"Album {i}", utc(2026, 1, 1 + i, 10, m))
            for m in range(6 - i)
        ]
    add_listens(user, rows)
    return [Track.objects.get(title=f"Song {i}").pk for i in range(6)]


@pytest.fixture
def make(user, django_capture_on_commit_callbacks):
    """Create an AI playlist; its queued task runs when the transaction commits, as in
    production (tasks run inline in tests)."""

    def create(user, prompt="calm piano for a rainy Sunday", length=3):
        with django_capture_on_commit_callbacks(execute=True):
            return services.create_playlist(
                user=user,
                name="Rainy",
                algorithm="ai",
                parameters={"prompt": prompt, "length": length, "seed": 1},
            ).playlist

    return create


def track_ids(playlist):
    return list(playlist.entries.order_by("position").values_list("track_id", flat=True))


def test_good_answer_fills_the_playlist_and_keeps_the_prompt(user, library, fake, make):
    playlist = make(user)
    playlist.refresh_from_db()
    assert playlist.status == Playlist.Status.READY
    assert playlist.ai_prompt == "calm piano for a rainy Sunday"
    assert track_ids(playlist) == library[:3]  # most played first in the candidate list
    request = fake.requests[0]
    assert request["path"] == "/2/ai/1234/openai/v1/chat/completions"
    assert request["headers"]["Authorization"] == "Bearer test-key"
    assert request["json"]["model"] == "mistral3"
    user_message = request["json"]["messages"][1]["content"]
    assert "calm piano for a rainy Sunday" in user_message
    assert f"{library[0]}\tArtist 0 – Song 0 (Album 0)" in user_message


def test_fenced_json_is_accepted(user, library, fake, make):
    fake.script = ["fenced"]
    assert track_ids(make(user)) == library[:3]


def test_unknown_ids_and_duplicates_are_dropped(user, library, fake, make):
    fake.script = ["unknown"]
    playlist = make(user, length=5)
    playlist.refresh_from_db()
    assert track_ids(playlist) == library[:2]
    assert playlist.message == "2 unknown tracks in the model's answer were left out."


def test_length_is_respected(user, library, fake, make):
    fake.pick = 6
    assert len(track_ids(make(user, length=2))) == 2


def test_malformed_answer_is_retried_once(user, library, fake, make):
    fake.script = ["malformed", "good"]
    playlist = make(user)
    playlist.refresh_from_db()
    assert playlist.status == Playlist.Status.READY
    assert len(fake.requests) == 2


def test_two_malformed_answers_say_so_plainly(user, library, fake, make):
    fake.script = ["malformed"]
    playlist = make(user)
    playlist.refresh_from_db()
    assert playlist.status == Playlist.Status.FAILED
    assert playlist.message == (
        "The AI failed twice: The model's answer is not the JSON that was asked for."
    )
    assert len(fake.requests) == 2
    assert track_ids(playlist) == []


def test_timeout_is_retried_then_reported(user, library, fake, make):
    fake.script = ["timeout"]
    fake.delay = 1.5
    playlist = make(user)
    playlist.refresh_from_db()
    assert playlist.status == Playlist.Status.FAILED
    assert "did not answer within 0.5 s" in playlist.message


def test_refusal_is_reported(user, library, fake, make):
    fake.script = ["refusal"]
    playlist = make(user)
    playlist.refresh_from_db()
    assert playlist.status == Playlist.Status.FAILED
    assert "The model declined: I can't help with that request." in playlist.message


def test_server_error_then_good_answer(user, library, fake, make):
    fake.script = ["error", "good"]
    playlist = make(user)
    playlist.refresh_from_db()
    assert playlist.status == Playlist.Status.READY


def test_missing_key_says_what_to_configure(user, library, settings, make):
    settings.MUSICTRACKER = {**settings.MUSICTRACKER, "ai": {"api_key": "", "product_id": ""}}
    playlist = make(user)
    playlist.refresh_from_db()
    assert playlist.status == Playlist.Status.FAILED
    assert "ai.api_key" in playlist.message


def test_regenerate_asks_again(user, library, fake, make, django_capture_on_commit_callbacks):
    playlist = make(user)
    fake.script = ["unknown"]
    with django_capture_on_commit_callbacks(execute=True):
        assert services.regenerate_playlist(playlist=playlist) is None
    playlist.refresh_from_db()
    assert track_ids(playlist) == library[:2]
    assert len(fake.requests) == 2


def test_candidates_fit_the_budget(user, library):
    few = ai.candidates(user, rng=random.Random(1), budget_tokens=20)
    assert 0 < len(few) < 6
    assert sum(len(c.line) + 1 for c in few) <= 20 * ai.CHARS_PER_TOKEN
    every = ai.candidates(user, rng=random.Random(1), budget_tokens=10_000)
    assert {c.track_id for c in every} == set(library)


def test_generator_registry_knows_the_ai_one(user):
    assert generators.get("ai").is_ai
    with pytest.raises(generators.ParameterError):
        generators.clean_parameters("ai", {"prompt": "  "})
