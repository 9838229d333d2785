from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path

from collection import views as collection_views
from musictracker import tokens, views
from musictracker.api import api

urlpatterns = [
    path("", views.home, name="home"),
    path("setup/", views.first_run, name="first-run"),
    path("login/", login_not_required(views.ThrottledLoginView.as_view()), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("settings/", views.settings_page, name="settings"),
    path("jobs/<int:pk>/", views.job_progress, name="job-progress"),
    path("settings/tokens/", tokens.token_create, name="token-create"),
    path("settings/tokens/<int:pk>/revoke/", tokens.token_revoke, name="token-revoke"),
    path("settings/imports/", include("tracking.import_urls")),
    # ListenBrainz-compatible root for scrobblers: server URL http://host:8000/, API root /1/.
    path("1/", include("tracking.listenbrainz_urls")),
    path("healthz", views.healthz, name="healthz"),
    path("metrics", views.metrics_view, name="metrics"),
    path("i18n/setlang/", views.set_language, name="set_language"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("search/", collection_views.search, name="search"),
    path("", include("tracking.urls")),
    path("collection/", include("collection.urls")),
    path("playlists/", include("playlists.urls")),
    path("enrichment/", include("enrichment.urls")),
]

handler404 = "musictracker.views.not_found"
handler500 = "musictracker.views.server_error"
