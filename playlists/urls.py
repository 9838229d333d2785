from django.urls import path

from playlists import views

app_name = "playlists"

urlpatterns = [
    path("", views.playlist_list, name="playlist-list"),
    path("new/", views.playlist_create, name="playlist-create"),
    path("<int:pk>/", views.playlist_detail, name="playlist-detail"),
    path("<int:pk>/rename/", views.playlist_rename, name="playlist-rename"),
    path("<int:pk>/regenerate/", views.playlist_regenerate, name="playlist-regenerate"),
    path("<int:pk>/delete/", views.playlist_delete, name="playlist-delete"),
    path("<int:pk>/reorder/", views.playlist_reorder, name="playlist-reorder"),
    path("<int:pk>/tracks/<int:entry_pk>/move/", views.playlist_move, name="playlist-move"),
    path("<int:pk>/tracks/<int:entry_pk>/remove/", views.playlist_remove, name="playlist-remove"),
    path("<int:pk>/tracks/search/", views.playlist_track_search, name="playlist-track-search"),
    path("<int:pk>/tracks/add/", views.playlist_add, name="playlist-add"),
    path("<int:pk>/export.<str:fmt>", views.playlist_export, name="playlist-export"),
]
