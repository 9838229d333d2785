"""Typed shapes of the tracking API (explicit fields: a new column is never published by accident)."""

from __future__ import annotations

from datetime import datetime
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
