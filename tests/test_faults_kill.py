"""The worker killed (SIGKILL) in the middle of a Last.fm backfill, a Discogs sync and a file
import, then started again: it resumes, and no listen or record is lost or doubled.

Each job runs as a real process (the same management commands the worker's tasks call) on a
database file; the test kills it once it has committed part of the work, starts it again, and
checks the result against what the source holds."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from tests.fakes.discogs import FakeDiscogs, make_release
from tests.fakes.lastfm import FakeLastfm, Scrobble

pytestmark = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3",
    reason="kills processes working on an SQLite file (the PostgreSQL run covers the same code in-process)",
)


def _env(tmp_path: Path, **extra) -> dict:
    env = {
        **os.environ,
        "MUSICTRACKER_DB_PATH": str(tmp_path / "live.db"),
        "MUSICTRACKER_DATA_DIR": str(tmp_path),
        "PYTHONPATH": str(settings.BASE_DIR),
        "MUSICTRACKER_GENERAL_LOG_LEVEL": "WARNING",
        **extra,
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("DATABASE_URL", None)
    return env


def _manage(env, *args, timeout=600):
    return subprocess.run([sys.executable, "manage.py", *args], env=env, cwd=settings.BASE_DIR,
                          capture_output=True, text=True, timeout=timeout)  # fmt: skip


def _prepare(env, username="w", **profile):
    assert _manage(env, "migrate", "-v0").returncode == 0
    fields = ", ".join(f"{k}={v!r}" for k, v in profile.items())
    code = (
        "import django,os;os.environ.setdefault('DJANGO_SETTINGS_MODULE','musictracker.settings');django.setup();"
        "from django.contrib.auth import get_user_model as g;from musictracker.models import Profile;"
        f"u=g().objects.create_user({username!r});Profile.objects.create(user=u, {fields})"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=settings.BASE_DIR
    )
    assert proc.returncode == 0, proc.stderr


def _count(db: Path, sql: str) -> int:
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return con.execute(sql).fetchone()[0] or 0
        finally:
            con.close()
    except sqlite3.OperationalError:
        return 0


def _kill_when(proc: subprocess.Popen, done, timeout=240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the job finished before it could be killed: {err[-1500:]}")
        if done():
            proc.send_signal(signal.SIGKILL)
            proc.wait(30)
            return
        time.sleep(0.05)
    proc.kill()
    pytest.fail("the job made no progress")


def test_lastfm_backfill_killed_and_restarted(tmp_path):
    fake = FakeLastfm().start()
    try:
        base = 1_600_000_000
        fake.extend_sorted("w", [Scrobble(uts=base + 200 * i, artist=f"Artist {i % 37}", track=f"Song {i % 401}",
                                          album=f"Album {i % 23}") for i in range(6400)])  # fmt: skip
        fake.before_request = lambda params: time.sleep(0.05)  # slow enough to be caught mid-way
        env = _env(tmp_path, MUSICTRACKER_LASTFM_BASE_URL=fake.base_url, MUSICTRACKER_LASTFM_API_KEY=fake.api_key,
                   MUSICTRACKER_LASTFM_API_SECRET=fake.api_secret, MUSICTRACKER_LASTFM_REQUESTS_PER_SECOND="0")  # fmt: skip
        _prepare(env, lastfm_username="w")
        db = tmp_path / "live.db"
        proc = subprocess.Popen([sys.executable, "manage.py", "import_lastfm", "--user", "w"], env=env,
                                cwd=settings.BASE_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
        _kill_when(proc, lambda: _count(db, "select count(*) from tracking_listen") > 0)
        stored = _count(db, "select count(*) from tracking_listen")
        assert 0 < stored < 6400
        pages_first_run = sum(1 for r in fake.requests if r.get("method") == "user.getrecenttracks")
        fake.before_request = None
        again = _manage(env, "import_lastfm", "--user", "w")
        assert again.returncode == 0, again.stderr[-2000:]
        pages_second_run = (
            sum(1 for r in fake.requests if r.get("method") == "user.getrecenttracks")
            - pages_first_run
        )
        assert pages_second_run < 32 + 2  # resumed: it did not walk all 32 pages again from scratch
    finally:
        fake.stop()
    assert _count(db, "select count(*) from tracking_listen") == 6400
    assert (
        _count(
            db, "select count(*) from (select 1 from tracking_listen group by user_id, listened_at)"
        )
        == 6400
    )
    assert _count(db, "select sum(listens) from tracking_daystat") == 6400


def test_file_import_killed_and_run_again(tmp_path):
    from bench.scenarios.imports import write_spotify_export

    export = write_spotify_export(
        tmp_path / "Streaming_History_Audio_2019.json", 60_000, seed=3, artists=300
    )
    env = _env(tmp_path)
    _prepare(env)
    db = tmp_path / "live.db"
    proc = subprocess.Popen([sys.executable, "manage.py", "import_listens", "--user", "w", "--no-enrich", str(export)],
                            env=env, cwd=settings.BASE_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    _kill_when(proc, lambda: _count(db, "select count(*) from tracking_listen") >= 5000)
    assert _count(db, "select count(*) from tracking_listen") < 60_000
    again = _manage(env, "import_listens", "--user", "w", "--no-enrich", str(export))
    assert again.returncode == 0, again.stderr[-2000:]
    full = tmp_path / "full"
    full.mkdir()
    env_full = _env(full)
    _prepare(env_full)
    clean = _manage(env_full, "import_listens", "--user", "w", "--no-enrich", str(export))
    assert clean.returncode == 0, clean.stderr[-2000:]
    expected = _count(full / "live.db", "select count(*) from tracking_listen")
    assert expected > 50_000
    assert (
        _count(db, "select count(*) from tracking_listen") == expected
    )  # nothing lost, nothing doubled
    assert _count(db, "select sum(listens) from tracking_daystat") == expected


def test_discogs_sync_killed_and_restarted(tmp_path):
    fake = FakeDiscogs(rate_limit=100_000).start()
    try:
        for i in range(1, 301):
            fake.add(make_release(10_000 + i, title=f"Record {i}", artist=f"Band {i % 40}", artist_id=500 + i % 40,
                                  master_id=20_000 + i))  # fmt: skip
        env = _env(tmp_path, MUSICTRACKER_DISCOGS_BASE_URL=fake.url)
        _prepare(env, discogs_username=fake.username, discogs_token=fake.token)
        db = tmp_path / "live.db"
        proc = subprocess.Popen([sys.executable, "manage.py", "sync_discogs", "--user", "w"], env=env,
                                cwd=settings.BASE_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
        _kill_when(proc, lambda: _count(db, "select count(*) from collection_collectionitem") >= 50)
        assert _count(db, "select count(*) from collection_collectionitem") < 300
        details_first = fake.count("/releases/")
        again = _manage(env, "sync_discogs", "--user", "w")
        assert again.returncode == 0, again.stderr[-2000:]
        # each release's details fetched about once over both runs (the one in flight at the kill
        # may be fetched again), never the whole collection twice
        assert details_first + (fake.count("/releases/") - details_first) <= 300 + 3
    finally:
        fake.stop()
    assert _count(db, "select count(*) from collection_collectionitem") == 300
    assert (
        _count(db, "select count(distinct discogs_instance_id) from collection_collectionitem")
        == 300
    )
    assert _count(db, "select count(*) from collection_album") == 300
