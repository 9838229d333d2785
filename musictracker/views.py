"""Wiring-level pages: first run, settings, job progress, health."""

from __future__ import annotations

from django.conf import settings as django_settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.db import transaction
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from musictracker import config
from musictracker.forms import FirstRunForm, ProfileForm
from musictracker.middleware import FirstRunMiddleware
from musictracker.models import Job, Profile

# Services whose keys live in the configuration; Settings says which are missing and how to set them.
SERVICES = [
    (
        "Last.fm",
        ["lastfm.api_key", "lastfm.api_secret"],
        gettext_lazy("live tracking and history import"),
    ),
    (
        "Spotify",
        ["spotify.client_id", "spotify.client_secret"],
        gettext_lazy("artist pictures and covers"),
    ),
    ("AI", ["ai.api_key", "ai.product_id"], gettext_lazy("album notes and listening portraits")),
]


def service_states() -> list[dict]:
    from musictracker import ai  # the AI needs no key on a local server: it knows what is missing

    return [
        {
            "name": name,
            "missing": ai.missing() if name == "AI" else config.missing(*keys),
            "purpose": purpose,
        }
        for name, keys, purpose in SERVICES
    ]


@login_not_required
@require_http_methods(["GET", "POST"])
def first_run(request):
    User = get_user_model()
    if User.objects.exists():
        return redirect("/")
    form = FirstRunForm(
        request.POST or None, initial={"time_zone": config.get("general.time_zone")}
    )
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            if User.objects.exists():  # two browsers raced: the other one won
                return redirect("login")
            user = User.objects.create_superuser(
                username=form.cleaned_data["username"], password=form.cleaned_data["password"]
            )
            Profile.objects.create(
                user=user,
                time_zone=form.cleaned_data["time_zone"],
                language=request.LANGUAGE_CODE[:2],
            )
        FirstRunMiddleware.has_users = True
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, _("Welcome! Your account is ready."))
        return redirect("settings")
    return render(request, "first_run.html", {"form": form})


class ThrottledLoginView(auth_views.LoginView):
    """The login form, refusing further tries after too many failures (musictracker.throttle)."""

    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        from musictracker import throttle

        if throttle.is_blocked(request, request.POST.get("username", "")):
            form = self.get_form()
            form.errors.clear()
            context = self.get_context_data(form=form)
            context["blocked"] = True
            return self.render_to_response(context, status=429)
        return super().post(request, *args, **kwargs)


@require_GET
def home(request):
    return redirect("tracking:journal")


def _fieldsets(form) -> list[dict]:
    """The account form in three groups, so the page reads as Last.fm, Discogs, preferences."""
    groups = [
        (_("Last.fm"), _("Your username there: your plays are read from it."), ["lastfm_username"]),
        (
            _("Discogs"),
            _("Your collection is synced from this account; the token is never shown again."),
            ["discogs_username", "discogs_token", "clear_discogs_token"],
        ),
        (_("Preferences"), "", ["time_zone", "language"]),
    ]
    shown = set(form.fields)
    if not form.instance.discogs_token:
        shown.discard("clear_discogs_token")  # nothing saved, nothing to remove
    return [
        {
            "legend": legend,
            "help": help_text,
            "fields": [form[n] for n in names if n in shown],
        }
        for legend, help_text, names in groups
    ]


@require_http_methods(["GET", "POST"])
def settings_page(request):
    profile = request.profile
    old_zone = profile.time_zone
    form = ProfileForm(request.POST or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        profile = form.save()
        if profile.time_zone != old_zone:
            from django_q.tasks import async_task

            async_task("tracking.tasks.recompute_local_times", request.user.pk)
            messages.info(
                request, _("Time zone changed: your history is being re-dated in the background.")
            )
        messages.success(request, _("Settings saved."))
        return redirect("settings")
    context = {
        "form": form,
        "fieldsets": _fieldsets(form),
        "masked_token": config.mask(profile.discogs_token),
        "services": service_states(),
        "profile": profile,
        "sections": settings_sections(request),
    }
    return render(request, "settings/settings_page.html", context)


def settings_sections(request) -> list[dict]:
    """The sections other apps add to Settings (settings.SETTINGS_SECTIONS): each entry is a
    dotted function `f(request) -> {"template": ..., **context}` or None to show nothing."""
    from django.utils.module_loading import import_string

    sections = []
    for path in django_settings.SETTINGS_SECTIONS:
        section = import_string(path)(request)
        if section:
            sections.append(section)
    return sections


@require_GET
def job_progress(request, pk: int):
    """The live progress of one of the user's jobs (htmx polls this fragment)."""
    job = get_object_or_404(Job, pk=pk, user=request.user)
    return render(request, "includes/_job_progress.html", {"job": job})


@login_not_required
@require_http_methods(["POST"])
def set_language(request):
    """Django's language switch, also remembered in the signed-in user's settings."""
    from django.views.i18n import set_language as django_set_language

    code = request.POST.get("language", "")
    if request.user.is_authenticated and code in dict(django_settings.LANGUAGES):
        Profile.objects.filter(user=request.user).update(language=code)
    return django_set_language(request)


@login_not_required
@require_GET
def healthz(request):
    """Open to monitors: 200 when ok or degraded, 503 when failing."""
    from musictracker.health import check

    report = check()
    return JsonResponse(report, status=503 if report["status"] == "failing" else 200)


@login_not_required
@require_GET
def metrics_view(request):
    """Prometheus text format, behind `Authorization: Bearer <metrics.token>` (or ?token=)."""
    import hmac

    from musictracker import metrics

    expected = config.get("metrics.token") or ""
    if not expected:
        return HttpResponse(
            "Metrics are off: set metrics.token in config/secrets.json or MUSICTRACKER_METRICS_TOKEN.\n",
            status=404,
            content_type="text/plain",
        )
    given = request.headers.get("Authorization", "").removeprefix(
        "Bearer "
    ).strip() or request.GET.get("token", "")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        return HttpResponse("Unauthorized\n", status=401, content_type="text/plain")
    return HttpResponse(metrics.render(), content_type="text/plain; version=0.0.4; charset=utf-8")


def not_found(request, exception=None):
    return render(request, "404.html", status=404)


def server_error(request):
    return HttpResponse(render(request, "500.html").content, status=500)


def raise_404(request):
    raise Http404
