"""Background tasks of the tracking app (plain functions taking ids)."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from tracking import listens


def rebuild_rollups(user_id: int) -> str:
    user = get_user_model().objects.get(pk=user_id)
    n = listens.rebuild_rollups(user)
    return f"rollups rebuilt from {n} listens"


def recompute_local_times(user_id: int) -> str:
    user = get_user_model().objects.get(pk=user_id)
    n = listens.recompute_local_times(user)
    return f"{n} listens re-dated"


def learn_durations(durations: dict[int, int]) -> str:
    """Queued by the Discogs sync when a tracklist gives tracks their first duration: their
    stored listens move from "unknown duration" to seconds in the rollups."""
    from tracking import rollups

    rollups.learn_durations({int(k): int(v) for k, v in durations.items()})
    return f"durations of {len(durations)} tracks learnt"
