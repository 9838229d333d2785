"""A fake of ws.audioscrobbler.com/2.0/ that answers like Last.fm: the same XML documents
(`<lfm status="ok">`, `<recenttracks user page perPage totalPages total>`, the now-playing track
with `nowplaying="true"` on page 1 whatever `from`/`to` say and outside `total`, `<date uts>`,
mbid attributes, four `<image size>`s, the `extended=1` form with `<artist><name>` and `<loved>`),
and the error documents (`<lfm status="failed"><error code="29">…`), with the HTTP statuses
Last.fm uses. pylast POSTs form-encoded parameters to /2.0/; so do we.

Used by the tests and by the benchmark (bench/scenarios/lastfm.py), so it is fast: each track's
XML fragment is rendered once and cached, and a page is a bisect plus a join.
"""

from __future__ import annotations

import bisect
import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit
from xml.sax.saxutils import escape, quoteattr

STAR = "2a96cbd8b46e442fc41c2b86b821562f"  # Last.fm's grey star: "no image"
IMAGE_SIZES = (("small", "34s"), ("medium", "64s"), ("large", "174s"), ("extralarge", "300x300"))

# Last.fm answers its error documents with these HTTP statuses (200 for the rest).
HTTP_FOR_ERROR = {6: 404, 10: 403, 17: 403, 26: 403, 29: 429, 8: 500, 11: 503, 16: 503}
MESSAGES = {
    4: "Authentication Failed - You do not have permissions to access the service",
    6: "User not found",
    8: "Operation failed - Most likely the backend service failed. Please try again.",
    9: "Invalid session key - Please re-authenticate",
    10: "Invalid API key - You must be granted a valid key by last.fm",
    11: "Service Offline - This service is temporarily offline. Try again later.",
    13: "Invalid method signature supplied",
    14: "Unauthorized Token - This token has not been authorized",
    16: "There was a temporary error processing your request. Please try again",
    17: "Login: User required to be logged in",
    26: "Suspended API key - Access for your account has been suspended, please contact Last.fm",
    29: "Rate Limit Exceeded - Your IP has made too many requests in a short period",
}


# What a browser-facing front page looks like when the API is down for maintenance: HTML, and not
# even well-formed XML (void <meta> and <br> elements).
MAINTENANCE_PAGE = (
    '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
    "<title>Last.fm is down for maintenance</title></head>\n<body><h1>We'll be back soon</h1>"
    "<p>Last.fm is currently undergoing maintenance.<br>Please check back later.</p></body></html>\n"
)


@dataclass
class Scrobble:
    uts: int
    artist: str
    track: str
    album: str = ""
    artist_mbid: str = ""
    track_mbid: str = ""
    album_mbid: str = ""
    image: str = ""  # the image's hash; "" = no image at all, STAR = the placeholder

    def key(self) -> tuple:
        return (self.uts, self.artist, self.track)


@dataclass
class FakeUser:
    name: str
    scrobbles: list[Scrobble] = field(default_factory=list)  # kept sorted by uts, oldest first
    now_playing: Scrobble | None = None
    loved: dict[tuple[str, str], int] = field(default_factory=dict)  # (artist, track) → uts
    private: bool = False


def _date_text(uts: int) -> str:
    return datetime.fromtimestamp(uts, UTC).strftime("%d %b %Y, %H:%M")


def _images(image: str) -> str:
    if not image:
        return "".join(f'<image size="{size}"></image>' for size, _ in IMAGE_SIZES)
    return "".join(
        f'<image size="{size}">https://lastfm.freetls.fastly.net/i/u/{px}/{image}.png</image>'
        for size, px in IMAGE_SIZES
    )


def _url(*parts: str) -> str:
    return "https://www.last.fm/music/" + "/".join(p.replace(" ", "+") for p in parts)


class FakeLastfm:
    """The fake service: state (users, scrobbles, loved tracks, sessions) plus an HTTP server."""

    def __init__(self, *, api_key: str = "test-key", api_secret: str = "test-secret") -> None:
        self.api_key = api_key
        self.api_secret = api_secret
        self.users: dict[str, FakeUser] = {}
        self.suspended = False
        self.requests: list[dict[str, str]] = []  # every request's parameters, in order
        self.errors: list[int] = []  # queued failures: an API error code, or an HTTP status ≥ 500
        # A lasting failure, answered to every request until set back to None (an outage):
        #   "slow": the right answer, but only after `slow_seconds` (the client times out first)
        #   "html": 200 with an HTML page that is not XML (a proxy's or portal's page)
        #   "xhtml": 200 with a well-formed XHTML page (parses as XML, but is not <lfm>)
        #   "truncated": 200 with the right XML cut half-way (a dropped upstream connection)
        #   "empty": 200 with an empty body
        #   an int ≥ 500: that HTTP status with the HTML error page of Last.fm's front servers
        #   another int: that Last.fm error document (29 rate limit, 11 offline, 16 temporary…)
        self.outage: str | int | None = None
        self.slow_seconds = 1.0
        self.before_request: Callable[[dict[str, str]], None] | None = None
        self.tokens: dict[str, str] = {}  # authorized token → username
        self.sessions: dict[str, str] = {}  # session key → username
        self.love_calls: list[tuple[str, str, str, str]] = []  # (method, user, artist, track)
        self._fragments: dict[tuple, str] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # ---- state -------------------------------------------------------------------------------
    def user(self, name: str) -> FakeUser:
        return self.users.setdefault(name.lower(), FakeUser(name))

    def scrobble(self, name: str, *scrobbles: Scrobble) -> None:
        with self._lock:
            u = self.user(name)
            for s in scrobbles:
                bisect.insort(u.scrobbles, s, key=lambda x: x.uts)

    def extend_sorted(self, name: str, scrobbles: list[Scrobble]) -> None:
        """Add many scrobbles at once (must be sorted oldest first and older than the rest)."""
        with self._lock:
            u = self.user(name)
            u.scrobbles[:0] = scrobbles

    # ---- server ------------------------------------------------------------------------------
    def start(self) -> FakeLastfm:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as Last.fm's servers do

            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                params = dict(parse_qsl(body, keep_blank_values=True))
                query = urlsplit(self.path).query
                params.update(parse_qsl(query))
                status, text = fake.answer(urlsplit(self.path).path, params)
                data = text.encode()
                html = text.lstrip()[:15].lower().startswith(("<html", "<!doctype html"))
                try:
                    self.send_response(status)
                    self.send_header(
                        "Content-Type", f"text/{'html' if html else 'xml'}; charset=utf-8"
                    )
                    self.send_header("Content-Length", str(len(data)))
                    self.send_header("Access-Control-Allow-Origin", "*")
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (a slow answer)

            do_GET = do_POST

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    @property
    def base_url(self) -> str:
        assert self._server
        return f"http://127.0.0.1:{self._server.server_address[1]}/2.0/"

    def methods(self) -> list[str]:
        return [r.get("method", "") for r in self.requests]

    # ---- answers -----------------------------------------------------------------------------
    def answer(self, path: str, params: dict[str, str]) -> tuple[int, str]:
        self.requests.append(params)
        if self.before_request:
            self.before_request(params)
        if path.rstrip("/") != "/2.0":
            return 404, "<html><body>Not Found</body></html>"
        with self._lock:
            if self.errors:
                code = self.errors.pop(0)
                if code >= 500:
                    return code, self.server_error_page(code)
                return self.error(code)
        outage = self.outage
        if isinstance(outage, int):
            return (outage, self.server_error_page(outage)) if outage >= 500 else self.error(outage)
        if outage == "slow":
            time.sleep(self.slow_seconds)
        elif outage == "html":
            return 200, MAINTENANCE_PAGE
        elif outage == "xhtml":
            return 200, self.server_error_page(200).replace("200 Server Error", "Sign in")
        elif outage == "empty":
            return 200, ""
        elif outage == "truncated":
            status, text = self._answer(params)
            return status, text[: len(text) // 2]
        return self._answer(params)

    @staticmethod
    def server_error_page(code: int) -> str:
        reason = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}
        title = f"{code} {reason.get(code, 'Server Error')}"
        return (
            f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
            f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n"
            "</body>\r\n</html>\r\n"
        )

    def _answer(self, params: dict[str, str]) -> tuple[int, str]:
        if params.get("api_key") != self.api_key:
            return self.error(10)
        if self.suspended:
            return self.error(26)
        method = params.get("method", "").lower()
        handler = {
            "user.getrecenttracks": self.recent_tracks,
            "user.getlovedtracks": self.loved_tracks,
            "auth.getsession": self.get_session,
            "track.love": self.love,
            "track.unlove": self.love,
        }.get(method)
        if handler is None:
            return 400, self._failed(3, "Invalid Method - No method with that name in this package")
        return handler(params)

    @staticmethod
    def _failed(code: int, message: str) -> str:
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n<lfm status="failed">\n'
            f'<error code="{code}">{escape(message)}</error></lfm>\n'
        )

    def error(self, code: int) -> tuple[int, str]:
        return HTTP_FOR_ERROR.get(code, 400), self._failed(code, MESSAGES.get(code, "Error"))

    @staticmethod
    def _ok(body: str) -> tuple[int, str]:
        return 200, f'<?xml version="1.0" encoding="UTF-8"?>\n<lfm status="ok">\n{body}</lfm>\n'

    def _find_user(self, params) -> FakeUser | None:
        return self.users.get((params.get("user") or "").lower())

    def _track_xml(self, s: Scrobble, *, extended: bool, loved: bool, now: bool) -> str:
        key = (s.uts, s.artist, s.track, s.album, extended, loved, now)
        hit = self._fragments.get(key)
        if hit is not None:
            return hit
        if extended:
            artist = (
                f"<artist><url>{escape(_url(s.artist))}</url><name>{escape(s.artist)}</name>"
                f"<mbid>{s.artist_mbid}</mbid>{_images('')}</artist>"
            )
        else:
            artist = f"<artist mbid={quoteattr(s.artist_mbid)}>{escape(s.artist)}</artist>"
        attrs = ' nowplaying="true"' if now else ""
        date = "" if now else f'<date uts="{s.uts}">{_date_text(s.uts)}</date>'
        parts = [
            f"<track{attrs}>",
            artist,
            f"<loved>{int(loved)}</loved>" if extended else "",
            f"<name>{escape(s.track)}</name><streamable>0</streamable>",
            f"<mbid>{s.track_mbid}</mbid>",
            f"<album mbid={quoteattr(s.album_mbid)}>{escape(s.album)}</album>",
            f"<url>{escape(_url(s.artist, '_', s.track))}</url>",
            _images(s.image),
            date,
            "</track>",
        ]
        text = "".join(parts)
        if len(self._fragments) < 400_000:
            self._fragments[key] = text
        return text

    def recent_tracks(self, params) -> tuple[int, str]:
        u = self._find_user(params)
        if u is None:
            return self.error(6)
        if u.private:
            return self.error(17)
        limit = max(1, min(200, int(params.get("limit") or 50)))
        page = max(1, int(params.get("page") or 1))
        extended = params.get("extended") in ("1", "true")
        # Both ends are inclusive on Last.fm; our client does not depend on it (it overlaps).
        lo = int(params["from"]) if params.get("from") else None
        hi = int(params["to"]) if params.get("to") else None
        with self._lock:
            times = [s.uts for s in u.scrobbles] if len(u.scrobbles) < 5000 else None
            if times is None:
                times = self._times(u)
            start = bisect.bisect_left(times, lo) if lo is not None else 0
            end = bisect.bisect_right(times, hi) if hi is not None else len(times)
            total = max(0, end - start)
            # newest first: page 1 holds the newest `limit` of the range
            top = end - (page - 1) * limit
            chosen = u.scrobbles[max(start, top - limit) : max(start, top)][::-1]
            now = u.now_playing if page == 1 else None
            loved = u.loved
        total_pages = -(-total // limit)
        items = []
        if now is not None:
            items.append(
                self._track_xml(
                    now, extended=extended, loved=(now.artist, now.track) in loved, now=True
                )
            )
        for s in chosen:
            items.append(
                self._track_xml(s, extended=extended, loved=(s.artist, s.track) in loved, now=False)
            )
        head = (
            f'<recenttracks user={quoteattr(u.name)} page="{page}" perPage="{limit}" '
            f'totalPages="{total_pages}" total="{total}">'
        )
        return self._ok(head + "".join(items) + "</recenttracks>\n")

    def _times(self, u: FakeUser) -> list[int]:
        cached = getattr(u, "_times_cache", None)
        if cached is not None and cached[0] == len(u.scrobbles) and cached[2] == id(u.scrobbles):
            return cached[1]
        times = [s.uts for s in u.scrobbles]
        u._times_cache = (len(u.scrobbles), times, id(u.scrobbles))
        return times

    def loved_tracks(self, params) -> tuple[int, str]:
        u = self._find_user(params)
        if u is None:
            return self.error(6)
        limit = max(1, min(1000, int(params.get("limit") or 50)))
        page = max(1, int(params.get("page") or 1))
        rows = sorted(u.loved.items(), key=lambda kv: -kv[1])
        total = len(rows)
        chosen = rows[(page - 1) * limit : page * limit]
        items = "".join(
            f"<track><name>{escape(track)}</name><mbid></mbid>"
            f"<url>{escape(_url(artist, '_', track))}</url>"
            f'<date uts="{uts}">{_date_text(uts)}</date>'
            f"<artist><name>{escape(artist)}</name><mbid></mbid>"
            f"<url>{escape(_url(artist))}</url></artist>{_images('')}"
            '<streamable fulltrack="0">0</streamable></track>'
            for (artist, track), uts in chosen
        )
        head = (
            f'<lovedtracks user={quoteattr(u.name)} page="{page}" perPage="{limit}" '
            f'totalPages="{-(-total // limit)}" total="{total}">'
        )
        return self._ok(head + items + "</lovedtracks>\n")

    def _check_signature(self, params) -> bool:
        text = "".join(
            f"{k}{params[k]}" for k in sorted(params) if k not in ("api_sig", "format", "callback")
        )
        expected = hashlib.md5((text + self.api_secret).encode()).hexdigest()
        return params.get("api_sig") == expected

    def get_session(self, params) -> tuple[int, str]:
        if not self._check_signature(params):
            return self.error(13)
        name = self.tokens.pop(params.get("token", ""), None)
        if name is None:
            return self.error(14)
        key = hashlib.md5(f"session-{name}".encode()).hexdigest()
        self.sessions[key] = name
        return self._ok(
            f"<session><name>{escape(name)}</name><key>{key}</key>"
            "<subscriber>0</subscriber></session>\n"
        )

    def love(self, params) -> tuple[int, str]:
        if not self._check_signature(params):
            return self.error(13)
        name = self.sessions.get(params.get("sk", ""))
        if name is None:
            return self.error(9)
        key = (params.get("artist", ""), params.get("track", ""))
        method = params["method"].lower()
        self.love_calls.append((method, name, *key))
        if method == "track.love":
            self.user(name).loved[key] = int(datetime.now(UTC).timestamp())
        else:
            self.user(name).loved.pop(key, None)
        return self._ok("")


# ---- for the tests' fixtures: `yield from running(settings)` ------------------------------------


def running(settings):
    """Start a fake and point the configuration at it (no rate limit, fast backoff)."""
    fake = FakeLastfm().start()
    settings.MUSICTRACKER = {
        **settings.MUSICTRACKER,
        "lastfm": {
            **settings.MUSICTRACKER["lastfm"],
            "api_key": fake.api_key,
            "api_secret": fake.api_secret,
            "base_url": fake.base_url,
            "auth_url": "https://www.last.fm/api/auth/",
            "requests_per_second": 0,
            "retry_base_seconds": 0.01,
            "max_retries": 4,
        },
    }
    try:
        yield fake
    finally:
        fake.stop()
