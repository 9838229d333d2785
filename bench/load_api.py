#!/usr/bin/env python
"""Load test of the API's history list under gunicorn: N concurrent clients, same machine.

    python bench/load_api.py [--db bench/data/bench-1000000.db] [--clients 4] [--seconds 20]

Starts gunicorn exactly as `./scripts/run --prod` does (its settings come from
deploy/gunicorn.conf.py: worker class, workers, threads, keep-alive, access log; DEBUG off) on
the given database, issues a token for the user "bench", then N client threads each send
GET /api/v1/history/listens (the first page, and every fifth request the page after a cursor)
with `Authorization: Token …` for the duration, each over its own persistent HTTP/1.1
connection (reopened whenever the server closes it), reading every response whole and checking
its status and length. Prints requests/s, p50/p95/p99 latency, errors, and where the 2 cores
went: CPU milliseconds per request of the server (master + workers) and of this load generator,
and the CPU other processes used meanwhile (the machine is shared: a busy neighbour lowers the
figure). Target (issue 9): ≥ 300 req/s with 4 clients.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TICK = os.sysconf("SC_CLK_TCK")


def _token(db: str) -> str:
    sys.path.insert(0, str(ROOT))
    os.environ["MUSICTRACKER_DB_PATH"] = db
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "musictracker.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from musictracker.models import ApiToken

    call_command("migrate", verbosity=0)
    user = get_user_model().objects.get(username="bench")
    ApiToken.objects.filter(user=user, name="load_api").delete()
    _, raw = ApiToken.issue(user=user, name="load_api")
    connection.close()
    return raw


def _cpu_seconds(pids: set[int]) -> tuple[float, float]:
    """(user, system) CPU seconds of these processes so far."""
    user = system = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        user, system = user + int(fields[11]), system + int(fields[12])
    return user / TICK, system / TICK


def _server_pids(master: int) -> set[int]:
    pids = {master}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if ppid == master:
                pids.add(int(entry.name))
    return pids


def _machine_busy_seconds() -> float:
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / TICK


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", default=str(ROOT / "bench" / "data" / "bench-1000000.db"))
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--gunicorn",
        default="",
        help="extra gunicorn options over deploy/gunicorn.conf.py, to compare settings,"
        " e.g. '--worker-class sync --workers 3'",
    )
    parser.add_argument(
        "--close", action="store_true", help="send `Connection: close`: one connection a request"
    )
    args = parser.parse_args()

    raw = _token(args.db)
    env = {**os.environ, "MUSICTRACKER_DB_PATH": args.db}
    env.pop("MUSICTRACKER_GENERAL_LOG_LEVEL", None)  # the production level (INFO)
    env.pop("MUSICTRACKER_DEBUG", None)
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "musictracker.wsgi:application",
        "--config",
        str(ROOT / "deploy" / "gunicorn.conf.py"),
        "--bind",
        f"127.0.0.1:{args.port}",
        "--log-level",
        "warning",  # gunicorn's own start/stop messages; the access log stays on
        *args.gunicorn.split(),
    ]
    # The access log is written as in production (to stdout), here into /dev/null.
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    headers = {"Authorization": f"Token {raw}"}
    if args.close:
        headers["Connection"] = "close"
    first = "/api/v1/history/listens?limit=50"
    try:
        cursor = None
        for _ in range(150):
            try:
                c = http.client.HTTPConnection("127.0.0.1", args.port, timeout=2)
                c.request("GET", first, headers=headers)
                r = c.getresponse()
                body = r.read()
                c.close()
                if r.status == 200:
                    page = json.loads(body)
                    assert len(page["items"]) == 50, "the bench user has fewer than 50 listens"
                    cursor = page["next_cursor"]
                    break
                print(f"gunicorn answered {r.status}: {body[:300]!r}", file=sys.stderr)
                return 1
            except OSError:
                time.sleep(0.2)
        if cursor is None:
            print("gunicorn did not answer", file=sys.stderr)
            return 1
        second = f"{first}&cursor={cursor}"
        # Warm every worker (and every thread's database connection) on fresh connections.
        for _ in range(40):
            c = http.client.HTTPConnection("127.0.0.1", args.port, timeout=5)
            c.request("GET", first, headers={**headers, "Connection": "close"})
            c.getresponse().read()
            c.close()

        latencies: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()
        go = threading.Event()
        stop = [0.0]

        def client() -> None:
            mine, bad, n = [], [], 0
            conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=10)
            go.wait()
            while time.monotonic() < stop[0]:
                n += 1
                url = second if n % 5 == 0 else first
                t0 = time.perf_counter()
                try:
                    conn.request("GET", url, headers=headers)
                    r = conn.getresponse()
                    body = r.read()  # whole body; http.client checks it against Content-Length
                    if r.status != 200 or not body.endswith(b"}"):
                        bad.append(f"status {r.status}")
                except (OSError, http.client.HTTPException) as exc:
                    bad.append(type(exc).__name__)
                    conn.close()  # the next request opens a new connection
                mine.append(time.perf_counter() - t0)
            conn.close()
            with lock:
                latencies.extend(mine)
                errors.extend(bad)

        threads = [threading.Thread(target=client) for _ in range(args.clients)]
        for t in threads:
            t.start()
        pids = _server_pids(server.pid)
        server_cpu0, busy0 = _cpu_seconds(pids), _machine_busy_seconds()
        self0 = resource.getrusage(resource.RUSAGE_SELF)
        started = time.monotonic()
        stop[0] = started + args.seconds
        go.set()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        self1 = resource.getrusage(resource.RUSAGE_SELF)
        server_user, server_sys = (
            b - a for a, b in zip(server_cpu0, _cpu_seconds(pids), strict=True)
        )
        server_cpu = server_user + server_sys
        busy = _machine_busy_seconds() - busy0
        client_cpu = (self1.ru_utime + self1.ru_stime) - (self0.ru_utime + self0.ru_stime)
        other = max(0.0, busy - server_cpu - client_cpu)

        lat = sorted(latencies)
        n = len(lat)

        def pct(p: float) -> float:
            return lat[min(n - 1, int(n * p))] * 1000

        options = " ".join(command[command.index("--config") :][2:]).replace(
            f"--bind 127.0.0.1:{args.port} --log-level warning", ""
        )
        version = subprocess.run(
            [sys.executable, "-c", "import gunicorn; print(gunicorn.__version__)"],
            env=env,
            capture_output=True,
            text=True,
        ).stdout.strip()
        print(
            f"GET /api/v1/history/listens (50 per page), {args.clients} clients"
            f" ({'Connection: close' if args.close else 'keep-alive'}), gunicorn {version},"
            " deploy/gunicorn.conf.py"
            f"{' ' + options.strip() if options.strip() else ''}:\n"
            f"  {n / elapsed:.0f} req/s, p50 {statistics.median(lat) * 1000:.1f} ms,"
            f" p95 {pct(0.95):.1f} ms, p99 {pct(0.99):.1f} ms, {len(errors)} errors out of {n}"
            f"{' (' + ', '.join(sorted(set(errors))[:5]) + ')' if errors else ''}\n"
            f"  CPU per request: server {server_cpu / n * 1000:.2f} ms (user"
            f" {server_user / n * 1000:.2f}, system {server_sys / n * 1000:.2f}), load generator"
            f" {client_cpu / n * 1000:.2f} ms; other processes used"
            f" {other / elapsed:.2f} of the {os.cpu_count()} cores meanwhile"
        )
        return 0 if not errors else 1
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    raise SystemExit(main())
