"""A fake of Spotify's Web API for spotipy: the client-credentials token endpoint and search.

Quirks reproduced: search answers 401 without a valid Bearer token; `limit` above 10 is a 400
(development-mode apps since 2026); `rate_limit(n, retry_after)` makes the next n searches answer
429 with a Retry-After header; results are fuzzy (a decoy may come first: "Airbourne" for "Air");
dev-mode results have no popularity or followers. Items come from tests/data/spotify/.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

from tests.fakes._loopback import LoopbackFake

DATA = Path(__file__).resolve().parent.parent / "data" / "spotify"
CLIENT_ID, CLIENT_SECRET = "fake-client-id", "fake-client-secret"


class FakeSpotify(LoopbackFake):
    def __init__(self):
        super().__init__()
        self.artists = json.loads((DATA / "artists.json").read_text())
        self.albums = json.loads((DATA / "albums.json").read_text())
        self.tokens_issued = 0
        self.pending_429: list[int] = []
        self.server_errors = 0

    @property
    def api_url(self) -> str:
        return self.url + "/v1/"

    @property
    def token_url(self) -> str:
        return self.url + "/api/token"

    def rate_limit(self, times: int = 1, retry_after: int = 1) -> None:
        self.pending_429.extend([retry_after] * times)

    def handle(self, *, method, path, query, headers, body):
        if path == "/api/token" and method == "POST":
            return self._token(headers, body)
        if path == "/v1/search":
            return self._search(query, headers)
        return 404, {}, {"error": {"status": 404, "message": "Service not found"}}

    def _token(self, headers, body):
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if headers.get("Authorization") != f"Basic {expected}":
            return 400, {}, {"error": "invalid_client", "error_description": "Invalid client"}
        if b"grant_type=client_credentials" not in body:
            return 400, {}, {"error": "unsupported_grant_type"}
        self.tokens_issued += 1
        token = f"token-{self.tokens_issued}"
        return 200, {}, {"access_token": token, "token_type": "Bearer", "expires_in": 3600}

    def _search(self, query, headers):
        if not re.match(r"Bearer token-\d+$", headers.get("Authorization", "")):
            return 401, {}, {"error": {"status": 401, "message": "No token provided"}}
        if self.pending_429:
            wait = self.pending_429.pop(0)
            return (
                429,
                {"Retry-After": wait},
                {"error": {"status": 429, "message": "API rate limit exceeded"}},
            )
        if self.server_errors:
            self.server_errors -= 1
            return 503, {}, {"error": {"status": 503, "message": "Service unavailable"}}
        limit = int(query.get("limit", 20))
        if limit > 10:
            return 400, {}, {"error": {"status": 400, "message": "Invalid limit"}}
        q, kind = query.get("q", ""), query.get("type", "")
        fields = dict(re.findall(r'(\w+):"([^"]*)"', q))
        if kind == "artist":
            word = fields.get("artist", q).lower().split()[0] if fields.get("artist", q) else ""
            items = [a for a in self.artists if word and word in a["name"].lower()][:limit]
            return 200, {}, {"artists": _page(items, limit)}
        if kind == "album":
            title = fields.get("album", q).lower().split()
            artist = fields.get("artist", "").lower()
            items = [
                a
                for a in self.albums
                if all(w in a["name"].lower() for w in title[:1])
                and (not artist or any(artist in x["name"].lower() for x in a["artists"]))
            ][:limit]
            return 200, {}, {"albums": _page(items, limit)}
        return 400, {}, {"error": {"status": 400, "message": "Unsupported type"}}


def _page(items, limit):
    return {
        "href": "https://api.spotify.com/v1/search",
        "items": items,
        "limit": limit,
        "next": None,
        "offset": 0,
        "previous": None,
        "total": len(items),
    }
