"""The one NinjaAPI object, mounted at /api/v1/. Auth: the browser session or a personal token
(`Authorization: Token …`)."""

from __future__ import annotations

from django.utils import timezone
from ninja import NinjaAPI
from ninja.security import APIKeyHeader, django_auth

from musictracker.models import ApiToken


class TokenAuth(APIKeyHeader):
    """`Authorization: Token <key>`; the key's hash is looked up, never the key itself."""

    param_name = "Authorization"

    def authenticate(self, request, key):
        if not key:
            return None
        scheme, _, raw = key.partition(" ")
        if scheme.lower() not in {"token", "bearer"} or not raw.strip():
            return None
        token = ApiToken.authenticate(raw.strip())
        if token is None:
            return None
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
        request.user = token.user
        return token.user


api = NinjaAPI(
    title="Music Tracker API",
    version="1",
    urls_namespace="api",
    auth=[django_auth, TokenAuth()],
    docs_url="/docs",
)


@api.get("/me", tags=["account"], summary="The signed-in user")
def me(request):
    return {"id": request.auth.pk, "username": request.auth.username}
