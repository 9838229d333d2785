from __future__ import annotations

from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

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
