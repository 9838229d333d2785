"""Shared fixtures: users, signed-in clients, and a helper to feed listens through the real road."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model

from collection.catalogue import Catalogue, ListenRecord
from musictracker.middleware import FirstRunMiddleware
from musictracker.models import Profile
from tracking.listens import ingest


@pytest.fixture(autouse=True)
def _isolated_settings(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    FirstRunMiddleware.has_users = False
    # No test reaches the internet: services that need no key point at a closed loopback port
    # (tests that exercise them point them at their fakes).
    offline = "http://127.0.0.1:9"
    settings.MUSICTRACKER = {
        **settings.MUSICTRACKER,
        "deezer": {**settings.MUSICTRACKER["deezer"], "base_url": offline},
        "coverartarchive": {**settings.MUSICTRACKER["coverartarchive"], "base_url": offline},
        "musicbrainz": {**settings.MUSICTRACKER["musicbrainz"], "base_url": offline},
    }
    yield
    FirstRunMiddleware.has_users = False


@pytest.fixture
def make_user(db):
    def make(username="alice", *, time_zone="Europe/Paris", password="correct horse battery", **kw):
        user = get_user_model().objects.create_user(username=username, password=password, **kw)
        Profile.objects.create(user=user, time_zone=time_zone)
        return user

    return make


@pytest.fixture
def user(make_user):
    return make_user("alice")


@pytest.fixture
def other_user(make_user):
    return make_user("bob", time_zone="America/New_York")


@pytest.fixture
def client_for(client):
    """A test client signed in as the given user."""

    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


@pytest.fixture
def auth_client(client, user):
    client.force_login(user)
    return client


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def add_listens():
    """Feed (artist, track, album, utc datetime[, duration]) tuples through resolve + record."""

    def add(user, rows, *, source="import", catalogue=None):
        records = [
            ListenRecord(
                artist=r[0],
                track=r[1],
                album=r[2] or "",
                listened_at=r[3],
                duration=r[4] if len(r) > 4 else None,
                source=source,
            )
            for r in rows
        ]
        return ingest(user, records, catalogue=catalogue or Catalogue(), enrich=False)

    return add
