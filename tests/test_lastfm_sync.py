"""The Last.fm tracker against the fake: polls, now-playing, loved tracks, status, the account
link, and the Settings actions. pylast runs for real; nothing of ours is mocked."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from collection.models import Track
from musictracker.models import Profile
from tests.fakes.lastfm import STAR, Scrobble, running
from tracking import lastfm_sync, tasks
from tracking.loved import set_loved
from tracking.models import Listen, LovedTrack, NowPlaying, TrackerStatus

T0 = 1_700_000_000  # 2023-11-14 22:13:20 UTC


@pytest.fixture
def lastfm_fake(settings):
    yield from running(settings)


@pytest.fixture
def rj(user):
    Profile.objects.filter(user=user).update(lastfm_username="RJ")
    user.refresh_from_db()
    return user


def s(uts, artist="Daft Punk", track="One More Time", album="Discovery", **kw):
    return Scrobble(uts, artist, track, album, **kw)


def test_first_poll_stores_listens_with_lastfms_own_utc_time(lastfm_fake, rj):
    lastfm_fake.scrobble(
        "RJ",
        s(T0, artist_mbid="056e4f3e-d505-4dad-8ec1-d04f521cbb56", image="cover1"),
        s(T0 + 300, "Daft Punk feat. Pharrell Williams", "Get Lucky", "Random Access Memories"),
        s(T0 + 600, "Nobody", "Loose Single", ""),
    )
    with time_machine.travel(datetime(2023, 11, 15, 12, tzinfo=UTC), tick=False):
        tasks.poll_lastfm()
    rows = list(Listen.objects.filter(user=rj).select_related("track", "album", "artist"))
    assert len(rows) == 3
    by_title = {r.track.title: r for r in rows}
    one = by_title["One More Time"]
    assert one.listened_at == datetime.fromtimestamp(T0, UTC)  # not the time of the poll
    assert one.source == "lastfm"
    assert str(one.artist.mbid) == "056e4f3e-d505-4dad-8ec1-d04f521cbb56"
    assert one.album.cover_url.endswith("cover1.png")
    # stored in UTC, dated in the user's zone (Europe/Paris: 23:13 local)
    assert (one.local_date.isoformat(), one.local_hour) == ("2023-11-14", 23)
    assert by_title["Loose Single"].album is None  # no album stays no album
    lucky = by_title["Get Lucky"]
    assert lucky.artist.name == "Daft Punk"
    assert set(lucky.track.artists.values_list("name", flat=True)) == {
        "Daft Punk",
        "Pharrell Williams",
    }
    status = TrackerStatus.objects.get(user=rj)
    assert status.last_added == 3 and status.consecutive_failures == 0
    assert status.last_success_at == datetime(2023, 11, 15, 12, tzinfo=UTC)
    assert status.next_poll_at == status.last_poll_at + timedelta(seconds=120)


def test_overlapping_poll_and_a_rerun_store_each_play_once(lastfm_fake, rj):
    lastfm_fake.scrobble("RJ", s(T0), s(T0 + 200, track="Aerodynamic"))
    lastfm_sync.poll_user(rj)
    lastfm_fake.scrobble("RJ", s(T0 + 400), s(T0 + 600))  # the same track twice in a row
    assert lastfm_sync.poll_user(rj).added == 2
    assert lastfm_sync.poll_user(rj).added == 0
    sent = lastfm_fake.requests[-1]
    assert int(sent["from"]) == T0 + 600 - 600  # newest stored minus the overlap
    assert Listen.objects.filter(user=rj).count() == 4


POLLER = """
import os, sys, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "musictracker.settings")
django.setup()
from django.contrib.auth import get_user_model
from tracking.lastfm_sync import poll_user
print(poll_user(get_user_model().objects.get(username="rj")).added)
"""


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3", reason="SQLite file"
)
def test_two_workers_polling_at_once_store_each_play_once(lastfm_fake, tmp_path):
    """Two worker processes poll one user at the same moment: both fetch the page before either
    stores it (a barrier in the fake holds both answers), then both write to one database."""
    lastfm_fake.scrobble("RJ", *(s(T0 + i * 200, track=f"Song {i}") for i in range(30)))
    env = {
        **os.environ,
        "MUSICTRACKER_DB_PATH": str(tmp_path / "race.db"),
        "MUSICTRACKER_DATA_DIR": str(tmp_path),
        "MUSICTRACKER_LASTFM_API_KEY": lastfm_fake.api_key,
        "MUSICTRACKER_LASTFM_API_SECRET": lastfm_fake.api_secret,
        "MUSICTRACKER_LASTFM_BASE_URL": lastfm_fake.base_url,
        "PYTHONPATH": str(settings.BASE_DIR),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    run = functools.partial(
        subprocess.run, env=env, capture_output=True, text=True, timeout=120, cwd=settings.BASE_DIR
    )
    assert run([sys.executable, "manage.py", "migrate", "-v0"]).returncode == 0
    setup = (
        "import django,os;os.environ.setdefault('DJANGO_SETTINGS_MODULE','musictracker.settings');"
        "django.setup();from django.contrib.auth import get_user_model as g;"
        "from musictracker.models import Profile;"
        "Profile.objects.create(user=g().objects.create_user('rj'), lastfm_username='RJ')"
    )
    assert run([sys.executable, "-c", setup]).returncode == 0
    barrier = threading.Barrier(2, timeout=60)
    lastfm_fake.before_request = lambda params: barrier.wait()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", POLLER],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=settings.BASE_DIR,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (_out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err[-2000:]
    assert sorted(int(out.split()[-1]) for out, _ in outs) == [0, 30]
    count = (
        "import django,os;os.environ.setdefault('DJANGO_SETTINGS_MODULE','musictracker.settings');"
        "django.setup();from tracking.models import Listen;print(Listen.objects.count())"
    )
    assert run([sys.executable, "-c", count]).stdout.split() == ["30"]


def test_now_playing_is_shown_not_stored_until_it_has_a_timestamp(lastfm_fake, rj):
    lastfm_fake.user("RJ").now_playing = s(0, "Air", "La femme d'argent", "Moon Safari", image=STAR)
    with time_machine.travel(datetime(2024, 1, 1, 12, tzinfo=UTC), tick=False):
        lastfm_sync.poll_user(rj)
    assert Listen.objects.filter(user=rj).count() == 0
    now = NowPlaying.objects.get(user=rj)
    assert (now.artist_name, now.track_name, now.image_url) == ("Air", "La femme d'argent", "")
    assert now.expires_at == datetime(2024, 1, 1, 12, 5, tzinfo=UTC)
    # it finished: Last.fm now lists it with a date, and nothing plays
    lastfm_fake.user("RJ").now_playing = None
    lastfm_fake.scrobble("RJ", s(T0, "Air", "La femme d'argent", "Moon Safari"))
    lastfm_sync.poll_user(rj)
    assert Listen.objects.filter(user=rj).count() == 1
    assert not NowPlaying.objects.filter(user=rj).exists()


def test_polling_20_users_with_nothing_new_costs_one_request_each_and_no_writes(
    lastfm_fake, make_user
):
    users = []
    for i in range(20):
        u = make_user(f"user{i}")
        Profile.objects.filter(user=u).update(lastfm_username=f"lfm{i}")
        lastfm_fake.scrobble(f"lfm{i}", s(T0, track=f"Song {i}"))
        users.append(u)
    tasks.poll_lastfm()
    assert Listen.objects.count() == 20
    lastfm_fake.requests.clear()
    with CaptureQueriesContext(connection) as q:
        tasks.poll_lastfm()
    assert len(lastfm_fake.requests) == 20
    writes = [
        x["sql"]
        for x in q.captured_queries
        if x["sql"].split()[0].upper() in {"INSERT", "UPDATE", "DELETE", "REPLACE"}
    ]
    # the one write: every tracker status's "last poll" in a single UPDATE
    assert len(writes) == 1 and "tracking_trackerstatus" in writes[0]
    assert TrackerStatus.objects.filter(last_added=0, consecutive_failures=0).count() == 20


def test_paused_users_are_not_polled(lastfm_fake, rj):
    lastfm_fake.scrobble("RJ", s(T0))
    lastfm_sync.set_paused(user=rj, paused=True)
    tasks.poll_lastfm()
    assert lastfm_fake.requests == [] and not Listen.objects.exists()
    lastfm_sync.set_paused(user=rj, paused=False)
    tasks.poll_lastfm()
    assert Listen.objects.count() == 1


def test_a_failing_poll_is_recorded_and_the_next_one_recovers(lastfm_fake, rj, other_user):
    Profile.objects.filter(user=other_user).update(lastfm_username="ghost")  # unknown: error 6
    lastfm_fake.scrobble("RJ", s(T0))
    for _ in range(3):
        lastfm_fake.errors = [503] * 10
        summary = tasks.poll_lastfm()  # never raises
        assert "failed" in summary
    status = TrackerStatus.objects.get(user=rj)
    assert status.consecutive_failures == 3
    assert "HTTP code 503" in status.last_error
    tasks.poll_lastfm()
    status.refresh_from_db()
    assert status.consecutive_failures == 0 and status.last_added == 1
    assert status.last_error  # the last error stays visible, with its time
    ghost = TrackerStatus.objects.get(user=other_user)
    assert "does not know this user" in ghost.last_error
    assert ghost.consecutive_failures == 4


def test_schedules_poll_and_loved_sync(settings):
    from musictracker.schedules import schedules

    by_name = {x["name"]: x for x in schedules()}
    assert by_name["lastfm poll"]["func"] == "tracking.tasks.poll_lastfm"
    assert by_name["lastfm poll"]["minutes"] == 2
    assert by_name["lastfm loved sync"]["minutes"] == 30


# ---- loved tracks --------------------------------------------------------------------------


def test_loved_sync_marks_and_unmarks(lastfm_fake, rj):
    lastfm_fake.scrobble("RJ", s(T0), s(T0 + 300, track="Digital Love"))
    lastfm_sync.poll_user(rj)
    fake_user = lastfm_fake.user("RJ")
    fake_user.loved[("Daft Punk", "One More Time")] = T0 + 1000
    fake_user.loved[("Someone", "Never Played")] = T0 + 2000
    tasks.sync_lastfm_loved()
    loved = {
        lt.track.title: lt for lt in LovedTrack.objects.filter(user=rj).select_related("track")
    }
    assert set(loved) == {"One More Time", "Never Played"}
    assert loved["One More Time"].track.album.title == "Discovery"  # the played track, not a copy
    assert loved["One More Time"].is_on_lastfm
    assert loved["One More Time"].loved_at == datetime.fromtimestamp(T0 + 1000, UTC)
    # a local-only love survives; unloving on Last.fm clears only what came from Last.fm
    digital = Track.objects.get(title="Digital Love")
    set_loved(user=rj, track_id=digital.pk, loved=True)
    del fake_user.loved[("Daft Punk", "One More Time")]
    tasks.sync_lastfm_loved()
    titles = set(LovedTrack.objects.filter(user=rj).values_list("track__title", flat=True))
    assert titles == {"Never Played", "Digital Love"}


def test_loved_sync_reads_every_page(lastfm_fake, rj):
    fake_user = lastfm_fake.user("RJ")
    for i in range(450):
        fake_user.loved[("Artist", f"Song {i}")] = T0 + i
    assert lastfm_sync.sync_loved(rj)["loved"] == 450
    assert lastfm_fake.methods().count("user.getLovedTracks") == 3
    assert LovedTrack.objects.filter(user=rj, is_on_lastfm=True).count() == 450


def test_love_is_sent_to_lastfm_when_connected(
    lastfm_fake, rj, add_listens, django_capture_on_commit_callbacks
):
    from tests.conftest import utc

    add_listens(rj, [("Daft Punk", "One More Time", "Discovery", utc(2024, 1, 1))])
    track = Track.objects.get()
    assert set_loved(user=rj, track_id=track.pk, loved=True).sent_to_lastfm is False
    assert lastfm_fake.love_calls == []  # without a connection it stays local
    # connect through the authorization flow: Last.fm calls us back with a token
    lastfm_fake.tokens["tok123"] = "RJ"
    tasks.connect_lastfm(rj.pk, "tok123")
    profile = Profile.objects.get(user=rj)
    assert len(profile.lastfm_session_key) == 32
    with django_capture_on_commit_callbacks(execute=True):
        result = set_loved(user=rj, track_id=track.pk, loved=False)
    assert result.sent_to_lastfm
    assert tasks.push_love_to_lastfm(rj.pk, track.pk, True) == "sent to Last.fm"
    assert lastfm_fake.love_calls == [
        ("track.unlove", "RJ", "Daft Punk", "One More Time"),
        ("track.love", "RJ", "Daft Punk", "One More Time"),
    ]


# ---- Settings ------------------------------------------------------------------------------


def test_settings_says_what_to_configure_without_a_key(auth_client, settings):
    settings.MUSICTRACKER = {
        **settings.MUSICTRACKER,
        "lastfm": {**settings.MUSICTRACKER["lastfm"], "api_key": "", "api_secret": ""},
    }
    page = auth_client.get("/settings/").content.decode()
    assert "Last.fm tracker" in page
    assert "MUSICTRACKER_LASTFM_API_KEY" in page


def test_settings_shows_status_pause_resume_and_plain_failures(lastfm_fake, rj, client):
    client.force_login(rj)
    TrackerStatus.objects.create(
        user=rj,
        consecutive_failures=4,
        last_error="Last.fm user.getRecentTracks failed: boom",
        last_error_at=datetime(2024, 1, 1, tzinfo=UTC),
        last_poll_at=datetime(2024, 1, 1, 12, tzinfo=UTC),
    )
    page = client.get("/settings/").content.decode()
    assert "the last 4 polls failed in a row" in page
    assert "boom" in page
    assert "Jan. 1, 2024, 1 p.m." in page  # 12:00 UTC shown in Europe/Paris
    assert "Not connected" in page
    r = client.post(reverse("tracking:tracker-pause"))
    assert r.status_code == 302
    assert TrackerStatus.objects.get(user=rj).is_paused
    assert 'data-state="paused"' in client.get("/settings/").content.decode()
    client.post(reverse("tracking:tracker-resume"), headers={"HX-Request": "true"})
    assert not TrackerStatus.objects.get(user=rj).is_paused


def test_connect_redirects_to_lastfm_and_the_callback_stores_the_key(
    lastfm_fake, rj, client, django_capture_on_commit_callbacks
):
    client.force_login(rj)
    r = client.post(reverse("tracking:lastfm-connect"))
    assert r.status_code == 302
    assert r["Location"].startswith("https://www.last.fm/api/auth/?api_key=test-key&cb=")
    assert "lastfm%2Fcallback" in r["Location"]
    lastfm_fake.tokens["abc987"] = "RJ"
    with django_capture_on_commit_callbacks(execute=True):
        r = client.get(reverse("tracking:lastfm-callback"), {"token": "abc987"})
    assert r.status_code == 302
    key = Profile.objects.get(user=rj).lastfm_session_key
    assert key
    page = client.get("/settings/").content.decode()
    assert "Connected" in page and key not in page  # never shown
    client.post(reverse("tracking:lastfm-disconnect"))
    assert Profile.objects.get(user=rj).lastfm_session_key == ""
    r = client.get(reverse("tracking:lastfm-callback"), {"token": "<bad>"}, follow=True)
    assert "did not send an authorization token" in r.content.decode()


def test_backfill_button_runs_the_import_and_the_job_survives_a_reload(
    lastfm_fake, rj, client, django_capture_on_commit_callbacks
):
    client.force_login(rj)
    lastfm_fake.scrobble("RJ", *(s(T0 + i * 200, track=f"Song {i}") for i in range(450)))
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(reverse("tracking:lastfm-backfill"))
    assert r.status_code == 302
    assert Listen.objects.filter(user=rj).count() == 450
    page = client.get("/settings/").content.decode()
    assert "Last.fm history import" in page and "450 / 450" in page


def test_a_backfill_left_running_by_a_killed_worker_can_be_resumed(
    lastfm_fake, rj, client, django_capture_on_commit_callbacks
):
    from musictracker.models import Job

    client.force_login(rj)
    lastfm_fake.scrobble("RJ", *(s(T0 + i * 200, track=f"Song {i}") for i in range(300)))
    job = Job.objects.create(
        user=rj,
        kind=Job.Kind.LASTFM_BACKFILL,
        status=Job.Status.RUNNING,
        unit="listens",
        state={"from": None, "until": None, "to": T0 + 10**6, "page": 2, "pages": 2},
        done=200,
        total=300,
    )
    page = client.get("/settings/").content.decode()
    assert "Import my whole" not in page and "Resume the history import" not in page
    Job.objects.filter(pk=job.pk).update(updated_at=datetime(2020, 1, 1, tzinfo=UTC))
    page = client.get("/settings/").content.decode()
    assert "Resume the history import" in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("tracking:lastfm-backfill"))
    job.refresh_from_db()
    assert job.status == Job.Status.DONE and job.done == 300
    assert lastfm_fake.requests[0]["page"] == "2"  # resumed, not restarted
    assert Listen.objects.filter(user=rj).count() == 100  # only the page it had not stored
