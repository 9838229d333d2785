"""A fake of Deezer's public search API (`/search/artist?q=`, `/search/album?q=`).

Answers come from tests/data/deezer/search_<kind>_<slug>.json (slug of the searched artist
name or album title), else an empty page. `quota(n)` makes the next n calls answer like Deezer
over its quota: HTTP 200 with {"error": {"type": "Exception", "message": "Quota limit exceeded",
"code": 4}}.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.fakes._loopback import LoopbackFake

DATA = Path(__file__).resolve().parent.parent / "data" / "deezer"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


class FakeDeezer(LoopbackFake):
    def __init__(self):
        super().__init__()
        self.quota_errors = 0
        self.extra: dict[str, dict] = {}

    def quota(self, times: int = 1) -> None:
        self.quota_errors += times

    def handle(self, *, method, path, query, headers, body):
        match = re.fullmatch(r"/search/(artist|album)", path)
        if not match:
            return 200, {}, {"error": {"type": "DataException", "message": "no data", "code": 800}}
        if self.quota_errors:
            self.quota_errors -= 1
            return (
                200,
                {},
                {"error": {"type": "Exception", "message": "Quota limit exceeded", "code": 4}},
            )
        kind, q = match.group(1), query.get("q", "")
        fields = dict(re.findall(r'(\w+):"([^"]*)"', q))
        key = fields.get(kind, q)
        name = f"search_{kind}_{_slug(key)}"
        if name in self.extra:
            return 200, {}, self.extra[name]
        file = DATA / f"{name}.json"
        if file.exists():
            return 200, {}, json.loads(file.read_text())
        return 200, {}, {"data": [], "total": 0}
