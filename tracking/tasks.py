"""Background tasks of the tracking app (plain functions taking ids)."""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model

from tracking import listens

log = logging.getLogger(__name__)


def rebuild_rollups(user_id: int) -> str:
    user = get_user_model().objects.get(pk=user_id)
    n = listens.rebuild_rollups(user)
    return f"rollups rebuilt from {n} listens"


def recompute_local_times(user_id: int) -> str:
    user = get_user_model().objects.get(pk=user_id)
    n = listens.recompute_local_times(user)
    return f"{n} listens re-dated"


def import_listens_file(job_id: int) -> str:
    """Run (or resume) a queued file import; the upload is removed once it is fully imported."""
    from pathlib import Path

    from musictracker.models import Job
    from tracking.imports import import_file

    job = Job.objects.select_related("user").get(pk=job_id)
    if job.status == Job.Status.DONE:
        return "already done"
    path = Path(job.state["path"])
    try:
        result = import_file(user=job.user, path=path, job=job)
    except Exception as exc:  # the job row must say what went wrong, whatever it was
        log.exception("import job %s failed", job.pk)
        Job.objects.filter(pk=job.pk).update(
            status=Job.Status.FAILED, message=f"{type(exc).__name__}: {exc}"[:2000]
        )
        return f"failed: {exc}"
    if path.parent.name == "uploads":
        path.unlink(missing_ok=True)
    from django.db import DatabaseError

    from musictracker.db import optimize

    try:  # the planner's statistics, as after `import_listens` (PERFORMANCE-NOTES rule 4)
        optimize()
    except DatabaseError:  # the import is complete: a busy database must not mark it failed
        log.warning("import job %s: statistics not refreshed", job.pk, exc_info=True)
    return result.summary()


def learn_durations(durations: dict[int, int]) -> str:
    """Queued by the Discogs sync when a tracklist gives tracks their first duration: their
    stored listens move from "unknown duration" to seconds in the rollups."""
    from tracking import rollups

    rollups.learn_durations({int(k): int(v) for k, v in durations.items()})
    return f"durations of {len(durations)} tracks learnt"


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


def poll_lastfm() -> str:
    """The live tracker: every user with a Last.fm username, not paused (schedules.py)."""
    from tracking import lastfm_sync

    r = lastfm_sync.poll_all()
    return f"{r['users']} users polled, {r['added']} listens added, {r['failed']} failed"


def sync_lastfm_loved() -> str:
    from tracking import lastfm_sync

    r = lastfm_sync.sync_loved_all()
    return f"loved tracks synced for {r['synced']} users, {r['failed']} failed"


def lastfm_backfill(job_id: int) -> str:
    from musictracker.models import Job
    from tracking import lastfm_sync

    job = lastfm_sync.run_backfill(Job.objects.select_related("user").get(pk=job_id))
    return f"{job.status}: {job.added} added of {job.done}"


def push_love_to_lastfm(user_id: int, track_id: int, loved: bool) -> str:
    from tracking import lastfm_sync

    user = get_user_model().objects.get(pk=user_id)
    sent = lastfm_sync.push_love(user=user, track_id=track_id, loved=loved)
    return "sent to Last.fm" if sent else "kept local (not connected to Last.fm)"


def connect_lastfm(user_id: int, token: str) -> str:
    from tracking import lastfm_sync

    user = get_user_model().objects.get(pk=user_id)
    name = lastfm_sync.connect(user=user, token=token)
    return f"connected to Last.fm as {name}"
