"""Reads of a user's listens for the API and the exports: keyset pages on (listened_at, id).

(Kept apart from tracking/queries.py, which the Journal's work writes at the same time; the two
meet at merge.) No OFFSET and no COUNT(*): a page is one query, a range scan of the unique
(user, listened_at, track) index for the ids, then those rows with their joins and loved flags.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection
from django.utils.dateparse import parse_datetime

from collection.models import Album, Artist, Track
from musictracker.db import adapt_datetime
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


def _page_sql(where: str) -> str:
    """One query for a page: first the ids, from the listens index alone (a range scan in key
    order, `limit + 1` of them), then those rows with their track, artist and album, and whether
    the track is loved. Written out rather than built by the ORM: building and compiling the
    querysets cost 2 ms of CPU per page, five times the queries themselves (the API's hottest
    read). `CROSS JOIN` keeps the page of ids the outer loop in SQLite, whatever its statistics
    say (with the joins in one flat query it chose to scan the tracks table first, 3-5 s at 1M
    listens; with `id IN (…)` it scanned all listens on a small table); PostgreSQL reads it as a
    plain join. Plain SQL for SQLite and PostgreSQL alike."""
    q = connection.ops.quote_name
    listen, loved = q(Listen._meta.db_table), q(LovedTrack._meta.db_table)
    track, artist, album = (
        q(Track._meta.db_table),
        q(Artist._meta.db_table),
        q(Album._meta.db_table),
    )
    return (
        "SELECT l.id, l.listened_at, l.source, l.track_id, t.title, t.artist_credit, t.duration,"
        " l.artist_id, ar.name, l.album_id, al.title,"
        f" EXISTS (SELECT 1 FROM {loved} lt WHERE lt.user_id = %s AND lt.track_id = l.track_id)"
        f" FROM (SELECT p.id FROM {listen} p WHERE {where}"
        " ORDER BY p.listened_at DESC, p.id DESC LIMIT %s) page"
        f" CROSS JOIN {listen} l"
        f" INNER JOIN {track} t ON t.id = l.track_id"
        f" INNER JOIN {artist} ar ON ar.id = l.artist_id"
        f" LEFT OUTER JOIN {album} al ON al.id = l.album_id"
        " WHERE l.id = page.id"
        " ORDER BY l.listened_at DESC, l.id DESC"
    )


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
    where, params = ["p.user_id = %s"], [user.pk]
    if start is not None:
        where.append("p.listened_at >= %s")
        params.append(adapt_datetime(start))
    if end is not None:
        where.append("p.listened_at < %s")
        params.append(adapt_datetime(end))
    if artist_id is not None:
        where.append("p.artist_id = %s")
        params.append(artist_id)
    if album_id is not None:
        where.append("p.album_id = %s")
        params.append(album_id)
    if loved is not None:
        lt = connection.ops.quote_name(LovedTrack._meta.db_table)
        where.append(
            f"p.track_id {'' if loved else 'NOT '}IN"
            f" (SELECT lt.track_id FROM {lt} lt WHERE lt.user_id = %s)"
        )
        params.append(user.pk)
    if cursor:
        at, pk = decode_cursor(cursor)
        # A plain range on listened_at (which the unique index serves), then the tie-break: an
        # OR of the two conditions made SQLite scan every listen of the user (5 s at 1M).
        where.append("p.listened_at <= %s AND NOT (p.listened_at = %s AND p.id >= %s)")
        params += [adapt_datetime(at), adapt_datetime(at), pk]
    with connection.cursor() as c:
        c.execute(_page_sql(" AND ".join(where)), [user.pk, *params, limit + 1])
        rows = c.fetchall()
    more = len(rows) > limit
    items = [
        listen_item(
            {
                "id": r[0],
                "listened_at": _utc(r[1]),
                "source": r[2],
                "track_id": r[3],
                "track__title": r[4],
                "track__artist_credit": r[5],
                "track__duration": r[6],
                "artist_id": r[7],
                "artist__name": r[8],
                "album_id": r[9],
                "album__title": r[10],
            },
            loved=bool(r[11]),
        )
        for r in rows[:limit]
    ]
    nxt = encode_cursor(items[-1]["listened_at"], items[-1]["id"]) if more else None
    return ListensPage(items=items, next_cursor=nxt)


def _utc(value) -> datetime:
    """A timestamp read by a raw query as an aware UTC datetime (SQLite gives naive UTC, or text
    when its declared type is lost; PostgreSQL gives an aware one), as the ORM would."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


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
