"""Every recurring job, in one place: what runs when. `manage.py sync_schedules` applies this
list to django-q2 (upsert by name, delete unknown names); the run scripts call it after migrate.

Each entry: name, dotted function, and either `minutes` (an interval) or `cron`.
"""

from __future__ import annotations

from musictracker import config


def _minutes(seconds: int) -> int:
    # django-q2 schedules count whole minutes: 120 s → every 2 minutes, at least 1.
    return max(1, round(int(seconds) / 60))


def schedules() -> list[dict]:
    return [
        # The Last.fm tracker: new scrobbles and now-playing of every followed user.
        {
            "name": "lastfm poll",
            "func": "tracking.tasks.poll_lastfm",
            "minutes": _minutes(config.get("lastfm.poll_interval_seconds", 120) or 120),
        },
        # Loved tracks on Last.fm, mirrored (less often than the poll).
        {
            "name": "lastfm loved sync",
            "func": "tracking.tasks.sync_lastfm_loved",
            "minutes": int(config.get("lastfm.loved_sync_minutes", 30) or 30),
        },
        # Reports the worker's heartbeat, so /healthz can tell a dead worker.
        {"name": "worker heartbeat", "func": "musictracker.tasks.heartbeat", "minutes": 1},
        # Pictures and AI notes still missing, a small batch at a time (misses wait their turn).
        {
            "name": "enrichment backlog",
            "func": "enrichment.tasks.enrich_backlog",
            "minutes": int(config.get("enrichment.backlog_minutes", 10)),
        },
        # Syncs the Discogs collection of every user with a Discogs username, once a day.
        {
            "name": "discogs sync",
            "func": "collection.tasks.sync_discogs_all",
            "cron": config.get("discogs.sync_cron") or "17 4 * * *",
        },
        # A compressed copy of the database in data/backups/, keeping backups.keep of them.
        {
            "name": "daily backup",
            "func": "musictracker.tasks.backup_db",
            "cron": config.get("backups.cron", "30 3 * * *"),
        },
    ]
