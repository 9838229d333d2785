"""Playlists made from a user's history, by rule or from an AI prompt."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from collection.models import Track


class Playlist(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    name = models.CharField(_("name"), max_length=200)
    algorithm = models.CharField(_("generator"), max_length=32)
    parameters = models.JSONField(default=dict, blank=True)
    ai_prompt = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self) -> str:
        return self.name


class PlaylistTrack(models.Model):
    playlist = models.ForeignKey(Playlist, on_delete=models.CASCADE, related_name="entries")
    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["playlist", "position"]
        constraints = [
            models.UniqueConstraint(fields=["playlist", "position"], name="uniq_playlist_position"),
            models.UniqueConstraint(fields=["playlist", "track"], name="uniq_playlist_track"),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.track_id}"
