"""The catalogue resolver: turns ListenRecords from any source into artist, album and track ids.

Every path that brings music in (Last.fm poll and backfill, file imports, the ListenBrainz
endpoint, manual listens, the Discogs sync, demo data) goes through `resolve`. It works in
batches: names are normalized once, looked up with one query per kind per batch, and what is
missing is bulk-created, so the cost per listen is a few dictionary look-ups. A `Catalogue`
object carries its maps from batch to batch, so a long import never asks twice about one name.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from collection.models import Album, AlbumArtist, Artist, ArtistAlias, Track, TrackArtist
from collection.normalize import featured_in_title, name_key, search_key, split_credit
from collection.records import ListenRecord
from musictracker.db import insert_many

CHUNK = 500


@dataclass(slots=True)
class ResolvedListen:
    track_id: int
    artist_id: int
    album_id: int | None
    artist_ids: tuple[int, ...]  # every credited artist: featured ones count for themselves too
    duration: int | None
    listened_at: datetime
    source: str
    source_id: str = ""


@dataclass(slots=True)
class TrackInfo:
    id: int
    artist_id: int
    album_id: int | None
    artist_ids: tuple[int, ...]
    duration: int | None

    def listen(self, r: ListenRecord) -> ResolvedListen:
        """A play of this track."""
        return ResolvedListen(
            track_id=self.id,
            artist_id=self.artist_id,
            album_id=self.album_id,
            artist_ids=self.artist_ids,
            duration=self.duration,
            listened_at=r.listened_at,
            source=r.source,
            source_id=r.source_id,
        )


@dataclass
class Catalogue:
    """Maps from normalized keys to ids, kept across the batches of one job."""

    artists: dict[str, int] = field(default_factory=dict)  # name key → id (aliases included)
    known_whole: set[str] = field(default_factory=set)  # keys of credits known as one artist
    unknown_whole: set[str] = field(default_factory=set)
    artist_mbids: dict[str, int] = field(default_factory=dict)
    albums: dict[str, int] = field(default_factory=dict)  # match key → id
    tracks: dict[str, TrackInfo] = field(default_factory=dict)  # match key → info
    credits: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    # The names exactly as a source spelt them (artist, album artist, album, title) → track match
    # key: a play of a track already seen in this job skips normalization and splitting.
    spelled: dict[tuple[str, str, str, str], str] = field(default_factory=dict)
    new_artist_ids: set[int] = field(default_factory=set)
    new_album_ids: set[int] = field(default_factory=set)
    # Tracks whose duration this job learnt (track id → seconds): listens stored before the
    # duration was known are moved from "unknown" to "seconds" in the rollups by the writer.
    learnt_durations: dict[int, int] = field(default_factory=dict)

    def drain_new(self) -> tuple[list[int], list[int]]:
        """Ids created since the last call, for enrichment."""
        artists, albums = sorted(self.new_artist_ids), sorted(self.new_album_ids)
        self.new_artist_ids.clear()
        self.new_album_ids.clear()
        return artists, albums


def _chunks(items: Sequence, size: int = CHUNK) -> Iterable[Sequence]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _insert_ignore(model, rows: list[dict]) -> None:
    """`INSERT … ON CONFLICT DO NOTHING` of plain dicts (attname → value) without building model
    instances: Django's bulk_create spent most of an import's catalogue time on Model.__init__
    and per-value preparation. Unset fields get their default; UUIDs are adapted per backend."""
    if not rows:
        return
    given = list(rows[0])
    fields = {f.attname: f for f in model._meta.concrete_fields if not f.primary_key}
    consts = []
    for attname, f in fields.items():
        if attname in given:
            continue
        if getattr(f, "auto_now_add", False) or getattr(f, "auto_now", False):
            value = timezone.now()
        else:
            value = f.get_default()
        consts.append((f.column, f.get_db_prep_save(value, connection)))
    uuids = [i for i, a in enumerate(given) if isinstance(fields[a], models.UUIDField)]
    columns = [fields[a].column for a in given] + [c for c, _ in consts]
    tail = tuple(v for _, v in consts)
    qn = connection.ops.quote_name
    sql = f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(c) for c in columns)})"
    params = []
    for row in rows:
        values = [row[a] for a in given]
        for i in uuids:
            if values[i] is not None:
                values[i] = fields[given[i]].get_db_prep_save(values[i], connection)
        params.append((*values, *tail))
    # One statement per chunk on SQLite (`insert_many`): with `executemany` each row took the
    # GIL back, and waited for it while the importer's reader thread held it.
    for chunk in _chunks(params, 2000):
        insert_many(sql, len(columns), chunk, "ON CONFLICT DO NOTHING")


def _valid_uuid(value: str | None) -> uuid.UUID | None:
    if not value:
        return None
    try:
        return uuid.UUID(str(value).strip())
    except ValueError:
        return None


def _load_artist_keys(cat: Catalogue, keys: set[str]) -> None:
    keys = {k for k in keys if k and k not in cat.artists}
    if not keys:
        return
    ordered = sorted(keys)
    for chunk in _chunks(ordered):
        for key, pk in Artist.objects.filter(name_key__in=chunk).values_list("name_key", "pk"):
            cat.artists[key] = pk
        for key, pk in ArtistAlias.objects.filter(name_key__in=chunk).values_list(
            "name_key", "artist_id"
        ):
            cat.artists.setdefault(key, pk)


def _credit(cat: Catalogue, credit: str) -> list[tuple[str, str]]:
    parts = cat.credits.get(credit)
    if parts is None:
        whole = name_key(credit)
        parts = split_credit(credit, known={whole} if whole in cat.artists else set())
        cat.credits[credit] = parts
    return parts


def ensure_artists(cat: Catalogue, names: dict[str, tuple[str, uuid.UUID | None]]) -> None:
    """Create the artists in `names` (key → (display name, mbid)) that do not exist yet."""
    _load_artist_keys(cat, set(names))
    mbids = {m for _, m in names.values() if m}
    if mbids:
        for mbid, pk in Artist.objects.filter(mbid__in=list(mbids)).values_list("mbid", "pk"):
            cat.artist_mbids[str(mbid)] = pk
    missing = {}
    for key, (display, mbid) in names.items():
        if key in cat.artists:
            continue
        if mbid and str(mbid) in cat.artist_mbids:
            cat.artists[key] = cat.artist_mbids[str(mbid)]
            continue
        missing[key] = {
            "name": display[:300],
            "name_key": key[:300],
            "search_key": search_key(display)[:300],
            "mbid": mbid,
        }
    if not missing:
        return
    # ON CONFLICT DO NOTHING: another writer may have created the same name (retries, races).
    _insert_ignore(Artist, list(missing.values()))
    before = set(cat.artists)
    _load_artist_keys(cat, set(missing))
    cat.new_artist_ids.update(
        cat.artists[k] for k in missing if k in cat.artists and k not in before
    )
    still = [k for k in missing if k not in cat.artists]
    for key in still:  # an mbid clash: the mbid belongs to an artist under another name
        art = Artist(**{**missing[key], "mbid": None})
        try:
            with transaction.atomic():
                art.save()
        except IntegrityError:
            art = Artist.objects.get(name_key=key)
        cat.artists[key] = art.pk
        cat.new_artist_ids.add(art.pk)


def resolve(
    records: Sequence[ListenRecord],
    cat: Catalogue | None = None,
    prepared: Sequence[ResolvedListen | None] | None = None,
) -> list[ResolvedListen | None]:
    """Match each record to (track, artist, album) ids, creating what is missing.

    Returns a list aligned with `records`; None where a record has no artist or no title.
    `prepared` (aligned with `records`, from `prepare` with the same catalogue) gives the
    records already matched; None in it: to match here.
    Must run inside a transaction (the caller's), so a failed batch leaves nothing half-made.
    """
    cat = cat if cat is not None else Catalogue()
    if prepared is not None and any(p is not None for p in prepared):
        rest = [i for i, p in enumerate(prepared) if p is None]
        matched = resolve([records[i] for i in rest], cat) if rest else []
        out = list(prepared)
        for i, listen in zip(rest, matched, strict=True):
            out[i] = listen
        if cat.learnt_durations:  # the prepared ones of a track whose length this batch learnt
            for listen in out:
                if listen is not None and listen.track_id in cat.learnt_durations:
                    listen.duration = cat.learnt_durations[listen.track_id]
        return out

    # 0. Plays of tracks this job has already matched need no normalization: only the others
    #    take the road below, and the answer is assembled for all of them at the end.
    track_key_of: list[str | None] = [None] * len(records)
    todo: list[int] = []
    spelled = cat.spelled
    for i, r in enumerate(records):
        key = spelled.get((r.artist, r.album_artist, r.album, r.track))
        if key is None:
            todo.append(i)
        else:
            track_key_of[i] = key
    if todo:
        # A batch's new tracks are often played more than once in it (half of the plays left
        # here, in a realistic export): each spelling is matched once. The first play of it
        # gives the new rows their details, as it would anyway; an artist's MusicBrainz id
        # may come with a later play, so it is part of the spelling here.
        first: dict[tuple, int] = {}
        for i in todo:
            r = records[i]
            first.setdefault((r.artist, r.album_artist, r.album, r.track, r.artist_mbid), i)
        unique = list(first.values())
        keys = dict(zip(unique, _track_keys([records[i] for i in unique], cat), strict=True))
        for i in todo:
            r = records[i]
            key = keys[first[(r.artist, r.album_artist, r.album, r.track, r.artist_mbid)]]
            track_key_of[i] = key
            if key is not None:
                spelled[(r.artist, r.album_artist, r.album, r.track)] = key
    return _resolved(records, track_key_of, cat)


def prepare(records: Sequence[ListenRecord], cat: Catalogue) -> list[ResolvedListen | None]:
    """The plays of tracks this job has already matched, resolved from memory alone (no
    database: an importer does it while SQLite writes the previous batch); None for the
    others, left to `resolve`, as are the plays that would teach a track its length."""
    spelled, tracks = cat.spelled, cat.tracks
    out: list[ResolvedListen | None] = []
    for r in records:
        key = spelled.get((r.artist, r.album_artist, r.album, r.track))
        info = tracks.get(key) if key is not None else None
        if info is None or (info.duration is None and r.duration):
            out.append(None)
            continue
        out.append(info.listen(r))
    return out


def _track_keys(records: Sequence[ListenRecord], cat: Catalogue) -> list[str | None]:
    """The match key of each record's track (None: no artist or no title), creating the
    artists, albums and tracks that do not exist yet; `cat.tracks` then holds every key."""
    # 1. Artists: whole credits first (so a known "Simon & Garfunkel" is not split), then parts.
    whole_keys = set()
    for r in records:
        for credit in (r.artist, r.album_artist):
            if credit and credit not in cat.credits:
                whole_keys.add(name_key(credit))
    _load_artist_keys(cat, whole_keys)

    wanted: dict[str, tuple[str, uuid.UUID | None]] = {}
    plans: list[tuple[list[tuple[str, str]], list[tuple[str, str]]] | None] = []
    for r in records:
        if not (r.artist or "").strip() or not (r.track or "").strip():
            plans.append(None)
            continue
        parts = list(_credit(cat, r.artist.strip()))
        for extra in featured_in_title(r.track):
            if all(name_key(extra) != name_key(n) for n, _ in parts):
                parts.append((extra, "featured"))
        album_parts = _credit(cat, r.album_artist.strip()) if r.album_artist.strip() else parts
        mbid = _valid_uuid(r.artist_mbid) if len(parts) == 1 else None
        for i, (name, _) in enumerate(parts):
            key = name_key(name)
            if key not in wanted or (i == 0 and mbid):
                wanted[key] = (name, mbid if i == 0 else None)
        for name, _ in album_parts:
            wanted.setdefault(name_key(name), (name, None))
        plans.append((parts, album_parts))
    ensure_artists(cat, wanted)

    # 2. Albums, keyed by their first artist and the edition-free title.
    album_rows: dict[str, tuple[ListenRecord, list[int]]] = {}
    album_key_of: list[str | None] = []
    for r, plan in zip(records, plans, strict=True):
        if plan is None or not (r.album or "").strip():
            album_key_of.append(None)
            continue
        album_artist_ids = [cat.artists[name_key(n)] for n, role in plan[1] if role == "main"]
        album_artist_ids = album_artist_ids or [cat.artists[name_key(plan[1][0][0])]]
        key = Album.key_for(album_artist_ids[0], r.album.strip())
        album_key_of.append(key)
        if key not in cat.albums and key not in album_rows:
            album_rows[key] = (r, album_artist_ids)
    if album_rows:
        _ensure_albums(cat, album_rows)

    # 3. Tracks, keyed by main artist, album and title.
    track_rows: dict[str, tuple[ListenRecord, list[tuple[int, str]], int | None]] = {}
    track_key_of: list[str | None] = []
    for r, plan, album_key in zip(records, plans, album_key_of, strict=True):
        if plan is None:
            track_key_of.append(None)
            continue
        credited = []
        for name, role in plan[0]:
            pk = cat.artists[name_key(name)]
            if all(pk != seen for seen, _ in credited):
                credited.append((pk, role))
        album_id = cat.albums.get(album_key) if album_key else None
        key = Track.key_for(credited[0][0], album_id, r.track.strip())
        track_key_of.append(key)
        if key not in cat.tracks and key not in track_rows:
            track_rows[key] = (r, credited, album_id)
    if track_rows:
        _ensure_tracks(cat, track_rows)
    return track_key_of


def _resolved(
    records: Sequence[ListenRecord], track_key_of: list[str | None], cat: Catalogue
) -> list[ResolvedListen | None]:
    # 4. Durations learnt from this batch fill tracks that had none (first pass), so every
    #    listen of the batch carries the duration known at the end of it (second pass).
    fill: dict[int, int] = {}
    for r, key in zip(records, track_key_of, strict=True):
        if key is None:
            continue
        info = cat.tracks[key]
        if info.duration is None and r.duration and 0 < r.duration < 24 * 3600:
            info.duration = int(r.duration)
            fill[info.id] = info.duration
    out: list[ResolvedListen | None] = []
    for r, key in zip(records, track_key_of, strict=True):
        if key is None:
            out.append(None)
            continue
        info = cat.tracks[key]
        out.append(info.listen(r))
    for pk, seconds in fill.items():
        Track.objects.filter(pk=pk, duration__isnull=True).update(duration=seconds)
    cat.learnt_durations.update(fill)
    return out


def _ensure_albums(cat: Catalogue, rows: dict[str, tuple[ListenRecord, list[int]]]) -> None:
    keys = list(rows)
    for chunk in _chunks(keys):
        for key, pk in Album.objects.filter(match_key__in=chunk).values_list("match_key", "pk"):
            cat.albums[key] = pk
    missing = [k for k in keys if k not in cat.albums]
    if not missing:
        return
    wanted_ids = {a for k in missing for a in rows[k][1]}
    names = dict(Artist.objects.filter(pk__in=wanted_ids).values_list("pk", "name"))
    new = []
    for key in missing:
        record, artist_ids = rows[key]
        credit = record.album_artist.strip() or ", ".join(names[a] for a in artist_ids)
        new.append(
            {
                "title": record.album.strip()[:500],
                "match_key": key[:600],
                "search_key": search_key(record.album)[:500],
                "artist_credit": credit[:500],
                "mb_release_id": _valid_uuid(record.album_mbid),
                "cover_url": record.album_image_url[:1000] if record.album_image_url else "",
            }
        )
    _insert_ignore(Album, new)
    created = {}
    for chunk in _chunks(missing):
        for key, pk in Album.objects.filter(match_key__in=chunk).values_list("match_key", "pk"):
            cat.albums[key] = pk
            created[key] = pk
    credits = [
        {"album_id": pk, "artist_id": artist_id, "position": i}
        for key, pk in created.items()
        for i, artist_id in enumerate(rows[key][1])
    ]
    _insert_ignore(AlbumArtist, credits)
    cat.new_album_ids.update(created.values())


def _ensure_tracks(
    cat: Catalogue, rows: dict[str, tuple[ListenRecord, list[tuple[int, str]], int | None]]
) -> None:
    keys = list(rows)
    found: dict[str, tuple[int, int, int | None, int | None]] = {}
    for chunk in _chunks(keys):
        for key, pk, artist_id, album_id, duration in Track.objects.filter(
            match_key__in=chunk
        ).values_list("match_key", "pk", "artist_id", "album_id", "duration"):
            found[key] = (pk, artist_id, album_id, duration)
    missing = [k for k in keys if k not in found]
    if missing:
        new = []
        for key in missing:
            record, credited, album_id = rows[key]
            duration = record.duration if record.duration and 0 < record.duration < 86400 else None
            new.append(
                {
                    "title": record.track.strip()[:500],
                    "match_key": key[:700],
                    "search_key": search_key(record.track)[:500],
                    "artist_credit": record.artist.strip()[:500],
                    "artist_id": credited[0][0],
                    "album_id": album_id,
                    "duration": duration,
                    "track_number": record.track_number,
                    "mbid": _valid_uuid(record.track_mbid),
                }
            )
        _insert_ignore(Track, new)
        created: dict[str, int] = {}
        for chunk in _chunks(missing):
            for key, pk, artist_id, album_id, duration in Track.objects.filter(
                match_key__in=chunk
            ).values_list("match_key", "pk", "artist_id", "album_id", "duration"):
                found[key] = (pk, artist_id, album_id, duration)
                created[key] = pk
        _insert_ignore(
            TrackArtist,
            [
                {"track_id": pk, "artist_id": artist_id, "role": role, "position": i}
                for key, pk in created.items()
                for i, (artist_id, role) in enumerate(rows[key][1])
            ],
        )
    else:
        created = {}
    credits: dict[int, list[int]] = {}
    for key, pk in created.items():  # just written: no need to read them back
        credits[pk] = list(dict.fromkeys(a for a, _ in rows[key][1]))
    ids = [v[0] for k, v in found.items() if k not in created]
    for chunk in _chunks(ids):
        for track_id, artist_id in (
            TrackArtist.objects.filter(track_id__in=chunk)
            .order_by("track_id", "position")
            .values_list("track_id", "artist_id")
        ):
            credits.setdefault(track_id, []).append(artist_id)
    for key, (pk, artist_id, album_id, duration) in found.items():
        cat.tracks[key] = TrackInfo(
            id=pk,
            artist_id=artist_id,
            album_id=album_id,
            artist_ids=tuple(credits.get(pk) or [artist_id]),
            duration=duration,
        )
