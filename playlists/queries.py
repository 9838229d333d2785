"""Reads of the playlists app, shared by pages (and later by the API)."""

from __future__ import annotations

from django.db.models import Count, Sum

from collection.models import Track
from collection.normalize import search_key
from playlists.models import Playlist, PlaylistTrack


def playlists_for_list(*, user, limit: int = 500) -> list[Playlist]:
    """The user's playlists, newest first, each with `n_tracks` and `seconds` (known durations)."""
    return list(
        Playlist.objects.filter(user=user)
        .annotate(n_tracks=Count("entries"), seconds=Sum("entries__track__duration"))
        .order_by("-created_at", "-pk")[:limit]
    )


def playlist_entries(*, playlist: Playlist) -> list[PlaylistTrack]:
    return list(playlist.entries.select_related("track", "track__album").order_by("position"))


def total_seconds(entries: list[PlaylistTrack]) -> int:
    return sum(e.track.duration or 0 for e in entries)


def search_tracks(
    *, q: str, exclude_playlist: Playlist | None = None, limit: int = 20
) -> list[Track]:
    """Tracks whose folded title contains `q` (accents and case ignored), or whose artist does."""
    key = search_key(q.strip())
    if len(key) < 2:
        return []
    qs = Track.objects.filter(search_key__contains=key)
    if exclude_playlist is not None:
        qs = qs.exclude(pk__in=exclude_playlist.entries.values("track_id"))
    return list(qs.select_related("album").order_by("search_key", "pk")[:limit])
