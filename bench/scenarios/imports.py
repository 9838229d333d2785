"""Import speed: a generated Spotify extended-history export imported into a fresh user.

    python -m bench.scenarios.imports --listens 500000 [--db bench/data/bench-1000000.db]

prints parse-only and full import rates (listens/s) and the peak resident memory. The file is
written to a temp dir; the fresh user (and their listens) is deleted afterwards, so the bench
database copy stays as it was. The harness (bench/run.py -k imports) runs a 20,000-listen import.
"""

from __future__ import annotations

import contextlib
import itertools
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


def _name(rng: random.Random, k: int) -> str:
    return " ".join(rng.choice(WORDS).title() for _ in range(k))


def _spotify_row(i: int, at: datetime, artist: str, album: str, track: str, rng) -> dict:
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
    return row


def _catalogue(rng: random.Random, artists: int) -> list[tuple[str, list[tuple[str, list[str]]]]]:
    """Artists, each with albums and their tracklists."""
    out = []
    for a in range(artists):
        albums = []
        for b in range(rng.randint(1, 6)):
            tracks = [f"{_name(rng, rng.randint(1, 4))} {t}" for t in range(rng.randint(6, 14))]
            albums.append((f"{_name(rng, rng.randint(1, 3))} {b}", tracks))
        out.append((f"{_name(rng, 2)} {a}", albums))
    return out


def _plays_random(rng, catalogue, n):
    """Worst case for the rollups: every play drawn at random from the whole catalogue."""
    flat = [(a, b, t) for a, albums in catalogue for b, tracks in albums for t in tracks]
    weights = [1 / (i + 1) ** 0.8 for i in range(len(flat))]
    rng.shuffle(flat)
    at = datetime(2012, 1, 1, tzinfo=UTC)
    for artist, album, track in rng.choices(flat, weights=weights, k=n):
        at += timedelta(seconds=rng.randint(200, 900))
        yield at, artist, album, track


def _plays_realistic(rng, catalogue, n, years: int = 12):
    """How people listen: sessions through the day, each a run through an album, a shuffle of
    favourite tracks or a discovery, drawn from a rotation of artists that drifts from month
    to month; `years` of history, ending before today."""
    weights = [1 / (i + 1) ** 0.9 for i in range(len(catalogue))]
    everyone = range(len(catalogue))
    rotation = rng.choices(everyone, weights=weights, k=60)
    per_day = max(5.0, n / (years * 365))
    day = datetime(2011, 1, 1, 7, tzinfo=UTC)
    month, done, last = day.month, 0, day
    while done < n:
        if day.month != month:  # a tenth of the rotation changes each month
            month = day.month
            for k in rng.sample(range(len(rotation)), 6):
                rotation[k] = rng.choices(everyone, weights=weights)[0]
        quota = per_day * rng.uniform(0.3, 1.7)
        today = 0
        at = max(day + timedelta(hours=rng.uniform(0, 4)), last + timedelta(minutes=40))
        while today < quota and done < n:
            mode = rng.random()
            if mode < 0.5:  # an album, start to (nearly) the end
                artist, albums = catalogue[rng.choice(rotation)]
                album, tracks = rng.choice(albums)
                plays = [(artist, album, t) for t in tracks[: rng.randint(len(tracks) // 2, 99)]]
            elif mode < 0.85:  # a shuffle of the rotation's tracks
                plays = []
                for _ in range(rng.randint(5, 30)):
                    artist, albums = catalogue[rng.choice(rotation)]
                    album, tracks = rng.choice(albums)
                    plays.append((artist, album, rng.choice(tracks)))
            else:  # discovery: artists from anywhere
                plays = []
                for _ in range(rng.randint(3, 12)):
                    artist, albums = catalogue[rng.choices(everyone, weights=weights)[0]]
                    album, tracks = rng.choice(albums)
                    plays.append((artist, album, rng.choice(tracks)))
            for artist, album, track in plays:
                at += timedelta(seconds=rng.randint(150, 330))
                yield at, artist, album, track
                done += 1
                today += 1
                if done == n:
                    return
            last = at
            at += timedelta(minutes=rng.randint(35, 180))
        day = max(day + timedelta(days=1), (last + timedelta(hours=6)).replace(hour=7))


def write_spotify_export(
    path: Path, n: int, *, seed: int = 1, artists: int = 1500, shape: str = "realistic"
) -> Path:
    """A Spotify-like export of n plays (~5 % short plays, ~1 % podcasts). `shape`: "realistic"
    (album runs and shuffles of a drifting rotation) or "random" (every play drawn at random:
    the worst case for the rollups, which then change several rows per listen)."""
    rng = random.Random(seed)
    catalogue = _catalogue(rng, artists)
    plays = (_plays_realistic if shape == "realistic" else _plays_random)(rng, catalogue, n)
    with open(path, "w", encoding="utf-8") as f:
        f.write("[\n")
        for i, (at, artist, album, track) in enumerate(plays):
            f.write(json.dumps(_spotify_row(i, at, artist, album, track, rng)))
            f.write(",\n" if i < n - 1 else "\n")
        f.write("]\n")
    return path


class _RssSampler:
    """The highest resident memory seen while a block runs, sampled every 20 ms: the import's
    own peak, apart from the file's generation before it and the user's deletion after it
    (ru_maxrss would count both). The import's parser process counts too: the figure is the
    sum of this process and its children at each sample.

    The sampler runs in the importer's process and takes the GIL from it at each sample, so it
    reads `statm` through descriptors kept open and looks for new children only every 0.25 s:
    parsing `/proc/*/status` through pathlib at every sample took about 1.5 s of a 25 s
    import's GIL time from the importer."""

    INTERVAL = 0.02
    CHILDREN_EVERY = 12  # samples

    def __enter__(self):
        import threading

        self.peak_kb, self.stop = 0, threading.Event()
        self.page_kb = os.sysconf("SC_PAGE_SIZE") // 1024
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def _resident_kb(self, fd: int) -> int:
        return int(os.pread(fd, 200, 0).split()[1]) * self.page_kb

    def _children(self, fds: dict[str, int]) -> None:
        """Open `statm` of the children not seen yet (and close those that ended)."""
        pids = set()
        for task in os.listdir("/proc/self/task"):
            with contextlib.suppress(OSError), open(f"/proc/self/task/{task}/children") as f:
                pids.update(f.read().split())
        for pid in set(fds) - pids:
            os.close(fds.pop(pid))
        for pid in pids - set(fds):
            with contextlib.suppress(OSError):  # it may end meanwhile
                fds[pid] = os.open(f"/proc/{pid}/statm", os.O_RDONLY)

    def _run(self) -> None:
        own = os.open("/proc/self/statm", os.O_RDONLY)
        children: dict[str, int] = {}
        try:
            for n in itertools.count():
                if n % self.CHILDREN_EVERY == 0:
                    self._children(children)
                total = self._resident_kb(own)
                for pid, fd in list(children.items()):
                    try:
                        total += self._resident_kb(fd)
                    except (OSError, IndexError):  # it ended: no longer counted
                        os.close(children.pop(pid))
                self.peak_kb = max(self.peak_kb, total)
                if self.stop.wait(self.INTERVAL):
                    return
        finally:
            for fd in [own, *children.values()]:
                os.close(fd)

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()

    @property
    def peak_mb(self) -> float:
        return self.peak_kb / 1024


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_import(n: int, *, keep: bool = False, shape: str = "realistic") -> dict:
    from django.contrib.auth import get_user_model

    from musictracker.models import Profile
    from tracking.imports import import_file, read_rows

    User = get_user_model()
    with tempfile.TemporaryDirectory() as tmp:
        path = write_spotify_export(
            Path(tmp) / "Streaming_History_Audio_bench.json", n, shape=shape
        )
        t0 = time.perf_counter()
        rows = sum(1 for _ in read_rows(path))
        parse = time.perf_counter() - t0
        name = f"import-bench-{os.getpid()}-{time.time_ns()}"
        user = User.objects.create_user(name)
        Profile.objects.create(user=user, time_zone="Europe/Paris")
        try:
            t0 = time.perf_counter()
            with _RssSampler() as rss:
                result = import_file(user=user, path=path, enrich=False)
            seconds = time.perf_counter() - t0
        finally:
            if not keep:
                from tracking.listens import delete_listens  # noqa: F401  (rollups go with the user)

                user.delete()
    return {
        "user_id": user.pk,
        "rows": rows,
        "added": result.added,
        "skipped": result.skipped,
        "parse_per_s": rows / parse,
        "seconds": seconds,
        "rows_per_s": rows / seconds,
        "added_per_s": result.added / seconds,
        "import_rss_mb": rss.peak_mb,
        "peak_rss_mb": _peak_rss_mb(),
    }


def write_floor(user_id: int, batch: int = 10_000) -> dict[str, tuple[int, float]]:
    """(rows, seconds) per table: how long SQLite alone takes to store what an import stored for
    `user_id`. Each table's rows of that user are deleted, then inserted again as they were,
    `batch` rows a transaction, on the app's own connection (its indexes, foreign keys and
    settings) with no Python work in between: what an import of these plays cannot go below on
    this machine, whatever its code (the import also reads, and upserts rows more than once)."""
    from django.db import connection, transaction

    from tracking import rollups
    from tracking.models import Listen

    if connection.vendor != "sqlite":
        raise SystemExit("--floor measures SQLite")
    out: dict[str, tuple[int, float]] = {}
    for model in (Listen, *rollups.ALL_MODELS):
        table = model._meta.db_table
        key = ", ".join(f.column for f in model._meta.pk_fields)  # rollups: their natural key
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT * FROM {table} WHERE user_id = %s ORDER BY {key}", [user_id])
            cols = [c[0] for c in cursor.description]
            rows = cursor.fetchall()
            with transaction.atomic():
                cursor.execute(f"DELETE FROM {table} WHERE user_id = %s", [user_id])
        sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
        raw = connection.connection  # the sqlite3 connection itself: no wrapper, no conversion
        t0 = time.perf_counter()
        for i in range(0, len(rows), batch):
            with transaction.atomic():
                raw.executemany(sql, rows[i : i + batch])
        out[table] = (len(rows), time.perf_counter() - t0)
    return out


def import_20k(ctx):
    out = run_import(20_000)
    assert out["added"] > 18_000, out


SCENARIOS = [Scenario("imports: spotify export of 20,000 plays, fresh user", import_20k, runs=2)]


def main() -> int:
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--listens", type=int, default=500_000)
    parser.add_argument("--shape", choices=["realistic", "random"], default="realistic")
    parser.add_argument(
        "--floor",
        action="store_true",
        help="then time SQLite alone storing the same rows again (the lower bound of any import)",
    )
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
    # A migration reads the database through SQLite's memory map; closing the connection
    # unmaps it before the import's peak memory is sampled (500,000 plays right after the
    # migration to 0007: 437 MB with the map, 291 MB without; 218 MB with nothing to migrate).
    from django.db import connection

    connection.close()
    out = run_import(args.listens, shape=args.shape, keep=args.floor)
    print(
        f"{args.shape} export: {out['rows']:,} rows ({out['added']:,} added, {out['skipped']:,} skipped) in"
        f" {out['seconds']:.1f} s: {out['rows_per_s']:,.0f} rows/s, {out['added_per_s']:,.0f}"
        f" listens/s; parse only {out['parse_per_s']:,.0f} rows/s; peak RSS during the import"
        " (with its parser process)"
        f" {out['import_rss_mb']:.0f} MB (of the whole run, with the file's generation and the"
        f" user's deletion: {out['peak_rss_mb']:.0f} MB)"
    )
    if args.floor:
        from django.contrib.auth import get_user_model

        floor = write_floor(out["user_id"])
        for table, (n, seconds) in floor.items():
            print(f"  {table:32s} {n:9,} rows {seconds:6.2f} s")
        total = sum(seconds for _, seconds in floor.values())
        print(
            f"SQLite alone storing those rows again: {total:.1f} s, so at most"
            f" {out['rows'] / total:,.0f} rows/s for this export whatever the code"
        )
        get_user_model().objects.filter(pk=out["user_id"]).delete()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
