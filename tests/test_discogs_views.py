# ruff: noqa: F811  (the fake fixture is imported from test_discogs_sync)
"""The Sync Discogs button in Settings and on the Collection page, and the daily schedule."""

from __future__ import annotations

import pytest

from collection import tasks
from collection.models import CollectionItem
from musictracker.models import Job, Profile
from musictracker.schedules import schedules
from tests.fakes.discogs import sample
from tests.test_discogs_sync import fake  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def collector(user):
    Profile.objects.filter(user=user).update(
        discogs_username="vinylfan", discogs_token="secret-token-1234"
    )
    return user


def test_settings_shows_the_account_with_the_token_masked(auth_client, collector):
    page = auth_client.get("/settings/").content.decode()
    assert "Discogs collection" in page and "vinylfan" in page
    assert "secret-token-1234" not in page and "1234" in page
    assert "Never synced." in page and "Sync Discogs" in page


def test_settings_says_what_is_missing(auth_client, user):
    page = auth_client.get("/settings/").content.decode()
    assert "Enter your Discogs username in Settings." in page


def test_sync_button_queues_the_task_and_returns_progress_for_htmx(
    auth_client, collector, fake, django_capture_on_commit_callbacks
):
    Profile.objects.filter(user=collector).update(discogs_token="good-token")
    fake.add(sample("release_homogenic"))
    with django_capture_on_commit_callbacks(execute=True):
        response = auth_client.post("/collection/discogs/sync/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body and 'id="discogs-sync"' in body
    job = Job.objects.get(user=collector, kind=Job.Kind.DISCOGS_SYNC)
    assert job.status == Job.Status.DONE  # tasks run inline in tests
    assert CollectionItem.objects.filter(user=collector).count() == 1


def test_sync_without_js_redirects_back_and_errors_show_on_the_page(
    auth_client, collector, fake, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = auth_client.post("/collection/discogs/sync/", {"next": "/settings/"})
    assert response.status_code == 302 and response["Location"] == "/settings/"
    page = auth_client.get("/settings/").content.decode()
    assert "rejected the personal token (401" in page  # the token is wrong for the fake


def test_collection_page_includes_the_button_and_htmx_loads_the_panel(auth_client, collector):
    page = auth_client.get("/collection/").content.decode()
    assert 'hx-get="/collection/discogs/sync/"' in page and "Sync Discogs" in page
    panel = auth_client.get("/collection/discogs/sync/", headers={"HX-Request": "true"})
    assert "vinylfan" in panel.content.decode() and "<html" not in panel.content.decode()
    assert auth_client.get("/collection/discogs/sync/").status_code == 302


def test_a_second_press_while_running_does_not_start_another(auth_client, collector):
    Job.objects.create(user=collector, kind=Job.Kind.DISCOGS_SYNC, status=Job.Status.RUNNING)
    auth_client.post("/collection/discogs/sync/", headers={"HX-Request": "true"})
    assert Job.objects.filter(user=collector).count() == 1


def test_another_users_job_is_not_shown(auth_client, collector, other_user):
    Job.objects.create(user=other_user, kind=Job.Kind.DISCOGS_SYNC, message="bob's secret")
    assert "bob&#x27;s secret" not in auth_client.get("/settings/").content.decode()


def test_daily_schedule_syncs_every_user_with_a_discogs_username(
    fake, collector, other_user, settings
):
    entry = next(s for s in schedules() if s["func"] == "collection.tasks.sync_discogs_all")
    assert entry["cron"] == settings.MUSICTRACKER["discogs"]["sync_cron"]
    Profile.objects.filter(user=collector).update(discogs_token="good-token")
    fake.add(sample("release_homogenic"))
    summary = tasks.sync_discogs_all()
    assert "alice" in summary and "bob" not in summary
    assert CollectionItem.objects.filter(user=collector).count() == 1
