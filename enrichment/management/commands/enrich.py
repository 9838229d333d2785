"""Fill the enrichment backlog: pictures and AI notes still missing, with a progress bar."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from tqdm import tqdm

from enrichment import ai, services


class Command(BaseCommand):
    help = "Find missing artist/album pictures and write missing AI album notes."

    def add_arguments(self, parser):
        parser.add_argument("--images", action="store_true", help="pictures only (with --ai: both)")
        parser.add_argument("--ai", action="store_true", help="AI notes only (with --images: both)")
        parser.add_argument(
            "--limit", type=int, default=None, help="at most N artists and N albums"
        )

    def handle(self, *args, images=False, ai=False, limit=None, **options):
        do_images = images or not ai
        do_notes = ai or not images
        clients = services.Clients()
        configured = clients.configured()
        artists, albums, noted = [], [], []
        if do_images:
            if not configured:
                self.stderr.write("No image service configured (see Settings).")
            artists = list(services.artists_needing_images(configured)[:limit])
            albums = list(services.albums_needing_images(configured)[:limit])
        if do_notes:
            missing = _ai_missing()
            if missing:
                self.stderr.write("AI not configured: set " + ", ".join(missing))
            else:
                noted = list(services.albums_needing_notes()[:limit])
        total = len(artists) + len(albums) + len(noted)
        with tqdm(total=total, unit="item", desc="enrich", disable=total == 0) as bar:
            found = services.enrich(
                artists=artists, albums=albums, notes=False, clients=clients, progress=bar.update
            )
            written = services.enrich(
                albums=noted, images=False, clients=clients, progress=bar.update
            )
        self.stdout.write(
            f"{found}; {written.notes.total()} albums described {dict(written.notes)}"
        )


def _ai_missing() -> list[str]:
    return [m["key"] for m in ai.missing()]
