"""Typed shapes of the collection and search API (explicit fields, built from plain dicts)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel


class LinkOut(BaseModel):
    name: str
    url: str
    is_search: bool


class AlbumCardOut(BaseModel):
    id: int
    title: str
    artist_credit: str
    year: int | None
    cover_url: str
    plays: int
    formats: list[str]
    copies: int


class AlbumPageOut(BaseModel):
    items: list[AlbumCardOut]
    albums: int
    copies: int
    next_cursor: str | None


class ArtistRefOut(BaseModel):
    id: int
    name: str


class AlbumRefOut(BaseModel):
    id: int
    title: str


class CopyOut(BaseModel):
    id: int
    support: str
    format_details: str
    label: str
    catalogue_number: str
    added_at: datetime | None
    rating: int | None


class AlbumTrackOut(BaseModel):
    id: int
    title: str
    artist_credit: str
    position: str
    disc_number: int | None
    track_number: int | None
    duration: int | None
    plays: int


class AlbumDetailOut(BaseModel):
    id: int
    title: str
    artist_credit: str
    year: int | None
    cover_url: str
    artists: list[ArtistRefOut]
    plays: int
    first_listened_at: datetime | None
    last_listened_at: datetime | None
    total_duration: int | None
    formats: list[str]
    labels: list[str]
    genres: list[str]
    copies: list[CopyOut]
    tracks: list[AlbumTrackOut]
    links: list[LinkOut]


class ArtistListItemOut(BaseModel):
    id: int
    name: str
    image_url: str
    plays: int
    first_listened_at: datetime | None
    last_listened_at: datetime | None


class ArtistListPageOut(BaseModel):
    items: list[ArtistListItemOut]
    next_cursor: str | None


class OwnedAlbumOut(BaseModel):
    id: int
    title: str
    year: int | None
    cover_url: str
    plays: int
    formats: list[str]


class HeardAlbumOut(BaseModel):
    id: int
    title: str
    year: int | None
    plays: int


class TopTrackOut(BaseModel):
    id: int
    title: str
    album: AlbumRefOut | None
    plays: int


class MonthPlaysOut(BaseModel):
    month: date
    listens: int


class ArtistDetailOut(BaseModel):
    id: int
    name: str
    image_url: str
    plays: int
    first_listened_at: datetime | None
    last_listened_at: datetime | None
    owned_albums: list[OwnedAlbumOut]
    heard_albums: list[HeardAlbumOut]
    top_tracks: list[TopTrackOut]
    months: list[MonthPlaysOut]
    links: list[LinkOut]


class SearchArtistOut(BaseModel):
    id: int
    name: str
    plays: int


class SearchAlbumOut(BaseModel):
    id: int
    title: str
    artist_credit: str
    year: int | None
    plays: int
    is_owned: bool


class SearchTrackOut(BaseModel):
    id: int
    title: str
    artist_credit: str
    album: AlbumRefOut | None
    plays: int


class SearchOut(BaseModel):
    query: str
    artists: list[SearchArtistOut]
    albums: list[SearchAlbumOut]
    tracks: list[SearchTrackOut]
    more_artists: bool
    more_albums: bool
    more_tracks: bool
