"""Request-wide rules: first-run setup, login everywhere, the user's language and time zone."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequired
from django.shortcuts import redirect
from django.utils import timezone, translation

# Paths that answer without a session: they authenticate otherwise (API tokens, metrics token)
# or must be open (health checks, static files).
OPEN_PREFIXES = ("/static/", "/api/", "/1/", "/healthz", "/metrics", "/favicon.ico")
SETUP_PATH = "/setup/"


class FirstRunMiddleware:
    """Until the first account exists, every page leads to the first-run page."""

    has_users = False

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not FirstRunMiddleware.has_users:
            if get_user_model().objects.exists():
                FirstRunMiddleware.has_users = True
            elif request.path != SETUP_PATH and not request.path.startswith(OPEN_PREFIXES):
                return redirect(SETUP_PATH)
        return self.get_response(request)


class LoginRequiredMiddleware(DjangoLoginRequired):
    """Django's login-required default, with the token-authenticated and open paths let through
    (the API answers 401 itself rather than redirecting to a login page)."""

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path.startswith(OPEN_PREFIXES):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


class UserPreferencesMiddleware:
    """Activate the signed-in user's language and time zone for the whole request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            from musictracker.models import Profile

            # get_or_create: two first requests at once (several tabs, a script) both found
            # no profile, and the second create failed the request with a 500.
            profile, _ = Profile.objects.get_or_create(user=user)
            request.profile = profile
            timezone.activate(profile.time_zone or "UTC")
            if profile.language:
                translation.activate(profile.language)
                request.LANGUAGE_CODE = profile.language
        response = self.get_response(request)
        timezone.deactivate()
        return response


class RequestMetricsMiddleware:
    """Request latency by view name, into the shared metrics (buffered, flushed every few s)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        import time

        from musictracker import metrics

        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = match.view_name if match else "unmatched"
        metrics.observe("request_duration_seconds", time.perf_counter() - started, view=view)
        return response


CSP = (
    "default-src 'self'; img-src 'self' https: http: data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


class SecurityHeadersMiddleware:
    """A content security policy that the pages pass: scripts only from our own static files
    (htmx is vendored, no inline scripts), pictures from the services that host covers."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=()"
        )
        return response
