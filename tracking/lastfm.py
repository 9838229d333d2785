"""The Last.fm client: every call to Last.fm goes through here, and through pylast.

- Host from `lastfm.base_url`, keys from `lastfm.api_key` / `lastfm.api_secret`. pylast always
  POSTs to `https://<host>/2.0/`; we hand its httpx client a mounted transport that keeps
  connections alive between calls and, when the configured base URL is plain `http://` (the
  tests' fake on 127.0.0.1), rewrites the scheme, host and port of each request.
- We use pylast's request layer (`pylast._Request`: parameters, signing, transport) with our own
  parameters, because `User.get_recent_tracks` asks for `limit + 1`, drops the now-playing track
  and throws away MusicBrainz ids, images and the loved flag. pylast's own retries live in
  `_collect_nodes` (three tries, one second apart), which we never call: the retries below are
  the only ones.
- One exception type, `LastfmError`; errors 8, 11, 16, 29, HTTP 5xx, timeouts and answers that
  are not Last.fm's XML (an HTML page, an empty or cut body) are retried with exponential
  backoff, 6, 10, 17, 26 stop at once (`fatal=True`). Its message names what happened
  ("no answer within 20 s (timeout)", "invalid response", "HTTP 502", "Rate Limit Exceeded"). Note pylast's
  `WSError.status` is a str for API errors ("29") and an int for HTTP errors (503).
- Requests are spaced to stay within `lastfm.requests_per_second` (0 = no limit).
- The conversion from Last.fm's XML to `ListenRecord` lives here, shared by the poll and the
  backfill: names as Last.fm spells them, the scrobble's own UTC timestamp, MusicBrainz ids.
"""

from __future__ import annotations

import logging
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit

import httpx2 as httpx
import pylast

from collection.catalogue import ListenRecord
from musictracker import config, metrics

log = logging.getLogger(__name__)
# httpx logs every request at INFO: 500 lines per backfill in the worker's log. Our own warnings
# say when a call fails or is retried.
logging.getLogger("httpx2").setLevel(logging.WARNING)

PAGE_SIZE = 200
RETRYABLE = {"8", "11", "16", "29", "500", "502", "503", "504"}
FATAL = {
    "6": "Last.fm does not know this user (error 6). Check the Last.fm username in Settings.",
    "10": "Last.fm rejected the API key (error 10). Check lastfm.api_key.",
    "17": "This Last.fm profile is private (error 17): Last.fm does not share its scrobbles.",
    "26": "Last.fm suspended this API key (error 26). Create a new key at last.fm/api.",
}
PLACEHOLDER_IMAGE = "2a96cbd8b46e442fc41c2b86b821562f"  # Last.fm's grey star, not a picture


class LastfmError(Exception):
    """Any failure talking to Last.fm. `code` is Last.fm's error code or the HTTP status."""

    def __init__(self, message: str, *, code: str = "", fatal: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.fatal = fatal


@dataclass(frozen=True, slots=True)
class NowPlayingItem:
    artist: str
    track: str
    album: str
    image_url: str


@dataclass(slots=True)
class RecentPage:
    records: list[ListenRecord]
    now_playing: NowPlayingItem | None
    page: int
    total_pages: int
    total: int
    loved: list[tuple[str, str]] = field(default_factory=list)  # (artist, track) marked loved


@dataclass(frozen=True, slots=True)
class LovedItem:
    artist: str
    track: str
    loved_at: datetime
    artist_mbid: str = ""
    track_mbid: str = ""


@dataclass(slots=True)
class LovedPage:
    items: list[LovedItem]
    page: int
    total_pages: int
    total: int


# ---- transport ---------------------------------------------------------------------------------


class _Transport(httpx.BaseTransport):
    """Keeps one connection pool for every pylast call; rewrites https://host to base_url."""

    def __init__(self, base_url: str, timeout: float) -> None:
        parts = urlsplit(base_url)
        self.scheme = parts.scheme or "https"
        self.host = parts.hostname or "ws.audioscrobbler.com"
        self.port = parts.port
        self.inner = httpx.HTTPTransport(verify=pylast.SSL_CONTEXT, retries=0)
        self.timeout = timeout

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.scheme != "https" or self.port:
            request.url = request.url.copy_with(scheme=self.scheme, host=self.host, port=self.port)
        # pylast fixes its own timeouts (5 s connect, 20 s read); ours come from the settings.
        request.extensions["timeout"] = httpx.Timeout(self.timeout).as_dict()
        response = self.inner.handle_request(request)
        if response.status_code in _PYLAST_5XX:
            return _with_error_document(request, response)
        return response

    def close(self) -> None:  # pylast closes its client after each call: keep the pool
        pass


# pylast raises "HTTP code 503" for these statuses without reading the body; but Last.fm sends
# errors 8, 11 and 16 (operation failed, service offline, temporary error) with them, and its
# error document says which. Such an answer is handed on as 200 so that the document is read.
_PYLAST_5XX = (500, 502, 503, 504)


def _with_error_document(request: httpx.Request, response: httpx.Response) -> httpx.Response:
    body = response.read()
    head = body[:512].lstrip()
    if b"<lfm" not in head or b'status="failed"' not in head:
        return response  # a proxy's page, an empty body: the HTTP status is all there is
    headers = {"content-type": response.headers.get("content-type", "text/xml")}  # body decoded
    return httpx.Response(200, headers=headers, content=body, request=request)


class _Limiter:
    """At most `rate` calls a second, across threads of this process."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.next_at = 0.0

    def wait(self, rate: float) -> None:
        if not rate or rate <= 0:
            return
        with self.lock:
            now = time.monotonic()
            at = max(now, self.next_at)
            self.next_at = at + 1.0 / rate
        if at > now:
            time.sleep(at - now)


_limiter = _Limiter()
_transports: dict[tuple[str, float], _Transport] = {}
_transports_lock = threading.Lock()


def _transport(base_url: str, timeout: float) -> _Transport:
    with _transports_lock:
        key = (base_url, timeout)
        if key not in _transports:
            _transports[key] = _Transport(base_url, timeout)
        return _transports[key]


class _Request(pylast._Request):
    """pylast's request, checked and parsed once with ElementTree.

    pylast's own check parses the whole page with minidom and pretty-prints it for a debug log
    on every call, then `execute` parses it again: about three times the work of the rest of a
    200-track page. We keep its parameters, signing and transport, and parse once."""

    root: ET.Element

    def _check_response_for_errors(self, response):
        try:
            root = ET.fromstring(response.encode("utf-8"))
        except ET.ParseError as exc:
            raise pylast.MalformedResponseError(self.network, exc) from exc
        if root.tag != "lfm" or (root.get("status") != "ok" and root.find("error") is None):
            # well-formed, but not Last.fm's answer (an XHTML page, another service's XML)
            raise pylast.MalformedResponseError(
                self.network, ValueError(f"a <{root.tag}> document, not <lfm>")
            )
        if root.get("status") != "ok":
            err = root.find("error")
            code = err.get("code", "") if err is not None else ""
            text = (err.text or "").strip() if err is not None else ""
            raise pylast.WSError(self.network, code, text)
        self.root = root

    def fetch(self) -> ET.Element:
        self._download_response()
        return self.root


# ---- client ------------------------------------------------------------------------------------


class Client:
    """A Last.fm API client for one configuration (and optionally one user's session key)."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        api_secret: str | None = None,
        base_url: str | None = None,
        session_key: str = "",
        requests_per_second: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.api_key = api_key if api_key is not None else config.get("lastfm.api_key", "")
        self.api_secret = (
            api_secret if api_secret is not None else config.get("lastfm.api_secret", "")
        )
        if not self.api_key:
            raise LastfmError(
                "Last.fm is not configured: set lastfm.api_key (and lastfm.api_secret).",
                code="config",
                fatal=True,
            )
        base_url = base_url or config.get("lastfm.base_url") or "https://ws.audioscrobbler.com/2.0/"
        parts = urlsplit(base_url)
        timeout = self.timeout = float(config.get("lastfm.timeout_seconds", 20) or 20)
        self.rate = float(
            config.get("lastfm.requests_per_second", 5)
            if requests_per_second is None
            else requests_per_second
        )
        self.max_retries = int(config.get("lastfm.max_retries", 5) or 0)
        self.backoff = float(config.get("lastfm.retry_base_seconds", 1.0) or 0)
        self.sleep = sleep
        self.network = pylast.LastFMNetwork(
            api_key=self.api_key, api_secret=self.api_secret, session_key=session_key
        )
        self.network.ws_server = (parts.hostname or "ws.audioscrobbler.com", parts.path or "/2.0/")
        self.network.proxy = {"https://": _transport(base_url, timeout)}

    # -- the one road to Last.fm: rate limit, retries, one exception type --
    def call(self, run: Callable[[], object], what: str):
        attempt = 0
        while True:
            _limiter.wait(self.rate)
            try:
                answer = run()
                metrics.inc("external_requests_total", service="lastfm", status="ok")
                return answer
            except pylast.WSError as exc:
                code = str(exc.status)  # str for API errors, int for HTTP 5xx
                metrics.inc("external_requests_total", service="lastfm", status=code)
                message = str(exc.details or exc)
                if code in FATAL:
                    raise LastfmError(FATAL[code], code=code, fatal=True) from None
                if isinstance(exc.status, int):  # pylast's HTTP 5xx
                    message = f"HTTP {code} from Last.fm ({message})"
                else:
                    message = f"{message} (error {code})"
                retry = code in RETRYABLE
            except pylast.NetworkError as exc:
                if isinstance(exc.underlying_error, httpx.TimeoutException):
                    code = "timeout"
                    message = f"no answer within {self.timeout:g} s (timeout)"
                else:
                    code = "network"
                    message = f"could not reach Last.fm ({exc.underlying_error!s:.200})"
                retry = True
                metrics.inc("external_requests_total", service="lastfm", status=code)
            except pylast.MalformedResponseError as exc:
                # An HTML page, an empty or truncated body: a proxy or Last.fm having trouble.
                code, retry = "invalid", True
                message = f"invalid response, not Last.fm's XML ({exc.underlying_error!s:.200})"
                metrics.inc("external_requests_total", service="lastfm", status=code)
            except pylast.PyLastError as exc:
                code, message, retry = "", str(exc) or type(exc).__name__, False
            if not retry or attempt >= self.max_retries:
                tries = f" after {attempt + 1} tries" if attempt else ""
                raise LastfmError(f"Last.fm {what} failed{tries}: {message}", code=code)
            delay = self.backoff * (2**attempt)
            log.warning("Last.fm %s: error %s (%s), retrying in %.1f s", what, code, message, delay)
            self.sleep(delay)
            attempt += 1

    def _fetch(self, method: str, params: dict) -> ET.Element:
        return self.call(lambda: _Request(self.network, method, params).fetch(), method)

    def recent_tracks(
        self,
        username: str,
        *,
        page: int = 1,
        time_from: int | None = None,
        time_to: int | None = None,
        limit: int = PAGE_SIZE,
    ) -> RecentPage:
        """One page of user.getRecentTracks (newest first), with now-playing kept apart."""
        params = {"user": username, "limit": limit, "page": page, "extended": 1}
        if time_from is not None:
            params["from"] = int(time_from)
        if time_to is not None:
            params["to"] = int(time_to)
        root = self._fetch("user.getRecentTracks", params)
        return parse_recent(root)

    def loved_tracks(self, username: str, *, page: int = 1, limit: int = PAGE_SIZE) -> LovedPage:
        root = self._fetch("user.getLovedTracks", {"user": username, "limit": limit, "page": page})
        return parse_loved(root)

    def set_love(self, *, artist: str, track: str, loved: bool) -> None:
        """track.love / track.unlove with this client's session key."""
        method = "track.love" if loved else "track.unlove"
        track_obj = pylast.Track(artist, track, self.network)
        self.call(track_obj.love if loved else track_obj.unlove, method)

    def session_for_token(self, token: str) -> tuple[str, str]:
        """Exchange an authorized web-auth token for (session key, username)."""
        generator = pylast.SessionKeyGenerator(self.network)
        return self.call(
            lambda: generator.get_web_auth_session_key_username(None, token), "auth.getSession"
        )


def auth_url(callback: str) -> str:
    """Where to send the user to authorize us; Last.fm comes back to `callback` with a token."""
    base = config.get("lastfm.auth_url") or "https://www.last.fm/api/auth/"
    return f"{base}?{urlencode({'api_key': config.get('lastfm.api_key', ''), 'cb': callback})}"


# ---- conversion: Last.fm XML → ListenRecord ------------------------------------------------------


def _text(node: ET.Element | None) -> str:
    return (node.text or "").strip() if node is not None else ""


def _image(track: ET.Element) -> str:
    best = ""
    for img in track.findall("image"):
        url = (img.text or "").strip()
        if url and PLACEHOLDER_IMAGE not in url:
            best = url  # sizes come small → extralarge: keep the largest
    return best


def _artist(track: ET.Element) -> tuple[str, str]:
    node = track.find("artist")
    if node is None:
        return "", ""
    name = node.find("name")
    if name is not None:  # extended=1: <artist><name>…</name><mbid>…</mbid></artist>
        return _text(name), _text(node.find("mbid"))
    return (node.text or "").strip(), node.get("mbid", "")


def parse_recent(root: ET.Element) -> RecentPage:
    box = root.find("recenttracks")
    if box is None:
        raise LastfmError("Last.fm answered without <recenttracks>", code="format")
    records: list[ListenRecord] = []
    now: NowPlayingItem | None = None
    loved: list[tuple[str, str]] = []
    for t in box.iter("track"):
        artist, artist_mbid = _artist(t)
        title = _text(t.find("name"))
        album_node = t.find("album")
        album = _text(album_node)
        if t.get("nowplaying") == "true":
            now = NowPlayingItem(artist=artist, track=title, album=album, image_url=_image(t))
            continue
        date = t.find("date")
        if date is None or not date.get("uts"):
            continue  # no timestamp: not a listen
        if _text(t.find("loved")) == "1":
            loved.append((artist, title))
        records.append(
            ListenRecord(
                artist=artist,
                track=title,
                listened_at=datetime.fromtimestamp(int(date.get("uts")), UTC),
                album=album,
                artist_mbid=artist_mbid or None,
                album_mbid=(album_node.get("mbid") if album_node is not None else "") or None,
                track_mbid=_text(t.find("mbid")) or None,
                source="lastfm",
                album_image_url=_image(t) if album else "",
            )
        )
    return RecentPage(
        records=records,
        now_playing=now,
        page=int(box.get("page") or 1),
        total_pages=int(box.get("totalPages") or 0),
        total=int(box.get("total") or 0),
        loved=loved,
    )


def parse_loved(root: ET.Element) -> LovedPage:
    box = root.find("lovedtracks")
    if box is None:
        raise LastfmError("Last.fm answered without <lovedtracks>", code="format")
    items = []
    for t in box.iter("track"):
        artist, artist_mbid = _artist(t)
        date = t.find("date")
        uts = int(date.get("uts")) if date is not None and date.get("uts") else 0
        items.append(
            LovedItem(
                artist=artist,
                track=_text(t.find("name")),
                loved_at=datetime.fromtimestamp(uts, UTC),
                artist_mbid=artist_mbid,
                track_mbid=_text(t.find("mbid")),
            )
        )
    return LovedPage(
        items=items,
        page=int(box.get("page") or 1),
        total_pages=int(box.get("totalPages") or 0),
        total=int(box.get("total") or 0),
    )
