from django.urls import path

from collection import views

app_name = "collection"

urlpatterns = [
    path("", views.collection_list, name="collection-list"),
    path("albums/<int:pk>/", views.album_detail, name="album-detail"),
    path("artists/<int:pk>/", views.artist_detail, name="artist-detail"),
    path("discogs/sync/", views.discogs_sync_view, name="discogs-sync"),
]
