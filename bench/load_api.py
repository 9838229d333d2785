#!/usr/bin/env python
"""Load test of the API's history list under gunicorn: N concurrent clients, same machine.

    python bench/load_api.py [--db bench/data/bench-1000000.db] [--clients 4] [--seconds 20]

Starts gunicorn (3 sync workers) on the given database, issues a token for the user "bench",
then N threads each send GET /api/v1/history/listens (first page, and every fifth request the
page after a cursor) over fresh connections for the duration; prints requests/s, p50/p99 latency
and errors. Target (issue 9): ≥ 300 req/s with 4 clients.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _token(db: str) -> tuple[str, str]:
    sys.path.insert(0, str(ROOT))
    os.environ["MUSICTRACKER_DB_PATH"] = db
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "musictracker.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from musictracker.models import ApiToken

    call_command("migrate", verbosity=0)
    user = get_user_model().objects.get(username="bench")
    ApiToken.objects.filter(user=user, name="load_api").delete()
    _, raw = ApiToken.issue(user=user, name="load_api")
    from django.db import connection

    connection.close()
    return raw, ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", default=str(ROOT / "bench" / "data" / "bench-1000000.db"))
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()

    raw, _ = _token(args.db)
    env = {
        **os.environ,
        "MUSICTRACKER_DB_PATH": args.db,
        "MUSICTRACKER_GENERAL_LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "musictracker.wsgi",
            "-w",
            str(args.workers),
            "-b",
            f"127.0.0.1:{args.port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    headers = {"Authorization": f"Token {raw}", "Host": "127.0.0.1"}
    try:
        for _ in range(100):
            try:
                c = http.client.HTTPConnection("127.0.0.1", args.port, timeout=2)
                c.request("GET", "/api/v1/history/listens?limit=50", headers=headers)
                r = c.getresponse()
                body = r.read()
                if r.status == 200:
                    cursor = json.loads(body)["next_cursor"]
                    break
            except OSError:
                pass
            time.sleep(0.2)
        else:
            print("gunicorn did not answer", file=sys.stderr)
            return 1
        # warm every worker
        for _ in range(30):
            c = http.client.HTTPConnection("127.0.0.1", args.port, timeout=5)
            c.request("GET", "/api/v1/history/listens", headers=headers)
            c.getresponse().read()

        latencies: list[float] = []
        errors = [0]
        lock = threading.Lock()
        stop = time.monotonic() + args.seconds

        def client() -> None:
            mine, n = [], 0
            while time.monotonic() < stop:
                n += 1
                url = "/api/v1/history/listens?limit=50"
                if n % 5 == 0:
                    url += f"&cursor={cursor}"
                t0 = time.perf_counter()
                try:
                    c = http.client.HTTPConnection("127.0.0.1", args.port, timeout=10)
                    c.request("GET", url, headers=headers)
                    r = c.getresponse()
                    r.read()
                    ok = r.status == 200
                except OSError:
                    ok = False
                mine.append(time.perf_counter() - t0)
                if not ok:
                    with lock:
                        errors[0] += 1
            with lock:
                latencies.extend(mine)

        threads = [threading.Thread(target=client) for _ in range(args.clients)]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        lat = sorted(latencies)
        p99 = lat[int(len(lat) * 0.99) - 1] * 1000
        print(
            f"GET /api/v1/history/listens (50 per page), {args.clients} clients, {args.workers}"
            f" gunicorn workers: {len(lat) / elapsed:.0f} req/s, p50"
            f" {statistics.median(lat) * 1000:.1f} ms, p99 {p99:.1f} ms, {errors[0]} errors"
            f" out of {len(lat)}"
        )
        return 0 if errors[0] == 0 else 1
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    raise SystemExit(main())
