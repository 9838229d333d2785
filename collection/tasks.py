"""Background tasks of the collection app (plain functions taking ids)."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from collection import discogs_sync
from musictracker.models import Job, Profile


def sync_discogs(job_id: int) -> str:
    """Run (or resume) one user's Discogs sync recorded in `job_id`."""
    job = Job.objects.select_related("user").get(pk=job_id)
    result = discogs_sync.sync_collection(job.user, job)
    return result.error or result.summary()


def sync_discogs_all() -> str:
    """The daily schedule: every user with a Discogs username, one after the other (one sync at
    a time keeps within Discogs' rate limit and SQLite's single writer)."""
    users = get_user_model().objects.filter(
        pk__in=Profile.objects.exclude(discogs_username="").values("user_id"), is_active=True
    )
    done = []
    for user in users.order_by("pk"):
        job, start = discogs_sync.queue_sync(user)
        if not start:
            continue  # a sync of this user is already running
        result = discogs_sync.sync_collection(user, job)
        done.append(f"{user.username}: {result.error or result.summary()}")
    return "\n".join(done) or "no user has a Discogs username"
