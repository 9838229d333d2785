from django.urls import path

from tracking import views, views_analytics

app_name = "tracking"

urlpatterns = [
    path("journal/", views.journal, name="journal"),
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
