"""Small writes of the tracking app used by the API (the Last.fm tracker's own services live with
its client)."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from collection.catalogue import Catalogue, ListenRecord, resolve
from tracking.models import NowPlaying, Source, TrackerStatus

NOW_PLAYING_MINUTES = 10


def pause_tracker(*, user) -> TrackerStatus:
    """Stop polling Last.fm for this user until resumed."""
    status, _ = TrackerStatus.objects.get_or_create(user=user)
    if not status.is_paused:
        status.is_paused = True
        status.save(update_fields=["is_paused"])
    return status


def resume_tracker(*, user) -> TrackerStatus:
    """Poll Last.fm again for this user."""
    status, _ = TrackerStatus.objects.get_or_create(user=user)
    if status.is_paused:
        status.is_paused = False
        status.save(update_fields=["is_paused"])
    return status


def set_now_playing(*, user, record: ListenRecord, duration: int | None = None) -> NowPlaying:
    """What a scrobbler says is playing now; it expires after the track's length (or 10 min)."""
    now = timezone.now()
    seconds = duration if duration and 0 < duration < 3 * 3600 else NOW_PLAYING_MINUTES * 60
    with transaction.atomic():
        resolved = resolve([record], Catalogue())[0]
        playing, _ = NowPlaying.objects.update_or_create(
            user=user,
            defaults={
                "artist_name": record.artist[:500],
                "track_name": record.track[:500],
                "album_name": (record.album or "")[:500],
                "track_id": resolved.track_id if resolved else None,
                "source": Source.API,
                "started_at": now,
                "updated_at": now,
                "expires_at": now + timedelta(seconds=seconds),
            },
        )
    return playing
