"""An outside service failing for an hour (issue 10, requirement 7): slow, garbage, HTTP 5xx or
Last.fm's own temporary errors. The tracker keeps its schedule, the status says what happens,
nothing crashes, no listen is lost or doubled, and the first poll after the outage catches up.

The real road is driven: django-q2's scheduler (`django_q.scheduler.scheduler`, what the
cluster runs) fires the "lastfm poll" Schedule that `manage.py sync_schedules` wrote from
musictracker/schedules.py; in tests django-q2 runs the task inline and records it as a Task row.
The task calls pylast against the fake Last.fm of tests/fakes/lastfm.py. The clock is moved by
time-machine, so an hour of two-minute ticks takes seconds.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command
from django_q.brokers import get_broker
from django_q.models import Schedule, Task
from django_q.scheduler import scheduler

from musictracker.models import Job, Profile
from tests.fakes.discogs import FakeDiscogs, sample
from tests.fakes.lastfm import Scrobble, running
from tracking.models import Listen, NowPlaying, TrackerStatus

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 2, 3, 14, 0, 10, tzinfo=UTC)  # far from the daily crons (03:30, 04:17)
TICK = timedelta(seconds=120)  # lastfm.poll_interval_seconds
HOUR_OF_TICKS = 30
TIMEOUT = 0.3  # lastfm.timeout_seconds in these tests; the slow fake answers after 1 s

# What each outage looks like, and the words the tracker's status must use for it.
OUTAGES = {
    "slow": "timeout",
    "html": "invalid response",
    "xhtml": "invalid response",
    "truncated": "invalid response",
    "empty": "invalid response",
    500: "HTTP 500",
    502: "HTTP 502",
    503: "HTTP 503",
    29: "Rate Limit Exceeded",
    # Last.fm sends errors 11 and 16 with HTTP 503 and its error document: the user reads what
    # the document says, not the status.
    11: "Service Offline",
    16: "temporary error",
}


@pytest.fixture
def lastfm(settings):
    for fake in running(settings):
        settings.MUSICTRACKER = {
            **settings.MUSICTRACKER,
            "lastfm": {
                **settings.MUSICTRACKER["lastfm"],
                "timeout_seconds": TIMEOUT,
                "max_retries": 1,
                "retry_base_seconds": 0.001,
            },
        }
        yield fake


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def follower(make_user):
    user = make_user("listener", time_zone="Europe/Paris")
    Profile.objects.filter(user=user).update(lastfm_username="RJ")
    return user


@pytest.fixture
def poll_schedule(clock):
    """The schedules as the run scripts apply them; the Last.fm ones and the heartbeat are kept
    (the others have their own tests, and would only slow this one)."""
    call_command("sync_schedules", stdout=open("/dev/null", "w"))  # noqa: SIM115
    keep = ["lastfm poll", "lastfm loved sync", "worker heartbeat"]
    Schedule.objects.exclude(name__in=keep).delete()
    return Schedule.objects.get(name="lastfm poll")


SCHEDULER_EVERY = timedelta(seconds=30)  # how often the cluster's sentinel runs the scheduler


def tick(clock) -> datetime:
    """Two minutes pass; the cluster's scheduler looks every 30 s and runs whatever is due."""
    for _ in range(TICK // SCHEDULER_EVERY):
        clock.shift(SCHEDULER_EVERY)
        scheduler(broker=get_broker())
    return datetime.now(UTC)


def poll_tasks() -> list[Task]:
    return list(Task.objects.filter(func="tracking.tasks.poll_lastfm").order_by("started"))


def listen_keys(user) -> list[tuple]:
    return list(
        Listen.objects.filter(user=user)
        .order_by("listened_at")
        .values_list("listened_at", "track__title")
    )


def scrobble_at(at: datetime, n: int) -> Scrobble:
    return Scrobble(int(at.timestamp()), "Radiohead", f"Song {n}", "OK Computer")


@pytest.mark.parametrize("outage", list(OUTAGES), ids=str)
def test_an_hour_of_outage_keeps_the_schedule_and_loses_nothing(
    outage, lastfm, clock, follower, poll_schedule, client, settings
):
    fields = {f: getattr(poll_schedule, f) for f in ("func", "schedule_type", "minutes", "repeats")}
    # Before the outage: five scrobbles, stored by a healthy poll.
    for n in range(5):
        lastfm.scrobble("RJ", scrobble_at(T0 - timedelta(minutes=30 - 4 * n), n))
    tick(clock)
    assert Listen.objects.filter(user=follower).count() == 5
    assert TrackerStatus.objects.get(user=follower).consecutive_failures == 0

    # The outage: an hour of two-minute ticks; the fake keeps receiving scrobbles meanwhile.
    lastfm.outage = outage
    if outage == "slow":  # no retry, so the hour of timeouts costs 30 × TIMEOUT of real time
        lastfm.slow_seconds = 1.0
        settings.MUSICTRACKER["lastfm"]["max_retries"] = 0
    next_run = Schedule.objects.get(pk=poll_schedule.pk).next_run
    for k in range(1, HOUR_OF_TICKS + 1):
        now = tick(clock)
        lastfm.scrobble("RJ", scrobble_at(now - timedelta(seconds=30), 100 + k))
        schedule = Schedule.objects.get(pk=poll_schedule.pk)
        assert schedule.next_run == next_run + TICK and schedule.next_run >= now
        next_run = schedule.next_run
        status = TrackerStatus.objects.get(user=follower)
        assert status.consecutive_failures == k
        assert OUTAGES[outage].lower() in status.last_error.lower(), status.last_error
        assert now - TICK < status.last_error_at <= now
        assert status.next_poll_at == status.last_error_at + TICK
        assert Listen.objects.filter(user=follower).count() == 5  # nothing half-stored

    # The schedule is the one written by sync_schedules, unchanged, and every run was a task
    # that finished (the failure is in the tracker's status, not an exception in the worker).
    schedule = Schedule.objects.get(pk=poll_schedule.pk)
    assert {f: getattr(schedule, f) for f in fields} == fields
    tasks = poll_tasks()
    assert len(tasks) == 1 + HOUR_OF_TICKS
    assert all(t.success for t in tasks), [t.result for t in tasks if not t.success]
    assert "1 failed" in tasks[-1].result
    # the loved-tracks sync (every 30 minutes) ran through the outage as well, without crashing
    loved = list(Task.objects.filter(func="tracking.tasks.sync_lastfm_loved"))
    assert all(t.success for t in loved)
    assert sum("1 failed" in t.result for t in loved) == 2  # at 30 and 60 minutes

    # What the user and the monitor see.
    client.force_login(follower)
    page = client.get("/settings/").content.decode()
    assert f"the last {HOUR_OF_TICKS} polls failed in a row" in page
    assert "It keeps trying at every interval." in page
    assert OUTAGES[outage].lower() in page.lower()  # the last error, in words
    health = client.get("/healthz")
    report = health.json()
    assert health.status_code == 200 and report["status"] == "degraded"
    assert report["worker"]["status"] == "ok"  # the worker is fine: the tracker is not
    assert report["polls"]["failing_users"] == 1 and report["polls"]["stale_users"] == 1

    # The service comes back: the next poll stores exactly the 30 scrobbles of the hour.
    lastfm.outage = None
    tick(clock)
    keys = listen_keys(follower)
    assert len(keys) == 5 + HOUR_OF_TICKS == len(set(keys))
    assert {title for _, title in keys} == {f"Song {n}" for n in range(5)} | {
        f"Song {100 + k}" for k in range(1, HOUR_OF_TICKS + 1)
    }
    status = TrackerStatus.objects.get(user=follower)
    assert status.consecutive_failures == 0 and status.last_added == HOUR_OF_TICKS
    tick(clock)  # and the one after finds nothing new: no double
    assert len(listen_keys(follower)) == 5 + HOUR_OF_TICKS
    assert client.get("/healthz").json()["status"] == "ok"
    assert "polls failed in a row" not in client.get("/settings/").content.decode()


def test_now_playing_survives_the_outage_and_updates_after(lastfm, clock, follower, poll_schedule):
    lastfm.user("RJ").now_playing = Scrobble(0, "Portishead", "Roads", "Dummy")
    tick(clock)
    assert NowPlaying.objects.get(user=follower).track_name == "Roads"
    lastfm.outage = 503
    for _ in range(3):
        tick(clock)
    # a failed poll says nothing about what is playing: the last known one stays until it expires
    assert NowPlaying.objects.filter(user=follower).exists()
    lastfm.outage = None
    lastfm.user("RJ").now_playing = Scrobble(0, "Portishead", "Glory Box", "Dummy")
    tick(clock)
    assert NowPlaying.objects.get(user=follower).track_name == "Glory Box"


# ---- Discogs: the daily sync through a failing Discogs --------------------------------------------


@pytest.fixture
def discogs(settings):
    fake = FakeDiscogs().start()
    settings.MUSICTRACKER = {
        **settings.MUSICTRACKER,
        "discogs": {
            **settings.MUSICTRACKER["discogs"],
            "base_url": fake.url,
            "token": "",
            "timeout_seconds": TIMEOUT,
            "retries": 0,  # each retry waits 2 s for real; the retry itself is tested elsewhere
        },
    }
    yield fake
    fake.stop()


@pytest.fixture
def collector(make_user):
    user = make_user("collector")
    Profile.objects.filter(user=user).update(
        discogs_username="vinylfan", discogs_token="good-token"
    )
    return user


def next_day(clock) -> None:
    """A day passes; at 04:18 the scheduler finds the daily Discogs sync due and runs it."""
    now = datetime.now(UTC)
    target = (now + timedelta(days=1)).replace(hour=4, minute=18, second=0)
    if target - now > timedelta(days=1):
        target -= timedelta(days=1)
    clock.move_to(target)
    scheduler(broker=get_broker())


DISCOGS_OUTAGES = {
    "slow": "did not answer within 0.3 s",
    "html": "invalid response",
    502: "Discogs answered HTTP 502",
    503: "Discogs answered HTTP 503",
}


@pytest.mark.parametrize("outage", list(DISCOGS_OUTAGES), ids=str)
def test_a_failing_discogs_fails_the_days_sync_plainly_and_the_next_day_works(
    outage, discogs, clock, collector
):
    call_command("sync_schedules", stdout=open("/dev/null", "w"))  # noqa: SIM115
    Schedule.objects.exclude(name="discogs sync").delete()
    schedule = Schedule.objects.get(name="discogs sync")
    discogs.add(sample("release_abbey_road_lp"))
    discogs.add(sample("release_homogenic"))
    discogs.outage = outage
    discogs.slow_seconds = 1.0

    for _day in range(2):  # two days of outage
        next_day(clock)
        job = Job.objects.filter(user=collector, kind=Job.Kind.DISCOGS_SYNC).latest("pk")
        assert job.status == Job.Status.FAILED
        assert DISCOGS_OUTAGES[outage].lower() in job.message.lower(), job.message
        assert "nothing imported is lost" in job.message.lower()
        assert "<html" not in job.message.lower()  # no raw page dumped on the user
        schedule.refresh_from_db()
        assert schedule.next_run > datetime.now(UTC)
    tasks = list(Task.objects.filter(func="collection.tasks.sync_discogs_all"))
    assert len(tasks) == 2 and all(t.success for t in tasks)
    assert collector.collectionitem_set.count() == 0

    discogs.outage = None
    next_day(clock)
    job = Job.objects.filter(user=collector, kind=Job.Kind.DISCOGS_SYNC).latest("pk")
    assert job.status == Job.Status.DONE, job.message
    assert collector.collectionitem_set.count() == 2
    next_day(clock)  # and again: nothing doubled
    assert collector.collectionitem_set.count() == 2


def test_a_gateway_error_page_from_discogs_is_retried(discogs, collector, settings):
    """A 502 with its HTML page is Discogs having a bad moment: retried like any 5xx (it used to
    be taken for an unreadable answer and fail the sync at once)."""
    from collection import discogs_sync

    settings.MUSICTRACKER["discogs"]["retries"] = 2
    discogs.add(sample("release_homogenic"))
    discogs.outage, discogs.outage_requests = 502, 2
    waits = []
    job, _ = discogs_sync.queue_sync(collector)
    discogs_sync.sync_collection(collector, job, sleep=waits.append)
    job.refresh_from_db()
    assert job.status == Job.Status.DONE, job.message
    assert waits == [2.0, 4.0]
    assert collector.collectionitem_set.count() == 1
