"""The one AI client (musictracker/ai.py) against a fake OpenAI-compatible server: retries what
may pass (429 after its Retry-After, 5xx), gives up at once on the rest, says what is missing."""

import time

import pytest

from musictracker import ai
from tests.fakes.openai import FakeChat

MESSAGES = [{"role": "user", "content": "A haiku about rain"}]


@pytest.fixture
def fake(settings):
    with FakeChat() as server:
        settings.MUSICTRACKER = {
            **settings.MUSICTRACKER,
            "ai": {
                "base_url": server.base_url,
                "product_id": server.product,
                "api_key": server.api_key,
                "model": "qwen3",
                "timeout_seconds": 5,
                "max_tokens": 100,
            },
        }
        yield server


def test_a_429_waits_its_retry_after_and_a_503_is_retried(fake):
    fake.fail_with = [429, 503]
    fake.retry_after = "1"
    started = time.monotonic()
    answer = ai.AiClient.from_config(backoff=0.01).complete(MESSAGES)
    assert time.monotonic() - started >= 1
    assert answer.text and answer.model
    assert len(fake.requests) == 3
    body = fake.requests[-1]["json"]
    assert body["model"] == "qwen3" and body["max_tokens"] == 100
    assert "response_format" not in body


def test_a_retry_after_beyond_the_limit_fails_at_once_with_the_status(fake):
    fake.fail_with = [429]
    fake.retry_after = "3600"
    with pytest.raises(ai.AiError, match="429"):
        ai.AiClient.from_config(backoff=0.01).complete(MESSAGES)
    assert len(fake.requests) == 1


def test_lasting_5xx_gives_up_after_the_retries(fake):
    fake.fail_with = [502, 502, 502, 502]
    with pytest.raises(ai.AiError, match="HTTP 502"):
        ai.AiClient.from_config(backoff=0.01).complete(MESSAGES)
    assert len(fake.requests) == 3


def test_a_wrong_key_is_not_retried_and_names_the_setting(fake):
    fake.api_key = "another"
    with pytest.raises(ai.AiError, match="check ai.api_key"):
        ai.AiClient.from_config(backoff=0.01).complete(MESSAGES, json_object=True)
    assert len(fake.requests) == 1
    assert fake.requests[0]["json"]["response_format"] == {"type": "json_object"}


def test_what_is_missing_and_a_local_server_needs_no_key(settings):
    tree = settings.MUSICTRACKER
    settings.MUSICTRACKER = {**tree, "ai": {**tree["ai"], "api_key": "", "product_id": ""}}
    assert {m["key"] for m in ai.missing()} >= {"ai.api_key", "ai.product_id"}
    with pytest.raises(ai.AiNotConfigured, match="ai.api_key"):
        ai.AiClient.from_config()
    settings.MUSICTRACKER = {
        **tree,
        "ai": {**tree["ai"], "api_key": "", "base_url": "http://127.0.0.1:11434/v1"},
    }
    assert ai.missing() == []
