"""Collection and search endpoints of the JSON API: thin calls into collection/queries.py.

An album or artist is "yours" when you own a copy of it or have listened to it; any other id
answers 404, like an unknown one."""

from __future__ import annotations

from typing import Literal

from django.db.models import Q
from ninja import Path, Query, Router, Schema
from ninja.responses import Status
from pydantic import Field

from collection import queries
from collection.models import Album, Artist, CollectionItem
from collection.schemas import (
    AlbumDetailOut,
    AlbumPageOut,
    ArtistDetailOut,
    ArtistListPageOut,
    SearchOut,
)
from tracking.models import UserArtistStat
from tracking.schemas import ErrorOut

ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut, 503: ErrorOut}
NOT_FOUND = {"detail": "Not Found"}
router = Router(tags=["collection"])
search_router = Router(tags=["search"])

Sort = Literal[tuple(queries.SORTS)]  # type: ignore[valid-type]
Support = Literal[tuple(CollectionItem.Support.values)]  # type: ignore[valid-type]


def _links(links) -> list[dict]:
    return [{"name": x.name, "url": x.url, "is_search": x.is_search} for x in links]


# ---- albums ---------------------------------------------------------------------------------
class AlbumFilters(Schema):
    sort: Sort = queries.DEFAULT_SORT
    support: Support | None = None
    genre: str = Field("", max_length=200)
    decade: int | None = Field(None, ge=1000, le=2990, description="e.g. 1990")
    never_played: bool = False
    q: str = Field("", max_length=200, description="words of the title or artist")
    cursor: int | None = Field(None, ge=1, le=1_000_000, description="`next_cursor` (a page)")
    limit: int = Field(60, ge=1, le=200)


@router.get(
    "/albums",
    response={200: AlbumPageOut, **ERRORS},
    summary="Your records, one per album, with the collection page's filters and sort",
)
def album_list(request, filters: Query[AlbumFilters]):
    grid_filters = queries.GridFilters(
        sort=filters.sort,
        support=filters.support or "",
        genre=filters.genre.strip(),
        decade=filters.decade,
        never_played=filters.never_played,
        q=filters.q,
    )
    number = filters.cursor or 1
    try:
        page = queries.collection_grid(
            user=request.auth, filters=grid_filters, page=number, per_page=filters.limit
        )
    except queries.PageOutOfRange:
        # Past the last page (or the collection shrank since): an empty, final page.
        return {"items": [], "albums": 0, "copies": 0, "next_cursor": None}
    items = [
        {
            "id": c.album.id,
            "title": c.album.title,
            "artist_credit": c.album.artist_credit,
            "year": c.album.year,
            "cover_url": c.album.cover_url,
            "plays": c.album.plays,
            "formats": c.formats,
            "copies": c.copies,
        }
        for c in page.cards
    ]
    return {
        "items": items,
        "albums": page.albums,
        "copies": page.copies,
        "next_cursor": str(page.next_number) if page.has_next else None,
    }


def _album_is_yours(user, album_id: int) -> bool:
    return queries.album_is_yours(user, album_id)


@router.get(
    "/albums/{album_id}",
    response={200: AlbumDetailOut, 404: ErrorOut, **ERRORS},
    summary="One album you own or have heard: copies, tracklist with your plays, links",
)
def album_detail(request, album_id: int = Path(..., ge=1, le=2**62)):
    user = request.auth
    if not _album_is_yours(user, album_id):
        return Status(404, NOT_FOUND)
    try:
        page = queries.album_page(user=user, album_id=album_id)
    except Album.DoesNotExist:
        return Status(404, NOT_FOUND)
    album, stat = page.album, page.stat
    return {
        "id": album.id,
        "title": album.title,
        "artist_credit": album.artist_credit,
        "year": album.year,
        "cover_url": album.cover_url,
        "artists": [{"id": a.id, "name": a.name} for a in page.artists],
        "plays": page.plays,
        "first_listened_at": stat.first_listened_at if stat else None,
        "last_listened_at": stat.last_listened_at if stat else None,
        "total_duration": page.total_duration,
        "formats": page.formats,
        "labels": page.labels,
        "genres": page.genres,
        "copies": [
            {
                "id": c.id,
                "support": c.support,
                "format_details": c.format_details,
                "label": c.label,
                "catalogue_number": c.catalogue_number,
                "added_at": c.added_at,
                "rating": c.rating,
            }
            for c in page.copies
        ],
        "tracks": [
            {
                "id": t.id,
                "title": t.title,
                "artist_credit": t.artist_credit,
                "position": t.position,
                "disc_number": t.disc_number,
                "track_number": t.track_number,
                "duration": t.duration,
                "plays": t.plays,
            }
            for t in page.tracks
        ],
        "links": _links(page.links),
    }


# ---- artists --------------------------------------------------------------------------------
class ArtistFilters(Schema):
    cursor: str | None = Field(
        None, pattern=r"^[0-9]{1,12}_[0-9]{1,18}$", description="`next_cursor` of the last page"
    )
    limit: int = Field(50, ge=1, le=200)


@router.get(
    "/artists",
    response={200: ArtistListPageOut, **ERRORS},
    summary="The artists you have listened to, most played first",
)
def artist_list(request, filters: Query[ArtistFilters]):
    qs = UserArtistStat.objects.filter(user=request.auth, listens__gt=0)
    if filters.cursor:
        listens, _, artist_id = filters.cursor.partition("_")
        n, pk = int(listens), int(artist_id)
        qs = qs.filter(Q(listens__lt=n) | Q(listens=n, artist_id__gt=pk))
    rows = list(
        qs.order_by("-listens", "artist_id").values(
            "artist_id",
            "artist__name",
            "artist__image_url",
            "listens",
            "first_listened_at",
            "last_listened_at",
        )[: filters.limit + 1]
    )
    more = len(rows) > filters.limit
    rows = rows[: filters.limit]
    items = [
        {
            "id": r["artist_id"],
            "name": r["artist__name"],
            "image_url": r["artist__image_url"],
            "plays": r["listens"],
            "first_listened_at": r["first_listened_at"],
            "last_listened_at": r["last_listened_at"],
        }
        for r in rows
    ]
    last = rows[-1] if rows else None
    return {
        "items": items,
        "next_cursor": f"{last['listens']}_{last['artist_id']}" if more and last else None,
    }


def _artist_is_yours(user, artist_id: int) -> bool:
    return queries.artist_is_yours(user, artist_id)


@router.get(
    "/artists/{artist_id}",
    response={200: ArtistDetailOut, 404: ErrorOut, **ERRORS},
    summary="One artist you own or have heard: your records, albums heard, top tracks, months",
)
def artist_detail(request, artist_id: int = Path(..., ge=1, le=2**62)):
    user = request.auth
    if not _artist_is_yours(user, artist_id):
        return Status(404, NOT_FOUND)
    try:
        page = queries.artist_page(user=user, artist_id=artist_id)
    except Artist.DoesNotExist:
        return Status(404, NOT_FOUND)
    artist, stat = page.artist, page.stat
    return {
        "id": artist.id,
        "name": artist.name,
        "image_url": artist.image_url,
        "plays": page.plays,
        "first_listened_at": stat.first_listened_at if stat else None,
        "last_listened_at": stat.last_listened_at if stat else None,
        "owned_albums": [
            {
                "id": a.id,
                "title": a.title,
                "year": a.year,
                "cover_url": a.cover_url,
                "plays": a.plays,
                "formats": a.formats,
            }
            for a in page.owned
        ],
        "heard_albums": [
            {"id": s.album.id, "title": s.album.title, "year": s.album.year, "plays": s.listens}
            for s in page.heard
        ],
        "top_tracks": [
            {
                "id": s.track.id,
                "title": s.track.title,
                "album": (
                    {"id": s.track.album.id, "title": s.track.album.title}
                    if s.track.album
                    else None
                ),
                "plays": s.listens,
            }
            for s in page.top_tracks
        ],
        "months": [{"month": m.month, "listens": m.listens} for m in page.months],
        "links": _links(page.links),
    }


# ---- search ---------------------------------------------------------------------------------
class SearchParams(Schema):
    q: str = Field(..., min_length=1, max_length=200, description="words to find")
    limit: int = Field(5, ge=1, le=50, description="results per group")


@search_router.get(
    "/search",
    response={200: SearchOut, **ERRORS},
    summary="Artists, albums and tracks of your library matching every word, grouped",
)
def search(request, params: Query[SearchParams]):
    results = queries.search(user=request.auth, query=params.q, limit=params.limit)
    return {
        "query": results.query,
        "artists": [{"id": a.id, "name": a.name, "plays": a.plays} for a in results.artists],
        "albums": [
            {
                "id": a.id,
                "title": a.title,
                "artist_credit": a.artist_credit,
                "year": a.year,
                "plays": a.plays,
                "is_owned": bool(getattr(a, "is_owned", False)),
            }
            for a in results.albums
        ],
        "tracks": [
            {
                "id": t.id,
                "title": t.title,
                "artist_credit": t.artist_credit,
                "album": {"id": t.album.id, "title": t.album.title} if t.album else None,
                "plays": t.plays,
            }
            for t in results.tracks
        ],
        "more_artists": results.more_artists,
        "more_albums": results.more_albums,
        "more_tracks": results.more_tracks,
    }
