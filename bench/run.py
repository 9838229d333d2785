#!/usr/bin/env python
"""Benchmark harness: build (or reuse) a database seeded with N listens, then time scenarios.

    .venv/bin/python bench/run.py --listens 1000000            # every scenario
    .venv/bin/python bench/run.py --listens 100000 -k journal   # scenarios whose name matches

Each scenario (registered in bench/scenarios/*.py) is one request through Django's test client
or one direct query/service call. For each, the table shows the median and 95th percentile in
milliseconds, the SQL queries of one run, and the target when the scenario has one. Databases
live in bench/data/ (git-ignored) and are reused; new migrations are applied to them.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1))))
    return ordered[k]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--listens", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument(
        "-k", dest="match", default="", help="only scenarios whose name contains this"
    )
    parser.add_argument("--db", help="database file (default bench/data/bench-<N>.db)")
    parser.add_argument(
        "--rebuild", action="store_true", help="throw away the database and seed again"
    )
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()

    data = ROOT / "bench" / "data"
    data.mkdir(parents=True, exist_ok=True)
    db = Path(args.db) if args.db else data / f"bench-{args.listens}.db"
    if args.rebuild:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
    fresh = not db.exists()
    os.environ["MUSICTRACKER_DB_PATH"] = str(db)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "musictracker.settings")
    os.environ.setdefault("MUSICTRACKER_GENERAL_LOG_LEVEL", "WARNING")

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    settings.DEBUG = False
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    if fresh:
        started = time.monotonic()
        call_command("seed_demo", user="bench", listens=args.listens, time_zone="Europe/Paris")
        print(f"seeded {args.listens:,} listens in {time.monotonic() - started:.1f} s", flush=True)

    from bench.context import Context

    ctx = Context.create()
    import bench.scenarios as pkg

    scenarios = []
    for mod in pkgutil.iter_modules(pkg.__path__):
        module = importlib.import_module(f"bench.scenarios.{mod.name}")
        scenarios.extend(getattr(module, "SCENARIOS", []))
    scenarios = [s for s in scenarios if args.match in s.name]

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    rows = []
    header = f"{'scenario':44} {'median ms':>10} {'p95 ms':>9} {'queries':>8} {'target':>8}  ok"
    print(f"\n{args.listens:,} listens · {args.runs} runs each\n{header}\n{'-' * len(header)}")
    failed = 0
    for s in scenarios:
        try:
            for _ in range(min(3, args.runs)):
                s.fn(ctx)
            times = []
            for _ in range(s.runs or args.runs):
                t0 = time.perf_counter()
                s.fn(ctx)
                times.append((time.perf_counter() - t0) * 1000)
            with CaptureQueriesContext(connection) as q:
                s.fn(ctx)
            med, p95 = statistics.median(times), percentile(times, 95)
            ok = "" if s.target_ms is None else ("✓" if p95 <= s.target_ms else "✗")
            failed += ok == "✗"
            target = "" if s.target_ms is None else f"{s.target_ms:g}"
            print(
                f"{s.name:44} {med:10.1f} {p95:9.1f} {len(q.captured_queries):8d} {target:>8}  {ok}",
                flush=True,
            )
            rows.append(
                {
                    "name": s.name,
                    "median_ms": med,
                    "p95_ms": p95,
                    "queries": len(q.captured_queries),
                    "target_ms": s.target_ms,
                }
            )
        except Exception as exc:  # one broken scenario must not hide the others' figures
            failed += 1
            print(f"{s.name:44} ERROR {type(exc).__name__}: {exc}", flush=True)
            rows.append({"name": s.name, "error": str(exc)})
    if args.json:
        Path(args.json).write_text(json.dumps({"listens": args.listens, "results": rows}, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
