"""Tracking endpoints of the JSON API: tracker status, jobs and imports, listens, export."""

from __future__ import annotations

import re
from datetime import datetime

from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import File, Query, Router, Schema
from ninja.errors import HttpError
from ninja.files import UploadedFile
from ninja.responses import Status
from pydantic import Field, field_validator

from musictracker.models import Job
from tracking import exports, services
from tracking.history_api import CursorError, listens_page
from tracking.models import TrackerStatus
from tracking.schemas import (
    ErrorOut,
    JobDetailOut,
    JobOut,
    JobPage,
    ListenPage,
    TrackerStatusOut,
)
from tracking.uploads import UploadError, queue_import, save_upload

# Every endpoint may answer these; declared so the OpenAPI schema (and schemathesis) knows them.
ERRORS = {401: ErrorOut, 403: ErrorOut, 422: ErrorOut, 503: ErrorOut}
router = Router(tags=["services"])
history = Router(tags=["history"])


@router.get(
    "/tracker", response={200: TrackerStatusOut, **ERRORS}, summary="Last.fm tracker status"
)
def tracker_status(request):
    status, _ = TrackerStatus.objects.get_or_create(user=request.auth)
    return status


@router.post(
    "/tracker/pause",
    response={200: TrackerStatusOut, **ERRORS},
    summary="Pause the Last.fm tracker",
)
def tracker_pause(request):
    return services.pause_tracker(user=request.auth)


@router.post(
    "/tracker/resume",
    response={200: TrackerStatusOut, **ERRORS},
    summary="Resume the Last.fm tracker",
)
def tracker_resume(request):
    return services.resume_tracker(user=request.auth)


class JobFilters(Schema):
    kind: Job.Kind | None = None
    cursor: int | None = Field(None, ge=1, le=2**62, description="`next_cursor` of the last page")
    limit: int = Field(20, ge=1, le=100)


@router.get(
    "/jobs",
    response={200: JobPage, **ERRORS},
    summary="Your jobs (imports, syncs, backfills), newest first",
)
def job_list(request, filters: Query[JobFilters]):
    qs = Job.objects.filter(user=request.auth)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.cursor:
        qs = qs.filter(pk__lt=filters.cursor)
    jobs = list(qs.order_by("-pk")[: filters.limit + 1])
    more = len(jobs) > filters.limit
    jobs = jobs[: filters.limit]
    return {"items": jobs, "next_cursor": str(jobs[-1].pk) if more else None}


@router.get(
    "/jobs/{job_id}",
    response={200: JobDetailOut, 404: ErrorOut, **ERRORS},
    summary="One job's progress and report of skipped rows",
)
def job_detail(request, job_id: int):
    return get_object_or_404(Job, pk=job_id, user=request.auth)


@router.post(
    "/imports",
    response={202: JobOut, 400: ErrorOut, **ERRORS},
    summary="Upload an export file (Spotify, Last.fm, ListenBrainz, Music Tracker) to import",
)
def import_start(request, file: File[UploadedFile]):
    try:
        path, _fmt = save_upload(user=request.auth, uploaded=file)
    except UploadError as exc:
        return Status(400, {"detail": str(exc)})
    return Status(202, queue_import(user=request.auth, path=path))


class ListenFilters(Schema):
    cursor: str | None = Field(
        None, pattern=r"^[0-9]{1,17}_[0-9]{1,18}$", description="`next_cursor` of the last page"
    )
    limit: int = Field(50, ge=1, le=500)
    from_: datetime | None = Field(None, alias="from", description="listened at or after (ISO)")
    to: datetime | None = Field(None, description="listened before (ISO)")
    artist: int | None = Field(None, ge=1, le=2**62, description="artist id")
    album: int | None = Field(None, ge=1, le=2**62, description="album id")
    loved: bool | None = None

    @field_validator("from_", "to", mode="before")
    @classmethod
    def _iso_only(cls, value):
        # pydantic would also take Unix numbers ("0.5"); the schema promises ISO 8601 date-times.
        if isinstance(value, str) and not _ISO.match(value):
            raise ValueError("expected an ISO 8601 date-time, e.g. 2024-05-01T00:00:00Z")
        return value


_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$")


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and timezone.is_naive(value):
        return timezone.make_aware(value, timezone.get_current_timezone())
    return value


@history.get(
    "/listens",
    response={200: ListenPage, **ERRORS},
    summary="Your listens, newest first, with a next cursor",
)
def listen_list(request, filters: Query[ListenFilters]):
    try:
        page = listens_page(
            request.auth,
            cursor=filters.cursor,
            limit=filters.limit,
            start=_aware(filters.from_),
            end=_aware(filters.to),
            artist_id=filters.artist,
            album_id=filters.album,
            loved=filters.loved,
        )
    except CursorError as exc:
        return Status(422, {"detail": str(exc)})
    return {"items": page.items, "next_cursor": page.next_cursor}


@history.get(
    "/export",
    summary="Download your whole history (CSV, or ListenBrainz-style JSONL with MusicBrainz ids)",
    response={200: None, **ERRORS},
    openapi_extra={
        "responses": {
            200: {
                "description": "The file, streamed",
                "content": {"text/csv": {}, "application/x-ndjson": {}},
            }
        }
    },
)
def export(request, format: str = Query("jsonl", pattern="^(csv|jsonl)$")):
    if format not in exports.FORMATS:
        raise HttpError(422, "format: one of csv, jsonl")
    return export_response(request.auth, format)


def export_response(user, fmt: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        exports.export_listens(user, fmt), content_type=exports.FORMATS[fmt] + "; charset=utf-8"
    )
    stamp = timezone.now().strftime("%Y%m%d")
    response["Content-Disposition"] = (
        f'attachment; filename="musictracker-{user.username}-{stamp}.{fmt}"'
    )
    return response
