"""Merging two catalogue rows (artists, albums or tracks) into the one kept.

Every row that points at the merged one, in any app, is moved to the kept one, by walking the
model's reverse relations; so listens, credits, images, collection items, playlist entries and
rollups follow without this module importing the apps above it. Where moving a row would break a
unique constraint (the same listen of two tracks that are now one, a credit present on both), the
moved row is the duplicate and is dropped. Then the merged row is deleted, its name kept as an
alias, and the rollups of affected users are rebuilt in the background.
"""

from __future__ import annotations

from django.db import models, transaction
from django.db.models import Exists, OuterRef

from collection.models import Album, AlbumArtist, Artist, ArtistAlias, Track
from collection.normalize import name_key


def _unique_sets(model: type[models.Model]) -> list[tuple[str, ...]]:
    sets = [tuple(s) for s in model._meta.unique_together]
    if model._meta.is_composite_pk:  # the rollups: their key is their only unique set
        sets.append(tuple(f.name for f in model._meta.pk_fields))
    for c in model._meta.constraints:
        if isinstance(c, models.UniqueConstraint) and c.fields and c.condition is None:
            sets.append(tuple(c.fields))
    return sets


def _repoint(kept: models.Model, gone: models.Model) -> set[int]:
    """Move every relation from `gone` to `kept`; returns the ids of users whose data moved."""
    users: set[int] = set()
    # include_hidden: relations declared with related_name="+" (listens, rollups) must move too.
    for rel in type(gone)._meta._get_fields(forward=False, reverse=True, include_hidden=True):
        if not (rel.one_to_many or rel.one_to_one):
            continue
        model, field = rel.related_model, rel.field
        name = field.name
        qs = model._base_manager.filter(**{name: gone})
        if not qs.exists():
            continue
        if any(f.name == "user" for f in model._meta.fields):
            users.update(qs.values_list("user_id", flat=True).distinct())
        if rel.one_to_one:
            if model._base_manager.filter(**{name: kept}).exists():
                qs.delete()
            else:
                qs.update(**{name: kept})
            continue
        for fields in _unique_sets(model):
            if name not in fields:
                continue
            others = [f for f in fields if f != name]
            clash = model._base_manager.filter(**{name: kept}, **{f: OuterRef(f) for f in others})
            qs.filter(Exists(clash)).delete()
        model._base_manager.filter(**{name: gone}).update(**{name: kept})
    return users


def _rekey_tracks(tracks) -> None:
    for track in tracks:
        key = Track.key_for(track.artist_id, track.album_id, track.title)
        if key == track.match_key:
            continue
        twin = Track.objects.filter(match_key=key).exclude(pk=track.pk).first()
        if twin:
            merge_tracks(kept=twin, gone=track)
        else:
            Track.objects.filter(pk=track.pk).update(match_key=key)


def _rekey_albums(albums) -> None:
    for album in albums:
        first = AlbumArtist.objects.filter(album=album).order_by("position").first()
        if not first:
            continue
        key = Album.key_for(first.artist_id, album.title)
        if key == album.match_key:
            continue
        twin = Album.objects.filter(match_key=key).exclude(pk=album.pk).first()
        if twin:
            merge_albums(kept=twin, gone=album)
        else:
            Album.objects.filter(pk=album.pk).update(match_key=key)


def _after(users: set[int]) -> None:
    if not users:
        return

    def queue():
        from django_q.tasks import async_task

        for user_id in sorted(users):
            async_task("tracking.tasks.rebuild_rollups", user_id)

    transaction.on_commit(queue)


@transaction.atomic
def merge_artists(*, kept: Artist, gone: Artist) -> Artist:
    """Make `gone` one with `kept`; `gone`'s names become aliases of `kept`."""
    if kept.pk == gone.pk:
        return kept
    aliases = [(gone.name, name_key(gone.name))] + list(
        gone.aliases.values_list("name", "name_key")
    )
    users = _repoint(kept, gone)
    for field in ("mbid", "spotify_id", "lastfm_url", "discogs_id", "image_url"):
        if not getattr(kept, field) and getattr(gone, field):
            setattr(kept, field, getattr(gone, field))
            if field == "mbid":
                Artist.objects.filter(pk=gone.pk).update(mbid=None)
    gone.delete()
    kept.save()
    for name, key in aliases:
        if key != kept.name_key:
            ArtistAlias.objects.update_or_create(
                name_key=key, defaults={"name": name, "artist": kept}
            )
    _rekey_albums(list(Album.objects.filter(credits__artist=kept, credits__position=0)))
    _rekey_tracks(list(Track.objects.filter(artist=kept)))
    _after(users)
    return kept


@transaction.atomic
def merge_albums(*, kept: Album, gone: Album) -> Album:
    if kept.pk == gone.pk:
        return kept
    users = _repoint(kept, gone)
    for field in (
        "year",
        "discogs_master_id",
        "discogs_release_id",
        "mbid",
        "spotify_id",
        "spotify_url",
        "cover_url",
    ):
        if not getattr(kept, field) and getattr(gone, field):
            setattr(kept, field, getattr(gone, field))
    gone.delete()
    kept.save()
    _rekey_tracks(list(Track.objects.filter(album=kept)))
    _after(users)
    return kept


@transaction.atomic
def merge_tracks(*, kept: Track, gone: Track) -> Track:
    if kept.pk == gone.pk:
        return kept
    users = _repoint(kept, gone)
    for field in ("duration", "mbid", "spotify_id", "album_id"):
        if not getattr(kept, field) and getattr(gone, field):
            setattr(kept, field, getattr(gone, field))
    gone.delete()
    kept.match_key = Track.key_for(kept.artist_id, kept.album_id, kept.title)
    kept.save()
    _after(users)
    return kept
