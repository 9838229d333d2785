"""Enrichment keeps its images and album notes in the catalogue (collection.Image and
collection.AlbumMetadata), since the Discogs sync writes them too. Its own tables remember what
was tried (so a miss is not retried on every poll), count the AI's use, and pace each service."""

from __future__ import annotations

from django.db import models
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from collection.models import Album, Artist


class EnrichmentState(models.Model):
    """The last attempt of one service for one artist or album."""

    class Service(models.TextChoices):
        SPOTIFY = "spotify", "Spotify"
        DEEZER = "deezer", "Deezer"
        COVERARTARCHIVE = "coverartarchive", "Cover Art Archive"
        AI = "ai", _("AI notes")

    class Outcome(models.TextChoices):
        FOUND = "found", _("Found")
        MISS = "miss", _("Nothing matching")
        ERROR = "error", _("Error")

    artist = models.ForeignKey(
        Artist, null=True, blank=True, on_delete=models.CASCADE, related_name="enrichment_states"
    )
    album = models.ForeignKey(
        Album, null=True, blank=True, on_delete=models.CASCADE, related_name="enrichment_states"
    )
    service = models.CharField(max_length=16, choices=Service.choices)
    outcome = models.CharField(max_length=8, choices=Outcome.choices)
    reason = models.TextField(blank=True)
    tried_at = models.DateTimeField()
    retry_after = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["artist", "service"], name="uniq_artist_enrichment"),
            models.UniqueConstraint(fields=["album", "service"], name="uniq_album_enrichment"),
            models.CheckConstraint(
                condition=models.Q(artist__isnull=False) | models.Q(album__isnull=False),
                name="enrichment_state_has_subject",
            ),
        ]
        indexes = [models.Index(fields=["outcome", "-tried_at"])]

    def __str__(self) -> str:
        return f"{self.service} {self.outcome} for {self.artist or self.album}"


class AiUsage(models.Model):
    """Counters of the AI service: requests sent, failures, and cache hits (notes asked for but
    already there, so no request was made)."""

    REQUESTS = "requests"
    FAILURES = "failures"
    CACHE_HITS = "cache_hits"

    name = models.CharField(max_length=32, unique=True)
    count = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name_plural = "AI usage"

    def __str__(self) -> str:
        return f"{self.name}: {self.count}"

    @classmethod
    def bump(cls, name: str, by: int = 1) -> None:
        if not cls.objects.filter(name=name).update(count=F("count") + by):
            obj, created = cls.objects.get_or_create(name=name, defaults={"count": by})
            if not created:
                cls.objects.filter(name=name).update(count=F("count") + by)

    @classmethod
    def counts(cls) -> dict[str, int]:
        out = {cls.REQUESTS: 0, cls.FAILURES: 0, cls.CACHE_HITS: 0}
        out.update(dict(cls.objects.values_list("name", "count")))
        return out


class Throttle(models.Model):
    """When a service may next be called, shared by every worker process (see throttle.py)."""

    service = models.CharField(max_length=32, unique=True)
    next_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.service} free at {self.next_at}"
