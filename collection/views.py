from __future__ import annotations

from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods

from collection import discogs_sync
from collection.models import Album, Artist, CollectionItem


@require_GET
def collection_list(request):
    items = list(CollectionItem.objects.filter(user=request.user).select_related("album")[:60])
    return render(request, "collection/collection_list.html", {"items": items})


@require_GET
def search(request):
    return render(request, "collection/search.html", {"q": request.GET.get("q", "")[:200]})


@require_GET
def album_detail(request, pk: int):
    album = get_object_or_404(Album, pk=pk)
    tracks = list(album.tracks.order_by("disc_number", "track_number", "position", "title"))
    copies = list(CollectionItem.objects.filter(user=request.user, album=album))
    return render(
        request,
        "collection/album_detail.html",
        {"album": album, "tracks": tracks, "copies": copies},
    )


@require_GET
def artist_detail(request, pk: int):
    artist = get_object_or_404(Artist, pk=pk)
    albums = list(artist.albums.order_by("year", "title")[:100])
    return render(request, "collection/artist_detail.html", {"artist": artist, "albums": albums})


def discogs_settings_section(request) -> dict:
    """The Discogs section of Settings (musictracker.settings.SETTINGS_SECTIONS)."""
    return {"template": "settings/_discogs.html", **discogs_sync.panel_state(request.user)}


@require_http_methods(["GET", "POST"])
def discogs_sync_view(request):
    """GET: the Discogs panel (htmx loads it into Settings and Collection). POST: queue a sync
    (or resume the unfinished one) and show its progress; without htmx, go back where the
    button was."""
    if request.method == "POST":
        if not discogs_sync.missing_settings(request.profile):
            job, start = discogs_sync.queue_sync(request.user)
            if start:
                transaction.on_commit(lambda: _queue("collection.tasks.sync_discogs", job.pk))
        if not request.htmx:
            back = request.POST.get("next", "")
            if not url_has_allowed_host_and_scheme(back, {request.get_host()}):
                back = "collection:collection-list"
            return redirect(back)
    elif not request.htmx:
        return redirect("settings")
    context = {"discogs": discogs_sync.panel_state(request.user)}
    return render(request, "collection/_discogs_sync.html", context)


def _queue(func: str, *args) -> None:
    from django_q.tasks import async_task

    async_task(func, *args)
