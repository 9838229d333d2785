"""Accounts and per-user settings, API tokens, and the progress rows of long jobs."""

from __future__ import annotations

import hashlib
import os
import secrets
import socket
import time
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Profile(models.Model):
    """What one person configured: their accounts elsewhere, time zone and language."""

    class AiStyle(models.TextChoices):
        PROSE = "prose", _("A few sentences")
        HAIKU = "haiku", _("A haiku")

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    lastfm_username = models.CharField(_("Last.fm username"), max_length=64, blank=True)
    lastfm_session_key = models.CharField(max_length=64, blank=True)
    discogs_username = models.CharField(_("Discogs username"), max_length=64, blank=True)
    discogs_token = models.CharField(_("Discogs personal token"), max_length=128, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default="en"
    )
    ai_review_style = models.CharField(max_length=8, choices=AiStyle.choices, default=AiStyle.PROSE)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Settings of {self.user}"

    @property
    def tzinfo(self):
        from musictracker.timezones import zone

        return zone(self.time_zone)


_HOST = socket.gethostname()


def _this_process() -> str:
    return f"{_HOST}:{os.getpid()}"


class Job(models.Model):
    """A long piece of work (backfill, sync, import) whose progress pages poll and which resumes."""

    class Kind(models.TextChoices):
        LASTFM_BACKFILL = "lastfm_backfill", _("Last.fm history import")
        DISCOGS_SYNC = "discogs_sync", _("Discogs sync")
        IMPORT = "import", _("File import")
        ENRICHMENT = "enrichment", _("Enrichment")
        EXPORT = "export", _("Export")
        RECOMPUTE = "recompute", _("Recompute after a time zone change")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        INTERRUPTED = "interrupted", _("Interrupted")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    label = models.CharField(max_length=200, blank=True)
    unit = models.CharField(max_length=32, default="items")
    total = models.PositiveIntegerField(null=True, blank=True)
    done = models.PositiveIntegerField(default=0)
    added = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)
    # Where to resume (a page number, a cursor, a file offset) and the report of skipped rows.
    state = models.JSONField(default=dict, blank=True)
    report = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # "host:pid" of the process running the job, so a job whose worker was killed is known as
    # interrupted at once (on the same machine) instead of looking busy until a timeout.
    runner = models.CharField(max_length=120, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "kind", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.status})"

    def save(self, *args, **kwargs):
        if self.status == self.Status.RUNNING and (not self.runner or self.is_orphaned):
            self.runner = _this_process()
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "runner"}
        super().save(*args, **kwargs)

    @property
    def is_orphaned(self) -> bool:
        """Running, but the process that ran it on this machine is gone (killed, crashed)."""
        if self.status != self.Status.RUNNING or not self.runner:
            return False
        host, _, pid = self.runner.rpartition(":")
        if host != _HOST or not pid.isdigit():
            return False
        if int(pid) == os.getpid():
            return False
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False

    @property
    def is_active(self) -> bool:
        return self.status in {self.Status.QUEUED, self.Status.RUNNING}

    @property
    def percent(self) -> int | None:
        if not self.total:
            return None
        return min(100, int(self.done * 100 / self.total))

    @property
    def rate(self) -> float | None:
        """Units per second since the job started."""
        if not self.started_at or not self.done:
            return None
        end = self.finished_at or timezone.now()
        seconds = (end - self.started_at).total_seconds()
        return self.done / seconds if seconds > 0 else None

    @property
    def eta(self) -> timedelta | None:
        if not self.is_active:
            return None
        if "eta_seconds" in self.state and "eta_at" in self.state:
            # A job that knows better (the Discogs sync counts its rate-limit waits) says so.
            from datetime import datetime

            since = (timezone.now() - datetime.fromisoformat(self.state["eta_at"])).total_seconds()
            return timedelta(seconds=max(0, int(self.state["eta_seconds"] - since)))
        rate = self.rate
        if not rate or not self.total or not self.is_active:
            return None
        return timedelta(seconds=max(0, int((self.total - self.done) / rate)))


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A personal token for the API and ListenBrainz-compatible clients; only its hash is kept."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    name = models.CharField(_("name"), max_length=100)
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def issue(cls, *, user, name: str) -> tuple[ApiToken, str]:
        """Create a token; the raw value is returned once and never stored."""
        raw = secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, name=name, key_hash=_hash_token(raw), prefix=raw[:8])
        return token, raw

    def touch(self) -> None:
        """Remember when the token was last used, at most once a minute (no write per request)."""
        now = timezone.now()
        if self.last_used_at is None or now - self.last_used_at > timedelta(minutes=1):
            type(self).objects.filter(pk=self.pk).update(last_used_at=now)
            self.last_used_at = now
            cached = _token_cache.get(self.key_hash)
            if cached is not None:
                cached.token["last_used_at"] = now

    @classmethod
    def authenticate(cls, raw: str) -> ApiToken | None:
        """The valid token with this raw value (its user loaded), or None.

        A valid token is remembered by this process for TOKEN_CACHE_SECONDS, so that a client's
        every request does not look it up again. Saving or deleting any token or user (revoking
        in Settings or the admin, deactivating an account) forgets them all at once in the
        process that does it; other processes stop accepting a revoked token within
        TOKEN_CACHE_SECONDS. Unknown tokens are never remembered."""
        key_hash = _hash_token(raw or "")
        cached = _token_cache.get(key_hash)
        if cached is not None:
            if cached.expires > time.monotonic():
                return cached.build(cls)
            _token_cache.pop(key_hash, None)
        token = (
            cls.objects.select_related("user")
            .filter(key_hash=key_hash, revoked_at__isnull=True)
            .first()
        )
        if token is None or not token.user.is_active:
            return None
        if TOKEN_CACHE_SECONDS > 0:
            if len(_token_cache) >= 1000:  # only valid tokens get here; keep it bounded anyway
                _token_cache.clear()
            _token_cache[key_hash] = _CachedToken(token)
        return token


# How long a process goes on accepting a token without looking it up again (see authenticate).
TOKEN_CACHE_SECONDS = 5.0


class _CachedToken:
    """The field values of a valid token and its user; each request gets fresh instances."""

    __slots__ = ("db", "expires", "token", "user", "user_model")

    def __init__(self, token: ApiToken):
        self.expires = time.monotonic() + TOKEN_CACHE_SECONDS
        self.db = token._state.db
        self.token = {f.attname: getattr(token, f.attname) for f in token._meta.concrete_fields}
        user = token.user
        self.user_model = type(user)
        self.user = {f.attname: getattr(user, f.attname) for f in user._meta.concrete_fields}

    def build(self, cls: type[ApiToken]) -> ApiToken:
        token = cls.from_db(self.db, list(self.token), list(self.token.values()))
        token.user = self.user_model.from_db(self.db, list(self.user), list(self.user.values()))
        return token


_token_cache: dict[str, _CachedToken] = {}


def forget_cached_tokens(**kwargs) -> None:
    """Connected to saves and deletes of tokens and users (musictracker.apps)."""
    _token_cache.clear()


class Heartbeat(models.Model):
    """When a process last said it was alive (the worker, every minute)."""

    name = models.CharField(max_length=50, unique=True)
    beat_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.beat_at}"


class MetricSample(models.Model):
    """A Prometheus counter or summary shared by every process (web workers and the task worker
    each add to it; /metrics reads it). `labels` is the rendered label set, e.g. 'source="lastfm"'."""

    name = models.CharField(max_length=100)
    labels = models.CharField(max_length=300, blank=True)
    value = models.FloatField(default=0)  # counter value, or the sum of a summary
    count = models.BigIntegerField(default=0)  # observations of a summary
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["name", "labels"], name="uniq_metric")]

    def __str__(self) -> str:
        return f"{self.name}{{{self.labels}}} = {self.value}"
