"""Deezer's public search API (no key): artist pictures and album covers.

Deezer allows about 50 requests per 5 seconds; over it, it answers HTTP 200 with
`{"error": {"type": "Exception", "message": "Quota limit exceeded", "code": 4}}`. We pace calls
through the limiter (`deezer.min_interval_seconds`), and on a quota error wait
`deezer.quota_wait_seconds` and try once more before giving up with `DeezerRateLimited`.
Results are taken only when the normalized name matches.
"""

from __future__ import annotations

import time

import requests

from enrichment.images import FoundImage, Match, Unreachable, same_album, same_artist
from musictracker import config, metrics

QUOTA_CODE = 4
_SIZES = [("picture_xl", 1000), ("picture_big", 500), ("picture_medium", 250)]
_COVERS = [("cover_xl", 1000), ("cover_big", 500), ("cover_medium", 250)]


class DeezerError(Exception):
    """Deezer could not answer."""


class DeezerRateLimited(DeezerError):
    pass


class DeezerUnreachable(DeezerError, Unreachable):
    pass


class DeezerClient:
    def __init__(self, *, base_url: str, timeout: float = 15, limiter=None, quota_wait: float = 5):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.limiter = limiter
        self.quota_wait = quota_wait
        self.session = requests.Session()

    @classmethod
    def from_config(cls, limiter=None) -> DeezerClient | None:
        base = config.get("deezer.base_url")
        if not base:
            return None
        return cls(
            base_url=base,
            timeout=float(config.get("deezer.timeout_seconds", 15)),
            limiter=limiter,
            quota_wait=float(config.get("deezer.quota_wait_seconds", 5)),
        )

    def find_artist(self, name: str) -> Match | None:
        for item in self._search("artist", name):
            if same_artist(item.get("name", ""), name):
                return _match(item, item.get("name", ""), _SIZES)
        return None

    def find_album(self, title: str, artist: str) -> Match | None:
        clean_artist, clean_title = artist.replace('"', " "), title.replace('"', " ")
        query = f'artist:"{clean_artist}" album:"{clean_title}"' if artist else title
        for item in self._search("album", query):
            if not same_album(item.get("title", ""), title):
                continue
            if artist and not same_artist((item.get("artist") or {}).get("name", ""), artist):
                continue
            return _match(item, item.get("title", ""), _COVERS)
        return None

    def _search(self, kind: str, q: str) -> list[dict]:
        for attempt in range(2):
            if self.limiter:
                self.limiter.wait()
            try:
                resp = self.session.get(
                    f"{self.base_url}/search/{kind}",
                    params={"q": q, "limit": 10},
                    timeout=self.timeout,
                )
            except requests.RequestException as exc:
                metrics.inc("external_requests_total", service="deezer", status="error")
                raise DeezerUnreachable(f"Deezer unreachable: {exc.__class__.__name__}") from None
            metrics.inc("external_requests_total", service="deezer", status=resp.status_code)
            if resp.status_code != 200:
                raise DeezerError(f"Deezer answered HTTP {resp.status_code}")
            try:
                data = resp.json()
            except ValueError:
                raise DeezerError("Deezer answered something that is not JSON") from None
            error = data.get("error") if isinstance(data, dict) else None
            if error:
                if error.get("code") == QUOTA_CODE:
                    if self.limiter:
                        self.limiter.push_back(self.quota_wait)
                    if attempt == 0:
                        if not self.limiter:
                            time.sleep(self.quota_wait)
                        continue
                    raise DeezerRateLimited("Deezer quota exceeded (code 4)")
                raise DeezerError(f"Deezer error {error.get('code')}: {error.get('message')}")
            return [i for i in data.get("data") or [] if isinstance(i, dict)]
        return []


def _match(item: dict, name: str, sizes) -> Match:
    images = tuple(FoundImage(url=item[k], width=px, height=px) for k, px in sizes if item.get(k))
    return Match(id=str(item.get("id", "")), url=item.get("link", ""), name=name, images=images)
