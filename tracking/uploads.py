"""Uploaded export files: checked (size, kind), saved under data/uploads/, queued for import."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from musictracker import config
from musictracker.models import Job
from tracking.imports import FORMATS, ImportFormatError, detect_format, start_import

ALLOWED_SUFFIXES = (".json", ".jsonl", ".csv", ".zip")


class UploadError(ValueError):
    """The upload is refused; the message says why (and names the field: file)."""


def max_upload_bytes() -> int:
    return int(config.get("imports.max_upload_mb", 1024) or 1024) * 1024 * 1024


def upload_dir() -> Path:
    path = Path(settings.DATA_DIR) / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def save_upload(*, user, uploaded: UploadedFile) -> tuple[Path, str]:
    """Save an uploaded export; returns its path and detected format, or raises UploadError."""
    name = Path(uploaded.name or "upload").name
    if not name.lower().endswith(ALLOWED_SUFFIXES):
        raise UploadError("file: only .json, .jsonl, .csv and .zip exports can be imported")
    if uploaded.size and uploaded.size > max_upload_bytes():
        raise UploadError(f"file: larger than the limit of {max_upload_bytes() // 2**20} MB")
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name)[-120:]
    path = upload_dir() / f"{user.pk}-{uuid.uuid4().hex[:12]}-{safe}"
    with open(path, "wb") as out:
        for chunk in uploaded.chunks():
            out.write(chunk)
    try:
        fmt = detect_format(path)
    except (ImportFormatError, OSError) as exc:
        path.unlink(missing_ok=True)
        raise UploadError(f"file: {exc}")
    return path, fmt


def queue_import(*, user, path: Path, label: str = "") -> Job:
    """A job for the saved file, run by the worker after commit."""
    from django_q.tasks import async_task

    job = start_import(user=user, path=path, label=label or path.name.split("-", 2)[-1])
    transaction.on_commit(lambda: async_task("tracking.tasks.import_listens_file", job.pk))
    return job


def describe(fmt: str) -> str:
    return FORMATS.get(fmt, fmt)
