"""The one NinjaAPI object, mounted at /api/v1/. Auth: the browser session or a personal token
(`Authorization: Token …`). Errors are JSON: 401 without a valid token or session, 404 for an
unknown id, 422 (naming the field) for bad input, 503 when the database is busy — never 500."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, DataError, IntegrityError
from ninja import NinjaAPI
from ninja.parser import Parser
from ninja.security import APIKeyHeader, django_auth

from musictracker.apijson import JSONRenderer
from musictracker.models import ApiToken

log = logging.getLogger(__name__)


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
        token.touch()
        request.user = token.user
        return token.user


def _no_nul(value):
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, dict):
        return {_no_nul(k): _no_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_no_nul(v) for v in value]
    return value


class _Parser(Parser):
    """ninja's parsing of JSON bodies and query strings, without NUL characters: no name or
    word means one, and PostgreSQL refuses them in text and JSON columns and in queries (a
    search for "a%00" answered 400 there, found by schemathesis)."""

    def parse_body(self, request):
        return _no_nul(super().parse_body(request))

    def parse_querydict(self, data, list_fields, request):
        return _no_nul(super().parse_querydict(data, list_fields, request))


api = NinjaAPI(
    parser=_Parser(),
    title="Music Tracker API",
    version="1",
    description=(
        "Your listening history, collection and playlists. Authenticate with your browser"
        " session or a personal token from Settings: `Authorization: Token <token>`."
        " Lists are paginated with `next_cursor`."
    ),
    urls_namespace="api",
    # Token first: a valid token wins even when a stale session cookie comes along (its CSRF
    # check would otherwise refuse the POST).
    auth=[TokenAuth(), django_auth],
    docs_url="/docs",
    renderer=JSONRenderer(),
)


@api.exception_handler(DatabaseError)
def database_error(request, exc):
    # IntegrityError/DataError come from input the validation let through: the client's fault.
    if isinstance(exc, IntegrityError | DataError):
        log.warning("API %s %s: %s", request.method, request.path, exc)
        return api.create_response(request, {"detail": f"invalid data: {exc}"}, status=400)
    log.exception("API %s %s: database error", request.method, request.path)
    return api.create_response(
        request, {"detail": "The database is busy; please retry."}, status=503
    )


@api.exception_handler(DjangoValidationError)
def validation_error(request, exc):
    return api.create_response(request, {"detail": "; ".join(exc.messages)}, status=400)


@api.get("/me", tags=["account"], summary="The signed-in user")
def me(request):
    return {"id": request.auth.pk, "username": request.auth.username}


def _register() -> None:
    from collection.api import router as collection_router
    from collection.api import search_router
    from playlists.api import router as playlists_router
    from tracking.api import analytics as analytics_router
    from tracking.api import history as history_router
    from tracking.api import router as tracking_router

    api.add_router("/", tracking_router)
    api.add_router("/history", history_router)
    api.add_router("/collection", collection_router)
    api.add_router("/", search_router)
    api.add_router("/", analytics_router)
    api.add_router("/playlists", playlists_router)


_register()
