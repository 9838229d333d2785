from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_GET

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
