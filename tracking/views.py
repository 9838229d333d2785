from __future__ import annotations

import re
from datetime import UTC, date, timedelta
from urllib.parse import quote

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from collection import queries as library
from collection.catalogue import ListenRecord
from collection.models import Track
from tracking import queries
from tracking.forms import ConfirmForm, ManualListenForm
from tracking.listens import delete_listens, ingest
from tracking.loved import set_loved
from tracking.models import Listen, Source

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
FILTER_KEYS = ("from", "to", "artist", "artist_name", "album", "loved")


def _tz(request):
    return request.profile.tzinfo


def _parse_day(raw: str, label: str) -> date:
    try:
        if not _DAY.fullmatch(raw.strip()):
            raise ValueError(raw)
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise queries.BadParameter(
            _("“%(value)s” is not a date for “%(label)s”: use YYYY-MM-DD.")
            % {"value": raw[:40], "label": label}
        )


def _parse_id(raw: str, label: str) -> int:
    if not raw.strip().isdigit():
        raise queries.BadParameter(
            _("“%(value)s” is not a valid %(label)s id.") % {"value": raw[:40], "label": label}
        )
    return int(raw)


def _filters(request) -> tuple[queries.JournalFilters, dict]:
    """The filters of the URL, and what they name (for the chips). Raises BadParameter."""
    get = request.GET
    start = _parse_day(get["from"], _("from")) if get.get("from", "").strip() else None
    end = _parse_day(get["to"], _("to")) if get.get("to", "").strip() else None
    if start and end and start > end:
        raise queries.BadParameter(_("The start date is after the end date."))
    named: dict = {}
    artist_id = album_id = None
    if get.get("artist_name", "").strip():  # typed in the filter form
        named["artist"] = queries.artist_named(get["artist_name"])
        if named["artist"] is not None and not library.artist_is_yours(
            request.user, named["artist"].pk
        ):
            named["artist"] = None  # only the user's own artists are named (and filtered on)
        if named["artist"] is None:
            raise queries.BadParameter(
                _("No artist called “%(name)s” in the catalogue.")
                % {"name": get["artist_name"][:80]}
            )
        artist_id = named["artist"].pk
    elif get.get("artist", "").strip():
        artist_id = _parse_id(get["artist"], _("artist"))
        # only the user's own artists and albums: another user's is unknown (its name is theirs)
        named["artist"] = library.your_artists(request.user).filter(pk=artist_id).first()
        if named["artist"] is None:
            raise queries.BadParameter(_("There is no artist with id %(id)s.") % {"id": artist_id})
    if get.get("album", "").strip():
        album_id = _parse_id(get["album"], _("album"))
        named["album"] = library.your_albums(request.user).filter(pk=album_id).first()
        if named["album"] is None:
            raise queries.BadParameter(_("There is no album with id %(id)s.") % {"id": album_id})
    loved = get.get("loved") in {"1", "on", "true"}
    filters = queries.JournalFilters(
        start=start, end=end, artist_id=artist_id, album_id=album_id, loved=loved
    )
    return filters, named


def _prefix(name: str) -> str:
    """The URL of `name` up to its id, to build many row links without a reverse() per row."""
    url = reverse(name, args=[987654321])
    return url[: url.index("987654321")]


def _url_prefixes() -> dict:
    return {
        "artist": _prefix("collection:artist-detail"),
        "album": _prefix("collection:album-detail"),
        "listen": _prefix("tracking:listen-delete"),
        "track": _prefix("tracking:track-love"),
        "timeline": reverse("tracking:timeline"),
    }


def _row_context(request) -> dict:
    here = request.get_full_path()
    return {"urls": _url_prefixes(), "here": here, "here_q": quote(here, safe="")}


def _query_string(request, **changes) -> str:
    params = {k: request.GET[k] for k in FILTER_KEYS if request.GET.get(k)}
    params.update({k: v for k, v in changes.items() if v is not None})
    return urlencode(params)


@require_GET
def journal(request):
    tz = _tz(request)
    error = None
    try:
        filters, named = _filters(request)
        raw_cursor = request.GET.get("cursor", "")
        cursor = queries.Cursor.decode(raw_cursor) if raw_cursor else None
    except queries.BadParameter as exc:
        error, filters, named, cursor = str(exc), queries.JournalFilters(), {}, None
        if str(exc) == "malformed cursor":
            error = _("This page link is damaged; showing your latest listens instead.")
    base_qs = _query_string(request)
    if request.GET.get("part") == "summary" and not error:
        summary = queries.journal_summary(request.user, tz=tz, filters=filters)
        context = {"summary": summary, "filters": filters, "base_qs": base_qs}
        context["is_filtered"] = not filters.is_empty
        return render(request, "tracking/journal.html#journal-summary", context)
    page = queries.journal_page(request.user, tz=tz, filters=filters, cursor=cursor)
    context = {
        "page": page,
        "filters": filters,
        "named": named,
        "error": error,
        "cursor": cursor,
        "base_qs": base_qs,
        "next_qs": _query_string(request, cursor=page.next_cursor) if page.next_cursor else "",
        "past_end": cursor is not None and not page.count,
        "is_filtered": not filters.is_empty,
        **_row_context(request),
    }
    if request.htmx and cursor is not None and not error:
        return render(request, "tracking/journal.html#journal-page", context)
    # A summary from rollups alone is cheap; others read listens (an artist's, or a range's
    # partial months), so the page asks for them separately (htmx, or ?summary=1 without JS).
    if queries.summary_is_cheap(filters) or request.GET.get("summary") == "1":
        context["summary"] = queries.journal_summary(request.user, tz=tz, filters=filters)
    context["now_playing"] = queries.now_playing(request.user, now=timezone.now())
    return render(request, "tracking/journal.html", context, status=400 if error else 200)


def _now_initial(tz) -> dict:
    now = timezone.now().astimezone(tz)
    return {"date": now.date().isoformat(), "time": now.strftime("%H:%M")}


@require_GET
def now_playing(request):
    playing = queries.now_playing(request.user, now=timezone.now())
    return render(request, "tracking/journal.html#now-playing", {"now_playing": playing})


@require_POST
def love(request, track_id: int):
    track = get_object_or_404(Track, pk=track_id)
    if not library.track_is_yours(request.user, track.pk):  # another user's track: unknown here
        raise Http404
    loved = request.POST.get("loved") == "1"
    result = set_loved(user=request.user, track_id=track.pk, loved=loved)
    if request.htmx:
        context = {
            "track_id": track.pk,
            "is_loved": result.loved,
            "love_result": result,
            "urls": _url_prefixes(),
            "here": _safe_next(request),
        }
        return render(request, "tracking/journal.html#love-button", context)
    if result.sent_to_lastfm:
        messages.success(request, _("Saved, and sent to Last.fm."))
    else:
        messages.success(request, _("Saved (kept locally: Last.fm is not connected)."))
    return redirect(_safe_next(request))


def _safe_next(request) -> str:
    from django.utils.http import url_has_allowed_host_and_scheme

    nxt = request.POST.get("next") or request.GET.get("next") or ""
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        return nxt
    return reverse("tracking:journal")


@require_http_methods(["GET", "POST"])
def listen_add(request):
    tz = _tz(request)
    form = ManualListenForm(request.POST or None, tz=tz, initial=_now_initial(tz))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        record = ListenRecord(
            artist=data["artist"].strip(),
            track=data["track"].strip(),
            album=data["album"].strip(),
            listened_at=data["listened_at"].astimezone(UTC),
            source=Source.MANUAL,
        )
        result = ingest(request.user, [record])
        if result.added:
            messages.success(request, _("Listen added."))
        else:
            messages.info(request, _("That listen was already in your journal."))
        if request.htmx:
            return HttpResponseClientRedirect(reverse("tracking:journal"))
        return redirect("tracking:journal")
    status = 400 if request.method == "POST" else 200
    return render(request, "tracking/listen_add.html", {"form": form}, status=status)


@require_GET
def listen_detail(request, pk: int):
    """What a Journal row shows when opened: the album's note, links out, filters, delete."""
    rows = queries.load_rows(request.user, [pk])
    if not rows:
        raise Http404(_("No such listen in your journal."))
    template = "tracking/listen_detail.html"
    if request.htmx:
        template += "#listen-detail"
    return render(request, template, {"row": rows[0]})


@require_http_methods(["GET", "POST"])
def listen_delete(request, pk: int):
    listen = (
        Listen.objects.filter(pk=pk, user=request.user)
        .select_related("track", "album", "artist")
        .first()
    )
    if listen is None:
        raise Http404(_("No such listen in your journal."))
    if request.method == "POST" and ConfirmForm(request.POST).is_valid():
        delete_listens(request.user, [listen.pk])
        if request.htmx:
            return HttpResponse("")  # the row disappears in place
        messages.success(request, _("Listen deleted."))
        return redirect(_safe_next(request))
    return render(
        request, "tracking/listen_delete.html", {"listen": listen, "next": _safe_next(request)}
    )


# --- Timeline -----------------------------------------------------------------------------


@require_GET
def timeline(request):
    tz = _tz(request)
    today = timezone.now().astimezone(tz).date()
    error = None
    raw = request.GET.get("date", "").strip()
    try:
        day = _parse_day(raw, _("date")) if raw else today
    except queries.BadParameter as exc:
        error, day = str(exc), today
    view = "week" if request.GET.get("view") == "week" else "day"
    context = {"day": day, "today": today, "view": view, "error": error}
    if view == "week":
        first = day - timedelta(days=day.weekday())
        context.update(
            week=queries.week_heat(request.user, first=first),
            prev_day=first - timedelta(days=7),
            next_day=first + timedelta(days=7),
            hours=range(24),
        )
    else:
        context.update(
            timeline=queries.day_timeline(request.user, tz=tz, day=day),
            prev_day=day - timedelta(days=1),
            next_day=day + timedelta(days=1),
        )
    return render(request, "tracking/timeline.html", context, status=400 if error else 200)


@require_GET
def analytics(request):
    return render(request, "tracking/analytics.html", {})


# ---- Last.fm tracker: the Settings section and its actions -------------------------------------


def _latest_backfill(user):
    from musictracker.models import Job

    return (
        Job.objects.filter(user=user, kind=Job.Kind.LASTFM_BACKFILL).order_by("-created_at").first()
    )


def _is_stale(job) -> bool:
    return job.updated_at < timezone.now() - timedelta(minutes=10)


def lastfm_settings_section(request) -> dict:
    """The tracker's part of Settings (registered in settings.SETTINGS_SECTIONS)."""
    from django.utils import timezone

    from musictracker import config
    from tracking.lastfm_sync import FAILURES_SHOWN_PLAINLY
    from tracking.models import NowPlaying, TrackerStatus

    profile = request.profile
    status = TrackerStatus.objects.filter(user=request.user).first()
    now_playing = NowPlaying.objects.filter(
        user=request.user, expires_at__gt=timezone.now()
    ).first()
    job = _latest_backfill(request.user)
    return {
        "template": "settings/_lastfm.html",
        "missing": config.missing("lastfm.api_key", "lastfm.api_secret"),
        "username": profile.lastfm_username,
        "connected": bool(profile.lastfm_session_key),
        "status": status,
        "failing": bool(status and status.consecutive_failures >= FAILURES_SHOWN_PLAINLY),
        "job": job,
        # a running job that stopped reporting (worker killed): offer to resume it
        "can_start": not job or not job.is_active or _is_stale(job),
        "now_playing": now_playing,
    }


def _back(request):
    from django_htmx.http import HttpResponseClientRedirect

    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(reverse("settings") + "#h-lastfm")
    return redirect(reverse("settings") + "#h-lastfm")


@require_POST
def tracker_pause(request):
    from tracking.lastfm_sync import set_paused

    set_paused(user=request.user, paused=True)
    messages.info(request, _("The Last.fm tracker is paused."))
    return _back(request)


@require_POST
def tracker_resume(request):
    from tracking.lastfm_sync import set_paused

    set_paused(user=request.user, paused=False)
    messages.success(request, _("The Last.fm tracker is running again."))
    return _back(request)


@require_POST
def lastfm_backfill(request):
    from django.db import transaction
    from django_q.tasks import async_task

    from musictracker import config
    from tracking.lastfm_sync import start_backfill

    if not request.profile.lastfm_username or config.missing("lastfm.api_key"):
        messages.error(request, _("Set your Last.fm username (and the API key) first."))
        return _back(request)
    job = _latest_backfill(request.user)
    if job and job.is_active and not _is_stale(job):
        messages.info(request, _("The history import is already running."))
        return _back(request)
    job = start_backfill(user=request.user)
    transaction.on_commit(lambda: async_task("tracking.tasks.lastfm_backfill", job.pk))
    messages.success(request, _("Your Last.fm history is being imported."))
    return _back(request)


@require_POST
def lastfm_connect(request):
    from musictracker import config
    from tracking.lastfm import auth_url

    if config.missing("lastfm.api_key", "lastfm.api_secret"):
        messages.error(request, _("Last.fm is not configured: set lastfm.api_key and api_secret."))
        return _back(request)
    return redirect(auth_url(request.build_absolute_uri(reverse("tracking:lastfm-callback"))))


@require_GET
def lastfm_callback(request):
    from django.db import transaction
    from django_q.tasks import async_task

    token = request.GET.get("token", "").strip()
    if not token or len(token) > 64 or not token.isalnum():
        messages.error(request, _("Last.fm did not send an authorization token: try again."))
        return _back(request)
    user_id = request.user.pk
    transaction.on_commit(lambda: async_task("tracking.tasks.connect_lastfm", user_id, token))
    messages.success(request, _("Connecting to Last.fm…"))
    return _back(request)


@require_POST
def lastfm_disconnect(request):
    from tracking.lastfm_sync import disconnect

    disconnect(user=request.user)
    messages.info(request, _("Music Tracker is no longer connected to your Last.fm account."))
    return _back(request)
