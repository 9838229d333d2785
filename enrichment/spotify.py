"""Spotify: artist pictures and album covers through spotipy's client-credentials flow.

- The token is kept in memory (one `MemoryCacheHandler` per client id and process) until it
  expires; spotipy's default `.cache` file is never written.
- spotipy's own retries are off (its adapter sleeps Retry-After up to three times, then reports a
  429 with the header lost). We give spotipy a plain `requests.Session` and own the policy: a 429
  waits its Retry-After (pushed to every worker through the limiter) when short, else raises
  `SpotifyRateLimited`; 5xx are retried twice with a pause.
- Search asks for at most 10 results: development-mode apps get a 400 above that (2026).
- A result is taken only when its normalized name matches (enrichment.images), never blindly.
"""

from __future__ import annotations

import logging
import time

import requests
import spotipy
from spotipy.cache_handler import MemoryCacheHandler
from spotipy.oauth2 import SpotifyClientCredentials, SpotifyOauthError

from enrichment.images import FoundImage, Match, Unreachable, same_album, same_artist
from musictracker import config, metrics

log = logging.getLogger(__name__)

SEARCH_LIMIT = 10  # development-mode apps get a 400 above 10
_TOKEN_CACHES: dict[str, MemoryCacheHandler] = {}


class SpotifyError(Exception):
    """Spotify could not answer (with a readable reason)."""


class SpotifyUnreachable(SpotifyError, Unreachable):
    pass


class SpotifyRateLimited(SpotifyError):
    def __init__(self, retry_after: float):
        super().__init__(f"Spotify asks to wait {int(retry_after)} s (429 Retry-After)")
        self.retry_after = retry_after


class SpotifyClient:
    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        api_url: str,
        token_url: str,
        timeout: float = 15,
        limiter=None,
        max_wait: float = 30,
        retries: int = 2,
    ):
        session = requests.Session()
        cache = _TOKEN_CACHES.setdefault(client_id, MemoryCacheHandler())
        auth = SpotifyClientCredentials(
            client_id=client_id,
            client_secret=client_secret,
            requests_session=session,
            requests_timeout=timeout,
            cache_handler=cache,
        )
        auth.OAUTH_TOKEN_URL = token_url
        self.sp = spotipy.Spotify(
            auth_manager=auth,
            requests_session=session,
            requests_timeout=timeout,
            retries=0,
            status_retries=0,
        )
        self.sp.prefix = api_url if api_url.endswith("/") else api_url + "/"
        self.limiter = limiter
        self.max_wait = max_wait
        self.retries = retries

    @classmethod
    def from_config(cls, limiter=None) -> SpotifyClient | None:
        """A client, or None when the client id or secret is not configured."""
        if config.missing("spotify.client_id", "spotify.client_secret"):
            return None
        return cls(
            client_id=config.get("spotify.client_id"),
            client_secret=config.get("spotify.client_secret"),
            api_url=config.get("spotify.api_url", "https://api.spotify.com/v1/"),
            token_url=config.get("spotify.token_url", "https://accounts.spotify.com/api/token"),
            timeout=float(config.get("spotify.timeout_seconds", 15)),
            limiter=limiter,
            max_wait=float(config.get("spotify.max_retry_wait_seconds", 30)),
        )

    def find_artist(self, name: str) -> Match | None:
        data = self._search(f'artist:"{_quote(name)}"', "artist")
        for item in (data.get("artists") or {}).get("items") or []:
            if item and same_artist(item.get("name", ""), name):
                return _match(item)
        return None

    def find_album(self, title: str, artist: str) -> Match | None:
        query = f'album:"{_quote(title)}"' + (f' artist:"{_quote(artist)}"' if artist else "")
        data = self._search(query, "album")
        for item in (data.get("albums") or {}).get("items") or []:
            if not item or not same_album(item.get("name", ""), title):
                continue
            names = [a.get("name", "") for a in item.get("artists") or []]
            if not artist or any(same_artist(n, artist) for n in names):
                return _match(item)
        return None

    def _search(self, q: str, kind: str) -> dict:
        attempt = 0
        while True:
            if self.limiter:
                self.limiter.wait()
            try:
                data = self.sp.search(q=q, type=kind, limit=SEARCH_LIMIT) or {}
                metrics.inc("external_requests_total", service="spotify", status=200)
                return data
            except spotipy.SpotifyException as exc:
                metrics.inc("external_requests_total", service="spotify", status=exc.http_status)
                attempt += 1
                if exc.http_status == 429:
                    wait = _retry_after(exc.headers)
                    if self.limiter:
                        self.limiter.push_back(wait)
                    if wait > self.max_wait or attempt > self.retries:
                        raise SpotifyRateLimited(wait) from None
                    log.info("Spotify 429: waiting %s s", wait)
                    if not self.limiter:
                        time.sleep(wait)
                    continue
                if exc.http_status >= 500 and attempt <= self.retries:
                    time.sleep(attempt)
                    continue
                if exc.http_status == 401:
                    raise SpotifyError(
                        "Spotify refused the token: check spotify.client_id and client_secret"
                    ) from None
                raise SpotifyError(f"Spotify answered {exc.http_status}: {exc.msg}") from None
            except SpotifyOauthError as exc:
                raise SpotifyError(
                    f"Spotify refused the credentials ({exc.error}): check spotify.client_id "
                    "and spotify.client_secret"
                ) from None
            except requests.RequestException as exc:
                metrics.inc("external_requests_total", service="spotify", status="error")
                if attempt < self.retries:
                    attempt += 1
                    time.sleep(attempt)
                    continue
                raise SpotifyUnreachable(f"Spotify unreachable: {exc.__class__.__name__}") from None


def _quote(text: str) -> str:
    """Inside a field filter's quotes, a quote would end the filter."""
    return text.replace('"', " ").strip()


def _retry_after(headers) -> float:
    try:
        return max(1.0, float((headers or {}).get("Retry-After", 1)))
    except (TypeError, ValueError):
        return 5.0


def _match(item: dict) -> Match:
    images = tuple(
        FoundImage(url=i["url"], width=i.get("width"), height=i.get("height"))
        for i in item.get("images") or []
        if i.get("url")
    )
    return Match(
        id=item.get("id", ""),
        url=(item.get("external_urls") or {}).get("spotify", ""),
        name=item.get("name", ""),
        images=images,
    )
