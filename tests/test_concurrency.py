"""Two processes writing to one SQLite file at once: no "database is locked"."""

import os
import subprocess
import sys
import textwrap

import pytest
from django.conf import settings

pytestmark = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3", reason="SQLite only"
)

WRITER = textwrap.dedent(
    """
    import os, sys, django
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "musictracker.settings")
    django.setup()
    from datetime import datetime, timedelta, UTC
    from django.contrib.auth import get_user_model
    from collection.catalogue import ListenRecord, Catalogue
    from tracking.listens import ingest
    user = get_user_model().objects.get(username="w")
    who = int(sys.argv[1])
    cat = Catalogue()
    start = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(days=who * 100)
    for batch in range(40):
        records = [
            ListenRecord(artist=f"Artist {(batch * 7 + i) % 50}", track=f"Song {i} of {who}",
                         album=f"Album {i % 9}", listened_at=start + timedelta(minutes=5 * (batch * 25 + i)))
            for i in range(25)
        ]
        ingest(user, records, catalogue=cat, enrich=False)
    print("ok")
    """
)


def test_two_processes_write_at_once_without_locking_errors(tmp_path):
    env = {
        **os.environ,
        "MUSICTRACKER_DB_PATH": str(tmp_path / "c.db"),
        "MUSICTRACKER_DATA_DIR": str(tmp_path),
        "PYTHONPATH": str(settings.BASE_DIR),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)

    def run(*a):
        return subprocess.run(
            [sys.executable, *a], env=env, capture_output=True, text=True, timeout=300
        )

    assert run("manage.py", "migrate", "-v0").returncode == 0
    setup = "import django,os;os.environ.setdefault('DJANGO_SETTINGS_MODULE','musictracker.settings');django.setup();from django.contrib.auth import get_user_model as g;g().objects.create_user('w')"
    assert run("-c", setup).returncode == 0
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(n)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=settings.BASE_DIR,
        )
        for n in (1, 2, 3)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (_out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err[-2000:]
        assert "locked" not in err
    count = "import django,os;os.environ.setdefault('DJANGO_SETTINGS_MODULE','musictracker.settings');django.setup();from tracking.models import Listen, DayStat;from django.db.models import Sum;print(Listen.objects.count(), DayStat.objects.aggregate(s=Sum('listens'))['s'])"
    result = run("-c", count)
    assert result.stdout.split() == ["3000", "3000"]
