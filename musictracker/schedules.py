"""Every recurring job, in one place: what runs when. `manage.py sync_schedules` applies this
list to django-q2 (upsert by name, delete unknown names); the run scripts call it after migrate.

Each entry: name, dotted function, and either `minutes` (an interval) or `cron`.
"""

from __future__ import annotations

from musictracker import config


def schedules() -> list[dict]:
    return [
        # Reports the worker's heartbeat, so /healthz can tell a dead worker.
        {"name": "worker heartbeat", "func": "musictracker.tasks.heartbeat", "minutes": 1},
        # Pictures and AI notes still missing, a small batch at a time (misses wait their turn).
        {
            "name": "enrichment backlog",
            "func": "enrichment.tasks.enrich_backlog",
            "minutes": int(config.get("enrichment.backlog_minutes", 10)),
        },
        # A compressed copy of the database in data/backups/, keeping backups.keep of them.
        {
            "name": "daily backup",
            "func": "musictracker.tasks.backup_db",
            "cron": config.get("backups.cron", "30 3 * * *"),
        },
    ]
