"""Typed shapes of the tracking API (explicit fields: a new column is never published by accident)."""

from __future__ import annotations

import datetime as dt
from datetime import date, datetime
from typing import Any

from ninja import ModelSchema, Schema
from pydantic import BaseModel

from musictracker.models import Job
from tracking.models import TrackerStatus


class TrackerStatusOut(ModelSchema):
    class Meta:
        model = TrackerStatus
        fields = [
            "is_paused",
            "last_poll_at",
            "last_success_at",
            "last_error",
            "last_error_at",
            "consecutive_failures",
            "last_added",
            "next_poll_at",
            "loved_synced_at",
        ]


class JobOut(ModelSchema):
    percent: int | None = None

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "status",
            "label",
            "unit",
            "total",
            "done",
            "added",
            "skipped",
            "message",
            "created_at",
            "started_at",
            "updated_at",
            "finished_at",
        ]

    @staticmethod
    def resolve_percent(obj: Job) -> int | None:
        return obj.percent


class JobReportLine(Schema):
    line: str
    reason: str


class JobDetailOut(JobOut):
    report: list[JobReportLine]

    @staticmethod
    def resolve_report(obj: Job) -> list[dict]:
        return [r for r in (obj.report or []) if isinstance(r, dict) and "line" in r]


class JobPage(Schema):
    items: list[JobOut]
    next_cursor: str | None


# The listens page is built from plain dicts: plain pydantic models validate them in the core,
# several times faster than ninja's Schema (which resolves every attribute through Python).
class TrackRef(BaseModel):
    id: int
    title: str
    artist_credit: str
    duration: int | None


class ArtistRef(BaseModel):
    id: int
    name: str


class AlbumRef(BaseModel):
    id: int
    title: str


class ListenOut(BaseModel):
    id: int
    listened_at: datetime
    source: str
    track: TrackRef
    artist: ArtistRef
    album: AlbumRef | None
    loved: bool


class ListenPage(BaseModel):
    items: list[ListenOut]
    next_cursor: str | None


class ErrorOut(Schema):
    """Every error: a message naming the field, or (422) the list of invalid fields."""

    detail: str | list[dict[str, Any]]


# ---- the timeline of a day -------------------------------------------------------------------
class TimelineHour(BaseModel):
    hour: int  # the local hour, 0..23 (twice on the day clocks go back)
    label: str  # "02:00", or "02:00 CEST" / "02:00 CET" for a repeated hour
    start: datetime  # when the slot starts (UTC; label gives the local time)
    listens: list[ListenOut]


class TimelineOut(BaseModel):
    date: dt.date
    time_zone: str
    listens: int
    hours: list[TimelineHour]  # every hour of the local day (23, 24 or 25); listens oldest first


# ---- analytics -------------------------------------------------------------------------------
class PeriodOut(BaseModel):
    kind: str
    first: date
    last: date
    label: str


class TotalsBase(BaseModel):
    listens: int
    total_seconds: int
    artists: int
    albums: int
    tracks: int


class TotalsChange(BaseModel):
    listens: float | None
    total_seconds: float | None
    artists: float | None
    albums: float | None
    tracks: float | None


class TotalsOut(TotalsBase):
    seconds: int
    unknown_duration: int
    estimated_seconds: int
    previous: TotalsBase | None
    change: TotalsChange | None


class TopItemOut(BaseModel):
    rank: int
    id: int
    name: str
    artist: str | None
    listens: int
    previous_rank: int | None
    change: int | None
    is_new: bool


class SeriesPoint(BaseModel):
    start: date
    listens: int


class StreaksOut(BaseModel):
    longest: int
    longest_from: date | None
    longest_to: date | None
    current: int


class SessionsOut(BaseModel):
    count: int
    average_seconds: int
    longest_seconds: int
    average_listens: float


class TransitionOut(BaseModel):
    from_artist: ArtistRef | None
    to_artist: ArtistRef | None
    count: int


class DiscoveryMonth(BaseModel):
    month: date
    new_artists: int
    new_albums: int


class NamedCount(BaseModel):
    id: int
    name: str
    listens: int


class DiscoveryOut(BaseModel):
    new_artists: int
    new_albums: int
    new_tracks: int
    new_listens: int
    new_share: float
    months: list[DiscoveryMonth]
    top_new_artists: list[NamedCount]


class FormatOut(BaseModel):
    support: str
    label: str
    records: int
    listens: int


class CollectionInsightsOut(BaseModel):
    owned: int
    most_played: list[NamedCount]
    never_played: list[AlbumRef]
    never_played_count: int
    dormant: list[NamedCount]
    dormant_count: int
    wish_list: list[NamedCount]
    formats: list[FormatOut]


class AnalyticsOut(BaseModel):
    period: PeriodOut
    totals: TotalsOut
    top_artists: list[TopItemOut]
    top_albums: list[TopItemOut]
    top_tracks: list[TopItemOut]
    clock: list[int]  # listens per local hour 0..23
    heatmap: list[list[int]]  # weekday (0 = Monday) × local hour
    series_step: str  # day, week or month
    series: list[SeriesPoint]
    streaks: StreaksOut
    sessions: SessionsOut
    transitions: list[TransitionOut]
    discovery: DiscoveryOut
    collection: CollectionInsightsOut
