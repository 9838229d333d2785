"""File imports of listening history: Spotify, Last.fm, ListenBrainz and Music Tracker's own export.

Every format is read as a stream (ijson for JSON arrays, line by line for JSONL and CSV, members
of a ZIP one at a time), turned into ListenRecords and handed to `tracking.listens.ingest` in
batches of 5,000 with one Catalogue for the whole file, so memory stays bounded whatever the size.

Each parser yields `Row`s: a record, or the reason the row was left out (a malformed row, a play
under 30 seconds, a podcast). The importer counts them, keeps the first `REPORT_LIMIT` reasons
with their line in `Job.report`, and stores in `Job.state["rows"]` how many rows are done, so an
interrupted import resumes there (and a re-run of a finished file adds nothing: the writer's
unique constraint and cross-source window drop what is already stored).

Formats (detected from the name and the first bytes):
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
import logging
import os
import queue
import threading
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

import ijson
from django.utils import timezone

from collection.catalogue import Catalogue, ListenRecord
from musictracker.db import bulk_writes
from musictracker.models import Job
from tracking.listens import RecordResult, ingest

log = logging.getLogger(__name__)

# Listens per transaction: at import speed about half a second of writing, short enough for the
# poller and the web server to wait for, long enough that each batch's rollup rows add up.
BATCH = 10_000
REPORT_LIMIT = 1000
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


class ImportFormatError(ValueError):
    """The file is not one of the formats we read."""


@dataclass(slots=True)
class Row:
    where: str  # "line 12", "item 3", "listens/2021/3.jsonl line 4"
    record: ListenRecord | None = None
    skip: str = ""  # "malformed", "short", "podcast"
    reason: str = ""


@dataclass
class ImportResult:
    format: str = ""
    rows: int = 0
    added: int = 0
    duplicates: int = 0
    malformed: int = 0
    short: int = 0
    podcasts: int = 0
    report: list[dict] = field(default_factory=list)

    @property
    def skipped(self) -> int:
        return self.duplicates + self.malformed + self.short + self.podcasts

    def summary(self) -> str:
        return (
            f"{self.added} added, {self.duplicates} already there, {self.short} under 30 s,"
            f" {self.podcasts} podcast episodes, {self.malformed} malformed"
        )


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
    duration = info.get("duration")
    if duration is None and info.get("duration_ms"):
        duration = int(info["duration_ms"]) // 1000
    try:
        duration = int(duration) if duration not in (None, "") else None
        number = info.get("tracknumber")
        number = int(number) if number not in (None, "") and str(number).isdigit() else None
    except (TypeError, ValueError):
        duration, number = None, None
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


def _json_items(raw: IO[bytes], make: Callable[[str, object], Row], prefix="item") -> Iterator[Row]:
    try:
        for i, item in enumerate(ijson.items(raw, prefix, use_float=True), 1):
            yield make(f"item {i}", item)
    except ijson.JSONError as exc:
        yield Row("end of file", skip="malformed", reason=f"invalid JSON, rest ignored: {exc}")


def _lastfm_json(raw: IO[bytes]) -> Iterator[Row]:
    """ghan.nl's JSON: a list of getRecentTracks pages ({"track": [...]}), or of tracks."""
    n = 0
    try:
        for item in ijson.items(raw, "item", use_float=True):
            tracks = item.get("track") if isinstance(item, dict) else None
            if isinstance(tracks, list):
                for t in tracks:
                    n += 1
                    yield _lastfm_json_item(f"item {n}", t)
            else:
                n += 1
                yield _lastfm_json_item(f"item {n}", item)
    except ijson.JSONError as exc:
        yield Row("end of file", skip="malformed", reason=f"invalid JSON, rest ignored: {exc}")


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
            for item in ijson.items(f, "item"):
                return item
        except ijson.JSONError:
            return None
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


# ---------------------------------------------------------------------------------- importer


def fingerprint(path: Path) -> str:
    st = os.stat(path)
    return f"{path.name}:{st.st_size}:{int(st.st_mtime)}"


def import_file(
    *,
    user,
    path: Path | str,
    job: Job | None = None,
    on_batch: Callable[[int, ImportResult], None] | None = None,
    enrich: bool = True,
) -> ImportResult:
    """Import one export file for `user`, resuming after `job.state["rows"]` rows if a job is
    given; progress (bytes read, counts, resume offset, report) is saved on the job per batch."""
    path = Path(path)
    fmt = detect_format(path)
    result = ImportResult(format=fmt)
    state = dict(job.state or {}) if job else {}
    resume = int(state.get("rows", 0)) if state.get("fingerprint") == fingerprint(path) else 0
    if job:
        result.report = list(job.report or []) if resume else []
        for name in ("added", "duplicates", "malformed", "short", "podcasts"):
            setattr(result, name, int(state.get(name, 0)) if resume else 0)
        job.status = Job.Status.RUNNING
        job.started_at = job.started_at or timezone.now()
        job.unit = "KB"
        job.total = max(1, path.stat().st_size // 1024)
        job.message = FORMATS[fmt]
        job.save()
    catalogue = Catalogue()
    batch: list[ListenRecord] = []
    with open(path, "rb") as raw, bulk_writes():
        position = 0

        def flush() -> None:
            if batch:
                r: RecordResult = ingest(user, batch, catalogue=catalogue, enrich=enrich)
                result.added += r.added
                result.duplicates += r.duplicates
                result.malformed += r.invalid
                batch.clear()
            if job:
                _save_progress(job, path, result, position)
            if on_batch:
                on_batch(position, result)

        # `position` is read by flush(), a closure over this loop's variable
        for row, position in _read_ahead(PARSERS[fmt](raw), raw):  # noqa: B007
            result.rows += 1
            if result.rows <= resume:
                continue
            if row.record is not None:
                batch.append(row.record)
                if len(batch) >= BATCH:
                    flush()
                continue
            if row.skip == "short":
                result.short += 1
            elif row.skip == "podcast":
                result.podcasts += 1
            else:
                result.malformed += 1
                if len(result.report) < REPORT_LIMIT:
                    result.report.append({"line": row.where, "reason": row.reason})
            if (result.rows - resume) % BATCH == 0 and not batch:
                flush()
        flush()
    if job:
        job.status = Job.Status.DONE
        job.finished_at = timezone.now()
        job.done = job.total or 0
        job.message = f"{FORMATS[fmt]}: {result.summary()}"
        job.save()
    return result


_END = object()


def _read_ahead(
    rows: Iterator[Row], raw: IO[bytes], chunk: int = 2000, depth: int = 4
) -> Iterator[tuple[Row, int]]:
    """The rows with the file position after their chunk, parsed a few chunks ahead in a thread.

    The writer spends much of an import inside SQLite, which releases the GIL; the parser
    (ijson's C code and the row conversion) runs meanwhile on the other core. Only the thread
    reads the file; the rows come out in order, and a parse error comes out where it happened."""
    out: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                out.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def parse() -> None:
        buffer: list[Row] = []
        position = 0
        try:
            for row in rows:
                buffer.append(row)
                if len(buffer) >= chunk:
                    position = raw.tell()
                    if not put((buffer, position)):
                        return
                    buffer = []
            put((buffer, raw.tell()))
            put(_END)
        except BaseException as exc:  # handed to the reader, raised after the rows before it
            if put((buffer, position)):
                put(exc)

    thread = threading.Thread(target=parse, name="import-parser", daemon=True)
    thread.start()
    try:
        while True:
            try:
                item = out.get(timeout=1)
            except queue.Empty:
                if thread.is_alive():
                    continue
                raise RuntimeError("the import's parser stopped without a word") from None
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            buffer, position = item
            for row in buffer:
                yield row, position
    finally:
        stop.set()
        thread.join(timeout=5)


def _save_progress(job: Job, path: Path, result: ImportResult, position: int) -> None:
    job.done = min(job.total or 0, position // 1024)
    job.added = result.added
    job.skipped = result.skipped
    job.report = result.report
    job.state = {
        "fingerprint": fingerprint(path),
        "path": str(path),
        "format": result.format,
        "rows": result.rows,
        "added": result.added,
        "duplicates": result.duplicates,
        "malformed": result.malformed,
        "short": result.short,
        "podcasts": result.podcasts,
    }
    job.save(update_fields=["done", "added", "skipped", "report", "state", "updated_at"])


def start_import(*, user, path: Path | str, label: str = "") -> Job:
    """A queued import job for a file already saved on disk (the task runs it)."""
    path = Path(path)
    return Job.objects.create(
        user=user,
        kind=Job.Kind.IMPORT,
        label=(label or path.name)[:200],
        unit="KB",
        state={"path": str(path), "fingerprint": fingerprint(path)},
    )


def resumable_job(*, user, path: Path) -> Job | None:
    """An unfinished import of this very file (same name, size and time), to continue."""
    fp = fingerprint(path)
    for job in (
        Job.objects.filter(user=user, kind=Job.Kind.IMPORT)
        .exclude(status=Job.Status.DONE)
        .order_by("-created_at")[:20]
    ):
        if (job.state or {}).get("fingerprint") == fp:
            return job
    return None
