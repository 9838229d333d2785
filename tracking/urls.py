from django.urls import path

from tracking import views

app_name = "tracking"

urlpatterns = [
    path("journal/", views.journal, name="journal"),
    path("timeline/", views.timeline, name="timeline"),
    path("analytics/", views.analytics, name="analytics"),
]
