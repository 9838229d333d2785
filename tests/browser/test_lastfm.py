"""The Settings tracker section in a real browser: status, pause/resume, the history import
button, and its live progress (htmx polling) that survives a reload."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from musictracker.models import Job, Profile
from tests.fakes.lastfm import Scrobble, running
from tracking.models import Listen, TrackerStatus

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def lastfm_fake(settings):
    yield from running(settings)


@pytest.fixture
def rj(user):
    Profile.objects.filter(user=user).update(lastfm_username="RJ")
    return user


def test_pause_and_resume_the_tracker(lastfm_fake, rj, signed_in, live_server, shot):
    page = signed_in
    TrackerStatus.objects.create(user=rj, last_poll_at=timezone.now(), last_added=3)
    page.goto(live_server.url + "/settings/")
    section = page.locator("#lastfm-tracker")
    assert section.get_by_text("running").is_visible()
    assert section.get_by_text("Not connected").is_visible()
    shot(page, "tracker-running")
    section.get_by_role("button", name="Pause tracking").click()
    page.wait_for_selector('[data-state="paused"]')
    assert TrackerStatus.objects.get(user=rj).is_paused
    assert page.get_by_text("The Last.fm tracker is paused.").is_visible()
    shot(page, "tracker-paused")
    page.locator("#lastfm-tracker").get_by_role("button", name="Resume tracking").click()
    page.wait_for_selector('[data-state="running"]')
    assert not TrackerStatus.objects.get(user=rj).is_paused


def test_backfill_button_imports_and_shows_the_job(lastfm_fake, rj, signed_in, live_server):
    lastfm_fake.scrobble(
        "RJ", *(Scrobble(1_600_000_000 + i * 200, "A", f"S{i}") for i in range(450))
    )
    page = signed_in
    page.goto(live_server.url + "/settings/")
    page.get_by_role("button", name="Import my whole Last.fm history").click()
    page.wait_for_selector("#lastfm-tracker .job")
    assert Listen.objects.filter(user=rj).count() == 450
    assert "450 / 450" in page.locator("#lastfm-tracker .job").inner_text()


def test_backfill_progress_is_live_and_survives_a_reload(
    lastfm_fake, rj, signed_in, live_server, shot
):
    job = Job.objects.create(
        user=rj,
        kind=Job.Kind.LASTFM_BACKFILL,
        status=Job.Status.RUNNING,
        unit="listens",
        total=100_000,
        done=40_000,
        added=39_000,
        started_at=timezone.now() - timezone.timedelta(seconds=20),
        state={"page": 201, "to": 1_700_000_000},
    )
    page = signed_in
    page.goto(live_server.url + "/settings/")
    box = page.locator(f"#job-{job.pk}")
    assert "40,000 / 100,000" in box.inner_text()
    assert "/s" in box.inner_text() and "left" in box.inner_text()  # rate and time left
    shot(page, "backfill-running")
    Job.objects.filter(pk=job.pk).update(done=70_000)
    expect(page.locator(f"#job-{job.pk}")).to_contain_text("70,000", timeout=8000)
    page.reload()  # the progress is in the database, not in the page
    assert "70,000 / 100,000" in page.locator(f"#job-{job.pk}").inner_text()
    Job.objects.filter(pk=job.pk).update(done=100_000, status=Job.Status.DONE)
    expect(page.locator(f"#job-{job.pk}")).to_contain_text("Done", timeout=8000)
    shot(page, "backfill-done")
