"""What keeps the API fast without changing what it answers: tokens remembered for a few seconds
(revocation still prompt), the history page's queries, and the JSON it renders."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from musictracker import models as mt_models
from musictracker.models import ApiToken

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_cached_tokens():
    mt_models._token_cache.clear()
    yield
    mt_models._token_cache.clear()


def _token_client(user) -> tuple[ApiToken, Client]:
    token, raw = ApiToken.issue(user=user, name="tests")
    return token, Client(HTTP_AUTHORIZATION=f"Token {raw}")


# ---- tokens ----------------------------------------------------------------------------------
def test_a_remembered_token_costs_no_query(user, django_assert_num_queries):
    _, api = _token_client(user)
    assert api.get("/api/v1/me").json()["username"] == "alice"  # looked up, use recorded
    with django_assert_num_queries(0):
        assert api.get("/api/v1/me").json() == {"id": user.pk, "username": "alice"}


def test_tokens_of_two_users_stay_apart_when_remembered(user, other_user, add_listens):
    add_listens(user, [("Radiohead", "Airbag", "OK Computer", datetime(2021, 1, 1, tzinfo=UTC))])
    add_listens(other_user, [("Björk", "Jóga", "", datetime(2021, 1, 2, tzinfo=UTC))])
    _, alice = _token_client(user)
    _, bob = _token_client(other_user)
    for _ in range(3):
        assert alice.get("/api/v1/me").json()["username"] == "alice"
        assert bob.get("/api/v1/me").json()["username"] == "bob"
        items = alice.get("/api/v1/history/listens").json()["items"]
        assert [i["track"]["title"] for i in items] == ["Airbag"]
        items = bob.get("/api/v1/history/listens").json()["items"]
        assert [i["track"]["title"] for i in items] == ["Jóga"]


def test_each_request_gets_its_own_user_object(user):
    first = ApiToken.authenticate(_raw := ApiToken.issue(user=user, name="x")[1])
    second = ApiToken.authenticate(_raw)  # from the cache
    assert first.user == second.user and first.user is not second.user
    second.user.first_name = "changed by a view"
    assert ApiToken.authenticate(_raw).user.first_name == ""


def test_revoking_in_settings_takes_effect_at_once(auth_client, user):
    token, api = _token_client(user)
    assert api.get("/api/v1/me").status_code == 200  # remembered now
    auth_client.post(f"/settings/tokens/{token.pk}/revoke/")
    assert api.get("/api/v1/me").status_code == 401
    assert api.get("/api/v1/history/listens").status_code == 401


def test_deleting_a_token_or_deactivating_its_user_takes_effect_at_once(user, other_user):
    token, api = _token_client(user)
    assert api.get("/api/v1/me").status_code == 200
    token.delete()
    assert api.get("/api/v1/me").status_code == 401
    _, bob = _token_client(other_user)
    assert bob.get("/api/v1/me").status_code == 200
    other_user.is_active = False
    other_user.save()
    assert bob.get("/api/v1/me").status_code == 401


def test_a_token_revoked_by_another_process_stops_within_the_cache_time(user, monkeypatch):
    monkeypatch.setattr(mt_models, "TOKEN_CACHE_SECONDS", 1.5)
    token, api = _token_client(user)
    assert api.get("/api/v1/me").status_code == 200
    remembered_at = time.monotonic()
    # Another process (a second web worker) revokes it: no signal reaches this one, which may go
    # on accepting the token for the cache time…
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=datetime.now(UTC))
    assert api.get("/api/v1/me").status_code == 200
    time.sleep(max(0.0, remembered_at + 1.5 - time.monotonic()) + 0.05)
    # …and no longer.
    assert api.get("/api/v1/me").status_code == 401
    assert api.get("/api/v1/history/listens").status_code == 401


def test_the_default_cache_time_is_a_few_seconds():
    assert 0 < mt_models.TOKEN_CACHE_SECONDS <= 5


def test_a_wrong_token_is_never_remembered(client):
    for _ in range(2):
        response = client.get("/api/v1/me", HTTP_AUTHORIZATION="Token not-a-token")
        assert response.status_code == 401
    assert mt_models._token_cache == {}


def test_a_remembered_token_still_records_its_use_once_a_minute(user):
    token, api = _token_client(user)
    with time_machine.travel(datetime(2030, 1, 1, 12, tzinfo=UTC), tick=False):
        api.get("/api/v1/me")
    token.refresh_from_db()
    assert token.last_used_at == datetime(2030, 1, 1, 12, tzinfo=UTC)
    with time_machine.travel(datetime(2030, 1, 1, 12, 0, 30, tzinfo=UTC), tick=False):
        api.get("/api/v1/me")  # within the minute: no write
    token.refresh_from_db()
    assert token.last_used_at == datetime(2030, 1, 1, 12, tzinfo=UTC)
    later = datetime(2030, 1, 1, 12, 2, tzinfo=UTC)
    with time_machine.travel(later, tick=False):
        api.get("/api/v1/me")
        api.get("/api/v1/me")
    token.refresh_from_db()
    assert token.last_used_at == later
    assert later - timedelta(minutes=1) < token.last_used_at
