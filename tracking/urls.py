from django.urls import path

from tracking import views

app_name = "tracking"

urlpatterns = [
    path("journal/", views.journal, name="journal"),
    path("journal/now-playing/", views.now_playing, name="now-playing"),
    path("journal/add/", views.listen_add, name="listen-add"),
    path("journal/listens/<int:pk>/", views.listen_detail, name="listen-detail"),
    path("journal/listens/<int:pk>/delete/", views.listen_delete, name="listen-delete"),
    path("journal/tracks/<int:track_id>/love/", views.love, name="track-love"),
    path("timeline/", views.timeline, name="timeline"),
    path("analytics/", views.analytics, name="analytics"),
]
