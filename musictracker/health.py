"""The health of an install: database, worker heartbeat, and how fresh the users' polls are."""

from __future__ import annotations

from django.db import connection
from django.utils import timezone

WORKER_STALE_SECONDS = 180  # the heartbeat runs every minute
POLL_STALE_FACTOR = 5  # a poll older than 5 intervals is degraded


def check() -> dict:
    """{status: ok|degraded|failing, database, worker{age_seconds,status}, polls{...}}."""
    from musictracker import config

    result: dict = {"status": "ok"}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        result["database"] = {"status": "ok", "vendor": connection.vendor}
    except Exception as exc:  # the check must answer even when the database does not
        return {
            "status": "failing",
            "database": {"status": "failing", "error": type(exc).__name__},
            "worker": {"status": "unknown", "age_seconds": None},
            "polls": {"status": "unknown"},
        }

    from musictracker.models import Heartbeat

    now = timezone.now()
    beat = Heartbeat.objects.filter(name="worker").values_list("beat_at", flat=True).first()
    age = (now - beat).total_seconds() if beat else None
    worker_ok = age is not None and age <= WORKER_STALE_SECONDS
    result["worker"] = {
        "status": "ok" if worker_ok else "stale",
        "age_seconds": round(age) if age is not None else None,
    }

    polls: dict = {
        "status": "ok",
        "users": 0,
        "stale_users": 0,
        "failing_users": 0,
        "oldest_success_age_seconds": None,
    }
    try:
        from tracking.lastfm_sync import FAILURES_SHOWN_PLAINLY
        from tracking.models import TrackerStatus

        interval = int(config.get("lastfm.poll_interval_seconds", 120) or 120)
        rows = list(
            TrackerStatus.objects.filter(is_paused=False)
            .exclude(user__profile__lastfm_username="")
            .values_list("last_success_at", "consecutive_failures")
        )
        ages = [(now - t).total_seconds() if t else None for t, _ in rows]
        polls["users"] = len(rows)
        polls["stale_users"] = sum(1 for a in ages if a is None or a > interval * POLL_STALE_FACTOR)
        # failing several times in a row (Last.fm down, slow, answering garbage): said at once,
        # before the polls are old enough to be stale
        polls["failing_users"] = sum(1 for _, n in rows if n >= FAILURES_SHOWN_PLAINLY)
        known = [a for a in ages if a is not None]
        polls["oldest_success_age_seconds"] = round(max(known)) if known else None
        if polls["stale_users"]:
            polls["status"] = "stale"
        elif polls["failing_users"]:
            polls["status"] = "failing"
    except Exception:  # a broken tracker table must not hide the rest of the report
        polls["status"] = "unknown"
    result["polls"] = polls

    if not worker_ok or polls["status"] != "ok":
        result["status"] = "degraded"
    return result
