"""Pressing Sync Discogs in Settings and watching the progress in a real browser."""

from __future__ import annotations

import threading
import time

import pytest

from collection import discogs_sync
from collection.models import CollectionItem
from musictracker.models import Profile
from tests.fakes.discogs import FakeDiscogs, make_release, sample

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def fake(settings):
    server = FakeDiscogs().start()
    settings.MUSICTRACKER = {
        **settings.MUSICTRACKER,
        "discogs": {**settings.MUSICTRACKER["discogs"], "base_url": server.url},
    }
    yield server
    server.stop()


@pytest.fixture
def collection(fake, user):
    Profile.objects.filter(user=user).update(
        discogs_username="vinylfan", discogs_token="good-token"
    )
    fake.add(sample("release_abbey_road_lp"))
    for i in range(30):
        fake.add(
            make_release(
                100 + i, title=f"Record {i}", artist="Band", artist_id=5, master_id=900 + i
            )
        )
    return fake


def test_pressing_sync_in_settings_imports_the_collection(
    signed_in, live_server, collection, user, shot
):
    page = signed_in
    page.goto(f"{live_server.url}/settings/")
    section = page.get_by_role("region", name="Discogs collection")
    assert section.get_by_text("vinylfan").is_visible()
    assert "good-token" not in page.content()
    section.get_by_role("button", name="Sync Discogs").click()
    # Tasks run inline in tests: the htmx answer comes when the sync is over.
    progress = section.get_by_role("status")
    progress.wait_for(timeout=60_000)
    shot(page, "synced")
    assert "Done" in progress.inner_text() and "31 added" in progress.inner_text()
    assert CollectionItem.objects.filter(user=user).count() == 31

    page.goto(f"{live_server.url}/collection/")
    page.locator("#discogs-sync strong", has_text="vinylfan").wait_for()  # loaded by htmx
    assert page.get_by_role("button", name="Sync Discogs").is_visible()


def test_progress_is_live_while_a_sync_runs(signed_in, live_server, collection, user, shot):
    page = signed_in
    original = collection._route

    def slow_route(path, query, who):  # Discogs at a walking pace, so progress can be watched
        if path.startswith("/releases/"):
            time.sleep(1.0)  # slow enough that a loaded machine still sees it running
        return original(path, query, who)

    collection._route = slow_route
    job, _ = discogs_sync.queue_sync(user)
    worker = threading.Thread(target=discogs_sync.sync_collection, args=(user, job))
    # The page is loaded before the sync starts writing: the test database is SQLite in memory
    # with a shared cache, where a read during another thread's write fails at once ("table is
    # locked") instead of waiting as on the WAL file of a real install. A failed htmx poll is
    # simply tried again 2 s later; the page load is not.
    page.goto(f"{live_server.url}/settings/")
    worker.start()
    try:
        progress = page.get_by_role("region", name="Discogs collection").get_by_role("status")
        progress.get_by_text("Running").wait_for(timeout=20_000)
        first = int(progress.locator("progress").get_attribute("value"))
        deadline = time.monotonic() + 30
        while True:  # the value and the words read together: the fragment is swapped every 2 s
            value, text = page.locator("#discogs-sync").evaluate(
                "el => [Number(el.querySelector('progress')?.value ?? -1), el.innerText]"
            )
            if value > first:
                break
            assert time.monotonic() < deadline, "the progress never moved"
            page.wait_for_timeout(300)
        assert "Fetching tracklists" in text or "Reading" in text, text
        shot(page, "running")
        progress.get_by_text("Done").wait_for(timeout=60_000)  # polling swaps the fragment in
        shot(page, "done")
    finally:
        worker.join(timeout=60)
    assert CollectionItem.objects.filter(user=user).count() == 31
