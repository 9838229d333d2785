"""Background enrichment: new artists and albums at once, the backlog on a schedule, and the
notes a user asked to regenerate. Plain functions taking ids (django-q2)."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from collection.models import Album, Artist
from enrichment import services
from musictracker import config


def _batch() -> int:
    return int(config.get("enrichment.batch_size", 50))


def enrich_new(artist_ids: list[int], album_ids: list[int]) -> str:
    """Queued after listens or a sync bring in new artists and albums. A large batch (an import)
    is cut to one batch; the scheduled backlog takes the rest."""
    size = _batch()
    artists = list(Artist.objects.filter(pk__in=list(artist_ids)[:size]).order_by("pk"))
    albums = list(Album.objects.filter(pk__in=list(album_ids)[:size]).order_by("pk"))
    return str(services.enrich(artists=artists, albums=albums))


def enrich_backlog() -> str:
    """Fill what is missing, a small batch at a time; remembered misses wait their turn."""
    clients = services.Clients()
    configured = clients.configured()
    size = _batch()
    artists = list(services.artists_needing_images(configured)[:size])
    albums = list(services.albums_needing_images(configured)[:size])
    result = services.enrich(artists=artists, albums=albums, notes=False, clients=clients)
    ai_batch = int(config.get("enrichment.ai_batch_size", 10))
    noted = list(services.albums_needing_notes()[:ai_batch])
    notes = services.enrich(albums=noted, images=False, clients=clients)
    return f"{result}; {notes.notes.total()} albums described ({dict(notes.notes)})"


def regenerate_notes(album_id: int, user_id: int | None = None) -> str:
    """A user asked for new notes (album page or admin)."""
    album = Album.objects.filter(pk=album_id).first()
    if album is None:
        return "album gone"
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    return services.describe_album(album=album, language=services.notes_language(user), force=True)


def refresh_images(artist_ids: list[int], album_ids: list[int]) -> str:
    """Ask every source again, misses included (admin action)."""
    artists = list(Artist.objects.filter(pk__in=artist_ids))
    albums = list(Album.objects.filter(pk__in=album_ids))
    return str(services.enrich(artists=artists, albums=albums, notes=False, force=True))
