"""A fake of the Cover Art Archive: `/release-group/{mbid}/front` and `/release/{mbid}/front`
answer 307 to the image on archive.org when known, else 404 with the real plain-text body."""

from __future__ import annotations

import re

from tests.fakes._loopback import LoopbackFake


class FakeCoverArt(LoopbackFake):
    def __init__(self):
        super().__init__()
        self.release_groups: dict[str, str] = {}
        self.releases: dict[str, str] = {}

    def add(self, mbid: str, *, release: bool = False, image_id: int = 1234567890) -> str:
        url = f"http://archive.org/download/mbid-{mbid}/mbid-{mbid}-{image_id}.jpg"
        (self.releases if release else self.release_groups)[mbid] = url
        return url

    def handle(self, *, method, path, query, headers, body):
        match = re.fullmatch(r"/(release-group|release)/([0-9a-f-]{36})/front(?:-\d+)?", path)
        if not match:
            return 400, {"Content-Type": "text/plain"}, "400 Bad Request: invalid MBID"
        kind, mbid = match.groups()
        table = self.release_groups if kind == "release-group" else self.releases
        if mbid in table:
            return (
                307,
                {"Location": table[mbid], "Content-Type": "text/plain"},
                "See: " + table[mbid],
            )
        return 404, {"Content-Type": "text/plain"}, f"No cover art found for {kind} {mbid}"
