"""Last.fm backfill speed: 100,000 scrobbles from the fake (in-process, answering at once, no rate
limit) through pylast, the conversion and the one writer. The issue asks for ≥ 3,000 listens/s.

Each run imports into a fresh user (so every listen is new) and removes that user's rows after,
so the benchmark database does not grow. The first run also creates the library's 20,000 tracks
(a cold catalogue); later runs find them. Each run prints its rate in wall-clock and per CPU
second (the machine is shared: the wall-clock figure depends on what else runs).
"""

from __future__ import annotations

import time

from bench.context import Scenario

N = 100_000
TARGET_RATE = 3000


def _fake(ctx):
    if "lastfm_fake" not in ctx.cache:
        from tests.fakes.lastfm import FakeLastfm, Scrobble

        fake = FakeLastfm().start()
        start = 1_300_000_000
        # a realistic library: 20,000 tracks on 2,000 albums by 670 artists, one play every
        # 3 minutes, each track always on its own album by its own artist
        plays = []
        for i in range(N):
            t = i * 7919 % 20_000
            album = t // 10
            plays.append(
                Scrobble(
                    start + i * 180,
                    f"Bench Artist {album // 3}",
                    f"Bench Song {t}",
                    f"Bench Album {album}",
                    image="0123456789abcdef0123456789abcdef",
                )
            )
        fake.extend_sorted("bench-lastfm", plays)
        # "answering at once": render every page once now, so the fake's own work is not timed
        for page in range(1, N // 200 + 2):
            fake.answer("/2.0/", {**_params(fake), "page": str(page)})
        fake.requests.clear()
        ctx.cache["lastfm_fake"] = fake
        ctx.cache["lastfm_rates"] = []
    return ctx.cache["lastfm_fake"]


def _params(fake) -> dict[str, str]:
    return {
        "method": "user.getRecentTracks",
        "api_key": fake.api_key,
        "user": "bench-lastfm",
        "limit": "200",
        "extended": "1",
    }


def _cleanup(user) -> None:
    from django.db import connection, transaction

    from tracking import rollups
    from tracking.models import Listen

    with transaction.atomic(), connection.cursor() as cursor:
        for model in [Listen, *rollups.ALL_MODELS]:
            cursor.execute(f"DELETE FROM {model._meta.db_table} WHERE user_id = %s", [user.pk])
        from musictracker.models import Job

        Job.objects.filter(user=user).delete()
    user.delete()


def backfill_100k(ctx):
    from django.conf import settings
    from django.contrib.auth import get_user_model

    from musictracker.models import Profile
    from tracking import lastfm_sync
    from tracking.lastfm import Client

    fake = _fake(ctx)
    settings.MUSICTRACKER["lastfm"].update(
        api_key=fake.api_key, api_secret=fake.api_secret, base_url=fake.base_url
    )
    n = len(ctx.cache["lastfm_rates"])
    user = get_user_model().objects.create_user(f"bench-lastfm-{n}-{time.time_ns()}")
    Profile.objects.create(user=user, time_zone="Europe/Paris", lastfm_username="bench-lastfm")
    try:
        client = Client(base_url=fake.base_url, requests_per_second=0)
        started, cpu = time.perf_counter(), time.process_time()
        job = lastfm_sync.run_backfill(lastfm_sync.start_backfill(user=user), client=client)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        assert job.status == "done" and job.added == N, (job.status, job.added, job.message)
        rate = N / seconds
        ctx.cache["lastfm_rates"].append(rate)
        # CPU seconds of the whole process (client, prefetch thread and the in-process fake):
        # what the rate would be with the machine to ourselves.
        print(
            f"  lastfm backfill #{n + 1}: {N:,} listens in {seconds:.1f} s = {rate:,.0f} listens/s"
            f" (process CPU {cpu:.1f} s = {N / cpu:,.0f} listens per CPU second)",
            flush=True,
        )
    finally:
        _cleanup(user)


SCENARIOS = [
    # the target is the 3,000 listens/s: 100,000 listens in 33.3 s
    Scenario(
        "lastfm: backfill 100,000 scrobbles",
        backfill_100k,
        target_ms=N / TARGET_RATE * 1000,
        runs=1,
    )
]
