"""A fake of api.discogs.com on 127.0.0.1, answering like the real one (https://www.discogs.com/developers):

- `/oauth/identity`, `/users/{u}`, `/users/{u}/collection/folders`, `/users/{u}/collection/fields`,
  `/users/{u}/collection/folders/{id}/releases?page=&per_page=&sort=&sort_order=` with the
  `pagination` object ({page, pages, per_page, items, urls{first, prev, next, last}}) and
  `/releases/{id}`;
- every absolute URL in an answer (`resource_url`, `collection_folders_url`, pagination urls)
  points at this server, as Discogs' point at itself: python3-discogs-client follows them;
- the personal token arrives as the `token` query parameter; a wrong one gets 401, an unknown
  user 404, another user's private collection 403, all with Discogs' `{"message": ...}` body;
- rate-limit headers X-Discogs-Ratelimit, -Used, -Remaining over a moving minute, and a 429
  `{"message": "You are making requests too quickly."}` when the budget is spent or when a test
  asks for a storm; `break_after` makes it drop connections, as a network failure half-way.

Collection items are built from release JSON (samples in tests/data/discogs/) the way Discogs
builds `basic_information` from a release.
"""

from __future__ import annotations

import copy
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

DATA = Path(__file__).resolve().parent.parent / "data" / "discogs"
REAL_BASE = "https://api.discogs.com"


def sample(name: str) -> dict:
    return json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))


def make_release(release_id: int, *, title: str, artist: str, artist_id: int, master_id=0,
                 year=2000, fmt="Vinyl", tracks=3) -> dict:  # fmt: skip
    """A plain release in Discogs' shape, for bulk collections."""
    return {
        "id": release_id,
        "resource_url": f"{REAL_BASE}/releases/{release_id}",
        "title": title,
        "year": year,
        "master_id": master_id,
        "master_url": f"{REAL_BASE}/masters/{master_id}" if master_id else None,
        "artists": [
            {
                "name": artist,
                "anv": "",
                "join": "",
                "role": "",
                "tracks": "",
                "id": artist_id,
                "resource_url": f"{REAL_BASE}/artists/{artist_id}",
            }  # fmt: skip
        ],
        "labels": [
            {
                "name": "Label",
                "catno": f"CAT-{release_id}",
                "entity_type": "1",
                "id": 1,
                "resource_url": f"{REAL_BASE}/labels/1",
            }
        ],  # fmt: skip
        "formats": [{"name": fmt, "qty": "1", "descriptions": ["LP", "Album"]}],
        "genres": ["Rock"],
        "styles": ["Indie Rock"],
        "tracklist": [
            {
                "position": f"A{i + 1}",
                "type_": "track",
                "title": f"{title} song {i + 1}",
                "duration": f"3:{i:02d}",
            }  # fmt: skip
            for i in range(tracks)
        ],
        "images": [
            {
                "type": "primary",
                "uri": f"https://i.discogs.com/{release_id}.jpg",
                "uri150": f"https://i.discogs.com/{release_id}-150.jpg",
                "width": 600,
                "height": 600,
            }
        ],  # fmt: skip
        "thumb": f"https://i.discogs.com/{release_id}-150.jpg",
    }


class FakeDiscogs:
    def __init__(self, *, username="vinylfan", token="good-token", rate_limit=60):
        self.username = username
        self.token = token
        self.rate_limit = rate_limit
        self.private = False  # the collection is visible only with the owner's token
        self.other_tokens: dict[str, str] = {}  # token → username it belongs to
        self.releases: dict[int, dict] = {}
        self.instances: list[dict] = []
        self.folders = {0: "All", 1: "Uncategorized", 2: "Jazz shelf"}
        self.requests: list[dict] = []
        self.storm = 0  # answer this many requests with 429 first
        self.retry_after: str | None = None
        self.break_after: int | None = None  # drop every connection after this many requests
        self.remaining_override: int | None = None
        # A lasting failure until set back to None: "slow" (the right answer after
        # `slow_seconds`), "html" (200 with an HTML page instead of JSON), or an HTTP status ≥ 500
        # with the HTML error page of Discogs' CDN in front of the API.
        self.outage: str | int | None = None
        self.slow_seconds = 1.0
        self.outage_requests: int | None = None  # the outage ends after this many requests
        self._times: list[float] = []
        self._next_instance = 1000
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # --- the collection ----------------------------------------------------------------------

    def add(self, release: dict, *, folder_id=1, rating=0, notes=None, date_added=None) -> dict:
        """Own one more copy of `release` (an instance); returns the instance."""
        self.releases[release["id"]] = release
        self._next_instance += 1
        instance = {
            "id": release["id"],
            "instance_id": self._next_instance,
            "date_added": date_added
            or f"2020-01-{1 + len(self.instances) % 28:02d}T10:00:00-08:00",
            "rating": rating,
            "folder_id": folder_id,
            "notes": notes or [],
        }
        self.instances.append(instance)
        return instance

    def remove(self, instance: dict) -> None:
        self.instances = [i for i in self.instances if i["instance_id"] != instance["instance_id"]]

    @staticmethod
    def basic_information(release: dict) -> dict:
        """What Discogs shows of a release inside a collection page."""
        images = release.get("images") or []
        primary = images[0] if images else {}
        return {
            "id": release["id"],
            "master_id": release.get("master_id") or 0,
            "master_url": release.get("master_url"),
            "resource_url": release.get("resource_url") or f"{REAL_BASE}/releases/{release['id']}",
            "thumb": release.get("thumb", ""),
            "cover_image": primary.get("uri", ""),
            "title": release["title"],
            "year": release.get("year", 0),
            "formats": release.get("formats", []),
            "labels": [
                {k: v for k, v in label.items() if k != "entity_type_name"}
                for label in release.get("labels", [])
            ],
            "artists": release.get("artists", []),
            "genres": release.get("genres", []),
            "styles": release.get("styles", []),
        }

    # --- server ------------------------------------------------------------------------------

    def start(self) -> FakeDiscogs:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def count(self, prefix: str = "") -> int:
        return sum(1 for r in self.requests if r["path"].startswith(prefix))

    def _rewrite(self, data):
        """Discogs' absolute URLs, pointing at this server."""
        text = json.dumps(data).replace(REAL_BASE, self.url)
        return text.encode()

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                fake._serve(self)

        return Handler

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        parsed = urlparse(h.path)
        query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        with self._lock:
            self.requests.append(
                {"path": parsed.path, "query": query, "user_agent": h.headers.get("User-Agent")}
            )
            n = len(self.requests)
            now = time.monotonic()
            self._times = [t for t in self._times if now - t < 60] + [now]
            used = len(self._times)
        outage = self.outage
        if outage is not None and self.outage_requests is not None:
            with self._lock:
                self.outage_requests -= 1
                if self.outage_requests <= 0:
                    self.outage, self.outage_requests = None, None
        if isinstance(outage, int):
            return self._send_html(h, outage, self.error_page(outage))
        if outage == "html":
            return self._send_html(h, 200, self.error_page(0))
        if outage == "slow":
            time.sleep(self.slow_seconds)
        if self.break_after is not None and n > self.break_after:
            h.close_connection = True
            h.connection.shutdown(2)  # the connection drops with no answer
            return
        remaining = max(0, self.rate_limit - used)
        if self.remaining_override is not None:
            remaining = self.remaining_override
        headers = {
            "X-Discogs-Ratelimit": str(self.rate_limit),
            "X-Discogs-Ratelimit-Used": str(self.rate_limit - remaining),
            "X-Discogs-Ratelimit-Remaining": str(remaining),
        }
        if self.storm > 0:
            self.storm -= 1
            if self.retry_after:
                headers["Retry-After"] = self.retry_after
            return self._send(h, 429, {"message": "You are making requests too quickly."}, headers)
        token = query.get("token")
        if token != self.token and token not in self.other_tokens:
            return self._send(
                h,
                401,
                {
                    "message": "Invalid consumer token. Please register an app before making API request."
                },  # fmt: skip
                headers,
            )
        who = self.username if token == self.token else self.other_tokens[token]
        status, body = self._route(parsed.path, query, who)
        self._send(h, status, body, headers)

    def _send(self, h, status: int, body: dict, headers: dict) -> None:
        raw = self._rewrite(body)
        try:
            h.send_response(status)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(raw)))
            for k, v in headers.items():
                h.send_header(k, v)
            h.end_headers()
            h.wfile.write(raw)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (a slow answer)

    @staticmethod
    def error_page(code: int) -> str:
        title = {502: "Bad gateway", 503: "Service unavailable", 0: "Down for maintenance"}.get(
            code, "Internal server error"
        )
        return (
            f'<!DOCTYPE html>\n<html><head><meta charset="UTF-8"><title>api.discogs.com | '
            f"{code or ''} {title}</title></head><body><h1>{title}</h1><p>Please try again in a "
            f"few minutes.<br>Error code {code}</p></body></html>\n"
        )

    def _send_html(self, h, status: int, text: str) -> None:
        raw = text.encode()
        try:
            h.send_response(status)
            h.send_header("Content-Type", "text/html; charset=UTF-8")
            h.send_header("Content-Length", str(len(raw)))
            h.end_headers()
            h.wfile.write(raw)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _route(self, path: str, query: dict, who: str) -> tuple[int, dict]:
        u = self.username
        if path == "/oauth/identity":
            return 200, {
                "id": 1,
                "username": who,
                "resource_url": f"{REAL_BASE}/users/{who}",
                "consumer_name": "MusicTracker",
            }
        if m := re.fullmatch(r"/releases/(\d+)", path):
            release = self.releases.get(int(m.group(1)))
            if not release:
                return 404, {"message": "Release not found."}
            return 200, release
        m = re.fullmatch(r"/users/([^/]+)(/.*)?", path)
        if not m:
            return 404, {"message": "The requested resource was not found."}
        if m.group(1).lower() != u.lower():
            return 404, {"message": "User does not exist or may have been deleted."}
        rest = m.group(2) or ""
        owner = who.lower() == u.lower()
        if self.private and not owner:
            return 403, {"message": "You don't have permission to access this resource."}
        base = f"{REAL_BASE}/users/{u}"
        if rest == "":
            return 200, {
                "id": 1,
                "username": u,
                "resource_url": base,
                "uri": f"https://www.discogs.com/user/{u}",
                "collection_folders_url": f"{base}/collection/folders",
                "collection_fields_url": f"{base}/collection/fields",
                "wantlist_url": f"{base}/wants",
                "inventory_url": f"{base}/inventory",
                "num_collection": len(self.instances),
                "num_wantlist": 0,
            }
        if rest == "/collection/fields":
            if not owner:
                return 403, {"message": "You don't have permission to access this resource."}
            return 200, {
                "fields": [
                    {
                        "id": 1,
                        "name": "Media Condition",
                        "type": "dropdown",
                        "position": 1,
                        "public": True,
                        "options": ["Mint (M)", "Near Mint (NM or M-)"],
                    },  # fmt: skip
                    {
                        "id": 2,
                        "name": "Sleeve Condition",
                        "type": "dropdown",
                        "position": 2,
                        "public": True,
                        "options": ["Mint (M)", "Near Mint (NM or M-)"],
                    },  # fmt: skip
                    {
                        "id": 3,
                        "name": "Notes",
                        "type": "textarea",
                        "position": 3,
                        "public": True,
                        "lines": 3,
                    },  # fmt: skip
                ]
            }
        if rest == "/collection/folders":
            folders = self.folders if owner else {0: "All"}
            return 200, {
                "folders": [
                    {
                        "id": fid,
                        "name": name,
                        "count": len(self._in_folder(fid)),
                        "resource_url": f"{base}/collection/folders/{fid}",
                    }
                    for fid, name in folders.items()
                ]
            }
        if fm := re.fullmatch(r"/collection/folders/(\d+)/releases", rest):
            fid = int(fm.group(1))
            if fid != 0 and not owner:
                return 403, {"message": "You don't have permission to access this resource."}
            return self._page(base, fid, query)
        return 404, {"message": "The requested resource was not found."}

    def _in_folder(self, fid: int) -> list[dict]:
        return [i for i in self.instances if fid == 0 or i["folder_id"] == fid]

    def _page(self, base: str, fid: int, query: dict) -> tuple[int, dict]:
        items = self._in_folder(fid)
        if query.get("sort") == "added":
            items = sorted(items, key=lambda i: (i["date_added"], i["instance_id"]))
            if query.get("sort_order") == "desc":
                items.reverse()
        per_page = min(int(query.get("per_page", 50)), 100)
        page = int(query.get("page", 1))
        pages = max(1, -(-len(items) // per_page))
        if page > pages:
            return 404, {"message": f"Page {page} does not exist."}
        url = f"{base}/collection/folders/{fid}/releases?per_page={per_page}&page="
        urls = {}
        if page > 1:
            urls.update(first=f"{url}1", prev=f"{url}{page - 1}")
        if page < pages:
            urls.update(next=f"{url}{page + 1}", last=f"{url}{pages}")
        chunk = items[(page - 1) * per_page : page * per_page]
        return 200, {
            "pagination": {
                "page": page,
                "pages": pages,
                "per_page": per_page,
                "items": len(items),
                "urls": urls,
            },
            "releases": [
                {
                    **copy.deepcopy(i),
                    "basic_information": self.basic_information(self.releases[i["id"]]),
                }
                for i in chunk
            ],
        }
