from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tracking.models import Listen


@require_GET
def journal(request):
    listens = list(
        Listen.objects.filter(user=request.user)
        .select_related("track", "artist", "album")
        .order_by("-listened_at")[:50]
    )
    return render(request, "tracking/journal.html", {"listens": listens})


@require_GET
def timeline(request):
    return render(request, "tracking/timeline.html", {})


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
