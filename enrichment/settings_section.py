"""The Enrichment section of Settings: backlog, services, last errors, AI usage."""

from __future__ import annotations

from collection.models import AlbumMetadata
from collection.queries import in_library
from enrichment import ai, services
from enrichment.models import AiUsage, EnrichmentState
from musictracker import config


def _services() -> list[dict]:
    return [
        {
            "name": "Spotify",
            "missing": config.missing("spotify.client_id", "spotify.client_secret"),
        },
        {"name": "Deezer", "missing": config.missing("deezer.base_url")},
        {"name": "Cover Art Archive", "missing": config.missing("coverartarchive.base_url")},
        {"name": "AI", "missing": ai.missing(), "model": config.get("ai.model", "")},
    ]


def section(request) -> dict:
    usage = AiUsage.counts()
    asked = usage[AiUsage.CACHE_HITS] + usage[AiUsage.REQUESTS]
    hit_rate = round(100 * usage[AiUsage.CACHE_HITS] / asked) if asked else None
    # Only about the user's own artists and albums: another user's names are theirs.
    errors = list(
        EnrichmentState.objects.filter(outcome=EnrichmentState.Outcome.ERROR)
        .filter(in_library(request.user, artist="artist_id", album="album_id"))
        .select_related("artist", "album")
        .order_by("-tried_at")[:5]
    )
    failed_notes = list(
        AlbumMetadata.objects.filter(ai_status=AlbumMetadata.Status.FAILED)
        .filter(in_library(request.user, album="album_id"))
        .select_related("album")
        .order_by("-pk")[:5]
    )
    return {
        "template": "settings/_enrichment.html",
        "backlog": services.backlog_counts(),
        "usage": usage,
        "hit_rate": hit_rate,
        "errors": errors,
        "failed_notes": failed_notes,
        "services": _services(),
        "order": services.image_order(),
        "retry_days": config.get("enrichment.retry_misses_after_days", 14),
    }
