"""Reads of a user's listens for the API and the exports: keyset pages on (listened_at, id).

(Kept apart from tracking/queries.py, which the Journal's work writes at the same time; the two
meet at merge.) No OFFSET and no COUNT(*): a page is one range scan of the unique
(user, listened_at, track) index, then one query for those rows with their joins, and one for which of their tracks are loved.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from tracking.models import Listen, LovedTrack

PAGE_FIELDS = (
    "id",
    "listened_at",
    "source",
    "track_id",
    "track__title",
    "track__artist_credit",
    "track__duration",
    "artist_id",
    "artist__name",
    "album_id",
    "album__title",
)


class CursorError(ValueError):
    """The cursor is not one this API gave out."""


def encode_cursor(listened_at: datetime, pk: int) -> str:
    micros = int(listened_at.timestamp()) * 1_000_000 + listened_at.microsecond
    return f"{micros}_{pk}"


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        micros, pk = cursor.split("_", 1)
        at = datetime.fromtimestamp(int(micros) // 1_000_000, UTC).replace(
            microsecond=int(micros) % 1_000_000
        )
        return at, int(pk)
    except (ValueError, OverflowError, OSError):
        raise CursorError("cursor: not a cursor given by this API (expected <micros>_<id>)")


@dataclass
class ListensPage:
    items: list[dict]
    next_cursor: str | None


def listens_page(
    user,
    *,
    cursor: str | None = None,
    limit: int = 50,
    start: datetime | None = None,
    end: datetime | None = None,
    artist_id: int | None = None,
    album_id: int | None = None,
    loved: bool | None = None,
) -> ListensPage:
    """The user's listens, newest first, `limit` at a time; `start` inclusive, `end` exclusive."""
    qs = Listen.objects.filter(user=user)
    if start is not None:
        qs = qs.filter(listened_at__gte=start)
    if end is not None:
        qs = qs.filter(listened_at__lt=end)
    if artist_id is not None:
        qs = qs.filter(artist_id=artist_id)
    if album_id is not None:
        qs = qs.filter(album_id=album_id)
    loved_ids = LovedTrack.objects.filter(user=user).values("track_id")
    if loved is True:
        qs = qs.filter(track_id__in=loved_ids)
    elif loved is False:
        qs = qs.exclude(track_id__in=loved_ids)
    if cursor:
        at, pk = decode_cursor(cursor)
        # A plain range on listened_at (which the unique index serves), then the tie-break: an
        # OR of the two conditions made SQLite scan every listen of the user (5 s at 1M).
        qs = qs.filter(listened_at__lte=at).exclude(listened_at=at, id__gte=pk)
    # Two steps: the ids from the listens index alone, then those rows with their joins. With the
    # joins in one query SQLite chose to scan the tracks table first (3-5 s at 1M listens).
    ids = list(qs.order_by("-listened_at", "-id").values_list("id", flat=True)[: limit + 1])
    more = len(ids) > limit
    ids = ids[:limit]
    by_id = (
        {r["id"]: r for r in Listen.objects.filter(id__in=ids).values(*PAGE_FIELDS)} if ids else {}
    )
    rows = [by_id[i] for i in ids]
    if loved is None and rows:
        loves = set(
            LovedTrack.objects.filter(
                user=user, track_id__in={r["track_id"] for r in rows}
            ).values_list("track_id", flat=True)
        )
    else:
        loves = None
    items = [
        listen_item(r, loved=(r["track_id"] in loves) if loves is not None else bool(loved))
        for r in rows
    ]
    nxt = encode_cursor(rows[-1]["listened_at"], rows[-1]["id"]) if more else None
    return ListensPage(items=items, next_cursor=nxt)


EXPORT_FIELDS = (
    "id",
    "listened_at",
    "source",
    "source_id",
    "track__title",
    "track__artist_credit",
    "track__duration",
    "track__mbid",
    "artist__mbid",
    "album__title",
    "album__artist_credit",
    "album__mb_release_id",
    "album__mbid",
)


def listen_item(r: dict, *, loved: bool) -> dict:
    """One listen in the API's shape, from a `.values(*PAGE_FIELDS)` row (history and timeline)."""
    return {
        "id": r["id"],
        "listened_at": r["listened_at"],
        "source": r["source"],
        "track": {
            "id": r["track_id"],
            "title": r["track__title"],
            "artist_credit": r["track__artist_credit"],
            "duration": r["track__duration"],
        },
        "artist": {"id": r["artist_id"], "name": r["artist__name"]},
        "album": {"id": r["album_id"], "title": r["album__title"]} if r["album_id"] else None,
        "loved": loved,
    }


def listens_for_export(user, *, chunk: int = 5000) -> Iterator[dict]:
    """Every listen of the user, oldest first, read by keyset in chunks (bounded memory)."""
    last: tuple[datetime, int] | None = None
    while True:
        qs = Listen.objects.filter(user=user)
        if last:
            qs = qs.filter(listened_at__gte=last[0]).exclude(listened_at=last[0], id__lte=last[1])
        rows = list(qs.order_by("listened_at", "id").values(*EXPORT_FIELDS)[:chunk])
        if not rows:
            return
        yield from rows
        last = (rows[-1]["listened_at"], rows[-1]["id"])
