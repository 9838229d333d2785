from django.urls import path

from tracking import views, views_analytics

app_name = "tracking"

urlpatterns = [
    path("journal/", views.journal, name="journal"),
    path("timeline/", views.timeline, name="timeline"),
    path("analytics/", views_analytics.analytics, name="analytics"),
    path("analytics/year/<int:year>/", views_analytics.analytics_year, name="analytics-year"),
    path("analytics/review/", views_analytics.analytics_review, name="analytics-review"),
]
