"""Choosing a picture for an artist or album, and asking for new album notes. Views never call
the services outside: regenerating queues a task and shows "pending" at once."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from collection import queries
from collection.models import Album, Artist, Image
from enrichment import services
from enrichment.forms import ImageChoiceForm


def _apply_choice(form: ImageChoiceForm, **subject) -> None:
    data = form.cleaned_data
    if data.get("automatic"):
        services.clear_choice(**subject)
    elif data.get("url"):
        services.add_chosen_url(url=data["url"], **subject)
    else:
        image = get_object_or_404(Image, pk=data["image"], **subject)
        services.choose_image(image=image)


def _your_album(request, pk: int, queryset=Album.objects) -> Album:
    """The album, if it is in the user's library; another user's album is unknown here (404)."""
    if not queries.album_is_yours(request.user, pk):
        raise Http404
    return get_object_or_404(queryset, pk=pk)


def _your_artist(request, pk: int) -> Artist:
    if not queries.artist_is_yours(request.user, pk):
        raise Http404
    return get_object_or_404(Artist, pk=pk)


def _picker(request, subject_name: str, obj, detail_url: str):
    form = ImageChoiceForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if form.is_valid():
            _apply_choice(form, **{subject_name: obj})
            obj.refresh_from_db()
            messages.success(request, _("Picture updated."))
            if not request.htmx:
                return redirect(detail_url)
            form = ImageChoiceForm()
        elif not request.htmx:
            messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
            return redirect(request.path)
    template = "enrichment/image_picker_page.html"
    if request.htmx:
        template = "enrichment/_image_picker.html"
    context = {subject_name: obj, "picker_form": form, "picker_open": True}
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
def artist_images(request, pk: int):
    artist = _your_artist(request, pk)
    return _picker(request, "artist", artist, artist_url(artist))


@require_http_methods(["GET", "POST"])
def album_images(request, pk: int):
    album = _your_album(request, pk)
    return _picker(request, "album", album, album_url(album))


@require_POST
def album_notes_regenerate(request, pk: int):
    album = _your_album(request, pk)
    services.mark_notes_pending(album=album)
    user_id = request.user.pk
    transaction.on_commit(lambda: _queue_regenerate(album.pk, user_id))
    if request.htmx:
        return render(request, "enrichment/_album_notes.html", {"album": _fresh(album)})
    messages.info(request, _("New notes are being written; they appear here in a moment."))
    return redirect(album_url(album))


@require_GET
def album_notes(request, pk: int):
    """The notes block alone (polled while notes are pending)."""
    album = _your_album(request, pk, Album.objects.select_related("metadata"))
    return render(request, "enrichment/_album_notes.html", {"album": album})


@require_POST
def backlog_run(request):
    """Settings' "Look now" button: one backlog batch, in the background."""
    transaction.on_commit(_queue_backlog)
    messages.info(request, _("Looking for missing pictures and notes in the background."))
    return redirect("settings")


def _queue_backlog() -> None:
    from django_q.tasks import async_task

    async_task("enrichment.tasks.enrich_backlog", group="enrichment")


def _queue_regenerate(album_id: int, user_id: int) -> None:
    from django_q.tasks import async_task

    async_task("enrichment.tasks.regenerate_notes", album_id, user_id, group="enrichment")


def _fresh(album: Album) -> Album:
    return Album.objects.select_related("metadata").get(pk=album.pk)


def album_url(album: Album) -> str:
    from django.urls import reverse

    return reverse("collection:album-detail", args=[album.pk])


def artist_url(artist: Artist) -> str:
    from django.urls import reverse

    return reverse("collection:artist-detail", args=[artist.pk])
