"""Login attempts are limited per address and per account (shared cache, so all web workers
count together): after LIMIT failures in WINDOW seconds, the login form answers 429."""

from __future__ import annotations

import hashlib

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.cache import cache
from django.dispatch import receiver

LIMIT = 10
WINDOW = 15 * 60


def client_ip(request) -> str:
    # Behind a reverse proxy, REMOTE_ADDR is the proxy; X-Forwarded-For is trusted only when
    # the operator says so (MUSICTRACKER_TRUST_PROXY=1), otherwise anyone could spoof it.
    import os

    if os.environ.get("MUSICTRACKER_TRUST_PROXY") == "1":
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR", "")


def _keys(request, username: str) -> list[str]:
    user_hash = hashlib.sha256((username or "").strip().lower().encode()).hexdigest()[:32]
    return [f"login-fail:ip:{client_ip(request)}", f"login-fail:user:{user_hash}"]


def is_blocked(request, username: str) -> bool:
    return any((cache.get(k) or 0) >= LIMIT for k in _keys(request, username))


@receiver(user_login_failed)
def _failed(sender, credentials, request=None, **kwargs):
    if request is None:
        return
    for key in _keys(request, credentials.get("username", "")):
        if cache.add(key, 1, WINDOW):
            continue
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, WINDOW)


@receiver(user_logged_in)
def _succeeded(sender, request, user, **kwargs):
    if request is not None:
        cache.delete(_keys(request, user.get_username())[1])
