"""The Cover Art Archive: front covers of albums with a MusicBrainz release-group or release id.

`/release-group/{mbid}/front` and `/release/{mbid}/front` answer 307 to the image (on
archive.org), or 404 when there is none. We ask with redirects off and keep the Location, so no
image bytes are downloaded; the URL is stored and served at the size pages need (the art tag
adds -250/-500/-1200). Paced at one request a second like MusicBrainz (the limiter).
"""

from __future__ import annotations

import re

import requests

from enrichment.images import FoundImage, Unreachable
from musictracker import config, metrics

_ARCHIVE_FILE = re.compile(r"mbid-([0-9a-f-]{36})-(\d+)\.(jpg|png|gif)$")


class CoverArtError(Exception):
    """The Cover Art Archive could not answer."""


class CoverArtUnreachable(CoverArtError, Unreachable):
    pass


class CoverArtClient:
    def __init__(self, *, base_url: str, timeout: float = 15, limiter=None, user_agent: str = ""):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.limiter = limiter
        self.session = requests.Session()
        if user_agent:
            self.session.headers["User-Agent"] = user_agent

    @classmethod
    def from_config(cls, limiter=None) -> CoverArtClient | None:
        base = config.get("coverartarchive.base_url")
        if not base:
            return None
        return cls(
            base_url=base,
            timeout=float(config.get("coverartarchive.timeout_seconds", 15)),
            limiter=limiter,
            user_agent=config.get("discogs.user_agent", ""),
        )

    def front(self, *, release_group: str = "", release: str = "") -> FoundImage | None:
        """The front cover's URL, trying the release group first; None when neither has one."""
        for kind, mbid in (("release-group", release_group), ("release", release)):
            if not mbid:
                continue
            url = self._front(kind, str(mbid))
            if url:
                return FoundImage(url=url)
        return None

    def _front(self, kind: str, mbid: str) -> str | None:
        if self.limiter:
            self.limiter.wait()
        try:
            resp = self.session.get(
                f"{self.base_url}/{kind}/{mbid}/front",
                allow_redirects=False,
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            metrics.inc("external_requests_total", service="coverartarchive", status="error")
            raise CoverArtError(
                f"Cover Art Archive unreachable: {exc.__class__.__name__}"
            ) from None
        metrics.inc("external_requests_total", service="coverartarchive", status=resp.status_code)
        if resp.status_code in (301, 302, 303, 307, 308):
            return self._canonical(resp.headers.get("Location", "")) or None
        if resp.status_code == 404:
            return None
        if resp.status_code == 200:  # served directly (no redirect): the URL itself is the image
            return resp.url
        raise CoverArtError(f"Cover Art Archive answered HTTP {resp.status_code}")

    def _canonical(self, location: str) -> str:
        """archive.org's file → the archive's own URL for it, which serves -250/-500/-1200
        thumbnails (see collection.templatetags.art.sized_url)."""
        match = _ARCHIVE_FILE.search(location)
        if match:
            mbid, image_id, ext = match.groups()
            return f"{self.base_url}/release/{mbid}/{image_id}.{ext}"
        return location
