"""Background enrichment of new artists and albums."""

from __future__ import annotations


def enrich_new(artist_ids: list[int], album_ids: list[int]) -> str:
    """Queued after listens or a sync bring in new artists and albums."""
    return f"{len(artist_ids)} artists and {len(album_ids)} albums waiting for enrichment"
