"""ListenBrainz-compatible endpoints, so scrobblers set up with a custom ListenBrainz server URL
(Navidrome, Jellyfin, Web Scrobbler, Pano Scrobbler, multi-scrobbler) send listens here.

Root URL for clients: http://host:8000/ (API root /1/). Authentication: the personal API token,
`Authorization: Token <token>`. Validation and error bodies follow ListenBrainz
(https://listenbrainz.readthedocs.io/en/latest/users/api/core.html): 400 with
`{"code": 400, "error": "..."}`. Listens go through tracking.listens.ingest (source "api"), so a
play that also arrives from Last.fm is stored once (the cross-source window).
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime

from django.db import DatabaseError
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from collection.catalogue import Catalogue, ListenRecord
from musictracker.models import ApiToken
from tracking.listens import ingest
from tracking.services import set_now_playing

log = logging.getLogger(__name__)

MAX_LISTENS_PER_REQUEST = 1000
MAX_LISTEN_SIZE = 10240
MAX_BODY = MAX_LISTENS_PER_REQUEST * MAX_LISTEN_SIZE
LISTEN_MINIMUM_TS = 1033430400  # 2002-10-01, as ListenBrainz
LISTEN_TYPES = ("single", "playing_now", "import")
MBID_KEYS = ("artist_mbids", "release_group_mbid", "release_mbid", "recording_mbid", "track_mbid")


def _error(code: int, message: str) -> JsonResponse:
    return JsonResponse({"code": code, "error": message}, status=code)


def _token(request) -> tuple[str | None, ApiToken | None]:
    header = request.headers.get("Authorization", "")
    raw = ""
    if header:
        scheme, _, value = header.partition(" ")
        raw = value.strip() if scheme.lower() in {"token", "bearer"} else ""
    raw = raw or request.GET.get("token", "").strip()
    if not raw:
        return None, None
    return raw, ApiToken.authenticate(raw)


def _user_or_error(request):
    raw, token = _token(request)
    if raw is None:
        return None, _error(401, "You need to provide an Authorization header.")
    if token is None:
        return None, _error(401, "Invalid authorization token.")
    token.touch()
    return token.user, None


class PayloadError(ValueError):
    pass


def _check_listen(listen, listen_type: str) -> ListenRecord:
    if not isinstance(listen, dict):
        raise PayloadError("Listen is not a JSON object.")
    if len(json.dumps(listen)) > MAX_LISTEN_SIZE:
        raise PayloadError(
            f"JSON document is too large. In aggregate, listens may not exceed {MAX_LISTEN_SIZE} characters."
        )
    meta = listen.get("track_metadata")
    if not isinstance(meta, dict):
        raise PayloadError("JSON document must contain the key track_metadata at the top level.")
    if listen_type == "playing_now":
        if "listened_at" in listen:
            raise PayloadError(
                "JSON document must not contain listened_at while submitting playing_now."
            )
        at = None
    else:
        if "listened_at" not in listen:
            raise PayloadError("JSON document must contain the key listened_at at the top level.")
        value = listen["listened_at"]
        if isinstance(value, bool) or not isinstance(value, int):
            raise PayloadError("Value for key listened_at is of incorrect type, integer expected.")
        if value < LISTEN_MINIMUM_TS:
            raise PayloadError(
                f"Value for key listened_at is too low. listened_at timestamp should be greater than {LISTEN_MINIMUM_TS}."
            )
        if value > 4102444800:
            raise PayloadError("Value for key listened_at is too high.")
        at = datetime.fromtimestamp(value, UTC)
    for key in ("artist_name", "track_name"):
        value = meta.get(key)
        if not isinstance(value, str) or not value.strip():
            raise PayloadError(f"JSON document does not contain required track_metadata.{key}.")
    release = meta.get("release_name")
    if release is not None and not isinstance(release, str):
        raise PayloadError("track_metadata.release_name must be a string.")
    info = meta.get("additional_info")
    info = {} if info is None else info
    if not isinstance(info, dict):
        raise PayloadError("track_metadata.additional_info must be a JSON object.")
    for key in MBID_KEYS:
        values = info.get(key)
        if values in (None, "", []):
            continue
        for v in values if isinstance(values, list) else [values]:
            try:
                uuid.UUID(str(v))
            except ValueError:
                raise PayloadError(f"{key} MBID format invalid.")
    duration = info.get("duration")
    if duration is None and info.get("duration_ms") is not None:
        duration = info["duration_ms"] // 1000 if isinstance(info["duration_ms"], int) else None
    if duration is not None and (
        isinstance(duration, bool) or not isinstance(duration, int) or duration < 0
    ):
        raise PayloadError("additional_info.duration must be a positive integer.")
    artist_mbids = info.get("artist_mbids")
    number = info.get("tracknumber")
    return ListenRecord(
        artist=meta["artist_name"].strip()[:500],
        track=meta["track_name"].strip()[:500],
        album=(release or "").strip()[:500],
        album_artist=str(info.get("release_artist_name") or "")[:500],
        listened_at=at,  # type: ignore[arg-type]  (None for playing_now)
        duration=duration or None,
        artist_mbid=(artist_mbids[0] if isinstance(artist_mbids, list) and artist_mbids else None),
        album_mbid=info.get("release_mbid") or None,
        track_mbid=info.get("recording_mbid") or info.get("track_mbid") or None,
        track_number=number if isinstance(number, int) and 0 < number < 1000 else None,
        source="api",
        source_id=str(info.get("submission_client") or "")[:100],
    )


def _parse(body: bytes) -> tuple[str, list[ListenRecord]]:
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise PayloadError("Cannot parse JSON document.")
    if not isinstance(data, dict):
        raise PayloadError("Invalid JSON document submitted.")
    listen_type = data.get("listen_type")
    if listen_type not in LISTEN_TYPES:
        raise PayloadError("JSON document requires a valid listen_type key.")
    payload = data.get("payload")
    if not isinstance(payload, list):
        raise PayloadError("JSON document requires a payload key of type list.")
    if not payload:
        raise PayloadError("JSON document does not contain any listens.")
    if listen_type in ("single", "playing_now") and len(payload) != 1:
        raise PayloadError(f"JSON document should contain exactly one listen for {listen_type}.")
    if len(payload) > MAX_LISTENS_PER_REQUEST:
        raise PayloadError(
            f"Too many listens. You may not submit more than {MAX_LISTENS_PER_REQUEST} listens at once."
        )
    return listen_type, [_check_listen(listen, listen_type) for listen in payload]


@csrf_exempt
@require_http_methods(["POST", "OPTIONS"])
def submit_listens(request):
    if request.method == "OPTIONS":
        return JsonResponse({})
    user, error = _user_or_error(request)
    if error:
        return error
    if len(request.body) > MAX_BODY:
        return _error(400, "JSON document is too large.")
    try:
        listen_type, records = _parse(request.body)
    except PayloadError as exc:
        return _error(400, str(exc))
    try:
        if listen_type == "playing_now":
            info = records[0]
            set_now_playing(user=user, record=info, duration=info.duration)
        else:
            ingest(user, records, catalogue=Catalogue())
    except DatabaseError:
        log.exception("submit-listens: database error")
        return _error(503, "The database is busy; please retry.")
    return JsonResponse({"status": "ok"})


@csrf_exempt
@require_GET
def validate_token(request):
    raw, token = _token(request)
    if raw is None:
        return _error(400, "You need to provide an Authorization token.")
    if token is None:
        return JsonResponse({"code": 200, "message": "Token invalid.", "valid": False})
    return JsonResponse(
        {"code": 200, "message": "Token valid.", "valid": True, "user_name": token.user.username}
    )


@csrf_exempt
@require_http_methods(["GET", "POST"])
def latest_import(request):
    """ListenBrainz's import bookmark: the newest timestamp an importer sent (kept per user)."""
    from tracking.models import Listen

    if request.method == "GET":
        name = request.GET.get("user_name", "")
        from django.contrib.auth import get_user_model

        owner = get_user_model().objects.filter(username=name).first() if name else None
        if owner is None:
            return _error(404, f"Cannot find user: {name}")
        # Only its owner may read it: the API is per user, listening times are private.
        user, error = _user_or_error(request)
        if error:
            return error
        if user.pk != owner.pk:
            return _error(401, "You may only read your own latest import.")
        latest = (
            Listen.objects.filter(user=owner, source="api")
            .order_by("-listened_at")
            .values_list("listened_at", flat=True)
            .first()
        )
        return JsonResponse(
            {
                "musicbrainz_id": owner.username,
                "latest_import": int(latest.timestamp()) if latest else 0,
            }
        )
    user, error = _user_or_error(request)
    if error:
        return error
    try:
        data = json.loads(request.body.decode("utf-8"))
        ts = data["ts"]
        if isinstance(ts, bool) or not isinstance(ts, int):
            raise ValueError
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return _error(400, "Invalid data sent: ts must be an integer.")
    return JsonResponse({"status": "ok"})
