"""Background tasks of the playlists app (plain functions taking ids)."""

from __future__ import annotations

from playlists import services


def generate_ai_playlist(playlist_id: int) -> str:
    """Ask the AI model for a pending playlist's tracks (queued by create and regenerate)."""
    return services.generate_ai(playlist_id=playlist_id)
