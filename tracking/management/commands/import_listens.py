"""manage.py import_listens --user NAME FILE…: import history exports, resuming unfinished ones."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from musictracker.db import optimize
from tracking.imports import (
    FORMATS,
    ImportFormatError,
    detect_format,
    import_file,
    resumable_job,
    start_import,
)


class Command(BaseCommand):
    help = (
        "Import listening history from Spotify, Last.fm, ListenBrainz or Music Tracker exports."
        " An interrupted import of the same file resumes where it stopped."
    )

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True)
        parser.add_argument("files", nargs="+")
        parser.add_argument("--no-enrich", action="store_true", help="do not queue enrichment")

    def handle(self, *args, user, files, no_enrich=False, **options):
        owner = get_user_model().objects.filter(username=user).first()
        if owner is None:
            raise CommandError(f"--user: no user named {user!r}")
        paths = [Path(f) for f in files]
        for path in paths:
            if not path.is_file():
                raise CommandError(f"{path}: no such file")
            try:
                detect_format(path)
            except ImportFormatError as exc:
                raise CommandError(f"{path}: {exc}")
        for path in paths:
            job = resumable_job(user=owner, path=path) or start_import(user=owner, path=path)
            size = path.stat().st_size
            with tqdm(total=size, unit="B", unit_scale=True, desc=path.name) as bar:

                def progress(position, result, bar=bar):
                    bar.update(max(0, position - bar.n))
                    bar.set_postfix(added=result.added, skipped=result.skipped, refresh=False)

                result = import_file(
                    user=owner, path=path, job=job, on_batch=progress, enrich=not no_enrich
                )
            self.stdout.write(f"{path.name} ({FORMATS[result.format]}): {result.summary()}")
            for line in result.report[:20]:
                self.stdout.write(f"  {line['line']}: {line['reason']}")
            if len(result.report) > 20:
                self.stdout.write(f"  … {len(result.report) - 20} more in job #{job.pk}'s report")
        optimize()
