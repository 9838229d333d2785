"""Discogs collection sync: every copy a user owns, tied to the album they listen to.

How one sync runs (a `Job` of kind discogs_sync records progress and the resume cursor):
1. List: folder 0 ("All") holds every instance of every folder; it is read page by page (100 a
   page, oldest first), each page stored in one short transaction together with the job's
   cursor, so an interrupted sync resumes at the page after the last stored one.
2. Remove: copies not seen during this sync (their `synced_at` is older than the sync's start)
   left the collection and are deleted, unless the collection's size changed while a resumed
   sync was away (then a copy may have slid to an earlier page, and removal waits for a full run).
3. Details: only releases whose copies are not yet `is_detailed` are fetched (`/releases/{id}`),
   so a second sync of 1,000 records costs about 14 requests (identity, profile, folders, fields
   and 10 pages), not 1,000.

Album matching rules (the same keys as listens, see collection.normalize and catalogue.resolve):
- Artists: Discogs' disambiguation suffix ("Björk (2)" → "Björk") and the name-variation
  asterisk ("Artist*") are removed; the canonical name (not the variation) is used, so the
  artist is the one listens name. Two Discogs artists with one clean name are one Artist (as for
  listens); the first Discogs id seen is kept on it.
- Album: (a) a copy already stored keeps its album, so a fix made in the admin survives syncs;
  (b) an album carrying the release's Discogs master id; (c) for a release without a master, an
  album carrying that release id; (d) the album with the same match key — first credited artist
  and the edition-free title (`album_title_key`: "(Remastered 2011)", "[Deluxe Edition]",
  "(2009 Mono)", "- 2015 Remaster" do not count) — so a record and the same album heard on
  Last.fm are one Album and the record shows its plays; (e) if that album already belongs to
  another Discogs master (or another master-less release), the two are different works with one
  name (Peter Gabriel's first four albums): a separate Album is made, keyed by the master id.
  The LP and the CD share a master, hence one Album with two copies.
- Year: the earliest release year seen (a 2015 reissue does not date a 1969 album).
- Tracks: keyed like listens' tracks (main artist, album, edition-free title), so a tracklist
  entry and a scrobble of that song are one Track.
A wrong merge is undone in the admin: "Move to an album of their own" on collection items (or
"Split the Discogs copies into a new album" on an album), see `split_copies`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from dateutil.parser import isoparse
from django.db import transaction
from django.db.models import Min
from django.utils import timezone
from django.utils.translation import gettext as _

from collection.catalogue import Catalogue, ensure_artists
from collection.discogs import DiscogsClient, DiscogsError, Page
from collection.models import (
    Album,
    AlbumArtist,
    AlbumMetadata,
    Artist,
    CollectionItem,
    Image,
    Track,
    TrackArtist,
)
from collection.normalize import name_key, search_key
from musictracker import config
from musictracker.models import Job, Profile

log = logging.getLogger(__name__)

STALE_AFTER = 15 * 60  # seconds without progress after which a "running" job is interrupted

# --- names, formats, positions ---------------------------------------------------------------

_DISAMBIGUATION = re.compile(r"\s+\(\d+\)$")


def clean_name(name: str) -> str:
    """ "Björk (2)" → "Björk", "Prince*" → "Prince": Discogs' markers, not part of the name."""
    name = (name or "").strip()
    name = name.rstrip("*").strip()
    return _DISAMBIGUATION.sub("", name).strip()


_FEATURING_JOINS = {"feat", "feat.", "featuring", "ft", "ft.", "with"}


def artist_credits(artists: list[dict]) -> tuple[list[tuple[str, int | None, str]], str]:
    """Discogs' artist list → [(clean name, discogs id, role)] in credited order, and the credit
    as Discogs shows it ("Lou Reed & John Cale"). Artists after a "Feat." join are featured."""
    out: list[tuple[str, int | None, str]] = []
    text = ""
    role = "main"
    for a in artists or []:
        name = clean_name(a.get("name", ""))
        if not name:
            continue
        if all(name_key(name) != name_key(n) for n, _, _ in out):
            out.append((name, a.get("id") or None, role))
        join = (a.get("join") or "").strip()
        text += name
        if join == ",":
            text += ", "
        elif join:
            text += f" {join} "
        if join.lower() in _FEATURING_JOINS:
            role = "featured"
    return out, text.strip(" ,")


_SUPPORTS = {
    "vinyl": CollectionItem.Support.VINYL,
    "cd": CollectionItem.Support.CD,
    "cdr": CollectionItem.Support.CD,
    "cassette": CollectionItem.Support.CASSETTE,
    "file": CollectionItem.Support.DIGITAL,
    "box set": CollectionItem.Support.BOX_SET,
}


def support_of(formats: list[dict]) -> str:
    """The first format decides: Vinyl, CD, Cassette, File (digital), Box Set; else other."""
    if not formats:
        return CollectionItem.Support.OTHER
    return _SUPPORTS.get((formats[0].get("name") or "").strip().lower(), "other")


def format_details(formats: list[dict]) -> str:
    """ "LP, Album, Reissue, 180g"; further formats follow with their name ("+ CD: Album")."""
    parts = []
    for i, f in enumerate(formats or []):
        words = [*(f.get("descriptions") or [])]
        if f.get("text"):
            words.append(f["text"])
        qty = str(f.get("qty") or "1")
        text = ", ".join(w for w in words if w)
        if i > 0:
            text = f"{f.get('name', '')}: {text}" if text else f.get("name", "")
        if qty not in ("", "0", "1"):
            text = f"{qty}×{text}" if text else f"{qty}×{f.get('name', '')}"
        if text:
            parts.append(text)
    return " + ".join(parts)[:300]


def parse_duration(text: str | None) -> int | None:
    """ "3:45" → 225, "1:02:03" → 3723; empty or odd values → None."""
    parts = (text or "").strip().split(":")
    if len(parts) < 2 or not all(p.strip().isdigit() for p in parts):
        return None
    seconds = 0
    for p in parts:
        seconds = seconds * 60 + int(p)
    return seconds or None


_DISC_TRACK = re.compile(r"^(?:cd|dvd|disc|disk)?\s*(\d+)\s*-\s*(\d+)", re.I)
_SIDE = re.compile(r"^([a-z])\1?(\d*)", re.I)
_NUMBER = re.compile(r"^(\d+)")


def parse_position(position: str) -> tuple[int | None, int | None]:
    """(disc, track number) from Discogs positions: "1-05" → (1, 5); "A1", "B2" → sides of disc
    1, "C1" → disc 2 (numbered in order later); "7" → (None, 7); "" → (None, None)."""
    position = (position or "").strip()
    if m := _DISC_TRACK.match(position):
        return int(m.group(1)), int(m.group(2))
    if m := _NUMBER.match(position):
        return None, int(m.group(1))
    if m := _SIDE.match(position):
        return (ord(m.group(1).lower()) - ord("a")) // 2 + 1, None
    return None, None


@dataclass
class TrackRow:
    title: str
    position: str
    duration: int | None
    artists: list[dict]
    disc: int | None = None
    number: int | None = None


def flatten_tracklist(tracklist: list[dict]) -> list[TrackRow]:
    """Playable tracks in order: headings ("Side One") are not tracks; an index track ("Abbey
    Road Medley") stands for its sub-tracks, which are the tracks (a bare index is one track)."""
    rows: list[TrackRow] = []
    for t in tracklist or []:
        kind = t.get("type_") or "track"
        if kind == "heading":
            continue
        subs = [s for s in (t.get("sub_tracks") or []) if (s.get("type_") or "track") == "track"]
        entries = subs if kind == "index" and subs else [t]
        for s in entries:
            title = (s.get("title") or "").strip()
            if not title:
                continue
            rows.append(
                TrackRow(
                    title=title,
                    position=(s.get("position") or t.get("position") or "").strip()[:16],
                    duration=parse_duration(s.get("duration")),
                    artists=s.get("artists") or t.get("artists") or [],
                )
            )
    # Numbers: explicit ones ("1-05", "7") are kept, sides are numbered in order per disc.
    counters: dict[int, int] = {}
    for row in rows:
        disc, number = parse_position(row.position)
        row.disc = disc or 1
        counters[row.disc] = number if number else counters.get(row.disc, 0) + 1
        row.number = counters[row.disc]
    return rows


def _notes(notes: list[dict] | None, fields: dict[int, str]) -> str:
    """The instance's notes fields as lines; the default "Notes" field is shown bare."""
    defaults = {1: _("Media condition"), 2: _("Sleeve condition"), 3: ""}
    lines = []
    for n in notes or []:
        value = str(n.get("value") or "").strip()
        if not value:
            continue
        fid = n.get("field_id")
        name = fields.get(fid, defaults.get(fid, f"{_('Field')} {fid}"))
        lines.append(value if fid == 3 or name.lower() == "notes" else f"{name}: {value}")
    return "\n".join(lines)


def _parse_time(text: str | None) -> datetime | None:
    try:
        return isoparse(text) if text else None
    except ValueError:
        return None


def _cover(url: str | None) -> str:
    url = (url or "").strip()
    return "" if not url or "spacer.gif" in url else url[:1000]


# --- credentials and jobs ---------------------------------------------------------------------


def credentials(profile: Profile) -> tuple[str, str]:
    """The Discogs username and token: the user's, else the app-wide token of the config."""
    return (
        (profile.discogs_username or "").strip(),
        (profile.discogs_token or "").strip() or (config.get("discogs.token") or "").strip(),
    )


def missing_settings(profile: Profile) -> str:
    username, token = credentials(profile)
    if not username:
        return _("Enter your Discogs username in Settings.")
    if not token:
        return _(
            "Enter your Discogs personal token in Settings (or set discogs.token in "
            "config/secrets.json)."
        )
    return ""


def current_job(user) -> Job | None:
    """The user's latest Discogs sync job, with a job stuck "running" marked interrupted."""
    job = Job.objects.filter(user=user, kind=Job.Kind.DISCOGS_SYNC).order_by("-pk").first()
    stale = job and (
        job.is_orphaned or (timezone.now() - job.updated_at).total_seconds() > STALE_AFTER
    )
    if job and job.is_active and stale:
        job.status = Job.Status.INTERRUPTED
        job.message = _("The sync stopped without finishing; it resumes at the next run.")
        job.save(update_fields=["status", "message", "updated_at"])
    return job


def queue_sync(user) -> tuple[Job, bool]:
    """The job to run: an active one is returned as is (False: nothing new to start); an
    unfinished one is resumed from its cursor; else a new job is created."""
    job = current_job(user)
    if job and job.is_active:
        return job, False
    if job and job.status in (Job.Status.FAILED, Job.Status.INTERRUPTED) and job.state:
        job.status = Job.Status.QUEUED
        job.message = _("Resuming where the last sync stopped.")
        job.finished_at = None
        job.save()
        return job, True
    job = Job.objects.create(
        user=user, kind=Job.Kind.DISCOGS_SYNC, label=_("Discogs sync"), unit=_("records")
    )
    return job, True


# --- the sync ---------------------------------------------------------------------------------


@dataclass
class SyncResult:
    added: int = 0
    updated: int = 0
    removed: int = 0
    detailed: int = 0
    requests: int = 0
    waited: float = 0.0
    error: str = ""

    def summary(self) -> str:
        return _(
            "%(added)d added, %(updated)d updated, %(removed)d removed, %(detailed)d tracklists "
            "fetched (%(requests)d requests to Discogs)."
        ) % {
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "detailed": self.detailed,
            "requests": self.requests,
        }


class _Progress:
    """Saves the job's progress and a time-left estimate that counts rate-limit waits."""

    def __init__(self, job: Job, client: DiscogsClient, callback: Callable[[Job], None] | None):
        self.job, self.client, self.callback = job, client, callback
        self.latency = 0.5
        self.pending_wait = 0.0

    def eta(self, requests_left: int) -> float:
        """Requests left at the measured speed, but at most `requests_per_minute` a minute once
        Discogs' budget for the current minute is spent, plus any wait under way."""
        remaining = getattr(self.client.fetcher, "rate_limit_remaining", None)
        try:
            budget = int(remaining) if remaining is not None else self.client.per_minute
        except ValueError:
            budget = self.client.per_minute
        fast = min(requests_left, max(0, budget))
        slow = requests_left - fast
        step = max(self.latency, self.client.seconds_per_request())
        return self.pending_wait + fast * self.latency + slow * step

    def save(self, *, requests_left: int, message: str = "") -> None:
        job = self.job
        if self.client.requests_made and job.started_at:
            elapsed = (timezone.now() - job.started_at).total_seconds() - self.client.waited_seconds
            self.latency = max(0.05, elapsed / self.client.requests_made)
        job.state["eta_seconds"] = int(self.eta(requests_left))
        job.state["eta_at"] = timezone.now().isoformat()
        if message:
            job.message = message
        job.save()
        if self.callback:
            self.callback(job)

    def on_wait(self, seconds: float) -> None:
        self.pending_wait = seconds
        self.job.message = _(
            "Discogs allows %(n)d requests a minute: waiting %(s)d s before continuing."
        ) % {"n": self.client.per_minute, "s": round(seconds)}
        left = self.job.state.get("requests_left", 0)
        self.save(requests_left=left)
        self.pending_wait = 0.0


def sync_collection(
    user,
    job: Job,
    *,
    sleep: Callable[[float], None] | None = None,
    progress: Callable[[Job], None] | None = None,
) -> SyncResult:
    """Bring the user's whole Discogs collection in, resuming from `job.state`; never raises a
    DiscogsError: the job ends failed with the message, and what was stored stays."""
    result = SyncResult()
    profile, _created = Profile.objects.get_or_create(user=user)
    problem = missing_settings(profile)
    job.status = Job.Status.RUNNING
    job.started_at = timezone.now()
    job.finished_at = None
    if problem:
        return _fail(job, result, problem)
    username, token = credentials(profile)
    client = DiscogsClient(username, token, **({"sleep": sleep} if sleep is not None else {}))
    tracker = _Progress(job, client, progress)
    client.on_wait = tracker.on_wait
    state = job.state if job.state.get("sync_started") else {}
    if not state:
        state.update(sync_started=timezone.now().isoformat(), phase="list", page=1)
    state.setdefault("stats", {"added": 0, "updated": 0, "removed": 0, "detailed": 0})
    job.state = state
    tracker.save(requests_left=state.get("requests_left", 4), message=_("Connecting to Discogs…"))
    cat = Catalogue()
    try:
        owner = client.identity()
        folders = client.folders()
        fields = client.note_fields() if owner.casefold() == username.casefold() else {}
        if state["phase"] == "list":
            _list_phase(user, job, client, tracker, cat, folders, fields)
        if state["phase"] == "details":
            _details_phase(user, job, client, tracker, cat)
    except DiscogsError as exc:
        _take_stats(result, state)
        result.requests, result.waited = client.requests_made, client.waited_seconds
        return _fail(job, result, str(exc))
    _take_stats(result, state)
    result.requests, result.waited = client.requests_made, client.waited_seconds
    job.status = Job.Status.DONE
    job.finished_at = timezone.now()
    job.message = result.summary()
    job.added = result.added
    job.state = {}
    job.save()
    if progress:
        progress(job)
    return result


def _take_stats(result: SyncResult, state: dict) -> None:
    stats = state.get("stats", {})
    result.added = stats.get("added", 0)
    result.updated = stats.get("updated", 0)
    result.removed = stats.get("removed", 0)
    result.detailed = stats.get("detailed", 0)


def _fail(job: Job, result: SyncResult, message: str) -> SyncResult:
    job.status = Job.Status.FAILED
    job.finished_at = timezone.now()
    job.message = message
    job.state.pop("eta_seconds", None)
    job.save()
    result.error = message
    log.warning("Discogs sync of %s stopped: %s", job.user_id, message)
    return result


def _list_phase(user, job, client, tracker, cat, folders, fields) -> None:
    state = job.state
    started = isoparse(state["sync_started"])
    detailed_before = CollectionItem.objects.filter(user=user, is_detailed=True).count()
    page_no = int(state.get("page", 1))
    while True:
        page: Page = client.collection_page(page_no)
        if state.get("items") is not None and state["items"] != page.total:
            state["size_changed"] = True  # a resumed cursor may have skipped a shifted copy
        state["items"], state["pages"] = page.total, page.pages
        with transaction.atomic():
            added, updated = store_page(user, page.items, folders, fields, cat=cat)
            stats = state["stats"]
            stats["added"] += added
            stats["updated"] += updated
            listed = min(page.total, (page_no - 1) * 100 + len(page.items))
            details_left = max(0, page.total - detailed_before)
            job.total = page.total + details_left
            job.done = listed
            job.added = stats["added"]
            state["page"] = page_no + 1
            state["requests_left"] = max(0, page.pages - page_no) + details_left
            tracker.save(
                requests_left=state["requests_left"],
                message=_("Reading your collection: page %(p)d of %(n)d.")
                % {"p": page_no, "n": page.pages},
            )
        _queue_enrichment(cat)
        if page_no >= page.pages or not page.items:
            break
        page_no += 1
    with transaction.atomic():
        if not state.get("size_changed"):
            gone = CollectionItem.objects.filter(
                user=user, discogs_instance_id__isnull=False, synced_at__lt=started
            )
            state["stats"]["removed"] += gone.delete()[0]
        state["phase"] = "details"
        job.save()


def _details_phase(user, job, client, tracker, cat) -> None:
    state = job.state
    # Oldest copies first: the release an album was made from is detailed before its reissues.
    pending = list(
        CollectionItem.objects.filter(
            user=user, is_detailed=False, discogs_release_id__isnull=False
        )
        .values("discogs_release_id")
        .annotate(first=Min("added_at"))
        .order_by("first", "discogs_release_id")
        .values_list("discogs_release_id", flat=True)
    )
    base = int(state.get("items") or 0)
    job.total = base + state["stats"]["detailed"] + len(pending)
    for i, release_id in enumerate(pending):
        data = client.release(release_id)
        with transaction.atomic():
            store_release(user, data, cat=cat)
            state["stats"]["detailed"] += 1
            job.done = base + state["stats"]["detailed"]
            state["requests_left"] = len(pending) - i - 1
            tracker.save(
                requests_left=state["requests_left"],
                message=_("Fetching tracklists: %(i)d of %(n)d.") % {"i": i + 1, "n": len(pending)},
            )
        _queue_enrichment(cat)


def _queue_enrichment(cat: Catalogue) -> None:
    artists, albums = cat.drain_new()
    if not (artists or albums):
        return

    def queue():
        from django_q.tasks import async_task

        async_task("enrichment.tasks.enrich_new", artists, albums)

    transaction.on_commit(queue)


# --- storing a page of the collection ---------------------------------------------------------


def _ensure_artist_ids(cat: Catalogue, credits: list[tuple[str, int | None, str]]) -> list[int]:
    return [cat.artists[name_key(name)] for name, _, _ in credits]


def _artists_for(cat: Catalogue, artist_lists: list[list[dict]]) -> None:
    """Create the artists named in these Discogs artist lists, and keep their Discogs ids."""
    wanted: dict[str, tuple[str, None]] = {}
    discogs_ids: dict[str, int] = {}
    for artists in artist_lists:
        for name, discogs_id, _role in artist_credits(artists)[0]:
            key = name_key(name)
            wanted.setdefault(key, (name, None))
            if discogs_id:
                discogs_ids.setdefault(key, int(discogs_id))
    ensure_artists(cat, wanted)
    by_pk = {cat.artists[k]: v for k, v in discogs_ids.items() if k in cat.artists}
    if by_pk:
        rows = list(Artist.objects.filter(pk__in=list(by_pk), discogs_id__isnull=True))
        for artist in rows:
            artist.discogs_id = by_pk[artist.pk]
        Artist.objects.bulk_update(rows, ["discogs_id"])


def _distinct_key(base: str, master_id: int | None, release_id: int) -> str:
    suffix = f"|discogs-master:{master_id}" if master_id else f"|discogs-release:{release_id}"
    return (base[: 600 - len(suffix)] + suffix)[:600]


def resolve_albums(cat: Catalogue, infos: list[dict]) -> dict[int, int]:
    """Release id → album id for these `basic_information` dicts, by the rules in the module
    docstring (steps b–e; step a, the copy's own album, is the caller's)."""
    masters = {int(i["master_id"]) for i in infos if i.get("master_id")}
    loose = {int(i["id"]) for i in infos if not i.get("master_id")}
    by_master = dict(
        Album.objects.filter(discogs_master_id__in=masters).values_list("discogs_master_id", "pk")
    )
    by_release = dict(
        Album.objects.filter(
            discogs_release_id__in=loose, discogs_master_id__isnull=True
        ).values_list("discogs_release_id", "pk")
    )
    keys = {}
    for info in infos:
        credits, _text = artist_credits(info.get("artists") or [])
        if credits:
            keys[int(info["id"])] = Album.key_for(
                cat.artists[name_key(credits[0][0])], info.get("title") or ""
            )
    by_key = {
        k: (pk, m, r)
        for k, pk, m, r in Album.objects.filter(match_key__in=set(keys.values())).values_list(
            "match_key", "pk", "discogs_master_id", "discogs_release_id"
        )
    }
    out: dict[int, int] = {}
    for info in infos:
        release_id = int(info["id"])
        master_id = int(info["master_id"]) if info.get("master_id") else None
        if master_id and master_id in by_master:
            out[release_id] = by_master[master_id]
            continue
        if not master_id and release_id in by_release:
            out[release_id] = by_release[release_id]
            continue
        credits, credit_text = artist_credits(info.get("artists") or [])
        if not credits:
            credits, credit_text = [("Unknown artist", None, "main")], "Unknown artist"
            ensure_artists(cat, {name_key("Unknown artist"): ("Unknown artist", None)})
        artist_ids = _ensure_artist_ids(cat, credits)
        key = keys.get(release_id) or Album.key_for(artist_ids[0], info.get("title") or "")
        found = by_key.get(key)
        if found:
            pk, other_master, other_release = found
            # Taken: the album already stands for another Discogs work (rule e).
            if other_master:
                taken = other_master != master_id
            else:
                taken = other_release is not None and other_release != release_id
            if not taken:
                out[release_id] = pk
                _claim(pk, master_id, release_id, by_key, key)
                if master_id:
                    by_master[master_id] = pk
                else:
                    by_release[release_id] = pk
                continue
            key = _distinct_key(key, master_id, release_id)
            twin = Album.objects.filter(match_key=key).values_list("pk", flat=True).first()
            if twin:
                out[release_id] = twin
                continue
        title = (info.get("title") or "").strip() or "?"
        album = Album.objects.create(
            title=title[:500],
            match_key=key[:600],
            search_key=search_key(title)[:500],
            artist_credit=credit_text[:500],
            year=int(info["year"]) if info.get("year") else None,
            discogs_master_id=master_id,
            discogs_release_id=release_id,
            cover_url=_cover(info.get("cover_image")),
        )
        AlbumArtist.objects.bulk_create(
            [AlbumArtist(album=album, artist_id=a, position=i) for i, a in enumerate(artist_ids)],
            ignore_conflicts=True,
        )
        cat.new_album_ids.add(album.pk)
        cat.albums[key] = album.pk
        by_key[key] = (album.pk, master_id, release_id)
        if master_id:
            by_master[master_id] = album.pk
        else:
            by_release[release_id] = album.pk
        out[release_id] = album.pk
    return out


def _claim(pk: int, master_id: int | None, release_id: int, by_key: dict, key: str) -> None:
    """An album found by name now carries the Discogs ids (so the next copy matches by id)."""
    _, m, r = by_key[key]
    by_key[key] = (pk, m or master_id, r or release_id)


def _update_albums(album_infos: dict[int, list[dict]]) -> None:
    """Fill what albums lack from their releases: master and release ids, earliest year, cover."""
    albums = Album.objects.in_bulk(list(album_infos))
    changed = []
    for pk, infos in album_infos.items():
        album = albums.get(pk)
        if not album:
            continue
        before = (album.discogs_master_id, album.discogs_release_id, album.year, album.cover_url)
        for info in infos:
            if info.get("master_id") and not album.discogs_master_id:
                album.discogs_master_id = int(info["master_id"])
            if not album.discogs_release_id:
                album.discogs_release_id = int(info["id"])
            year = int(info.get("year") or 0)
            if year and (not album.year or year < album.year):
                album.year = year
            if not album.cover_url and _cover(info.get("cover_image")):
                album.cover_url = _cover(info.get("cover_image"))
        if before != (
            album.discogs_master_id,
            album.discogs_release_id,
            album.year,
            album.cover_url,
        ):
            changed.append(album)
    if changed:
        Album.objects.bulk_update(
            changed, ["discogs_master_id", "discogs_release_id", "year", "cover_url"]
        )


def _merge_list(old: list, new: list) -> list:
    out = list(old or [])
    for value in new:
        if value and value not in out:
            out.append(value)
    return out


def _update_metadata(album_infos: dict[int, list[dict]]) -> None:
    """Genres, styles, labels and catalogue numbers, added to what the album's metadata holds."""
    existing = {m.album_id: m for m in AlbumMetadata.objects.filter(album_id__in=list(album_infos))}
    new, changed = [], []
    for pk, infos in album_infos.items():
        meta = existing.get(pk) or AlbumMetadata(album_id=pk)
        before = (meta.genres, meta.styles, meta.labels, meta.catalogue_numbers)
        for info in infos:
            meta.genres = _merge_list(meta.genres, info.get("genres") or [])
            meta.styles = _merge_list(meta.styles, info.get("styles") or [])
            labels = info.get("labels") or []
            meta.labels = _merge_list(meta.labels, [clean_name(x.get("name", "")) for x in labels])
            meta.catalogue_numbers = _merge_list(
                meta.catalogue_numbers,
                [x.get("catno", "") for x in labels if x.get("catno") not in ("", "none", None)],
            )
        if pk not in existing:
            new.append(meta)
        elif before != (meta.genres, meta.styles, meta.labels, meta.catalogue_numbers):
            changed.append(meta)
    AlbumMetadata.objects.bulk_create(new, ignore_conflicts=True)
    if changed:
        AlbumMetadata.objects.bulk_update(
            changed, ["genres", "styles", "labels", "catalogue_numbers"]
        )


def store_page(
    user, instances: list[dict], folders: dict[int, str], fields: dict[int, str], *, cat: Catalogue
) -> tuple[int, int]:
    """Store one page of collection instances; returns (added, updated). A few queries per page,
    whatever its size."""
    instances = [i for i in instances if i.get("instance_id") and i.get("basic_information")]
    if not instances:
        return 0, 0
    now = timezone.now()
    infos = [i["basic_information"] for i in instances]
    _artists_for(cat, [info.get("artists") or [] for info in infos])
    existing = {
        it.discogs_instance_id: it
        for it in CollectionItem.objects.filter(
            user=user, discogs_instance_id__in=[int(i["instance_id"]) for i in instances]
        )
    }
    to_resolve = [
        i["basic_information"]
        for i in instances
        if not (
            (it := existing.get(int(i["instance_id"])))
            and it.discogs_release_id == int(i["basic_information"]["id"])
        )
    ]
    albums = resolve_albums(cat, to_resolve) if to_resolve else {}
    new, changed = [], []
    album_infos: dict[int, list[dict]] = {}
    fields_to_update = [
        "support",
        "format_details",
        "label",
        "catalogue_number",
        "folder",
        "added_at",
        "rating",
        "notes",
        "synced_at",
        "album",
        "discogs_release_id",
        "is_detailed",
    ]
    for inst in instances:
        info = inst["basic_information"]
        release_id = int(info["id"])
        item = existing.get(int(inst["instance_id"]))
        labels = info.get("labels") or [{}]
        values = {
            "support": support_of(info.get("formats") or []),
            "format_details": format_details(info.get("formats") or []),
            "label": clean_name(labels[0].get("name", ""))[:300],
            "catalogue_number": (labels[0].get("catno") or "")[:100],
            "folder": folders.get(inst.get("folder_id"), "")[:200],
            "added_at": _parse_time(inst.get("date_added")),
            "rating": int(inst.get("rating") or 0) or None,
            "notes": _notes(inst.get("notes"), fields),
        }
        if item is None:
            item = CollectionItem(
                user=user,
                album_id=albums[release_id],
                discogs_release_id=release_id,
                discogs_instance_id=int(inst["instance_id"]),
                synced_at=now,
                **values,
            )
            new.append(item)
        else:
            if item.discogs_release_id != release_id:
                item.discogs_release_id = release_id
                item.album_id = albums[release_id]
                item.is_detailed = False
            if any(getattr(item, k) != v for k, v in values.items()):
                changed.append(item)
            for k, v in values.items():
                setattr(item, k, v)
            item.synced_at = now
        album_infos.setdefault(item.album_id, []).append(info)
    CollectionItem.objects.bulk_create(new, batch_size=500)
    CollectionItem.objects.bulk_update(list(existing.values()), fields_to_update, batch_size=500)
    _update_albums(album_infos)
    _update_metadata(album_infos)
    Image.objects.bulk_create(
        [
            Image(kind=Image.Kind.ALBUM, album_id=pk, url=url, source=Image.Source.DISCOGS)
            for pk, infos in album_infos.items()
            for url in {_cover(i.get("cover_image")) for i in infos}
            if url
        ],
        ignore_conflicts=True,
    )
    return len(new), len(changed)


# --- storing release details ----------------------------------------------------------------


def store_release(user, data: dict, *, cat: Catalogue) -> int:
    """Write a release's tracklist onto the album of the user's copies of it, with metadata and
    the primary image; marks those copies detailed. Returns the number of tracks written."""
    release_id = int(data["id"])
    items = CollectionItem.objects.filter(user=user, discogs_release_id=release_id)
    album_ids = sorted(set(items.values_list("album_id", flat=True)))
    written = 0
    rows = flatten_tracklist(data.get("tracklist") or [])
    _artists_for(cat, [data.get("artists") or []] + [r.artists for r in rows if r.artists])
    album_credits, album_text = artist_credits(data.get("artists") or [])
    primary = set(
        Album.objects.filter(pk__in=album_ids, discogs_release_id=release_id).values_list(
            "pk", flat=True
        )
    )
    for album_id in album_ids:
        written += write_tracks(
            cat, album_id, rows, album_credits, album_text, primary=album_id in primary
        )
    _update_metadata({pk: [data] for pk in album_ids})
    images = data.get("images") or []
    primary = next((i for i in images if i.get("type") == "primary"), images[0] if images else {})
    url = _cover(primary.get("uri"))
    if url:
        for album_id in album_ids:
            Image.objects.update_or_create(
                album_id=album_id,
                url=url,
                defaults={
                    "kind": Image.Kind.ALBUM,
                    "source": Image.Source.DISCOGS,
                    "width": primary.get("width") or None,
                    "height": primary.get("height") or None,
                },
            )
        Album.objects.filter(pk__in=album_ids, cover_url="").update(cover_url=url)
    items.update(is_detailed=True)
    return written


def write_tracks(
    cat: Catalogue,
    album_id: int,
    rows: list[TrackRow],
    album_credits: list[tuple[str, int | None, str]],
    album_text: str,
    *,
    primary: bool = True,
) -> int:
    """Create or complete the album's tracks in a few queries (not one per track). The album's
    own release (`primary`) sets positions and durations; another release of it (the CD of an
    LP) only adds its extra tracks and fills what is missing. A track known from listens gains
    its position and, if it had none, its duration."""
    if not album_credits:
        first = (
            AlbumArtist.objects.filter(album_id=album_id)
            .order_by("position")
            .select_related("artist")
            .first()
        )
        if not first:
            return 0
        album_credits, album_text = [(first.artist.name, None, "main")], first.artist.name
    planned: dict[str, tuple[TrackRow, list[tuple[int, str]], str]] = {}
    for row in rows:
        credits, text = artist_credits(row.artists) if row.artists else (album_credits, album_text)
        ids = []
        for name, _id, role in credits:
            pk = cat.artists[name_key(name)]
            if all(pk != seen for seen, _ in ids):
                ids.append((pk, role))
        key = Track.key_for(ids[0][0], album_id, row.title)[:700]
        planned.setdefault(key, (row, ids, text))  # a title twice (a reprise) is one track
    found = {
        t.match_key: t
        for t in Track.objects.filter(match_key__in=list(planned)).only(
            "pk", "match_key", "position", "disc_number", "track_number", "duration"
        )
    }
    new = [
        Track(
            title=row.title[:500],
            match_key=key,
            search_key=search_key(row.title)[:500],
            artist_credit=text[:500],
            artist_id=ids[0][0],
            album_id=album_id,
            position=row.position,
            disc_number=row.disc,
            track_number=row.number,
            duration=row.duration,
        )
        for key, (row, ids, text) in planned.items()
        if key not in found
    ]
    Track.objects.bulk_create(new, ignore_conflicts=True, batch_size=500)
    if new:
        created = dict(
            Track.objects.filter(match_key__in=[t.match_key for t in new]).values_list(
                "match_key", "pk"
            )
        )
        TrackArtist.objects.bulk_create(
            [
                TrackArtist(track_id=created[key], artist_id=a, role=role, position=i)
                for key in created
                for i, (a, role) in enumerate(planned[key][1])
            ],
            ignore_conflicts=True,
            batch_size=500,
        )
    learnt: dict[int, int] = {}
    changed = []
    for key, track in found.items():
        row = planned[key][0]
        before = (track.position, track.disc_number, track.track_number, track.duration)
        if primary or not track.position:
            track.position, track.disc_number = row.position, row.disc
            track.track_number = row.number
        if row.duration and not track.duration:  # a known duration is in the rollups: kept
            learnt[track.pk] = track.duration = row.duration
        if before != (track.position, track.disc_number, track.track_number, track.duration):
            changed.append(track)
    if changed:
        Track.objects.bulk_update(
            changed, ["position", "disc_number", "track_number", "duration"], batch_size=500
        )
    if learnt:
        # Listens of these tracks counted "unknown duration" in the rollups; tracking (above this
        # app) moves them to seconds in the background.
        def queue():
            from django_q.tasks import async_task

            async_task("tracking.tasks.learn_durations", learnt)

        transaction.on_commit(queue)
    return len(planned)


# --- undoing a wrong merge ----------------------------------------------------------------------


@transaction.atomic
def split_copies(items: list[CollectionItem]) -> Album | None:
    """Move these copies (all of one album) to a new album of their own, made from their
    release, keyed apart so listens do not fall into it by name; the old album loses the Discogs
    ids the copies brought. Their tracklist is fetched again at the next sync."""
    if not items:
        return None
    old = items[0].album
    release_id = items[0].discogs_release_id
    credits = list(old.credits.order_by("position").values_list("artist_id", flat=True))
    master = old.discogs_master_id
    base = old.match_key.split("|", 1)[0]
    key = _distinct_key(base, master, release_id or old.pk) + f"|split:{old.pk}"
    album = Album.objects.create(
        title=old.title,
        match_key=key[:600],
        search_key=old.search_key,
        artist_credit=old.artist_credit,
        year=old.year,
        discogs_master_id=master,
        discogs_release_id=release_id,
        cover_url=old.cover_url,
    )
    AlbumArtist.objects.bulk_create(
        [AlbumArtist(album=album, artist_id=a, position=i) for i, a in enumerate(credits)]
    )
    CollectionItem.objects.filter(pk__in=[i.pk for i in items]).update(
        album=album, is_detailed=False
    )
    if not CollectionItem.objects.filter(album=old, discogs_release_id__isnull=False).exists():
        Album.objects.filter(pk=old.pk).update(discogs_master_id=None, discogs_release_id=None)
    return album


# --- what pages show --------------------------------------------------------------------------


def panel_state(user) -> dict:
    """The Discogs part of Settings and of the Collection page: account, last sync, job."""
    profile, _created = Profile.objects.get_or_create(user=user)
    username, token = credentials(profile)
    job = current_job(user)
    last = (
        Job.objects.filter(user=user, kind=Job.Kind.DISCOGS_SYNC, status=Job.Status.DONE)
        .order_by("-finished_at")
        .first()
    )
    return {
        "username": username,
        "token_masked": config.mask(token),
        "token_is_app_wide": bool(token) and not (profile.discogs_token or "").strip(),
        "problem": missing_settings(profile),
        "job": job,
        "last_sync": last,
        "items": CollectionItem.objects.filter(user=user).count(),
    }
