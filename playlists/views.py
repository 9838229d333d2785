from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_GET

from playlists.models import Playlist


@require_GET
def playlist_list(request):
    playlists = list(Playlist.objects.filter(user=request.user)[:100])
    return render(request, "playlists/playlist_list.html", {"playlists": playlists})
