from django.core.management.base import BaseCommand, CommandError

from musictracker.backups import BackupError, restore_db


class Command(BaseCommand):
    help = (
        "Restore a backup: checks its integrity, keeps a copy of the current database, then replaces it. "
        "Stop the web server and the worker first."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")

    def handle(self, *args, **o):
        try:
            kept = restore_db(o["file"])
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            self.style.SUCCESS(f"Restored {o['file']}. The previous database was kept as {kept}.")
        )
