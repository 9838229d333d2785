"""Import speed: a generated Spotify extended-history export imported into a fresh user.

    python -m bench.scenarios.imports --listens 500000 [--db bench/data/bench-1000000.db]

prints parse-only and full import rates (listens/s) and the peak resident memory. The file is
written to a temp dir; the fresh user (and their listens) is deleted afterwards, so the bench
database copy stays as it was. The harness (bench/run.py -k imports) runs a 20,000-listen import.
"""

from __future__ import annotations

import json
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.context import Scenario

WORDS = [
    "night",
    "light",
    "blue",
    "river",
    "gold",
    "fire",
    "heart",
    "dream",
    "ocean",
    "city",
    "rain",
    "summer",
    "shadow",
    "glass",
    "echo",
    "stone",
    "velvet",
    "silver",
    "paper",
    "wild",
    "electric",
    "quiet",
    "northern",
    "lonely",
    "burning",
    "golden",
    "distant",
]


def write_spotify_export(path: Path, n: int, *, seed: int = 1, artists: int = 1500) -> Path:
    """A Spotify-like export of n plays: ~5 % short plays, ~1 % podcasts, Zipf-ish taste."""
    rng = random.Random(seed)

    def name(k: int) -> str:
        return " ".join(rng.choice(WORDS).title() for _ in range(k))

    catalogue = []
    for a in range(artists):
        artist = f"{name(2)} {a}"
        for b in range(rng.randint(1, 6)):
            album = f"{name(rng.randint(1, 3))} {b}"
            for t in range(rng.randint(6, 14)):
                catalogue.append((artist, album, f"{name(rng.randint(1, 4))} {t}"))
    weights = [1 / (i + 1) ** 0.8 for i in range(len(catalogue))]
    rng.shuffle(catalogue)
    picks = rng.choices(catalogue, weights=weights, k=n)
    at = datetime(2012, 1, 1, tzinfo=UTC)
    with open(path, "w", encoding="utf-8") as f:
        f.write("[\n")
        for i, (artist, album, track) in enumerate(picks):
            at += timedelta(seconds=rng.randint(200, 900))
            roll = rng.random()
            row = {
                "ts": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "username": "bench",
                "platform": "Android OS",
                "ms_played": rng.randint(31000, 400000) if roll > 0.05 else rng.randint(0, 29000),
                "conn_country": "FR",
                "ip_addr_decrypted": None,
                "user_agent_decrypted": None,
                "master_metadata_track_name": track,
                "master_metadata_album_artist_name": artist,
                "master_metadata_album_album_name": album,
                "spotify_track_uri": f"spotify:track:{i:022d}",
                "episode_name": None,
                "episode_show_name": None,
                "spotify_episode_uri": None,
                "reason_start": "trackdone",
                "reason_end": "trackdone",
                "shuffle": False,
                "skipped": None,
                "offline": False,
                "offline_timestamp": 0,
                "incognito_mode": False,
            }
            if roll > 0.99:
                row.update(
                    master_metadata_track_name=None,
                    master_metadata_album_artist_name=None,
                    master_metadata_album_album_name=None,
                    episode_name="Episode",
                    episode_show_name="Show",
                )
            f.write(json.dumps(row))
            f.write(",\n" if i < n - 1 else "\n")
        f.write("]\n")
    return path


def _anon_rss_mb() -> float:
    """Resident memory that is not file-backed: SQLite's mmap of the database (PRAGMA mmap_size,
    256 MB) counts in the peak RSS but is page cache, not the importer's own memory."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_import(n: int, *, keep: bool = False) -> dict:
    from django.contrib.auth import get_user_model

    from musictracker.models import Profile
    from tracking.imports import import_file, read_rows

    User = get_user_model()
    with tempfile.TemporaryDirectory() as tmp:
        path = write_spotify_export(Path(tmp) / "Streaming_History_Audio_bench.json", n)
        t0 = time.perf_counter()
        rows = sum(1 for _ in read_rows(path))
        parse = time.perf_counter() - t0
        name = f"import-bench-{os.getpid()}-{time.time_ns()}"
        user = User.objects.create_user(name)
        Profile.objects.create(user=user, time_zone="Europe/Paris")
        try:
            t0 = time.perf_counter()
            result = import_file(user=user, path=path, enrich=False)
            seconds = time.perf_counter() - t0
        finally:
            if not keep:
                from tracking.listens import delete_listens  # noqa: F401  (rollups go with the user)

                user.delete()
    return {
        "rows": rows,
        "added": result.added,
        "skipped": result.skipped,
        "parse_per_s": rows / parse,
        "seconds": seconds,
        "rows_per_s": rows / seconds,
        "added_per_s": result.added / seconds,
        "peak_rss_mb": _peak_rss_mb(),
        "anon_rss_mb": _anon_rss_mb(),
    }


def import_20k(ctx):
    out = run_import(20_000)
    assert out["added"] > 18_000, out


SCENARIOS = [Scenario("imports: spotify export of 20,000 plays, fresh user", import_20k, runs=2)]


def main() -> int:
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--listens", type=int, default=500_000)
    parser.add_argument(
        "--db", default=str(Path(__file__).resolve().parents[1] / "data" / "bench-1000000.db")
    )
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    os.environ["MUSICTRACKER_DB_PATH"] = args.db
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "musictracker.settings")
    os.environ.setdefault("MUSICTRACKER_GENERAL_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    out = run_import(args.listens)
    print(
        f"{out['rows']:,} rows ({out['added']:,} added, {out['skipped']:,} skipped) in"
        f" {out['seconds']:.1f} s: {out['rows_per_s']:,.0f} rows/s, {out['added_per_s']:,.0f}"
        f" listens/s; parse only {out['parse_per_s']:,.0f} rows/s; peak RSS"
        f" {out['peak_rss_mb']:.0f} MB (anonymous, after: {out['anon_rss_mb']:.0f} MB)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
