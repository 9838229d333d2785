"""The shared catalogue (artists, albums, tracks, images, album notes) and what users own."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from collection.normalize import album_title_key, name_key, search_key


class Artist(models.Model):
    name = models.CharField(_("name"), max_length=300)
    # Identity for matching: case-, width- and whitespace-insensitive (see normalize.name_key).
    name_key = models.CharField(max_length=300, unique=True)
    # Accent-folded, for search ("bjork" finds Björk).
    search_key = models.CharField(max_length=300, db_index=True)
    mbid = models.UUIDField("MusicBrainz id", null=True, blank=True, unique=True)
    spotify_id = models.CharField(max_length=64, blank=True)
    lastfm_url = models.URLField(max_length=500, blank=True)
    discogs_id = models.PositiveBigIntegerField(null=True, blank=True, db_index=True)
    # The best image, chosen by enrichment, kept here so lists show it without a join per row.
    image_url = models.URLField(max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name_key"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.name_key = name_key(self.name)
        self.search_key = search_key(self.name)
        super().save(*args, **kwargs)


class ArtistAlias(models.Model):
    """Another spelling that resolves to an artist ("Beyonce" → Beyoncé)."""

    artist = models.ForeignKey(Artist, on_delete=models.CASCADE, related_name="aliases")
    name = models.CharField(max_length=300)
    name_key = models.CharField(max_length=300, unique=True)

    class Meta:
        verbose_name_plural = "artist aliases"

    def __str__(self) -> str:
        return f"{self.name} → {self.artist}"

    def save(self, *args, **kwargs):
        self.name_key = name_key(self.name)
        super().save(*args, **kwargs)


class Album(models.Model):
    """The work, whatever copies of it exist (an LP and a CD of it are one Album)."""

    title = models.CharField(_("title"), max_length=500)
    # "<first artist id>:<title key>": edition suffixes such as "(Remastered 2011)" do not split it.
    match_key = models.CharField(max_length=600, unique=True)
    search_key = models.CharField(max_length=500, db_index=True)
    artist_credit = models.CharField(_("artist as credited"), max_length=500, blank=True)
    artists = models.ManyToManyField(Artist, through="AlbumArtist", related_name="albums")
    year = models.PositiveSmallIntegerField(_("year"), null=True, blank=True)
    discogs_master_id = models.PositiveBigIntegerField(null=True, blank=True, db_index=True)
    discogs_release_id = models.PositiveBigIntegerField(null=True, blank=True, db_index=True)
    mbid = models.UUIDField("MusicBrainz release group", null=True, blank=True, db_index=True)
    mb_release_id = models.UUIDField("MusicBrainz release", null=True, blank=True)
    spotify_id = models.CharField(max_length=64, blank=True)
    spotify_url = models.URLField(max_length=500, blank=True)
    lastfm_url = models.URLField(max_length=500, blank=True)
    cover_url = models.URLField(max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["search_key"]

    def __str__(self) -> str:
        return f"{self.artist_credit} – {self.title}" if self.artist_credit else self.title

    def save(self, *args, **kwargs):
        self.search_key = search_key(self.title)
        super().save(*args, **kwargs)

    @staticmethod
    def key_for(artist_id: int, title: str) -> str:
        return f"{artist_id}:{album_title_key(title)}"


class AlbumArtist(models.Model):
    album = models.ForeignKey(Album, on_delete=models.CASCADE, related_name="credits")
    artist = models.ForeignKey(Artist, on_delete=models.CASCADE, related_name="album_credits")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["album", "position"]
        constraints = [
            models.UniqueConstraint(fields=["album", "artist"], name="uniq_album_artist"),
        ]

    def __str__(self) -> str:
        return f"{self.artist} on {self.album}"


class Track(models.Model):
    title = models.CharField(_("title"), max_length=500)
    # "<main artist id>:<album id or 0>:<title key>"
    match_key = models.CharField(max_length=700, unique=True)
    search_key = models.CharField(max_length=500, db_index=True)
    artist_credit = models.CharField(_("artist as credited"), max_length=500)
    album = models.ForeignKey(
        Album, null=True, blank=True, on_delete=models.SET_NULL, related_name="tracks"
    )
    # The first main artist, denormalized so listens and lists need no join through credits.
    artist = models.ForeignKey(Artist, on_delete=models.PROTECT, related_name="main_tracks")
    artists = models.ManyToManyField(Artist, through="TrackArtist", related_name="tracks")
    position = models.CharField(_("position"), max_length=16, blank=True)  # "A1", "2-05"
    track_number = models.PositiveSmallIntegerField(null=True, blank=True)
    disc_number = models.PositiveSmallIntegerField(null=True, blank=True)
    duration = models.PositiveIntegerField(_("duration (s)"), null=True, blank=True)
    mbid = models.UUIDField("MusicBrainz recording", null=True, blank=True, db_index=True)
    spotify_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["album_id", "disc_number", "track_number", "title"]
        indexes = [models.Index(fields=["album", "disc_number", "track_number"])]

    def __str__(self) -> str:
        return f"{self.artist_credit} – {self.title}"

    def save(self, *args, **kwargs):
        self.search_key = search_key(self.title)
        super().save(*args, **kwargs)

    @staticmethod
    def key_for(artist_id: int, album_id: int | None, title: str) -> str:
        from collection.normalize import track_title_key

        return f"{artist_id}:{album_id or 0}:{track_title_key(title)}"


class TrackArtist(models.Model):
    class Role(models.TextChoices):
        MAIN = "main", _("Main")
        FEATURED = "featured", _("Featured")

    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="credits")
    artist = models.ForeignKey(Artist, on_delete=models.CASCADE, related_name="track_credits")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MAIN)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["track", "position"]
        constraints = [
            models.UniqueConstraint(fields=["track", "artist"], name="uniq_track_artist"),
        ]
        indexes = [models.Index(fields=["artist", "track"])]

    def __str__(self) -> str:
        return f"{self.artist} ({self.role}) on {self.track}"


class Image(models.Model):
    class Kind(models.TextChoices):
        ARTIST = "artist", _("Artist")
        ALBUM = "album", _("Album")

    class Source(models.TextChoices):
        SPOTIFY = "spotify", "Spotify"
        DEEZER = "deezer", "Deezer"
        COVERARTARCHIVE = "coverartarchive", "Cover Art Archive"
        DISCOGS = "discogs", "Discogs"
        LASTFM = "lastfm", "Last.fm"
        USER = "user", _("Chosen by a user")

    kind = models.CharField(max_length=8, choices=Kind.choices)
    artist = models.ForeignKey(
        Artist, null=True, blank=True, on_delete=models.CASCADE, related_name="images"
    )
    album = models.ForeignKey(
        Album, null=True, blank=True, on_delete=models.CASCADE, related_name="images"
    )
    url = models.URLField(max_length=1000)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices)
    is_chosen = models.BooleanField(default=False, help_text=_("Picked by a user over the rest."))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["artist", "url"], name="uniq_artist_image_url"),
            models.UniqueConstraint(fields=["album", "url"], name="uniq_album_image_url"),
            models.CheckConstraint(
                condition=models.Q(artist__isnull=False) | models.Q(album__isnull=False),
                name="image_has_subject",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} image from {self.source}"


class AlbumMetadata(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    album = models.OneToOneField(Album, on_delete=models.CASCADE, related_name="metadata")
    description = models.TextField(_("description"), blank=True)
    summary = models.CharField(_("summary"), max_length=500, blank=True)
    language = models.CharField(max_length=8, blank=True)
    labels = models.JSONField(default=list, blank=True)
    catalogue_numbers = models.JSONField(default=list, blank=True)
    genres = models.JSONField(default=list, blank=True)
    styles = models.JSONField(default=list, blank=True)
    film_title = models.CharField(max_length=300, blank=True)
    film_year = models.PositiveSmallIntegerField(null=True, blank=True)
    film_director = models.CharField(max_length=300, blank=True)
    ai_status = models.CharField(max_length=8, choices=Status.choices, blank=True)
    ai_error = models.TextField(blank=True)
    generated_at = models.DateTimeField(null=True, blank=True)
    model_name = models.CharField(max_length=100, blank=True)

    class Meta:
        verbose_name_plural = "album metadata"

    def __str__(self) -> str:
        return f"Metadata of {self.album}"


class CollectionItem(models.Model):
    """One copy a user owns; the LP and the CD of one album are two items of one Album."""

    class Support(models.TextChoices):
        VINYL = "vinyl", _("Vinyl")
        CD = "cd", "CD"
        CASSETTE = "cassette", _("Cassette")
        DIGITAL = "digital", _("Digital")
        BOX_SET = "box_set", _("Box set")
        OTHER = "other", _("Other")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    album = models.ForeignKey(Album, on_delete=models.PROTECT, related_name="copies")
    discogs_release_id = models.PositiveBigIntegerField(null=True, blank=True)
    discogs_instance_id = models.PositiveBigIntegerField(null=True, blank=True)
    support = models.CharField(max_length=16, choices=Support.choices, default=Support.OTHER)
    format_details = models.CharField(max_length=300, blank=True)  # "LP, Album, Reissue, 180g"
    label = models.CharField(max_length=300, blank=True)
    catalogue_number = models.CharField(max_length=100, blank=True)
    folder = models.CharField(max_length=200, blank=True)
    added_at = models.DateTimeField(null=True, blank=True)
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    notes = models.TextField(blank=True)
    is_detailed = models.BooleanField(default=False)  # release details fetched from Discogs
    synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "discogs_instance_id"], name="uniq_user_discogs_instance"
            ),
        ]
        indexes = [
            models.Index(fields=["user", "album"]),
            models.Index(fields=["user", "added_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.album} ({self.get_support_display()})"
