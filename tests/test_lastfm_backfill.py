"""The history backfill against the fake: whole history, resume after an interruption, pages
shifting under new scrobbles, errors, ranges, and the command with its progress bar."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.management import CommandError, call_command

from musictracker.models import Job, Profile
from tests.fakes.lastfm import Scrobble, running
from tracking import lastfm_sync
from tracking.models import Listen

T0 = 1_600_000_000


@pytest.fixture
def lastfm_fake(settings):
    yield from running(settings)


@pytest.fixture
def rj(user):
    Profile.objects.filter(user=user).update(lastfm_username="RJ")
    user.refresh_from_db()
    return user


def history(n, start=T0, step=180):
    return [
        Scrobble(start + i * step, f"Artist {i % 37}", f"Song {i % 301}", f"Album {i % 53}")
        for i in range(n)
    ]


def stored_times(user):
    return sorted(
        int(t.timestamp())
        for t in Listen.objects.filter(user=user).values_list("listened_at", flat=True)
    )


def test_backfill_imports_every_page(lastfm_fake, rj):
    lastfm_fake.scrobble("RJ", *history(1001))  # 6 pages, the last holding one track
    lastfm_fake.user("RJ").now_playing = Scrobble(0, "Now", "Playing")
    job = lastfm_sync.run_backfill(lastfm_sync.start_backfill(user=rj))
    assert job.status == Job.Status.DONE
    assert (job.total, job.done, job.added) == (1001, 1001, 1001)
    assert stored_times(rj) == [T0 + i * 180 for i in range(1001)]
    pages = [r for r in lastfm_fake.requests if r["method"] == "user.getRecentTracks"]
    assert [r["page"] for r in pages] == ["1", "2", "3", "4", "5", "6"]
    assert {r["limit"] for r in pages} == {"200"} and {r["extended"] for r in pages} == {"1"}
    assert len({r["to"] for r in pages}) == 1  # `to` fixed at the start
    assert job.label.endswith("page 6 of 6")  # pages done, shown live in Settings


def test_interrupted_backfill_resumes_without_loss_or_double(lastfm_fake, rj):
    lastfm_fake.scrobble("RJ", *history(6000))  # 30 pages
    job = lastfm_sync.start_backfill(user=rj)
    calls = {"n": 0}

    def kill_after_28_pages(j, page):
        calls["n"] += 1
        if calls["n"] == 28:
            raise KeyboardInterrupt("worker killed")

    with pytest.raises(KeyboardInterrupt):
        lastfm_sync.run_backfill(job, on_progress=kill_after_28_pages)
    job.refresh_from_db()
    assert job.status == Job.Status.INTERRUPTED
    assert job.state["page"] == 26  # the first 25 pages were stored as one batch
    assert job.done == 5000 and Listen.objects.filter(user=rj).count() == 5000
    lastfm_fake.requests.clear()
    again = lastfm_sync.start_backfill(user=rj)
    assert again.pk == job.pk  # the same job, resumed
    again = lastfm_sync.run_backfill(again)
    assert again.status == Job.Status.DONE
    assert lastfm_fake.requests[0]["page"] == "26"
    assert again.done == 6000 and again.added == 6000 and again.skipped == 0
    assert stored_times(rj) == [T0 + i * 180 for i in range(6000)]


def test_new_scrobbles_during_the_backfill_shift_nothing(lastfm_fake, rj):
    lastfm_fake.scrobble("RJ", *history(1000))
    newest = T0 + 999 * 180
    arrivals = iter(range(1, 10_000))

    def scrobble_meanwhile(params):
        # before every request, 50 new plays arrive: on Last.fm they push every page down
        if params.get("method") == "user.getRecentTracks":
            for _ in range(50):
                lastfm_fake.scrobble("RJ", Scrobble(newest + next(arrivals) * 60, "New", "Song"))

    lastfm_fake.before_request = scrobble_meanwhile
    job = lastfm_sync.run_backfill(lastfm_sync.start_backfill(user=rj, until=None))
    assert job.status == Job.Status.DONE
    times = stored_times(rj)
    assert times[:1000] == [T0 + i * 180 for i in range(1000)]  # nothing skipped or doubled


def test_since_and_until_limit_the_range(lastfm_fake, rj):
    lastfm_fake.scrobble("RJ", *history(100, step=3600))
    since = datetime.fromtimestamp(T0 + 10 * 3600, UTC)
    until = datetime.fromtimestamp(T0 + 19 * 3600, UTC)
    job = lastfm_sync.run_backfill(lastfm_sync.start_backfill(user=rj, since=since, until=until))
    assert job.done == 10
    assert stored_times(rj) == [T0 + i * 3600 for i in range(10, 20)]


def test_fatal_error_stops_the_backfill_with_a_clear_message(lastfm_fake, rj):
    lastfm_fake.user("RJ").private = True
    job = lastfm_sync.run_backfill(lastfm_sync.start_backfill(user=rj))
    assert job.status == Job.Status.FAILED
    assert "private" in job.message
    assert len(lastfm_fake.requests) == 1


def test_transient_errors_mid_backfill_are_retried(lastfm_fake, rj):
    lastfm_fake.scrobble("RJ", *history(600))
    sent = {"n": 0}

    def fail_third(params):
        sent["n"] += 1
        if sent["n"] == 3:
            lastfm_fake.errors = [29, 8, 502]

    lastfm_fake.before_request = fail_third
    job = lastfm_sync.run_backfill(lastfm_sync.start_backfill(user=rj))
    assert job.status == Job.Status.DONE and job.added == 600
    assert len(lastfm_fake.requests) == 3 + 3  # three pages, three retries


def test_command_shows_a_progress_bar_and_imports(lastfm_fake, rj, capsys):
    lastfm_fake.scrobble("RJ", *history(450))
    call_command("import_lastfm", "--user", "alice", "--since", "2020-01-01")
    out, err = capsys.readouterr()
    assert "450 listens added" in out
    assert "page 3/3" in err and "450/450" in err and "listens/s" in err
    assert Listen.objects.filter(user=rj).count() == 450


def test_command_says_what_is_wrong(lastfm_fake, rj):
    with pytest.raises(CommandError, match="No user named"):
        call_command("import_lastfm", "--user", "nobody")
    with pytest.raises(CommandError, match="not a date"):
        call_command("import_lastfm", "--user", "alice", "--since", "yesterday")
    Profile.objects.filter(user=rj).update(lastfm_username="ghost")
    with pytest.raises(CommandError, match="does not know this user"):
        call_command("import_lastfm", "--user", "alice")
