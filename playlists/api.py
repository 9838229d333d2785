"""Playlist endpoints of the JSON API: thin calls into playlists/services.py, generators.py and
exports.py. Another user's playlist answers 404, like an unknown one."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.db.models import Count
from django.http import HttpResponse
from django.utils.text import slugify
from ninja import Path, Query, Router, Schema
from ninja.responses import Status
from pydantic import BaseModel, Field, StrictInt, StrictStr

from playlists import exports, generators, services
from playlists.generators import ParameterError
from playlists.models import Playlist, PlaylistTrack
from tracking.schemas import ErrorOut

ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut, 503: ErrorOut}
NOT_FOUND = {"detail": "Not Found"}
router = Router(tags=["playlists"])

Algorithm = Literal[tuple(generators.REGISTRY)]  # type: ignore[valid-type]
Format = Literal[tuple(exports.FORMATS)]  # type: ignore[valid-type]
PlaylistId = Path(..., ge=1, le=2**62)


class PlaylistOut(BaseModel):
    id: int
    name: str
    algorithm: str
    status: str
    message: str
    tracks: int
    created_at: datetime
    updated_at: datetime


class PlaylistListOut(BaseModel):
    items: list[PlaylistOut]
    next_cursor: str | None


class EntryTrackOut(BaseModel):
    id: int
    title: str
    artist_credit: str
    duration: int | None


class EntryAlbumOut(BaseModel):
    id: int
    title: str


class EntryOut(BaseModel):
    id: int  # the entry (use these ids to reorder)
    position: int
    track: EntryTrackOut
    album: EntryAlbumOut | None


class PlaylistDetailOut(PlaylistOut):
    parameters: dict[str, str | int | None]
    description: str
    entries: list[EntryOut]


class PlaylistIn(Schema):
    algorithm: Algorithm
    name: str = Field("", max_length=200)
    parameters: dict[str, StrictStr | StrictInt | None] = Field(
        default_factory=dict, description="the generator's parameters (see the Playlists page)"
    )


class PlaylistPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=200)
    entry_ids: list[int] | None = Field(
        None, max_length=1000, description="entry ids in their new order"
    )


class ExportParams(Schema):
    format: Format = "m3u8"


class ListParams(Schema):
    cursor: int | None = Field(None, ge=1, le=2**62, description="`next_cursor` of the last page")
    limit: int = Field(50, ge=1, le=200)


def _summary(p: Playlist, tracks: int) -> dict:
    return {
        "id": p.id,
        "name": p.name,
        "algorithm": p.algorithm,
        "status": p.status,
        "message": p.message,
        "tracks": tracks,
        "created_at": p.created_at,
        "updated_at": p.updated_at,
    }


def _detail(p: Playlist) -> dict:
    rows = list(
        PlaylistTrack.objects.filter(playlist=p)
        .order_by("position")
        .values(
            "id",
            "position",
            "track_id",
            "track__title",
            "track__artist_credit",
            "track__duration",
            "track__album_id",
            "track__album__title",
        )
    )
    params = {
        str(k): v if v is None or isinstance(v, int | str) else str(v)
        for k, v in (p.parameters or {}).items()
    }
    try:
        description = generators.describe(p.algorithm, p.parameters or {})
    except (ParameterError, KeyError, TypeError, ValueError):
        description = ""
    return {
        **_summary(p, len(rows)),
        "parameters": params,
        "description": str(description),
        "entries": [
            {
                "id": r["id"],
                "position": r["position"],
                "track": {
                    "id": r["track_id"],
                    "title": r["track__title"],
                    "artist_credit": r["track__artist_credit"],
                    "duration": r["track__duration"],
                },
                "album": (
                    {"id": r["track__album_id"], "title": r["track__album__title"]}
                    if r["track__album_id"]
                    else None
                ),
            }
            for r in rows
        ],
    }


def _own(request, playlist_id: int) -> Playlist | None:
    return Playlist.objects.filter(pk=playlist_id, user=request.auth).first()


@router.get("", response={200: PlaylistListOut, **ERRORS}, summary="Your playlists, newest first")
def playlist_list(request, params: Query[ListParams]):
    qs = Playlist.objects.filter(user=request.auth)
    if params.cursor:
        qs = qs.filter(pk__lt=params.cursor)
    rows = list(qs.annotate(n=Count("entries")).order_by("-pk")[: params.limit + 1])
    more = len(rows) > params.limit
    rows = rows[: params.limit]
    return {
        "items": [_summary(p, p.n) for p in rows],
        "next_cursor": str(rows[-1].pk) if more else None,
    }


@router.get(
    "/{playlist_id}",
    response={200: PlaylistDetailOut, 404: ErrorOut, **ERRORS},
    summary="One playlist with its tracks in order",
)
def playlist_detail(request, playlist_id: int = PlaylistId):
    playlist = _own(request, playlist_id)
    if playlist is None:
        return Status(404, NOT_FOUND)
    return _detail(playlist)


@router.post(
    "",
    response={201: PlaylistDetailOut, **ERRORS},
    summary="Create a playlist by a generator (AI playlists are filled in the background)",
)
def playlist_create(request, payload: PlaylistIn):
    try:
        result = services.create_playlist(
            user=request.auth,
            name=payload.name,
            algorithm=payload.algorithm,
            parameters=payload.parameters,
        )
    except ParameterError as exc:
        field = "algorithm" if exc.name == "algorithm" else f"parameters.{exc.name}"
        return Status(422, {"detail": f"{field}: {exc.message}"})
    if result.playlist is None:
        why = result.outcome.why_empty if result.outcome else ""
        return Status(422, {"detail": f"parameters: no tracks found. {why}".strip()})
    return Status(201, _detail(result.playlist))


@router.patch(
    "/{playlist_id}",
    response={200: PlaylistDetailOut, 404: ErrorOut, **ERRORS},
    summary="Rename a playlist and/or put its entries in a new order",
)
def playlist_update(request, payload: PlaylistPatch, playlist_id: int = PlaylistId):
    playlist = _own(request, playlist_id)
    if playlist is None:
        return Status(404, NOT_FOUND)
    if payload.name is not None and not payload.name.strip():
        return Status(422, {"detail": "name: must not be blank"})
    if payload.entry_ids is not None:
        known = set(PlaylistTrack.objects.filter(playlist=playlist).values_list("id", flat=True))
        unknown = [i for i in payload.entry_ids if i not in known]
        if unknown:
            return Status(
                422, {"detail": f"entry_ids: not entries of this playlist: {unknown[:10]}"}
            )
        if len(set(payload.entry_ids)) != len(payload.entry_ids):
            return Status(422, {"detail": "entry_ids: an entry is named twice"})
    if payload.name is not None:
        services.rename_playlist(playlist=playlist, name=payload.name)
    if payload.entry_ids is not None:
        services.reorder_playlist(playlist=playlist, entry_ids=payload.entry_ids)
    playlist.refresh_from_db()
    return _detail(playlist)


@router.delete(
    "/{playlist_id}",
    response={204: None, 404: ErrorOut, **ERRORS},
    summary="Delete a playlist",
)
def playlist_delete(request, playlist_id: int = PlaylistId):
    playlist = _own(request, playlist_id)
    if playlist is None:
        return Status(404, NOT_FOUND)
    services.delete_playlist(playlist=playlist)
    return Status(204, None)


@router.get(
    "/{playlist_id}/export",
    response={200: None, 404: ErrorOut, **ERRORS},
    summary="Download a playlist as M3U8, XSPF, CSV or JSON",
    openapi_extra={
        "responses": {
            200: {
                "description": "The file",
                "content": {ct.split(";")[0]: {} for ct, _ext in exports.FORMATS.values()},
            }
        }
    },
)
def playlist_export(request, params: Query[ExportParams], playlist_id: int = PlaylistId):
    format = params.format
    playlist = _own(request, playlist_id)
    if playlist is None:
        return Status(404, NOT_FOUND)
    content_type, ext = exports.FORMATS[format]
    response = HttpResponse(exports.export(playlist, format), content_type=content_type)
    filename = f"{slugify(playlist.name) or 'playlist'}.{ext}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
