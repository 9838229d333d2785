"""Backups: a consistent, gzip-compressed copy of the database taken while the app runs, and a
checked restore.

SQLite: the online backup API copies pages under the database's own locking, so a backup taken
during an import holds every transaction committed before it began, and none half-written. The
copy goes to a temporary file first and is renamed into place only once complete, so a full disk
leaves a clear error and the live database untouched. PostgreSQL: `pg_dump --format=custom`.
"""

from __future__ import annotations

import gzip
import logging
import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.db import connection

log = logging.getLogger(__name__)


class BackupError(Exception):
    """A backup or restore could not be done; the message says why and what to do."""


@dataclass
class BackupResult:
    path: Path
    size: int
    removed: list[Path]


def backup_dir() -> Path:
    path = Path(settings.DATA_DIR) / "backups"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _is_sqlite() -> bool:
    return connection.vendor == "sqlite"


def backup_db(*, keep: int | None = None, directory: Path | None = None) -> BackupResult:
    """Write `musique-YYYYmmdd-HHMMSS.<db|dump>.gz` and keep only the newest `keep` backups."""
    from musictracker import config

    directory = Path(directory or backup_dir())
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    suffix = "db" if _is_sqlite() else "dump"
    final = directory / f"musique-{stamp}.{suffix}.gz"
    fd, tmp_name = tempfile.mkstemp(prefix=".backup-", suffix=".part", dir=directory)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        if _is_sqlite():
            _sqlite_backup_to(tmp)
        else:
            _pg_dump_to(tmp)
        os.replace(tmp, final)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if exc.errno in (27, 28):  # EFBIG (a size quota), ENOSPC (a full disk)
            raise BackupError(
                f"The disk holding {directory} is full (or refuses writes): no backup was written and "
                "the database is untouched. Free some space (or move data/backups) and try again."
            ) from None
        raise BackupError(
            f"The backup could not be written to {directory}: {exc.strerror or exc}."
        ) from None
    except BackupError:
        tmp.unlink(missing_ok=True)
        raise
    removed = prune(
        keep=int(keep if keep is not None else config.get("backups.keep", 14)), directory=directory
    )
    log.info("backup written path=%s size=%d removed=%d", final, final.stat().st_size, len(removed))
    return BackupResult(path=final, size=final.stat().st_size, removed=removed)


def _sqlite_backup_to(target: Path) -> None:
    source_path = settings.DATABASES["default"]["NAME"]
    with tempfile.TemporaryDirectory(dir=target.parent) as work:
        raw = Path(work) / "copy.db"
        src = sqlite3.connect(str(source_path), timeout=30)
        dst = sqlite3.connect(str(raw))
        try:
            # Copying in steps lets writers proceed between them; a write restarts the copy.
            src.backup(dst, pages=4096)
        except sqlite3.OperationalError as exc:
            # SQLite reports a destination that cannot grow as "database or disk is full" or,
            # under a file-size quota, as "disk I/O error": both mean the copy cannot be written.
            if "full" in str(exc).lower() or "disk i/o" in str(exc).lower():
                raise OSError(28, "No space left on device") from None
            raise BackupError(f"SQLite could not copy the database: {exc}.") from None
        finally:
            dst.close()
            src.close()
        with open(raw, "rb") as fin, gzip.open(target, "wb", compresslevel=6) as fout:
            shutil.copyfileobj(fin, fout, length=1024 * 1024)


def _pg_connection() -> tuple[list[str], dict]:
    """pg_dump's and pg_restore's connection arguments (server, port, user) and environment
    (the password, never on the command line)."""
    db = settings.DATABASES["default"]
    env = {**os.environ, "PGPASSWORD": str(db.get("PASSWORD") or "")}
    args = ["-h", str(db.get("HOST") or "localhost"), "-p", str(db.get("PORT") or 5432)]
    return [*args, "-U", str(db.get("USER") or "")], env


def _pg_dump_to(target: Path) -> None:
    args, env = _pg_connection()
    cmd = [
        "pg_dump",
        "--format=custom",
        "--no-owner",
        *args,
        str(settings.DATABASES["default"]["NAME"]),
    ]
    try:
        with gzip.open(target, "wb", compresslevel=6) as fout:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
            shutil.copyfileobj(proc.stdout, fout, length=1024 * 1024)
            _, err = proc.communicate()
    except FileNotFoundError:
        raise BackupError(
            "pg_dump is not installed: install the PostgreSQL client tools."
        ) from None
    if proc.returncode != 0:
        raise BackupError(f"pg_dump failed: {err.decode(errors='replace').strip()[:500]}")


def prune(*, keep: int, directory: Path | None = None) -> list[Path]:
    directory = Path(directory or backup_dir())
    backups = sorted(directory.glob("musique-*.gz"), reverse=True)
    removed = backups[max(keep, 1) :]
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


def restore_db(path: Path) -> Path:
    """Check a backup, keep a copy of the current database, then put the backup in its place.
    Returns the path of the kept copy. Stop the web server and the worker first."""
    path = Path(path)
    if not path.exists():
        raise BackupError(f"No such backup: {path}")
    if not _is_sqlite():
        return _pg_restore(path)
    live = Path(settings.DATABASES["default"]["NAME"])
    with tempfile.TemporaryDirectory(dir=live.parent) as work:
        candidate = Path(work) / "restore.db"
        try:
            opener = gzip.open if path.suffix == ".gz" else open
            with opener(path, "rb") as fin, open(candidate, "wb") as fout:
                shutil.copyfileobj(fin, fout, length=1024 * 1024)
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            raise BackupError(f"{path.name} is not a readable backup: {exc}.") from None
        check_integrity(candidate)
        connection.close()
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        kept = backup_dir() / f"before-restore-{stamp}.db"
        if live.exists():
            src = sqlite3.connect(str(live), timeout=30)
            dst = sqlite3.connect(str(kept))
            try:
                src.backup(dst)
            finally:
                dst.close()
                src.close()
        for extra in (Path(f"{live}-wal"), Path(f"{live}-shm")):
            extra.unlink(missing_ok=True)
        os.replace(candidate, live)
    log.info("database restored from=%s previous_copy=%s", path, kept)
    return kept


def check_integrity(db_path: Path) -> None:
    try:
        con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        try:
            result = con.execute("PRAGMA integrity_check").fetchone()[0]
            tables = {
                r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"The backup is not an SQLite database: {exc}.") from None
    if result != "ok":
        raise BackupError(f"The backup fails SQLite's integrity check: {result}.")
    if "tracking_listen" not in tables:
        raise BackupError("The backup holds no Music Tracker tables.")


def _pg_restore(path: Path) -> Path:
    kept = backup_db(keep=10_000).path
    args, env = _pg_connection()
    name = str(settings.DATABASES["default"]["NAME"])
    with gzip.open(path, "rb") as fin:
        proc = subprocess.run(
            ["pg_restore", "--clean", "--if-exists", "--no-owner", *args, "-d", name],
            stdin=fin,
            capture_output=True,
            env=env,
        )
    if proc.returncode != 0:
        raise BackupError(f"pg_restore failed: {proc.stderr.decode(errors='replace')[:500]}")
    return kept
