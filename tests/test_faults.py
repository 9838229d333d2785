"""Faults survived: real processes (web server, writers) against one database file or server."""

import os
import re
import socket
import subprocess
import sys
import textwrap
import threading
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar

from django.conf import settings

SECONDS = float(os.environ.get("MT_FAULT_SECONDS", "60"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(tmp_path) -> dict:
    env = {
        **os.environ,
        "MUSICTRACKER_DB_PATH": str(tmp_path / "live.db"),
        "MUSICTRACKER_DATA_DIR": str(tmp_path),
        "PYTHONPATH": str(settings.BASE_DIR),
        "MUSICTRACKER_GENERAL_LOG_LEVEL": "WARNING",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


WRITER = textwrap.dedent(
    """
    import os, sys, time, django
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "musictracker.settings")
    django.setup()
    from datetime import datetime, timedelta, UTC
    from django.contrib.auth import get_user_model
    from collection.catalogue import ListenRecord, Catalogue
    from tracking.listens import ingest
    user = get_user_model().objects.get(username="w")
    deadline = time.monotonic() + float(sys.argv[1])
    cat, i, added = Catalogue(), 0, 0
    while time.monotonic() < deadline:
        start = datetime(2020, 1, 1, tzinfo=UTC) + timedelta(hours=i * 30)
        records = [ListenRecord(artist=f"Artist {(i + j) % 60}", track=f"Song {j}", album=f"Album {j % 7}",
                                listened_at=start + timedelta(minutes=4 * j)) for j in range(400)]
        added += ingest(user, records, catalogue=cat, enrich=False).added
        i += 1
    print("ADDED", added)
    """
)


def test_web_and_worker_write_for_a_minute_without_locking(tmp_path):
    env = _env(tmp_path)

    # On the PostgreSQL run, DATABASE_URL names the server's main database (not the test one).
    def run(*a):
        return subprocess.run(
            [sys.executable, *a],
            env=env,
            capture_output=True,
            text=True,
            cwd=settings.BASE_DIR,
            timeout=300,
        )

    assert run("manage.py", "migrate", "-v0").returncode == 0
    assert run("manage.py", "createcachetable").returncode == 0
    setup = (
        "import django,os;os.environ.setdefault('DJANGO_SETTINGS_MODULE','musictracker.settings');django.setup();"
        "from django.contrib.auth import get_user_model as g;U=g();U.objects.filter(username__in=['w','web']).delete();"
        "U.objects.create_user('w');U.objects.create_user('web', password='a long pass phrase')"
    )
    assert run("-c", setup).returncode == 0, "setup failed"

    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "musictracker.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--threads",
            "2",
            "--timeout",
            "60",
        ],
        env=env,
        cwd=settings.BASE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2)
                break
            except OSError:
                time.sleep(0.1)
        writer = subprocess.Popen(
            [sys.executable, str(script), str(SECONDS)],
            env=env,
            cwd=settings.BASE_DIR,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        statuses: list[int] = []
        errors: list[str] = []

        def web_user():
            try:
                _web_user()
            except Exception as exc:  # any failure of a web user is a failure of the test
                errors.append(f"{type(exc).__name__}: {exc}")

        def _web_user():
            jar = CookieJar()
            opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
            page = opener.open(base + "/login/", timeout=30).read().decode()
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
            data = urllib.parse.urlencode(
                {"username": "web", "password": "a long pass phrase", "csrfmiddlewaretoken": token}
            ).encode()
            opener.open(
                urllib.request.Request(
                    base + "/login/", data=data, headers={"Referer": base + "/login/"}
                ),
                timeout=30,
            )
            deadline = time.monotonic() + SECONDS
            n = 0
            while time.monotonic() < deadline:
                n += 1
                try:
                    page = opener.open(base + "/settings/", timeout=30).read().decode()
                    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
                    form = {
                        "csrfmiddlewaretoken": token,
                        "lastfm_username": f"web{n}",
                        "discogs_username": "",
                        "discogs_token": "",
                        "time_zone": "UTC",
                        "language": "en",
                    }
                    r = opener.open(
                        urllib.request.Request(
                            base + "/settings/",
                            data=urllib.parse.urlencode(form).encode(),
                            headers={"Referer": base + "/settings/"},
                        ),
                        timeout=30,
                    )
                    statuses.append(r.status)
                    statuses.append(opener.open(base + "/journal/", timeout=30).status)
                except urllib.error.HTTPError as exc:
                    statuses.append(exc.code)
                    errors.append(f"{exc.code} {exc.read()[:300]!r}")

        threads = [threading.Thread(target=web_user) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(SECONDS + 120)
        out, err = writer.communicate(timeout=SECONDS + 120)
    finally:
        server.terminate()
        log = server.communicate(timeout=30)[0]
        (tmp_path / "server.log").write_text(log)
    assert writer.returncode == 0, err[-2000:]
    assert "locked" not in err and "locked" not in log
    assert int(out.split("ADDED")[1]) > 0
    assert not errors, (errors[:3], log[-3000:])
    assert len(statuses) >= 6 and set(statuses) == {200}
