"""Loving and unloving tracks: always stored locally; sent to Last.fm when the user connected
Music Tracker to their Last.fm account (a session key from Last.fm's authorization flow)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from musictracker.models import Profile
from tracking.models import LovedTrack


@dataclass
class LoveResult:
    loved: bool
    sent_to_lastfm: bool  # False: kept local (no Last.fm connection)


def set_loved(*, user, track_id: int, loved: bool) -> LoveResult:
    """Mark or unmark a track as loved for `user`; queue the change for Last.fm when connected."""
    with transaction.atomic():
        if loved:
            LovedTrack.objects.get_or_create(
                user=user, track_id=track_id, defaults={"loved_at": timezone.now()}
            )
        else:
            LovedTrack.objects.filter(user=user, track_id=track_id).delete()
    connected = bool(Profile.objects.filter(user=user).exclude(lastfm_session_key="").exists())
    if connected:
        from django_q.tasks import async_task

        transaction.on_commit(
            lambda: async_task("tracking.tasks.push_love_to_lastfm", user.pk, track_id, loved)
        )
    return LoveResult(loved=loved, sent_to_lastfm=connected)
