"""Wiring-level background tasks."""

from __future__ import annotations

from django.utils import timezone


def heartbeat() -> str:
    """Record that the worker is alive (read by the health check)."""
    from musictracker.models import Heartbeat

    Heartbeat.objects.update_or_create(name="worker", defaults={"beat_at": timezone.now()})
    return "ok"


def backup_db() -> str:
    from musictracker.backups import backup_db as run

    result = run()
    return f"{result.path.name} ({result.size / 1e6:.1f} MB), {len(result.removed)} old removed"
