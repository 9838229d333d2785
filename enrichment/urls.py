from django.urls import path

from enrichment import views

app_name = "enrichment"

urlpatterns = [
    path("backlog/run/", views.backlog_run, name="backlog-run"),
    path("artists/<int:pk>/images/", views.artist_images, name="artist-images"),
    path("albums/<int:pk>/images/", views.album_images, name="album-images"),
    path("albums/<int:pk>/notes/", views.album_notes, name="album-notes"),
    path(
        "albums/<int:pk>/notes/regenerate/",
        views.album_notes_regenerate,
        name="album-notes-regenerate",
    ),
]
