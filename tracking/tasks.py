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
