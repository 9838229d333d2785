from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from collection import discogs_sync


class Command(BaseCommand):
    help = (
        "Sync a user's Discogs collection (resumes an interrupted sync). Uses the Discogs "
        "username and token from the user's Settings."
    )

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="the Music Tracker username")

    def handle(self, *args, **options):
        User = get_user_model()
        try:
            user = User.objects.get(username=options["user"])
        except User.DoesNotExist:
            raise CommandError(f"No user named “{options['user']}”.") from None
        job, start = discogs_sync.queue_sync(user)
        if not start:
            raise CommandError(
                f"A Discogs sync of {user.username} is already running (job #{job.pk})."
            )
        with tqdm(total=job.total or 0, unit=" records", disable=None, dynamic_ncols=True) as bar:

            def progress(job):
                bar.total = job.total or bar.total
                bar.n = job.done
                bar.set_postfix_str(job.message[:60], refresh=False)
                bar.refresh()

            result = discogs_sync.sync_collection(user, job, progress=progress)
        if result.error:
            raise CommandError(result.error)
        self.stdout.write(self.style.SUCCESS(result.summary()))
