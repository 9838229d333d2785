"""Pacing of outside services across every worker process.

Each call reserves a slot in a `Throttle` row in one short transaction (never held across the
network call), then sleeps until its slot: two workers asking the Cover Art Archive at once get
slots a second apart. A 429's Retry-After pushes the service's next slot back for everyone.
"""

from __future__ import annotations

import time
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from enrichment.models import Throttle


def reserve(service: str, interval: float) -> float:
    """Reserve the next slot of `service` (at least `interval` seconds after the previous one);
    return how many seconds to wait for it."""
    now = timezone.now()
    with transaction.atomic():
        row = Throttle.objects.select_for_update().filter(service=service).first()
        slot = max(now, row.next_at) if row else now
        next_at = slot + timedelta(seconds=interval)
        if row:
            Throttle.objects.filter(pk=row.pk).update(next_at=next_at)
        else:
            Throttle.objects.create(service=service, next_at=next_at)
    return max(0.0, (slot - now).total_seconds())


def wait_turn(service: str, interval: float, *, max_wait: float = 120.0) -> None:
    """Sleep until this process may call `service`. Raises `Busy` beyond `max_wait` seconds."""
    if interval <= 0 and not _is_pushed_back(service):
        return
    delay = reserve(service, interval)
    if delay > max_wait:
        raise Busy(service, delay)
    if delay:
        time.sleep(delay)


def push_back(service: str, seconds: float) -> None:
    """Nobody calls `service` for `seconds` (Spotify's Retry-After, Deezer's quota)."""
    until = timezone.now() + timedelta(seconds=seconds)
    with transaction.atomic():
        updated = Throttle.objects.filter(service=service, next_at__lt=until).update(next_at=until)
        if not updated and not Throttle.objects.filter(service=service).exists():
            Throttle.objects.create(service=service, next_at=until)


def _is_pushed_back(service: str) -> bool:
    return Throttle.objects.filter(service=service, next_at__gt=timezone.now()).exists()


class Busy(Exception):
    """The service asked us to wait longer than a task should sleep."""

    def __init__(self, service: str, seconds: float):
        super().__init__(f"{service} is rate-limited for another {int(seconds)} s")
        self.service = service
        self.seconds = seconds


class Limiter:
    """What a client calls before each request (`wait`) and on a Retry-After (`push_back`)."""

    def __init__(self, service: str, interval: float, *, max_wait: float = 120.0):
        self.service = service
        self.interval = interval
        self.max_wait = max_wait

    def wait(self) -> None:
        wait_turn(self.service, self.interval, max_wait=self.max_wait)

    def push_back(self, seconds: float) -> None:
        push_back(self.service, seconds)
