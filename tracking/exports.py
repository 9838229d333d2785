"""Exports of a user's whole history: CSV, and ListenBrainz-style JSONL with MusicBrainz ids.

Both are generators of text chunks (for StreamingHttpResponse and the command), reading listens
by keyset, so memory stays flat. Both import back (tracking.imports) to the same listens: the
artist credit, titles, time to the microsecond, duration, source and source id travel along.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC

from tracking.history_api import listens_for_export
from tracking.imports import EXPORT_CSV_HEADER

FORMATS = {"csv": "text/csv", "jsonl": "application/x-ndjson"}
ROWS_PER_CHUNK = 500


def _str(value) -> str:
    return str(value) if value is not None else ""


def export_csv(user) -> Iterator[str]:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(EXPORT_CSV_HEADER)
    for n, r in enumerate(listens_for_export(user), 1):
        at = r["listened_at"].astimezone(UTC)
        writer.writerow(
            [
                at.isoformat(),
                int(at.timestamp()),
                r["track__artist_credit"],
                r["track__title"],
                r["album__title"] or "",
                r["album__artist_credit"] or "",
                _str(r["track__duration"]),
                _str(r["artist__mbid"]),
                _str(r["album__mb_release_id"]),
                _str(r["track__mbid"]),
                r["source"],
                r["source_id"],
            ]
        )
        if n % ROWS_PER_CHUNK == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def listen_payload(r: dict) -> dict:
    at = r["listened_at"].astimezone(UTC)
    info: dict = {"submission_client": "Music Tracker", "musictracker_source": r["source"]}
    if r["source_id"]:
        info["musictracker_source_id"] = r["source_id"]
    if r["track__duration"]:
        info["duration"] = r["track__duration"]
    if r["artist__mbid"]:
        info["artist_mbids"] = [str(r["artist__mbid"])]
    if r["album__mb_release_id"]:
        info["release_mbid"] = str(r["album__mb_release_id"])
    if r["album__mbid"]:
        info["release_group_mbid"] = str(r["album__mbid"])
    if r["track__mbid"]:
        info["recording_mbid"] = str(r["track__mbid"])
    if r["album__artist_credit"]:
        info["release_artist_name"] = r["album__artist_credit"]
    if at.microsecond:
        info["musictracker_listened_at"] = at.isoformat()
    meta = {"artist_name": r["track__artist_credit"], "track_name": r["track__title"]}
    if r["album__title"]:
        meta["release_name"] = r["album__title"]
    meta["additional_info"] = info
    return {"listened_at": int(at.timestamp()), "track_metadata": meta}


def export_jsonl(user) -> Iterator[str]:
    lines: list[str] = []
    for r in listens_for_export(user):
        lines.append(json.dumps(listen_payload(r), ensure_ascii=False))
        if len(lines) >= ROWS_PER_CHUNK:
            yield "\n".join(lines) + "\n"
            lines.clear()
    if lines:
        yield "\n".join(lines) + "\n"


def export_listens(user, fmt: str) -> Iterator[str]:
    if fmt == "csv":
        return export_csv(user)
    if fmt == "jsonl":
        return export_jsonl(user)
    raise ValueError(f"format: {fmt!r} is not one of csv, jsonl")
