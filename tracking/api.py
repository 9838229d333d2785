"""Tracking endpoints of the JSON API: tracker status, jobs and imports, listens, export."""

from __future__ import annotations

import datetime as dt
import re
from datetime import datetime
from typing import Literal

from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import File, Query, Router, Schema
from ninja.errors import HttpError
from ninja.files import UploadedFile
from ninja.responses import Status
from pydantic import Field, field_validator

from musictracker.apijson import utc_json_response
from musictracker.models import Job, Profile
from musictracker.timezones import UTC, day_bounds
from tracking import exports, services
from tracking import queries as journal_queries
from tracking import stats as stats_mod
from tracking.history_api import PAGE_FIELDS, CursorError, listen_item, listens_page
from tracking.models import Listen, LovedTrack, TrackerStatus
from tracking.schemas import (
    AnalyticsOut,
    ErrorOut,
    JobDetailOut,
    JobOut,
    JobPage,
    ListenPage,
    TimelineOut,
    TrackerStatusOut,
)
from tracking.uploads import UploadError, queue_import, save_upload

# Every endpoint may answer these; declared so the OpenAPI schema (and schemathesis) knows them.
ERRORS = {401: ErrorOut, 403: ErrorOut, 422: ErrorOut, 503: ErrorOut}
router = Router(tags=["services"])
history = Router(tags=["history"])
analytics = Router(tags=["analytics"])


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
    """The instant in UTC: PostgreSQL refuses offsets beyond ±15:59 that ISO 8601 allows, so an
    offset like -19:39 must not reach the database as such."""
    if value is None:
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value, timezone.get_current_timezone())
    return value.astimezone(UTC)


@history.get(
    "/listens",
    response={200: ListenPage, **ERRORS},
    summary="Your listens, newest first, with a next cursor",
)
def listen_list(request, filters: Query[ListenFilters]):
    try:
        start, end = _aware(filters.from_), _aware(filters.to)
    except (OverflowError, ValueError):
        return Status(422, {"detail": "from/to: a date-time between years 1 and 9999"})
    try:
        page = listens_page(
            request.auth,
            cursor=filters.cursor,
            limit=filters.limit,
            start=start,
            end=end,
            artist_id=filters.artist,
            album_id=filters.album,
            loved=filters.loved,
        )
    except CursorError as exc:
        return Status(422, {"detail": str(exc)})
    # Written directly (same bytes as ninja's validated way; tests check them against ListenPage).
    return utc_json_response(
        {"items": page.items, "next_cursor": page.next_cursor}, datetimes=("listened_at",)
    )


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


def _tz(user):
    profile = Profile.objects.filter(user=user).first()
    return profile.tzinfo if profile else UTC


class TimelineParams(Schema):
    date: dt.date = Field(..., description="the local day, YYYY-MM-DD")

    @field_validator("date", mode="before")
    @classmethod
    def _iso_day(cls, value):
        # pydantic would also take a Unix number ("0"); the schema promises YYYY-MM-DD.
        if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError("expected a date as YYYY-MM-DD, e.g. 2024-05-01")
        return value


TIMELINE_CAP = 5000  # listens in one day; far above what a day of listening holds


@history.get(
    "/timeline",
    response={200: TimelineOut, **ERRORS},
    summary="The listens of one local day (your time zone), by hour",
)
def timeline(request, params: Query[TimelineParams]):
    day = params.date
    user = request.auth
    tz = _tz(user)
    try:
        day_bounds(day, tz)
    except (OverflowError, ValueError):  # year 1 or 9999 shifted by the time zone: no listens
        return {"date": day, "time_zone": str(tz), "listens": 0, "hours": []}
    # The Journal's day timeline (23, 24 or 25 local hour slots), with each listen in the API's
    # listen shape: one more query for those rows and one for which tracks are loved.
    day_line = journal_queries.day_timeline(user, tz=tz, day=day)
    ids = [listen.pk for slot in day_line.slots for listen in slot.listens][:TIMELINE_CAP]
    items = _listen_items(user, ids)
    return {
        "date": day,
        "time_zone": str(tz),
        "listens": day_line.total,
        "hours": [
            {
                "hour": slot.start.hour,
                "label": slot.label,
                "start": slot.start.astimezone(UTC),
                "listens": [items[x.pk] for x in slot.listens if x.pk in items],
            }
            for slot in day_line.slots
        ],
    }


def _listen_items(user, ids: list[int]) -> dict[int, dict]:
    rows = list(Listen.objects.filter(id__in=ids, user=user).values(*PAGE_FIELDS)) if ids else []
    loved = set(
        LovedTrack.objects.filter(
            user=user, track_id__in={r["track_id"] for r in rows}
        ).values_list("track_id", flat=True)
    )
    return {r["id"]: listen_item(r, loved=r["track_id"] in loved) for r in rows}


PeriodKind = Literal[stats_mod.KINDS]  # type: ignore[valid-type]


class PeriodParams(Schema):
    period: PeriodKind = stats_mod.DEFAULT_KIND
    year: int | None = Field(None, ge=1900, le=2200, description="for period=year, e.g. 2024")
    month: str | None = Field(
        None,
        pattern=r"^(19|2[01])[0-9]{2}-(0[1-9]|1[0-2])$",
        description="for period=month, e.g. 2024-03",
    )
    from_: dt.date | None = Field(None, alias="from", description="custom: first day")
    to: dt.date | None = Field(None, description="custom: last day (inclusive)")

    @field_validator("from_", "to", mode="before")
    @classmethod
    def _iso_day(cls, value):
        if value is not None and (
            not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value)
        ):
            raise ValueError("expected a date as YYYY-MM-DD, e.g. 2024-05-01")
        return value


def _period_field(params: PeriodParams, message: str) -> str:
    if params.period not in stats_mod.KINDS:
        return "period"
    if params.period in ("year", "month"):
        return params.period
    if params.period == "custom":
        for name, value in (("from", params.from_), ("to", params.to)):
            if f"“{name}”" in message or not value:
                return name
        return "from"
    return "period"


def _named(obj, listens: int, key: str = "obj") -> dict:
    name = getattr(obj, "name", None) or getattr(obj, "title", "") if obj else ""
    return {"id": obj.pk if obj else 0, "name": name, "listens": listens}


def _top(rows: list[dict]) -> list[dict]:
    out = []
    for r in rows:
        obj = r["obj"]
        artist = None
        if obj is not None and hasattr(obj, "artist_credit"):
            artist = obj.artist_credit
        out.append(
            {
                "rank": r["rank"],
                "id": r["id"],
                "name": (getattr(obj, "name", None) or getattr(obj, "title", "")) if obj else "",
                "artist": artist,
                "listens": r["listens"],
                "previous_rank": r["previous_rank"],
                "change": r["change"],
                "is_new": r["is_new"],
            }
        )
    return out


def _ref(artist) -> dict | None:
    return {"id": artist.pk, "name": artist.name} if artist else None


@analytics.get(
    "/analytics",
    response={200: AnalyticsOut, 400: ErrorOut, **ERRORS},
    summary="The statistics of a period: totals, tops, rhythms, sessions, discovery, collection",
)
def analytics_view(request, params: Query[PeriodParams]):
    user = request.auth
    tz = _tz(user)
    today = stats_mod.local_today(tz)
    history_span = stats_mod.History.of(user)
    raw = {"period": params.period}
    for key, value in (
        ("year", params.year),
        ("month", params.month),
        ("from", params.from_),
        ("to", params.to),
    ):
        if value is not None:
            raw[key] = str(value)
    try:
        period = stats_mod.parse_period(raw, today=today, first_day=history_span.first)
    except stats_mod.PeriodError as exc:
        return Status(422, {"detail": f"{_period_field(params, str(exc))}: {exc}"})
    for name, day in (("from", period.first), ("to", period.last)):
        if not 1900 <= day.year <= 2200:  # also keeps the time zone shift off year 1 and 9999
            return Status(422, {"detail": f"{name}: a date between 1900 and 2200"})
    s = stats_mod.Stats(user, period, tz, history=history_span, today=today)
    totals = s.totals_with_change()
    discovery = s.discovery
    coll = s.collection
    return {
        "period": {
            "kind": period.kind,
            "first": period.first,
            "last": period.last,
            "label": str(period.label),
        },
        "totals": {**totals, "change": totals["change"] or None},
        "top_artists": _top(s.top("artist")),
        "top_albums": _top(s.top("album")),
        "top_tracks": _top(s.top("track")),
        "clock": s.clock,
        "heatmap": s.heatmap,
        "series_step": s.series_step,
        "series": [{"start": d, "listens": n} for d, n in s.series],
        "streaks": s.streaks,
        "sessions": s.sessions,
        "transitions": [
            {"from_artist": _ref(t["from"]), "to_artist": _ref(t["to"]), "count": t["count"]}
            for t in s.transitions()
        ],
        "discovery": {
            **{
                k: discovery[k]
                for k in ("new_artists", "new_albums", "new_tracks", "new_listens", "new_share")
            },
            "months": [
                {"month": m, "new_artists": a, "new_albums": b} for m, a, b in discovery["months"]
            ],
            "top_new_artists": [
                _named(r["obj"], r["listens"]) for r in discovery["top_new_artists"]
            ],
        },
        "collection": {
            "owned": coll["owned"],
            "most_played": [_named(r["obj"], r["listens"]) for r in coll["most_played"]],
            "never_played": [
                {"id": a.pk, "title": a.title} for a in coll["never_played"] if a is not None
            ],
            "never_played_count": coll["never_played_count"],
            "dormant": [_named(r["obj"], r["listens"]) for r in coll["dormant"]],
            "dormant_count": coll["dormant_count"],
            "wish_list": [_named(r["obj"], r["listens"]) for r in coll["wish_list"]],
            "formats": [
                {
                    "support": f["support"],
                    "label": str(f["label"]),
                    "records": f["records"],
                    "listens": f["listens"],
                }
                for f in coll["formats"]
            ],
        },
    }
