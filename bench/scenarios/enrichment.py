"""Scenarios of enrichment: the album page with its notes and picker, the Settings section
(backlog counts), and the backlog's next-batch queries."""

from bench.context import Scenario
from collection.models import Album, AlbumMetadata, Image
from enrichment import services


def _album(ctx):
    if "enrich_album" not in ctx.cache:
        album = Album.objects.order_by("pk").first()
        AlbumMetadata.objects.update_or_create(
            album=album,
            defaults={
                "summary": "A benchmark summary.",
                "description": "Para one.\n\nPara two.",
                "ai_status": "done",
                "model_name": "bench",
            },
        )
        for px in (640, 300, 64):
            Image.objects.get_or_create(
                album=album,
                url=f"https://i.scdn.co/image/bench{px}",
                defaults={"kind": "album", "source": "spotify", "width": px, "height": px},
            )
        ctx.cache["enrich_album"] = album.pk
    return ctx.cache["enrich_album"]


def album_page(ctx):
    page = ctx.get(f"/collection/albums/{_album(ctx)}/")
    assert b"A benchmark summary." in page.content


def settings_section(ctx):
    # The section alone: the Settings page around it costs ~250 ms without it (its time-zone
    # list), which is the foundation's to speed up.
    from types import SimpleNamespace

    from enrichment.settings_section import section

    data = section(SimpleNamespace(user=ctx.user))  # its last errors are the user's own
    assert "backlog" in data


def backlog_batch(ctx):
    services_list = ["spotify", "deezer", "coverartarchive"]
    list(services.artists_needing_images(services_list)[:50])
    list(services.albums_needing_images(services_list)[:50])
    list(services.albums_needing_notes()[:10])


SCENARIOS = [
    Scenario("enrichment: album page with notes and picker", album_page, target_ms=150),
    Scenario("enrichment: settings section (backlog counts)", settings_section, target_ms=60),
    Scenario("enrichment: backlog next batch queries", backlog_batch, target_ms=100),
]
