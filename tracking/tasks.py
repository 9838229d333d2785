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


def write_ai_review(review_id: int, kind: str, first: str, last: str) -> str:
    """Write (or rewrite) the AI portrait of one period from its statistics."""
    from datetime import date

    from musictracker.models import Profile
    from tracking.ai_review import write_review
    from tracking.models import AiReview
    from tracking.stats import Period, Stats

    review = AiReview.objects.select_related("user").get(pk=review_id)
    profile, _ = Profile.objects.get_or_create(user=review.user)
    period = Period(kind, date.fromisoformat(first), date.fromisoformat(last))
    write_review(review, Stats(review.user, period, profile.tzinfo), language=profile.language)
    return f"AI review {review.period_key}: {review.status}"
