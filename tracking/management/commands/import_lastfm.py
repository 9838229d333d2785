"""Import a user's whole Last.fm history (or a range of it), resuming an unfinished import."""

from __future__ import annotations

from datetime import UTC, datetime

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from tracking import lastfm_sync


def _date(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(
            f"{value!r} is not a date (use YYYY-MM-DD or an ISO date-time)"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = "Import a user's scrobbles from Last.fm (200 a page), resuming where it stopped."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="Music Tracker username")
        parser.add_argument("--since", type=_date, help="only scrobbles from this date (UTC)")
        parser.add_argument("--until", type=_date, help="only scrobbles before this date (UTC)")

    def handle(self, *args, user, since, until, **options):
        try:
            account = get_user_model().objects.get(username=user)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user named {user!r}.") from None
        if not getattr(account, "profile", None) or not account.profile.lastfm_username:
            raise CommandError(f"{user} has no Last.fm username: set it in Settings first.")
        job = lastfm_sync.start_backfill(user=account, since=since, until=until)
        if job.done:
            self.stdout.write(f"Resuming job #{job.pk} at page {job.state.get('page')}.")
        bar = tqdm(
            total=job.total, initial=job.done, unit="listens", unit_scale=True, dynamic_ncols=True
        )

        def progress(j, page):
            if bar.total != j.total:
                bar.total = j.total
            bar.set_postfix_str(f"page {page.page}/{page.total_pages}, {j.added} added")
            bar.update(len(page.records))

        try:
            job = lastfm_sync.run_backfill(job, on_progress=progress)
        finally:
            bar.close()
        if job.status != job.Status.DONE:
            raise CommandError(job.message or f"Import {job.status}.")
        self.stdout.write(
            self.style.SUCCESS(
                f"Done: {job.done} scrobbles read, {job.added} listens added, "
                f"{job.skipped} already stored."
            )
        )
