"""One play as any source gives it: plain data, free of Django, so the importer's parser process
(`tracking.formats`) can build it without the settings or the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(slots=True)
class ListenRecord:
    """One play, as any source gives it, before it is matched to the catalogue."""

    artist: str
    track: str
    listened_at: datetime  # aware, UTC
    album: str = ""
    album_artist: str = ""
    duration: int | None = None  # seconds
    artist_mbid: str | None = None
    album_mbid: str | None = None  # MusicBrainz release (Last.fm gives release ids)
    track_mbid: str | None = None
    track_number: int | None = None
    source: str = "import"
    source_id: str = ""
    album_image_url: str = ""

    def __post_init__(self) -> None:
        # A NUL character means nothing in a name, and PostgreSQL refuses it in any text column:
        # one such row in an export or a submission failed its whole batch there. One test on
        # the names joined first: a record is built twice per imported play (in the parser
        # process, then in the importer), in 400 ns instead of 660 with a loop over the fields.
        if "\x00" in f"{self.artist}{self.track}{self.album}{self.album_artist}{self.source_id}":
            for name in ("artist", "track", "album", "album_artist", "source_id"):
                value = getattr(self, name)
                if value and "\x00" in value:
                    setattr(self, name, value.replace("\x00", ""))
