from django.urls import path

from tracking import views

app_name = "tracking"

urlpatterns = [
    path("journal/", views.journal, name="journal"),
    path("timeline/", views.timeline, name="timeline"),
    path("analytics/", views.analytics, name="analytics"),
    path("tracker/pause/", views.tracker_pause, name="tracker-pause"),
    path("tracker/resume/", views.tracker_resume, name="tracker-resume"),
    path("lastfm/backfill/", views.lastfm_backfill, name="lastfm-backfill"),
    path("lastfm/connect/", views.lastfm_connect, name="lastfm-connect"),
    path("lastfm/callback/", views.lastfm_callback, name="lastfm-callback"),
    path("lastfm/disconnect/", views.lastfm_disconnect, name="lastfm-disconnect"),
]
