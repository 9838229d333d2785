from django.core.management.base import BaseCommand, CommandError

from musictracker.backups import BackupError, backup_db


class Command(BaseCommand):
    help = "Write a consistent, compressed backup of the database into data/backups/ (safe while running)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--keep", type=int, default=None, help="backups to keep (default: backups.keep)"
        )
        parser.add_argument("--dir", default=None, help="another folder")

    def handle(self, *args, **o):
        try:
            result = backup_db(keep=o["keep"], directory=o["dir"])
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            self.style.SUCCESS(f"Backup written: {result.path} ({result.size / 1e6:.1f} MB)")
        )
        if result.removed:
            self.stdout.write(f"Removed {len(result.removed)} older backup(s).")
