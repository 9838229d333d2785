from django.urls import path

from tracking import views, views_analytics

app_name = "tracking"

urlpatterns = [
    path("journal/", views.journal, name="journal"),
    path("journal/now-playing/", views.now_playing, name="now-playing"),
    path("journal/add/", views.listen_add, name="listen-add"),
    path("journal/listens/<int:pk>/", views.listen_detail, name="listen-detail"),
    path("journal/listens/<int:pk>/delete/", views.listen_delete, name="listen-delete"),
    path("journal/tracks/<int:track_id>/love/", views.love, name="track-love"),
    path("timeline/", views.timeline, name="timeline"),
    path("analytics/", views_analytics.analytics, name="analytics"),
    path("analytics/year/<int:year>/", views_analytics.analytics_year, name="analytics-year"),
    path("analytics/review/", views_analytics.analytics_review, name="analytics-review"),
    path("tracker/pause/", views.tracker_pause, name="tracker-pause"),
    path("tracker/resume/", views.tracker_resume, name="tracker-resume"),
    path("lastfm/backfill/", views.lastfm_backfill, name="lastfm-backfill"),
    path("lastfm/connect/", views.lastfm_connect, name="lastfm-connect"),
    path("lastfm/callback/", views.lastfm_callback, name="lastfm-callback"),
    path("lastfm/disconnect/", views.lastfm_disconnect, name="lastfm-disconnect"),
]
