"""manage.py export_listens --user NAME --format csv|jsonl OUT: the whole history, streamed."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from tracking.exports import export_listens


class Command(BaseCommand):
    help = "Export a user's whole listening history as CSV or ListenBrainz-style JSONL."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True)
        parser.add_argument("--format", choices=["csv", "jsonl"], default="jsonl")
        parser.add_argument("out", help="output file, or - for standard output")

    def handle(self, *args, user, format, out, **options):
        owner = get_user_model().objects.filter(username=user).first()
        if owner is None:
            raise CommandError(f"--user: no user named {user!r}")
        if out == "-":
            self.stdout.ending = ""  # the chunks carry their own newlines
            self._write(owner, format, self.stdout)
            return
        with open(out, "w", encoding="utf-8", newline="") as stream:
            self._write(owner, format, stream)

    def _write(self, owner, fmt, stream) -> None:
        for chunk in export_listens(owner, fmt):
            stream.write(chunk)
