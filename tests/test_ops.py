"""Operations: health, metrics, backups and restore, login throttling, headers, log redaction."""

import gzip
import logging
import os
import sqlite3
import subprocess
import sys
import textwrap
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from musictracker.logging import redact
from musictracker.models import Heartbeat
from tests.conftest import utc

pytestmark = pytest.mark.django_db


def test_healthz_is_open_and_reports_degraded_without_worker(client, user):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"]["status"] == "ok"
    assert body["worker"]["status"] == "stale" and body["status"] == "degraded"


def test_healthz_ok_with_a_fresh_heartbeat(client, user):
    Heartbeat.objects.create(name="worker", beat_at=timezone.now() - timedelta(seconds=30))
    assert client.get("/healthz").json()["status"] == "ok"


def test_healthz_flags_stale_polls(client, user):
    from musictracker.models import Profile
    from tracking.models import TrackerStatus

    Heartbeat.objects.create(name="worker", beat_at=timezone.now())
    Profile.objects.filter(user=user).update(lastfm_username="alice_fm")
    TrackerStatus.objects.create(user=user, last_success_at=timezone.now() - timedelta(hours=2))
    body = client.get("/healthz").json()
    assert body["polls"]["stale_users"] == 1 and body["status"] == "degraded"


def test_metrics_need_the_token(client, user, settings):
    assert client.get("/metrics").status_code == 404  # no token configured: off, and says how
    settings.MUSICTRACKER = {**settings.MUSICTRACKER, "metrics": {"token": "s3cret-metrics-token"}}
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    ok = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-metrics-token")
    assert ok.status_code == 200 and "musictracker_up" in ok.content.decode()


def _metric(text: str, line_start: str) -> float:
    for line in text.splitlines():
        if line.startswith(line_start + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_count_listens_by_source_and_requests(client, user, add_listens, settings):
    # Counts are compared before and after: metrics are shared by the whole process (and other
    # threads, such as a live server left by an earlier test, may count too).
    settings.MUSICTRACKER = {**settings.MUSICTRACKER, "metrics": {"token": "t" * 20}}
    auth = {"HTTP_AUTHORIZATION": "Bearer " + "t" * 20}
    lastfm, api = (
        'musictracker_listens_stored_total{source="lastfm"}',
        'musictracker_listens_stored_total{source="api"}',
    )
    before = client.get("/metrics", **auth).content.decode()
    add_listens(user, [("Air", "Sexy Boy", "", utc(2024, 1, 1))], source="lastfm")
    add_listens(
        user,
        [("Air", "Kelly", "", utc(2024, 1, 2)), ("Air", "Talisman", "", utc(2024, 1, 3))],
        source="api",
    )
    client.force_login(user)
    client.get("/journal/")
    text = client.get("/metrics", **auth).content.decode()
    assert _metric(text, lastfm) - _metric(before, lastfm) == 1
    assert _metric(text, api) - _metric(before, api) == 2
    assert 'musictracker_request_duration_seconds_count{view="tracking:journal"}' in text
    assert "musictracker_enrichment_backlog" in text


def test_metrics_are_written_in_key_order(db):
    """Regression: two gunicorn workers flushing the same samples in their own orders deadlocked
    on PostgreSQL (each waited for a row the other had just inserted); the samples were lost
    and the log said "deadlock detected". Every process now writes them in key order."""
    from django.db import connection

    from musictracker import metrics

    metrics.flush(quiet=True)
    for name in ("zz_test_total", "mm_test_total", "aa_test_total"):
        metrics.inc(name, source="b")
        metrics.inc(name, source="a")
    written: list[tuple] = []

    def observe(execute, sql, params, many, context):
        if many and "metricsample" in sql:
            written.extend((p[0], p[1]) for p in params)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(observe):
        metrics.flush()
    mine = [w for w in written if w[0].endswith("_test_total")]
    assert len(mine) == 6 and mine == sorted(mine)


def test_backup_and_restore_roundtrip(tmp_path, user, add_listens, settings):
    if connection_vendor() != "sqlite":
        pytest.skip("SQLite file backup")
    settings.DATA_DIR = tmp_path
    from musictracker.backups import check_integrity

    # the test database is in memory: back up a file database made by a subprocess instead
    result = run_subprocess_backup(tmp_path)
    assert result.returncode == 0, result.stderr
    files = sorted((tmp_path / "backups").glob("musique-*.db.gz"))
    assert len(files) == 1
    raw = tmp_path / "check.db"
    raw.write_bytes(gzip.decompress(files[0].read_bytes()))
    check_integrity(raw)
    assert sqlite3.connect(raw).execute("select count(*) from tracking_listen").fetchone()[0] == 200


def connection_vendor():
    from django.db import connection

    return connection.vendor


SCRIPT = textwrap.dedent(
    """
    import os, sys, threading, time, django
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "musictracker.settings")
    django.setup()
    from datetime import datetime, timedelta, UTC
    from django.core.management import call_command
    from django.contrib.auth import get_user_model
    from collection.catalogue import ListenRecord, Catalogue
    from tracking.listens import ingest
    call_command("migrate", verbosity=0)
    user = get_user_model().objects.create_user("b")
    mode = sys.argv[1]
    def batch(i, n=100):
        start = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(days=i)
        return [ListenRecord(artist=f"A{j % 9}", track=f"T{j}", album="X", listened_at=start + timedelta(minutes=4 * j)) for j in range(n)]
    ingest(user, batch(0), enrich=False); ingest(user, batch(1), enrich=False)
    if mode == "plain":
        call_command("backup_db")
    elif mode == "during-import":
        stop = threading.Event()
        def writer():
            i = 2
            while not stop.is_set():
                ingest(user, batch(i, 500), catalogue=Catalogue(), enrich=False)
                i += 1
        t = threading.Thread(target=writer); t.start(); time.sleep(0.3)
        from tracking.models import Listen
        before = Listen.objects.count()
        call_command("backup_db")
        stop.set(); t.join()
        print("BEFORE", before)
    elif mode == "full-disk":
        import resource, signal
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
        try:
            call_command("backup_db")
        except Exception as exc:
            print("ERROR", exc)
    """
)


def run_subprocess_backup(tmp_path, mode="plain"):
    script = tmp_path / "backup_script.py"
    script.write_text(SCRIPT)
    env = {
        **os.environ,
        "MUSICTRACKER_DB_PATH": str(tmp_path / "live.db"),
        "MUSICTRACKER_DATA_DIR": str(tmp_path),
        "PYTHONPATH": str(settings.BASE_DIR),
    }
    env.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, str(script), mode], env=env, capture_output=True, text=True, timeout=300
    )


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3", reason="SQLite"
)
def test_backup_taken_during_an_import_is_consistent(tmp_path):
    result = run_subprocess_backup(tmp_path, "during-import")
    assert result.returncode == 0, result.stderr[-2000:]
    before = int(result.stdout.split("BEFORE")[1].split()[0])
    backup = next((tmp_path / "backups").glob("musique-*.db.gz"))
    raw = tmp_path / "restored.db"
    raw.write_bytes(gzip.decompress(backup.read_bytes()))
    con = sqlite3.connect(raw)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    in_backup = con.execute("select count(*) from tracking_listen").fetchone()[0]
    assert in_backup >= before  # every listen committed before the backup began
    # and rollups in the copy agree with its listens (no half-written batch)
    assert con.execute("select sum(listens) from tracking_daystat").fetchone()[0] == in_backup


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3", reason="SQLite"
)
def test_full_disk_during_backup_gives_a_clear_error_and_keeps_the_database(tmp_path):
    result = run_subprocess_backup(tmp_path, "full-disk")
    assert "ERROR" in result.stdout and "full" in result.stdout
    assert not list((tmp_path / "backups").glob("musique-*"))  # no half-written backup left
    assert not list((tmp_path / "backups").glob(".backup-*"))
    con = sqlite3.connect(tmp_path / "live.db")
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert con.execute("select count(*) from tracking_listen").fetchone()[0] == 200


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3", reason="SQLite"
)
def test_restore_checks_keeps_a_copy_and_replaces(tmp_path):
    assert run_subprocess_backup(tmp_path, "plain").returncode == 0
    backup = next((tmp_path / "backups").glob("musique-*.db.gz"))
    env = {
        **os.environ,
        "MUSICTRACKER_DB_PATH": str(tmp_path / "live.db"),
        "MUSICTRACKER_DATA_DIR": str(tmp_path),
    }
    # damage the live database's data, then restore
    con = sqlite3.connect(tmp_path / "live.db")
    con.execute("delete from tracking_listen")
    con.commit()
    con.close()
    bad = tmp_path / "bad.db.gz"
    bad.write_bytes(gzip.compress(b"not a database at all" * 100))
    refused = subprocess.run(
        [sys.executable, "manage.py", "restore_db", str(bad)],
        env=env,
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
    )
    assert refused.returncode != 0 and "not an SQLite database" in refused.stderr
    done = subprocess.run(
        [sys.executable, "manage.py", "restore_db", str(backup)],
        env=env,
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
    )
    assert done.returncode == 0, done.stderr
    assert (
        sqlite3.connect(tmp_path / "live.db")
        .execute("select count(*) from tracking_listen")
        .fetchone()[0]
        == 200
    )
    kept = list((tmp_path / "backups").glob("before-restore-*.db"))
    assert (
        kept
        and sqlite3.connect(kept[0]).execute("select count(*) from tracking_listen").fetchone()[0]
        == 0
    )


def test_backups_keep_only_the_newest(tmp_path):
    from musictracker.backups import prune

    for day in range(1, 6):
        (tmp_path / f"musique-2024010{day}-000000.db.gz").write_bytes(b"x")
    removed = prune(keep=3, directory=tmp_path)
    assert len(removed) == 2
    assert sorted(p.name for p in tmp_path.glob("*.gz"))[0] == "musique-20240103-000000.db.gz"


def test_login_is_throttled_per_account(client, user):
    for _ in range(10):
        client.post("/login/", {"username": "alice", "password": "wrong"})
    response = client.post("/login/", {"username": "alice", "password": "correct horse battery"})
    assert response.status_code == 429
    assert "Too many failed attempts" in response.content.decode()


def test_pages_carry_a_content_security_policy(client, user):
    client.force_login(user)
    csp = client.get("/journal/")["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp


def test_secrets_are_redacted_from_logs(caplog):
    assert "abc123" not in redact("GET /2.0/?method=user.getInfo&api_key=abc123&sk=abc123")
    assert "tok" not in redact("Authorization: Token tok-xyz")
    assert "s3cr3t" not in redact("saving lastfm_session_key=s3cr3t discogs_token=s3cr3t")
    # the task log line stays readable: "task=" ends in "sk=" but is no session key
    line = "task=poll_lastfm outcome=success result=1 users polled"
    assert redact(line) == line
    logger = logging.getLogger("musictracker.test")
    from musictracker.logging import RedactSecrets

    handler_filter = RedactSecrets()
    record = logger.makeRecord(
        "x", logging.INFO, __file__, 1, "calling %s", ("https://x/?token=supersecret",), None
    )
    handler_filter.filter(record)
    assert "supersecret" not in record.getMessage()


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3", reason="PostgreSQL"
)
def test_postgres_backup_is_a_pg_dump(tmp_path, user, add_listens):
    import shutil

    from musictracker.backups import backup_db

    add_listens(user, [("Air", "Sexy Boy", "", utc(2024, 1, 1))])
    result = backup_db(keep=3, directory=tmp_path)
    assert result.path.name.endswith(".dump.gz")
    dump = tmp_path / "x.dump"
    dump.write_bytes(gzip.decompress(result.path.read_bytes()))
    listing = subprocess.run(
        [shutil.which("pg_restore") or "pg_restore", "--list", str(dump)],
        capture_output=True,
        text=True,
    )
    assert listing.returncode == 0 and "tracking_listen" in listing.stdout


def test_settings_shows_health_to_admins_only(client, user, other_user):
    client.force_login(user)
    assert "Health of this install" not in client.get("/settings/").content.decode()
    user.is_staff = True
    user.save()
    body = client.get("/settings/").content.decode()
    assert "Health of this install" in body and "has never reported" in body


def test_a_job_whose_process_died_is_known_as_orphaned(user):
    import socket

    from musictracker.models import Job

    job = Job.objects.create(user=user, kind=Job.Kind.IMPORT, status=Job.Status.RUNNING)
    assert job.runner.endswith(f":{os.getpid()}") and not job.is_orphaned
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    Job.objects.filter(pk=job.pk).update(runner=f"{socket.gethostname()}:{dead.pid}")
    job.refresh_from_db()
    assert job.is_orphaned
    job.save()  # a new process taking the job over claims it
    assert job.runner.endswith(f":{os.getpid()}")
