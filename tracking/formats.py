"""The file formats of listening history, read as streams of `Row`s.

Kept apart from the importer (`tracking.imports`) and free of Django, so that a large file can
be parsed in a process of its own (`python -m tracking.formats FORMAT PATH`, started by the
importer) that needs neither the settings nor the database.

Each parser yields `Row`s: a record, or the reason the row was left out (a malformed row, a play
under 30 seconds, a podcast). Formats (detected from the name and the first bytes):
- Spotify extended streaming history, `Streaming_History_Audio_*.json` (or its ZIP): `ts` is
  when the play ended, so the listen starts at `ts - ms_played`, which is what Last.fm and
  ListenBrainz clients record. Plays under 30 s and podcast episodes are skipped.
- Last.fm: the four-column CSV `artist,album,track,date` ("31 Jan 2021 21:05", UTC), with or
  without a header; lastfm.ghan.nl's CSV (`uts,utc_time,artist,artist_mbid,album,album_mbid,
  track,track_mbid`) and JSON (the pages of user.getRecentTracks, or a flat list of tracks).
- ListenBrainz: the export ZIP (`listens/YYYY/M.jsonl`), a JSON array or JSONL of listens.
- Music Tracker's export: its JSONL is ListenBrainz's format (plus the original source in
  `additional_info`); its CSV has a header starting `listened_at,uts,artist`.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import pickle
import re
import sys
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

from collection.records import ListenRecord

MIN_SPOTIFY_MS = 30_000
# ListenBrainz refuses listens before this (LISTEN_MINIMUM_TS, 2002-10-01): older dates are
# almost always a zero or a clock error.
MIN_TS = 1033430400
FORMATS = {
    "spotify": "Spotify extended streaming history",
    "lastfm_csv": "Last.fm CSV (artist, album, track, date)",
    "ghan_csv": "Last.fm CSV (lastfm.ghan.nl)",
    "lastfm_json": "Last.fm JSON (lastfm.ghan.nl)",
    "listenbrainz_zip": "ListenBrainz export (ZIP)",
    "listenbrainz_json": "ListenBrainz JSON",
    "listenbrainz_jsonl": "ListenBrainz JSONL / Music Tracker export",
    "musictracker_csv": "Music Tracker CSV export",
}
EXPORT_CSV_HEADER = [
    "listened_at",
    "uts",
    "artist",
    "track",
    "album",
    "album_artist",
    "duration",
    "artist_mbid",
    "release_mbid",
    "recording_mbid",
    "source",
    "source_id",
]


CHUNK = 2000  # rows per message from the parser process


class ImportFormatError(ValueError):
    """The file is not one of the formats we read."""


@dataclass(slots=True)
class Row:
    where: str  # "line 12", "item 3", "listens/2021/3.jsonl line 4"
    record: ListenRecord | None = None
    skip: str = ""  # "malformed", "short", "podcast"
    reason: str = ""


# ---------------------------------------------------------------------------------- helpers


def _ts(value) -> datetime:
    """A Unix timestamp (int, float or digits) as an aware UTC datetime."""
    ts = int(float(value))
    if ts < MIN_TS or ts > 4102444800:
        raise ValueError(f"timestamp {value} out of range")
    return datetime.fromtimestamp(ts, UTC)


def _iso(value: str) -> datetime:
    at = datetime.fromisoformat(value.strip())
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC)


def _lastfm_date(value: str) -> datetime:
    """Last.fm's "31 Jan 2021 21:05" (also "31 Jan 2021, 21:05"), in UTC; or a Unix time."""
    value = value.strip().replace(",", "")
    if value.isdigit():
        return _ts(value)
    try:
        return datetime.strptime(value, "%d %b %Y %H:%M").replace(tzinfo=UTC)
    except ValueError:
        return _iso(value)


def _text(value) -> str:
    if isinstance(value, dict):
        value = value.get("#text") or value.get("name") or ""
    return str(value).strip() if value is not None else ""


def _mbid(value) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    return str(value) if value else None


def _decode_lines(raw: IO[bytes]) -> Iterator[str]:
    text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline="")
    try:
        yield from text
    finally:
        text.detach()  # leave the file open: the caller still reads its position


# ---------------------------------------------------------------------------------- parsers


def _spotify_item(where: str, item) -> Row:
    if not isinstance(item, dict):
        return Row(where, skip="malformed", reason="not an object")
    if item.get("episode_name") or item.get("spotify_episode_uri") or item.get("episode_show_name"):
        return Row(where, skip="podcast", reason="podcast episode")
    track = item.get("master_metadata_track_name")
    artist = item.get("master_metadata_album_artist_name")
    if not track or not artist:
        if item.get("audiobook_title") or item.get("audiobook_uri"):
            return Row(where, skip="podcast", reason="audiobook")
        return Row(where, skip="malformed", reason="no track name or artist name")
    try:
        ms = int(item.get("ms_played") or 0)
        ended = _iso(item["ts"])
    except (KeyError, TypeError, ValueError) as exc:
        return Row(where, skip="malformed", reason=f"bad ts or ms_played: {exc}")
    if ms < MIN_SPOTIFY_MS:
        return Row(where, skip="short", reason="played under 30 seconds")
    uri = item.get("spotify_track_uri") or ""
    return Row(
        where,
        ListenRecord(
            artist=artist,
            track=track,
            album=item.get("master_metadata_album_album_name") or "",
            listened_at=(ended - timedelta(milliseconds=ms)).replace(microsecond=0),
            source="spotify",
            source_id=uri,
        ),
    )


def _lb_item(where: str, item, default_source: str = "listenbrainz") -> Row:
    if not isinstance(item, dict):
        return Row(where, skip="malformed", reason="not an object")
    meta = item.get("track_metadata")
    if not isinstance(meta, dict):
        return Row(where, skip="malformed", reason="no track_metadata")
    artist, track = _text(meta.get("artist_name")), _text(meta.get("track_name"))
    if not artist or not track:
        return Row(where, skip="malformed", reason="no artist_name or track_name")
    try:
        at = _ts(item.get("listened_at"))
    except (TypeError, ValueError) as exc:
        return Row(where, skip="malformed", reason=f"bad listened_at: {exc}")
    info = meta.get("additional_info") or {}
    if not isinstance(info, dict):
        info = {}
    if info.get("musictracker_listened_at"):  # our own export keeps sub-second precision
        with contextlib.suppress(ValueError):
            at = _iso(str(info["musictracker_listened_at"]))
    mapping = meta.get("mbid_mapping") or {}
    if not isinstance(mapping, dict):
        mapping = {}
    duration, number = info.get("duration"), info.get("tracknumber")
    try:  # a length or number that is not one is left out, not the listen
        if duration is None and info.get("duration_ms"):
            duration = int(info["duration_ms"]) // 1000
        duration = int(duration) if duration not in (None, "") else None
    except (TypeError, ValueError):
        duration = None
    try:
        number = int(number) if number not in (None, "") and str(number).isdigit() else None
    except (TypeError, ValueError):
        number = None
    source = info.get("musictracker_source") or default_source
    return Row(
        where,
        ListenRecord(
            artist=artist,
            track=track,
            album=_text(meta.get("release_name")),
            album_artist=_text(info.get("release_artist_name") or info.get("albumartist")),
            listened_at=at,
            duration=duration,
            artist_mbid=_mbid(info.get("artist_mbids") or mapping.get("artist_mbids")),
            album_mbid=_mbid(info.get("release_mbid") or mapping.get("release_mbid")),
            track_mbid=_mbid(info.get("recording_mbid") or mapping.get("recording_mbid")),
            track_number=number,
            source=str(source)[:16],
            source_id=str(info.get("musictracker_source_id") or "")[:100],
        ),
    )


def _lastfm_json_item(where: str, item) -> Row:
    if not isinstance(item, dict):
        return Row(where, skip="malformed", reason="not an object")
    if (item.get("@attr") or {}).get("nowplaying"):
        return Row(where, skip="malformed", reason="now playing, not a scrobble")
    artist, track = _text(item.get("artist")), _text(item.get("name"))
    if not artist or not track:
        return Row(where, skip="malformed", reason="no artist or track name")
    date = item.get("date") or {}
    try:
        at = _ts(date.get("uts")) if isinstance(date, dict) else _lastfm_date(str(date))
    except (TypeError, ValueError) as exc:
        return Row(where, skip="malformed", reason=f"bad date: {exc}")
    album = item.get("album") or {}
    artist_obj = item.get("artist") if isinstance(item.get("artist"), dict) else {}
    return Row(
        where,
        ListenRecord(
            artist=artist,
            track=track,
            album=_text(album),
            listened_at=at,
            artist_mbid=artist_obj.get("mbid") or None,
            album_mbid=(album.get("mbid") if isinstance(album, dict) else None) or None,
            track_mbid=item.get("mbid") or None,
            source="lastfm",
        ),
    )


JSON_BLOCK = 1 << 20  # characters of text read at a time
JSON_ITEM_MAX = 16 << 20  # an item that still fails with this much text after its start is broken
_DECODE = json.JSONDecoder().raw_decode
_SPACE = re.compile(r"[ \t\n\r]*")
_COMMA = re.compile(r"[ \t\n\r]*,[ \t\n\r]*")


def _refill(text: IO[str], buf: str, pos: int) -> tuple[str, int, bool]:
    """The text from `pos` on and at least as much again: (text, 0, at the end of the file)."""
    block = text.read(max(JSON_BLOCK, len(buf) - pos))
    return buf[pos:] + block, 0, not block


def _json_array(raw: IO[bytes]) -> Iterator[object]:
    """The items of the file's top-level JSON list, as a stream.

    Text is read a block at a time and each item decoded by the standard library's C decoder,
    with a third less CPU than ijson's item builder (median 0.26 s against 0.38 s for 47,000
    Spotify plays), work that the parser process does alongside the writer on two cores.
    Memory stays at a block plus one item. Raises ValueError where the JSON is not a list or
    breaks off; the items before it have been yielded."""
    text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline="")
    buf, pos, eof = "", 0, False
    try:
        while True:  # up to the list's first item
            pos = _SPACE.match(buf, pos).end()
            if pos < len(buf) or eof:
                break
            buf, pos, eof = _refill(text, buf, pos)
        if buf[pos : pos + 1] != "[":
            raise ValueError("the file is not a JSON list")
        expect_item, pos = True, pos + 1
        while True:
            if expect_item:  # where an item or the list's end may be
                pos = _SPACE.match(buf, pos).end()
                if pos == len(buf) and not eof:
                    buf, pos, eof = _refill(text, buf, pos)
                    continue
                if buf[pos : pos + 1] == "]":
                    return
                try:
                    item, end = _DECODE(buf, pos)
                except json.JSONDecodeError as exc:
                    if eof or len(buf) - pos >= JSON_ITEM_MAX:
                        cut = exc.pos >= len(buf) - 1 or exc.msg.startswith("Unterminated")
                        raise ValueError(
                            "the file ends inside an item (cut short?)" if cut else exc.msg
                        ) from None
                    buf, pos, eof = _refill(text, buf, pos)
                    continue
                if end + 2 >= len(buf) and not eof:  # a number may go on ("1.5e" + "-7")
                    buf, pos, eof = _refill(text, buf, pos)
                    continue
                yield item
                comma = _COMMA.match(buf, end)
                if comma is not None and comma.end() < len(buf):  # the usual case
                    pos = comma.end()
                    continue
                pos, expect_item = end, False
            # after an item: a comma or the list's end, maybe in the next block
            pos = _SPACE.match(buf, pos).end()
            if pos == len(buf) and not eof:
                buf, pos, eof = _refill(text, buf, pos)
                continue
            c = buf[pos : pos + 1]
            if c == "]":
                return
            if c != ",":
                raise ValueError(
                    f"expected ',' or ']' after an item, found {c!r}"
                    if c
                    else "the file ends inside the list"
                )
            pos, expect_item = pos + 1, True
    finally:
        text.detach()  # leave the file open: the caller still reads its position


class _Broken(str):
    """Why a JSON list broke off, yielded last by `_json_list`."""


def _json_list(raw: IO[bytes]) -> Iterator[object]:
    """The items of `_json_array`, then, if the JSON breaks off, the reason as a `_Broken`."""
    items = _json_array(raw)
    while True:
        try:
            item = next(items)
        except StopIteration:
            return
        except ValueError as exc:
            yield _Broken(exc)
            return
        yield item


def _json_items(raw: IO[bytes], make: Callable[[str, object], Row]) -> Iterator[Row]:
    for i, item in enumerate(_json_list(raw), 1):
        if isinstance(item, _Broken):
            yield Row(f"item {i}", skip="malformed", reason=f"invalid JSON, rest ignored: {item}")
        else:
            yield make(f"item {i}", item)


def _lastfm_json(raw: IO[bytes]) -> Iterator[Row]:
    """ghan.nl's JSON: a list of getRecentTracks pages ({"track": [...]}), or of tracks."""
    n = 0
    for item in _json_list(raw):
        if isinstance(item, _Broken):
            yield Row(
                f"item {n + 1}", skip="malformed", reason=f"invalid JSON, rest ignored: {item}"
            )
            continue  # (the last item)
        tracks = item.get("track") if isinstance(item, dict) else None
        if isinstance(tracks, list):
            for t in tracks:
                n += 1
                yield _lastfm_json_item(f"item {n}", t)
        else:
            n += 1
            yield _lastfm_json_item(f"item {n}", item)


def _jsonl(raw: IO[bytes], make=_lb_item, name: str = "") -> Iterator[Row]:
    prefix = f"{name} " if name else ""
    for n, line in enumerate(_decode_lines(raw), 1):
        line = line.strip()
        if not line:
            continue
        where = f"{prefix}line {n}"
        try:
            item = json.loads(line)
        except ValueError as exc:
            yield Row(where, skip="malformed", reason=f"invalid JSON: {exc}")
            continue
        yield make(where, item)


def _csv_rows(raw: IO[bytes]) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(_decode_lines(raw))
    for row in reader:
        if row and any(c.strip() for c in row):
            yield reader.line_num, row


def _lastfm_csv(raw: IO[bytes]) -> Iterator[Row]:
    """artist,album,track,date — the header is optional."""
    for n, row in _csv_rows(raw):
        where = f"line {n}"
        if n == 1 and [c.strip().lower() for c in row[:4]] == ["artist", "album", "track", "date"]:
            continue
        if len(row) < 4:
            yield Row(where, skip="malformed", reason=f"{len(row)} columns, 4 expected")
            continue
        artist, album, track, date = (c.strip() for c in row[:4])
        if not artist or not track:
            yield Row(where, skip="malformed", reason="no artist or track")
            continue
        try:
            at = _lastfm_date(date)
        except ValueError:
            yield Row(where, skip="malformed", reason=f"unreadable date {date!r}")
            continue
        yield Row(
            where,
            ListenRecord(artist=artist, track=track, album=album, listened_at=at, source="lastfm"),
        )


def _header_csv(raw: IO[bytes], make: Callable[[str, dict], Row]) -> Iterator[Row]:
    header = None
    for n, row in _csv_rows(raw):
        if header is None:
            header = [c.strip().lower() for c in row]
            continue
        if len(row) != len(header):
            yield Row(
                f"line {n}", skip="malformed", reason=f"{len(row)} columns, {len(header)} expected"
            )
            continue
        yield make(f"line {n}", dict(zip(header, row, strict=True)))


def _ghan_row(where: str, d: dict) -> Row:
    artist, track = d.get("artist", "").strip(), d.get("track", "").strip()
    if not artist or not track:
        return Row(where, skip="malformed", reason="no artist or track")
    try:
        at = _ts(d["uts"]) if d.get("uts") else _lastfm_date(d.get("utc_time", ""))
    except ValueError as exc:
        return Row(where, skip="malformed", reason=f"bad date: {exc}")
    return Row(
        where,
        ListenRecord(
            artist=artist,
            track=track,
            album=d.get("album", "").strip(),
            listened_at=at,
            artist_mbid=d.get("artist_mbid") or None,
            album_mbid=d.get("album_mbid") or None,
            track_mbid=d.get("track_mbid") or None,
            source="lastfm",
        ),
    )


def _own_csv_row(where: str, d: dict) -> Row:
    artist, track = d.get("artist", ""), d.get("track", "")
    if not artist.strip() or not track.strip():
        return Row(where, skip="malformed", reason="no artist or track")
    try:
        at = _iso(d["listened_at"]) if d.get("listened_at") else _ts(d.get("uts"))
        duration = int(d["duration"]) if d.get("duration") else None
    except ValueError as exc:
        return Row(where, skip="malformed", reason=f"bad value: {exc}")
    return Row(
        where,
        ListenRecord(
            artist=artist,
            track=track,
            album=d.get("album", ""),
            album_artist=d.get("album_artist", ""),
            listened_at=at,
            duration=duration,
            artist_mbid=d.get("artist_mbid") or None,
            album_mbid=d.get("release_mbid") or None,
            track_mbid=d.get("recording_mbid") or None,
            source=(d.get("source") or "import")[:16],
            source_id=d.get("source_id", "")[:100],
        ),
    )


def _zip(raw: IO[bytes]) -> Iterator[Row]:
    """ListenBrainz's export (listens/YYYY/M.jsonl, or an older listens.json) or Spotify's
    my_spotify_data.zip; the members are read one at a time, as streams."""
    with zipfile.ZipFile(raw) as archive:
        names = sorted(archive.namelist(), key=_member_order)
        for name in names:
            base = name.rsplit("/", 1)[-1]
            lower = name.lower()
            with archive.open(name) as member:
                if base.startswith("Streaming_History_Audio") and lower.endswith(".json"):
                    yield from _json_items(
                        member, lambda w, i, n=name: _spotify_item(f"{n} {w}", i)
                    )
                elif lower.endswith(".jsonl") and ("listens" in lower):
                    yield from _jsonl(member, name=name)
                elif lower.endswith("listens.json"):
                    yield from _json_items(member, lambda w, i, n=name: _lb_item(f"{n} {w}", i))


def _member_order(name: str):
    parts = []
    for p in name.replace(".jsonl", "").replace(".json", "").split("/"):
        parts.append((0, int(p), "") if p.isdigit() else (1, 0, p))
    return parts


def detect_format(path: Path) -> str:
    """Which of FORMATS a file is, from its name and first bytes; ImportFormatError if none."""
    name = path.name.lower()
    with open(path, "rb") as f:
        head = f.read(4096)
    if head[:4] == b"PK\x03\x04":
        return "listenbrainz_zip"
    text = head.decode("utf-8-sig", errors="replace").lstrip()
    if text.startswith("["):
        first = _first_json_item(path)
        if isinstance(first, dict):
            if "ms_played" in first or "master_metadata_track_name" in first:
                return "spotify"
            if "track_metadata" in first:
                return "listenbrainz_json"
            if isinstance(first.get("track"), list) or "date" in first or "artist" in first:
                return "lastfm_json"
        if first is None and name.startswith("streaming_history"):
            return "spotify"
        raise ImportFormatError("a JSON list, but not of Spotify, Last.fm or ListenBrainz listens")
    if text.startswith("{"):
        if "track_metadata" in text.split("\n", 1)[0] or name.endswith(".jsonl"):
            return "listenbrainz_jsonl"
        raise ImportFormatError("a JSON object, but not a ListenBrainz listen per line")
    first_line = text.split("\n", 1)[0].strip().lower()
    cols = [c.strip().strip('"') for c in first_line.split(",")]
    if cols[:3] == ["listened_at", "uts", "artist"]:
        return "musictracker_csv"
    if "uts" in cols and "artist" in cols and "track" in cols:
        return "ghan_csv"
    if len(next(csv.reader([first_line]), [])) >= 4:
        return "lastfm_csv"
    raise ImportFormatError("not a file we can import (JSON, JSONL, CSV or ZIP)")


def _first_json_item(path: Path):
    with open(path, "rb") as f:
        try:
            return next(_json_array(f), None)
        except ValueError:
            return None


PARSERS: dict[str, Callable[[IO[bytes]], Iterator[Row]]] = {
    "spotify": lambda raw: _json_items(raw, _spotify_item),
    "lastfm_csv": _lastfm_csv,
    "ghan_csv": lambda raw: _header_csv(raw, _ghan_row),
    "lastfm_json": _lastfm_json,
    "listenbrainz_zip": _zip,
    "listenbrainz_json": lambda raw: _json_items(raw, _lb_item),
    "listenbrainz_jsonl": _jsonl,
    "musictracker_csv": lambda raw: _header_csv(raw, _own_csv_row),
}


def read_rows(path: Path, fmt: str | None = None) -> Iterator[Row]:
    """Every row of the file, as a stream."""
    fmt = fmt or detect_format(path)
    with open(path, "rb") as raw:
        yield from PARSERS[fmt](raw)


def _pack(row: Row) -> tuple:
    """A row as plain values for the pipe: a record's fields, or (where, skip, reason)."""
    r = row.record
    if r is None:
        return (row.where, row.skip, row.reason)
    return (
        r.artist,
        r.track,
        r.listened_at,
        r.album,
        r.album_artist,
        r.duration,
        r.artist_mbid,
        r.album_mbid,
        r.track_mbid,
        r.track_number,
        r.source,
        r.source_id,
        r.album_image_url,
    )


def _unpack(values: tuple) -> Row:
    if len(values) == 3:
        return Row(values[0], skip=values[1], reason=values[2])
    return Row("", ListenRecord(*values))


def parse_to(out: IO[bytes], fmt: str, path: Path) -> None:
    """The parser process's work (`python -m tracking.formats`): every row of the file as
    pickled chunks of plain tuples with the position after each, then None; a failure is sent
    as ("error", exception) after the rows before it."""

    with open(path, "rb") as raw:
        rows = PARSERS[fmt](raw)
        buffer: list[tuple] = []
        position = 0
        try:
            for row in rows:
                buffer.append(_pack(row))
                if len(buffer) >= CHUNK:
                    position = raw.tell()
                    pickle.dump((buffer, position), out, protocol=pickle.HIGHEST_PROTOCOL)
                    buffer = []
            pickle.dump((buffer, raw.tell()), out, protocol=pickle.HIGHEST_PROTOCOL)
            pickle.dump(None, out)
        except Exception as exc:  # noqa: BLE001  (handed to the importer, raised there)
            pickle.dump((buffer, position), out, protocol=pickle.HIGHEST_PROTOCOL)
            try:
                message = pickle.dumps(("error", exc), protocol=pickle.HIGHEST_PROTOCOL)
            except Exception:  # noqa: BLE001  (an exception that cannot travel: its text can)
                message = pickle.dumps(("error", RuntimeError(f"{type(exc).__name__}: {exc}")))
            out.write(message)
    out.flush()


if __name__ == "__main__":  # the importer's parser process
    parse_to(sys.stdout.buffer, sys.argv[1], Path(sys.argv[2]))
