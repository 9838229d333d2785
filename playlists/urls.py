from django.urls import path

from playlists import views

app_name = "playlists"

urlpatterns = [
    path("", views.playlist_list, name="playlist-list"),
]
