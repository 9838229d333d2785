"""Playlist files: M3U8, XSPF, CSV and JSON, each entry with artist, title, album and duration."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass
from xml.etree import ElementTree as ET

from playlists.models import Playlist

XSPF_NS = "http://xspf.org/ns/0/"
FORMATS = {
    "m3u8": ("audio/x-mpegurl; charset=utf-8", "m3u8"),
    "xspf": ("application/xspf+xml; charset=utf-8", "xspf"),
    "csv": ("text/csv; charset=utf-8", "csv"),
    "json": ("application/json; charset=utf-8", "json"),
}


@dataclass(frozen=True)
class Entry:
    position: int
    artist: str
    title: str
    album: str
    duration: int | None  # seconds


def entries(playlist: Playlist) -> list[Entry]:
    rows = playlist.entries.select_related("track", "track__album").order_by("position")
    return [
        Entry(
            position=e.position,
            artist=e.track.artist_credit,
            title=e.track.title,
            album=e.track.album.title if e.track.album else "",
            duration=e.track.duration,
        )
        for e in rows
    ]


def _clean(text: str) -> str:
    return " ".join(text.split())  # one entry per line in M3U, whatever the titles hold


def to_m3u8(playlist: Playlist, items: list[Entry]) -> str:
    # Extended M3U: players find the files by "artist - title" when no path is known.
    lines = ["#EXTM3U", f"#PLAYLIST:{_clean(playlist.name)}"]
    for e in items:
        lines.append(
            f"#EXTINF:{e.duration if e.duration else -1},{_clean(e.artist)} - {_clean(e.title)}"
        )
        if e.album:
            lines.append(f"#EXTALB:{_clean(e.album)}")
        lines.append(f"{_clean(e.artist)} - {_clean(e.title)}")
    return "\n".join(lines) + "\n"


def to_xspf(playlist: Playlist, items: list[Entry]) -> str:
    ET.register_namespace("", XSPF_NS)
    root = ET.Element(f"{{{XSPF_NS}}}playlist", version="1")
    ET.SubElement(root, f"{{{XSPF_NS}}}title").text = playlist.name
    if playlist.ai_prompt:
        ET.SubElement(root, f"{{{XSPF_NS}}}annotation").text = playlist.ai_prompt
    tracks = ET.SubElement(root, f"{{{XSPF_NS}}}trackList")
    for e in items:
        track = ET.SubElement(tracks, f"{{{XSPF_NS}}}track")
        ET.SubElement(track, f"{{{XSPF_NS}}}creator").text = e.artist
        ET.SubElement(track, f"{{{XSPF_NS}}}title").text = e.title
        if e.album:
            ET.SubElement(track, f"{{{XSPF_NS}}}album").text = e.album
        ET.SubElement(track, f"{{{XSPF_NS}}}trackNum").text = str(e.position)
        if e.duration:  # XSPF durations are in milliseconds
            ET.SubElement(track, f"{{{XSPF_NS}}}duration").text = str(e.duration * 1000)
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


def to_csv(playlist: Playlist, items: list[Entry]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["position", "artist", "title", "album", "duration"])
    for e in items:
        writer.writerow([e.position, e.artist, e.title, e.album, e.duration or ""])
    return out.getvalue()


def to_json(playlist: Playlist, items: list[Entry]) -> str:
    data = {
        "name": playlist.name,
        "algorithm": playlist.algorithm,
        "parameters": playlist.parameters,
        "prompt": playlist.ai_prompt,
        "created_at": playlist.created_at.isoformat(),
        "tracks": [asdict(e) for e in items],
    }
    return json.dumps(data, ensure_ascii=False, indent=2)


WRITERS = {"m3u8": to_m3u8, "xspf": to_xspf, "csv": to_csv, "json": to_json}


def export(playlist: Playlist, fmt: str) -> str:
    """The playlist as text in `fmt` (one of FORMATS)."""
    return WRITERS[fmt](playlist, entries(playlist))
