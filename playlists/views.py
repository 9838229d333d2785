"""Playlists pages: list, create (generator → parameters → preview → save), a playlist's page
with its edits, and downloads. Every object is looked up with the signed-in user: another user's
playlist answers 404. The AI generator is never called from here: it runs as a queued task."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from collection.models import Track
from playlists import exports, generators, queries, services
from playlists.forms import AddTrackForm, MoveForm, NameForm, ParametersForm, ReorderForm
from playlists.models import Playlist


def _playlist(request, pk: int) -> Playlist:
    return get_object_or_404(Playlist, pk=pk, user=request.user)


def _detail_context(playlist: Playlist, **extra) -> dict:
    entries = queries.playlist_entries(playlist=playlist)
    return {
        "playlist": playlist,
        "entries": entries,
        "seconds": queries.total_seconds(entries),
        "generator": generators.REGISTRY.get(playlist.algorithm),
        "summary": generators.describe(playlist.algorithm, playlist.parameters),
        "formats": list(exports.FORMATS),
        **extra,
    }


def _tracks_fragment(request, playlist: Playlist, **extra) -> HttpResponse:
    """After an edit: the refreshed track list for htmx, the playlist page otherwise."""
    if request.htmx:
        context = _detail_context(playlist, **extra)
        return render(request, "playlists/playlist_detail.html#tracks", context)
    return redirect("playlists:playlist-detail", playlist.pk)


@require_GET
def playlist_list(request):
    playlists = queries.playlists_for_list(user=request.user)
    for p in playlists:
        gen = generators.REGISTRY.get(p.algorithm)
        p.generator_label = gen.label if gen else p.algorithm
    return render(request, "playlists/playlist_list.html", {"playlists": playlists})


@require_http_methods(["GET", "POST"])
def playlist_create(request):
    data = request.POST if request.method == "POST" else request.GET
    key = data.get("generator", "")
    gen = generators.REGISTRY.get(key)
    context = {"generators": list(generators.REGISTRY.values()), "generator": gen}
    if gen is None:
        if key:
            context["error"] = _("Unknown generator “%(key)s”.") % {"key": key[:50]}
        return render(request, "playlists/playlist_create.html", context)
    bound = request.method == "POST" or "preview" in data
    form = ParametersForm(gen, data if bound else None, user=request.user)
    context["form"] = form
    name_form = NameForm(data if request.method == "POST" else None)
    context["name_form"] = name_form
    if bound and form.is_valid():
        params = form.cleaned_data["parameters"]
        context["parameters"] = params
        if request.method == "POST" and data.get("action") == "save" and name_form.is_valid():
            result = services.create_playlist(
                user=request.user,
                name=name_form.cleaned_data["name"],
                algorithm=gen.key,
                parameters=params,
            )
            if result.playlist is not None:
                return _go(request, result.playlist)
            context["outcome"] = result.outcome
        elif not gen.is_ai:
            context["outcome"] = generators.run(request.user, gen.key, params)
            context["preview"] = _preview_tracks(context["outcome"].track_ids)
    template = "playlists/playlist_create.html"
    if request.htmx and bound:
        template += "#preview"
    return render(request, template, context)


def _preview_tracks(track_ids: list[int]) -> list[Track]:
    tracks = Track.objects.select_related("album").in_bulk(track_ids)
    return [tracks[t] for t in track_ids if t in tracks]


def _go(request, playlist: Playlist) -> HttpResponse:
    url = reverse("playlists:playlist-detail", args=[playlist.pk])
    if playlist.status == Playlist.Status.PENDING:
        messages.info(request, _("The AI is choosing the tracks; this page updates by itself."))
    else:
        messages.success(request, _("Playlist “%(name)s” saved.") % {"name": playlist.name})
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@require_GET
def playlist_detail(request, pk: int):
    playlist = _playlist(request, pk)
    template = "playlists/playlist_detail.html"
    if request.htmx and request.GET.get("fragment") == "tracks":
        template += "#tracks"
    return render(request, template, _detail_context(playlist, rename_form=NameForm()))


@require_POST
def playlist_rename(request, pk: int):
    playlist = _playlist(request, pk)
    form = NameForm(request.POST)
    if form.is_valid():
        services.rename_playlist(playlist=playlist, name=form.cleaned_data["name"])
        messages.success(request, _("Renamed."))
    else:
        messages.error(request, _("A playlist needs a name."))
    return redirect("playlists:playlist-detail", playlist.pk)


@require_POST
def playlist_regenerate(request, pk: int):
    playlist = _playlist(request, pk)
    try:
        outcome = services.regenerate_playlist(playlist=playlist)
    except generators.ParameterError as exc:
        messages.error(request, exc.message)
        return redirect("playlists:playlist-detail", playlist.pk)
    if outcome is None:
        messages.info(request, _("The AI is choosing the tracks again."))
    elif outcome.track_ids:
        messages.success(request, _("Regenerated with the same parameters."))
    else:
        messages.warning(request, outcome.why_empty)
    return redirect("playlists:playlist-detail", playlist.pk)


@require_http_methods(["GET", "POST"])
def playlist_delete(request, pk: int):
    playlist = _playlist(request, pk)
    if request.method == "POST":
        name = playlist.name
        services.delete_playlist(playlist=playlist)
        messages.success(request, _("Playlist “%(name)s” deleted.") % {"name": name})
        return redirect("playlists:playlist-list")
    return render(request, "playlists/playlist_confirm_delete.html", {"playlist": playlist})


@require_POST
def playlist_reorder(request, pk: int):
    playlist = _playlist(request, pk)
    form = ReorderForm(request.POST)
    if not form.is_valid():
        return HttpResponse(_("The new order is not readable."), status=400)
    services.reorder_playlist(playlist=playlist, entry_ids=form.entry_ids())
    return _tracks_fragment(request, playlist, announce=_("Order saved."))


@require_POST
def playlist_move(request, pk: int, entry_pk: int):
    playlist = _playlist(request, pk)
    form = MoveForm(request.POST)
    if not form.is_valid():
        return HttpResponse(_("Choose up or down."), status=400)
    direction = form.cleaned_data["direction"]
    moved = services.move_track(
        playlist=playlist, entry_id=entry_pk, offset=-1 if direction == "up" else 1
    )
    focus = f"move-{entry_pk}-{direction}"
    announce = _("Moved up.") if direction == "up" else _("Moved down.")
    return _tracks_fragment(request, playlist, focus=focus, announce=announce if moved else "")


@require_POST
def playlist_remove(request, pk: int, entry_pk: int):
    playlist = _playlist(request, pk)
    if not services.remove_track(playlist=playlist, entry_id=entry_pk):
        raise Http404
    return _tracks_fragment(request, playlist, announce=_("Track removed."))


@require_GET
def playlist_track_search(request, pk: int):
    playlist = _playlist(request, pk)
    q = request.GET.get("q", "")[:200]
    results = queries.search_tracks(q=q, exclude_playlist=playlist)
    context = {**_detail_context(playlist, rename_form=NameForm()), "q": q, "results": results}
    template = "playlists/playlist_detail.html"
    if request.htmx:
        template += "#search-results"
    return render(request, template, context)


@require_POST
def playlist_add(request, pk: int):
    playlist = _playlist(request, pk)
    form = AddTrackForm(request.POST)
    if not form.is_valid():
        return HttpResponse(_("Choose a track."), status=400)
    added = services.add_track(playlist=playlist, track_id=form.cleaned_data["track"])
    announce = _("Track added.") if added else _("That track is already in the playlist.")
    return _tracks_fragment(request, playlist, announce=announce)


@require_GET
def playlist_export(request, pk: int, fmt: str):
    playlist = _playlist(request, pk)
    if fmt not in exports.FORMATS:
        raise Http404
    content_type, ext = exports.FORMATS[fmt]
    response = HttpResponse(exports.export(playlist, fmt), content_type=content_type)
    filename = f"{slugify(playlist.name) or 'playlist'}.{ext}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
