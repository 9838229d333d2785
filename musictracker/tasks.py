"""Wiring-level background tasks."""

from __future__ import annotations

from django.core.cache import cache
from django.utils import timezone


def heartbeat() -> str:
    """Record that the worker is alive (read by the health check)."""
    from musictracker.models import Heartbeat

    Heartbeat.objects.update_or_create(name="worker", defaults={"beat_at": timezone.now()})
    cache.set("worker-heartbeat", timezone.now().isoformat(), None)
    return "ok"
