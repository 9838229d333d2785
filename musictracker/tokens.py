"""Settings section and views for personal API tokens (the JSON API and ListenBrainz clients)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from musictracker.models import ApiToken

SESSION_KEY = "new_api_token"


class TokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Token name"),
        max_length=100,
        help_text=gettext_lazy("Where you will use it, e.g. “Navidrome” or “my script”."),
    )


def section(request) -> dict:
    """Settings: the user's tokens, the form to create one, and a new token shown once."""
    tokens = ApiToken.objects.filter(user=request.user, revoked_at__isnull=True).order_by(
        "-created_at"
    )
    new = request.session.pop(SESSION_KEY, None)
    return {
        "template": "settings/_api_tokens.html",
        "tokens": list(tokens),
        "form": TokenForm(),
        "new_token": new,
        "root_url": request.build_absolute_uri("/"),
        "api_url": request.build_absolute_uri("/api/v1/docs"),
    }


@require_POST
def token_create(request):
    form = TokenForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the token a name (at most 100 characters)."))
        return redirect("/settings/#h-tokens")
    token, raw = ApiToken.issue(user=request.user, name=form.cleaned_data["name"])
    # Shown once, on the next page view, then gone: only the hash is stored.
    request.session[SESSION_KEY] = {"name": token.name, "value": raw}
    return redirect("/settings/#h-tokens")


@require_POST
def token_revoke(request, pk: int):
    token = get_object_or_404(ApiToken, pk=pk, user=request.user, revoked_at__isnull=True)
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
    return redirect("/settings/#h-tokens")
