"""ListenBrainz-compatible API root: mounted at /1/ (open in the login middleware; token auth)."""

from django.urls import path

from tracking import listenbrainz_api as views

app_name = "listenbrainz"

urlpatterns = [
    path("submit-listens", views.submit_listens, name="submit-listens"),
    path("validate-token", views.validate_token, name="validate-token"),
    path("latest-import", views.latest_import, name="latest-import"),
]
