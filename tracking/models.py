"""What a user heard: listens, loved tracks, now playing, tracker status, and the rollups."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from collection.models import Album, Artist, Track


class Source(models.TextChoices):
    LASTFM = "lastfm", "Last.fm"
    SPOTIFY = "spotify", _("Spotify export")
    LISTENBRAINZ = "listenbrainz", "ListenBrainz"
    IMPORT = "import", _("Import")
    API = "api", _("API / scrobbler")
    MANUAL = "manual", _("Added by hand")
    DEMO = "demo", _("Demo data")


class Listen(models.Model):
    """One play. Artist, album and the local date/hour are denormalized at write time so that
    pages and statistics never join through the catalogue nor convert time zones per row."""

    # Single-column indexes on user, artist, album and track would only duplicate the composite
    # ones below and slow every write (each index costs ~8 % of an import): the track's index
    # leads with the track, so merges, PROTECT checks and duration fixes (all users) use it too.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, db_index=False)
    track = models.ForeignKey(
        Track, on_delete=models.PROTECT, related_name="listens", db_index=False
    )
    artist = models.ForeignKey(Artist, on_delete=models.PROTECT, related_name="+", db_index=False)
    album = models.ForeignKey(
        Album, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    listened_at = models.DateTimeField(_("listened at"))  # UTC, the source's own timestamp
    local_date = models.DateField()  # in the user's time zone
    local_hour = models.PositiveSmallIntegerField()  # 0..23
    local_weekday = models.PositiveSmallIntegerField()  # 0 = Monday
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.IMPORT)
    source_id = models.CharField(max_length=100, blank=True)

    class Meta:
        constraints = [
            # No path can store one play twice; it also serves (user, listened_at) ranges.
            models.UniqueConstraint(
                fields=["user", "listened_at", "track"], name="uniq_listen_user_time_track"
            )
        ]
        indexes = [
            models.Index(fields=["user", "artist", "listened_at"], name="listen_user_artist"),
            models.Index(fields=["user", "album", "listened_at"], name="listen_user_album"),
            models.Index(fields=["track", "user", "listened_at"], name="listen_track_user"),
        ]

    def __str__(self) -> str:
        return f"{self.track_id} at {self.listened_at:%Y-%m-%d %H:%M}"


class LovedTrack(models.Model):
    """Loved belongs to the user and the track, not to each listen."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="loves")
    loved_at = models.DateTimeField()
    # True when Last.fm lists it as loved; a local-only love (no Last.fm connection) is False.
    is_on_lastfm = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "track"], name="uniq_loved_track")]

    def __str__(self) -> str:
        return f"{self.user} ♥ {self.track}"


class NowPlaying(models.Model):
    """What a user is playing right now (Last.fm's nowplaying, or a playing_now submission)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    artist_name = models.CharField(max_length=500)
    track_name = models.CharField(max_length=500)
    album_name = models.CharField(max_length=500, blank=True)
    image_url = models.URLField(max_length=1000, blank=True)
    track = models.ForeignKey(Track, null=True, blank=True, on_delete=models.SET_NULL)
    source = models.CharField(max_length=16, choices=Source.choices)
    started_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.artist_name} – {self.track_name}"


class TrackerStatus(models.Model):
    """The Last.fm tracker's state for one user, shown in Settings."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    is_paused = models.BooleanField(default=False)
    last_poll_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    last_added = models.PositiveIntegerField(default=0)
    next_poll_at = models.DateTimeField(null=True, blank=True)
    loved_synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "tracker statuses"

    def __str__(self) -> str:
        return f"Tracker of {self.user}"


# Rollups: kept current by tracking.listens.record() in the same transaction as the listens,
# rebuildable by `manage.py rebuild_rollups`, and proven equal to a fresh computation by tests.
# A period's statistics read whole months from Month* tables and the edge days from Day* tables.


class Rollup(models.Model):
    """A precomputed count; never edited by hand (rebuild with `manage.py rebuild_rollups`)."""

    # Each rollup's primary key is its natural key, starting with the user (no id column), and
    # on SQLite the table is stored WITHOUT ROWID (migration 0007): the rows live in that key's
    # B-tree, so an upsert writes one tree instead of a table plus a unique index. The artist,
    # album and track columns have no index of their own either: only merges and deletions of
    # a catalogue row look rollups up by them (a scan of a few hundred ms on a million-listen
    # install), while every import batch paid for those indexes on every row.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    listens = models.IntegerField(default=0)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{type(self).__name__} of user {self.user_id}: {self.listens}"


class DayStat(Rollup):
    pk = models.CompositePrimaryKey("user", "day")
    day = models.DateField()
    seconds = models.BigIntegerField(default=0)  # sum of known durations
    unknown_duration = models.IntegerField(default=0)  # listens whose duration is unknown


class DayHourStat(Rollup):
    pk = models.CompositePrimaryKey("user", "day", "hour")
    day = models.DateField()
    hour = models.PositiveSmallIntegerField()


class MonthWeekdayHourStat(Rollup):
    """Listens per local month × weekday (0 = Monday) × hour: the heat map of any long period
    without walking every day."""

    pk = models.CompositePrimaryKey("user", "month", "weekday", "hour")
    month = models.DateField()
    weekday = models.PositiveSmallIntegerField()
    hour = models.PositiveSmallIntegerField()


class MonthArtistStat(Rollup):
    """Listens per artist per local month (first day of the month); featured artists count."""

    pk = models.CompositePrimaryKey("user", "month", "artist")
    month = models.DateField()
    artist = models.ForeignKey(Artist, on_delete=models.CASCADE, related_name="+", db_index=False)
    seconds = models.BigIntegerField(default=0)

    class Meta:
        # Covering: a period's GROUP BY reads the index alone (3× less work than row lookups).
        # Listens before the id: a month's most played item is one seek from the end of its
        # range (the year in review reads twelve of them), and range scans cost the same.
        indexes = [
            models.Index(fields=["user", "month", "listens", "artist"], name="monthartist_top")
        ]


class MonthAlbumStat(Rollup):
    pk = models.CompositePrimaryKey("user", "month", "album")
    month = models.DateField()
    album = models.ForeignKey(Album, on_delete=models.CASCADE, related_name="+", db_index=False)

    class Meta:
        indexes = [
            models.Index(fields=["user", "month", "listens", "album"], name="monthalbum_top")
        ]


class MonthTrackStat(Rollup):
    pk = models.CompositePrimaryKey("user", "month", "track")
    month = models.DateField()
    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="+", db_index=False)

    class Meta:
        indexes = [
            models.Index(fields=["user", "month", "listens", "track"], name="monthtrack_top")
        ]


class UserArtistStat(Rollup):
    """All-time plays, first and last listen of an artist for one user."""

    pk = models.CompositePrimaryKey("user", "artist")
    artist = models.ForeignKey(Artist, on_delete=models.CASCADE, related_name="+", db_index=False)
    first_listened_at = models.DateTimeField()
    last_listened_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["user", "-listens"], name="userartiststat_top")]


class UserAlbumStat(Rollup):
    pk = models.CompositePrimaryKey("user", "album")
    album = models.ForeignKey(Album, on_delete=models.CASCADE, related_name="+", db_index=False)
    first_listened_at = models.DateTimeField()
    last_listened_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["user", "-listens"], name="useralbumstat_top")]


class UserTrackStat(Rollup):
    pk = models.CompositePrimaryKey("user", "track")
    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="+", db_index=False)
    first_listened_at = models.DateTimeField()
    last_listened_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["user", "-listens"], name="usertrackstat_top")]


class ListeningSession(models.Model):
    """A run of listens with no gap longer than 30 minutes; kept current by
    tracking.listens.record (see tracking/sessions.py) and rebuilt with the rollups."""

    user = models.ForeignKey(  # the unique (user, started_at) index serves it
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    started_at = models.DateTimeField()  # the first listen
    last_listened_at = models.DateTimeField()  # the last listen's start
    listens = models.IntegerField()
    # From the first listen to the end of the last one (its duration when known, else 0).
    seconds = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "started_at"], name="uniq_session_start")
        ]

    def __str__(self) -> str:
        return f"Session of user {self.user_id} at {self.started_at:%Y-%m-%d %H:%M}"


class MonthTransitionStat(Rollup):
    """How often one artist was followed by another within a session, per local month of the
    second listen."""

    pk = models.CompositePrimaryKey("user", "month", "from_artist", "to_artist")
    month = models.DateField()
    from_artist = models.ForeignKey(
        Artist, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    to_artist = models.ForeignKey(
        Artist, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    # No covering index: on SQLite the table itself is one (its key, then the count).


class AiReview(models.Model):
    """The AI's written portrait of one user's period, cached until asked again."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Being written")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    period_key = models.CharField(max_length=64)  # e.g. "year:2024", "custom:2024-01-01:2024-02-01"
    style = models.CharField(max_length=8)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    text = models.TextField(blank=True)
    error = models.TextField(blank=True)
    model_name = models.CharField(max_length=100, blank=True)
    generated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "period_key"], name="uniq_ai_review_period")
        ]

    def __str__(self) -> str:
        return f"AI review {self.period_key} of user {self.user_id}"


class UserTransitionStat(Rollup):
    """All-time count of artist A followed by artist B within a session."""

    pk = models.CompositePrimaryKey("user", "from_artist", "to_artist")
    from_artist = models.ForeignKey(
        Artist, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    to_artist = models.ForeignKey(
        Artist, on_delete=models.CASCADE, related_name="+", db_index=False
    )

    class Meta:
        indexes = [models.Index(fields=["user", "-listens"], name="usertransition_top")]
