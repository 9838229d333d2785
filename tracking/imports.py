"""File imports of listening history: Spotify, Last.fm, ListenBrainz and Music Tracker's own export.

Every format is read as a stream (JSON arrays item by item, line by line for JSONL and CSV, members
of a ZIP one at a time), turned into ListenRecords and handed to `tracking.listens.ingest` in
batches of 10,000 with one Catalogue for the whole file, so memory stays bounded whatever the size.

Each parser yields `Row`s: a record, or the reason the row was left out (a malformed row, a play
under 30 seconds, a podcast). The importer counts them, keeps the first `REPORT_LIMIT` reasons
with their line in `Job.report`, and stores in `Job.state["rows"]` how many rows are done, so an
interrupted import resumes there (and a re-run of a finished file adds nothing: the writer's
unique constraint and cross-source window drop what is already stored).

The formats and their parsers are in `tracking.formats`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import threading
from collections import deque
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from django.utils import timezone

from collection.catalogue import Catalogue, ListenRecord, ResolvedListen, prepare
from musictracker.db import bulk_writes, meanwhile_work
from musictracker.models import Job
from tracking.formats import (  # noqa: F401  (the importer's public names, for its callers)
    CHUNK,
    EXPORT_CSV_HEADER,
    FORMATS,
    PARSERS,
    ImportFormatError,
    Row,
    _unpack,
    detect_format,
    read_rows,
)
from tracking.listens import RecordResult, ingest

log = logging.getLogger(__name__)

# Listens per transaction: at import speed about half a second of writing, short enough for the
# poller and the web server to wait for, long enough that each batch's rollup rows add up.
BATCH = 10_000
REPORT_LIMIT = 1000


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
    ready: list[ResolvedListen | None] = []  # what was matched of `batch` while waiting
    with open(path, "rb") as raw, bulk_writes():
        position = 0

        def flush() -> None:
            if batch:
                r: RecordResult = ingest(
                    user, batch, catalogue=catalogue, enrich=enrich, prepared=ready
                )
                result.added += r.added
                result.duplicates += r.duplicates
                result.malformed += r.invalid
                batch.clear()
                ready.clear()
            if job:
                _save_progress(job, path, result, position)
            if on_batch:
                on_batch(position, result)

        # `position` is read by flush(), a closure over this loop's variable
        if path.stat().st_size >= PROCESS_PARSE_BYTES:
            chunks = _parsed_in_process(fmt, path)
        else:
            chunks = _chunks(PARSERS[fmt](raw), raw)
        rows = _Ahead(_read_ahead(chunks), catalogue, BATCH)
        with contextlib.closing(rows), meanwhile_work(rows.step):
            for row, position, prepared in rows:  # noqa: B007
                result.rows += 1
                if result.rows <= resume:
                    continue
                if row.record is not None:
                    batch.append(row.record)
                    ready.append(prepared)
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
# Files from this size up are parsed in a process of their own (below: a thread).
PROCESS_PARSE_BYTES = 16 * 1024 * 1024


def _chunks(rows: Iterator[Row], raw: IO[bytes], chunk: int = CHUNK) -> Iterator[tuple[list, int]]:
    """The rows in lists of `chunk`, each with the file position after it; a parse error comes
    after the rows read before it."""
    buffer: list[Row] = []
    position = 0
    try:
        for row in rows:
            buffer.append(row)
            if len(buffer) >= chunk:
                position = raw.tell()
                yield buffer, position
                buffer = []
    except Exception:
        yield buffer, position
        raise
    yield buffer, raw.tell()


def _parsed_in_process(fmt: str, path: Path) -> Iterator[tuple[list, int]]:
    """The file's rows in chunks, parsed by a child process.

    A thread could not do this work alongside the writer: parsing is Python code, and two
    threads of Python code take turns on one core, so every batch's matching and bookkeeping
    waited for the parser (a 500,000-play export took 39 s, 25 s with the file parsed
    beforehand). The child only reads the file and pickles plain tuples; it needs no database."""
    import pickle
    import subprocess
    import sys
    import tempfile

    with tempfile.TemporaryFile() as errors:
        child = subprocess.Popen(
            [sys.executable, "-m", "tracking.formats", fmt, str(path)],
            stdout=subprocess.PIPE,
            stderr=errors,
            cwd=Path(__file__).resolve().parents[1],
        )
        try:
            while True:
                try:
                    item = pickle.load(child.stdout)
                except EOFError:
                    child.wait()
                    errors.seek(0)
                    text = errors.read().decode("utf-8", "replace").strip().splitlines()
                    raise RuntimeError(
                        "the import's parser stopped without a word"
                        + (f": {text[-1]}" if text else f" (exit status {child.returncode})")
                    ) from None
                if item is None:
                    return
                if item[0] == "error":
                    raise item[1]
                values, position = item
                yield [_unpack(v) for v in values], position
        finally:
            if child.poll() is None:
                child.kill()
            child.stdout.close()
            child.wait()


def _read_ahead(chunks: Iterator[tuple[list, int]], depth: int = 6) -> Iterator[tuple[Row, int]]:
    """The rows with the file position after their chunk, read a few chunks ahead in a thread.

    The writer spends much of an import inside SQLite, which releases the GIL; the chunks are
    read meanwhile. Only the thread touches the source; the rows come out in order, and a parse
    error comes out where it happened."""
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

    def read() -> None:
        try:
            for item in chunks:
                if not put(item):
                    return
            put(_END)
        except BaseException as exc:  # handed to the reader, raised after the rows before it
            put(exc)
        finally:
            with contextlib.suppress(Exception):
                chunks.close()

    thread = threading.Thread(target=read, name="import-parser", daemon=True)
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


class _Ahead:
    """The rows with the file position after their chunk, some read ahead while the writer
    waits for SQLite (`step`, run by `meanwhile_work`): the plays of tracks the import has
    already matched come with their match (`prepare`), so that work is off the next batch's
    road. Rows come out in order, each with its match or None, and an error of the parser
    comes out where it happened."""

    STEP = 500  # rows per piece of work done while waiting

    def __init__(self, rows: Generator[tuple[Row, int]], catalogue: Catalogue, limit: int):
        self.rows, self.catalogue, self.limit = rows, catalogue, limit
        self.buffer: deque[tuple[Row, int, ResolvedListen | None]] = deque()
        self.end: object = None  # once read to the end: _END, or the parser's error

    def __iter__(self) -> Iterator[tuple[Row, int, ResolvedListen | None]]:
        while True:
            if self.buffer:
                yield self.buffer.popleft()
            elif self.end is _END:
                return
            elif isinstance(self.end, BaseException):
                raise self.end
            else:
                try:
                    row, position = next(self.rows)
                except StopIteration:
                    return
                yield row, position, None

    def close(self) -> None:
        """Stop the reading at once (on an error the traceback keeps this object alive)."""
        self.buffer.clear()
        self.rows.close()

    def step(self) -> bool:
        """Read up to STEP more rows ahead and match what memory can; False once there is
        nothing more to do (the rows ended, or `limit` are waiting)."""
        if self.end is not None or len(self.buffer) >= self.limit:
            return False
        taken: list[tuple[Row, int]] = []
        try:
            for _ in range(self.STEP):
                taken.append(next(self.rows))
        except StopIteration:
            self.end = _END
        except Exception as exc:  # noqa: BLE001  (raised by __iter__, after the rows before it)
            self.end = exc
        matched = iter(
            prepare([r.record for r, _ in taken if r.record is not None], self.catalogue)
        )
        for row, position in taken:
            self.buffer.append((row, position, next(matched) if row.record is not None else None))
        return self.end is None


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
