"""API auth: session or personal token; tokens created, shown once, revoked in Settings."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from musictracker.models import ApiToken

pytestmark = pytest.mark.django_db


def test_api_without_credentials_answers_401(client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json() == {"detail": "Unauthorized"}


def test_api_with_a_wrong_or_revoked_token_answers_401(client, user):
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION="Token nope").status_code == 401
    token, raw = ApiToken.issue(user=user, name="script")
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Token {raw}").status_code == 200
    token.revoked_at = datetime.now(UTC)
    token.save()
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Token {raw}").status_code == 401


def test_token_reaches_only_its_users_data(client, user, other_user, add_listens):
    add_listens(user, [("Radiohead", "Airbag", "OK Computer", datetime(2021, 1, 1, tzinfo=UTC))])
    add_listens(other_user, [("Björk", "Jóga", "", datetime(2021, 1, 2, tzinfo=UTC))])
    _, raw = ApiToken.issue(user=other_user, name="bob's")
    response = client.get("/api/v1/history/listens", HTTP_AUTHORIZATION=f"Token {raw}")
    titles = [i["track"]["title"] for i in response.json()["items"]]
    assert titles == ["Jóga"]
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Token {raw}").json()["username"] == "bob"


def test_session_works_for_the_api(auth_client):
    assert auth_client.get("/api/v1/me").json()["username"] == "alice"


def test_settings_creates_a_named_token_shown_once_and_stores_only_its_hash(auth_client, user):
    response = auth_client.post("/settings/tokens/", {"name": "Navidrome"}, follow=True)
    assert response.status_code == 200
    token = ApiToken.objects.get(user=user)
    tokens = next(
        s for s in response.context["sections"] if s["template"] == "settings/_api_tokens.html"
    )
    raw = tokens["new_token"]["value"]
    assert raw.encode() in response.content
    assert b"shown only this once" in response.content
    assert token.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {token.key_hash, token.prefix, token.name}
    again = auth_client.get("/settings/")
    assert raw.encode() not in again.content  # never shown again
    assert b"Navidrome" in again.content and token.prefix.encode() in again.content
    assert b"http://testserver/" in again.content  # the ListenBrainz server URL to use


def test_settings_token_needs_a_name(auth_client, user):
    response = auth_client.post("/settings/tokens/", {"name": ""}, follow=True)
    assert b"Give the token a name" in response.content
    assert not ApiToken.objects.exists()


def test_settings_revokes_a_token_and_not_someone_elses(auth_client, user, other_user, client):
    mine, raw = ApiToken.issue(user=user, name="mine")
    theirs, _ = ApiToken.issue(user=other_user, name="theirs")
    assert auth_client.post(f"/settings/tokens/{theirs.pk}/revoke/").status_code == 404
    response = auth_client.post(f"/settings/tokens/{mine.pk}/revoke/", follow=True)
    assert "revoked" in response.content.decode()
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.revoked_at is not None and theirs.revoked_at is None
    assert b"mine" not in response.content.split(b'id="h-tokens"')[1].split(b"</section>")[0]


def test_token_use_is_recorded_without_a_write_per_request(
    client, user, django_assert_max_num_queries
):
    token, raw = ApiToken.issue(user=user, name="script")
    client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Token {raw}")
    token.refresh_from_db()
    assert token.last_used_at is not None
    with django_assert_max_num_queries(1):  # the token look-up only
        client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Token {raw}")
