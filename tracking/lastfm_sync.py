"""Following Last.fm: the live poll, the history backfill, loved tracks and the account link.

Every listen goes through `tracking.listens.ingest`; the conversion from Last.fm's data lives in
`tracking.lastfm` (shared by poll and backfill). Nothing here is called by a view: views queue
the tasks in `tracking.tasks`, which call these services.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from collection.catalogue import Catalogue, ListenRecord, resolve
from collection.models import Artist, Track
from collection.normalize import name_key, search_key
from musictracker import config, metrics
from musictracker.db import bulk_writes
from musictracker.models import Job, Profile
from tracking.lastfm import Client, LastfmError, NowPlayingItem, RecentPage
from tracking.listens import ingest
from tracking.models import Listen, LovedTrack, NowPlaying, Source, TrackerStatus

log = logging.getLogger(__name__)

OVERLAP = timedelta(minutes=10)  # re-read this much before the newest stored listen
FAILURES_SHOWN_PLAINLY = 3
BATCH = 5000  # listens per ingest transaction during a backfill (25 pages)


def _now() -> datetime:
    return timezone.now()


def poll_interval() -> timedelta:
    return timedelta(seconds=int(config.get("lastfm.poll_interval_seconds", 120) or 120))


# ---- live poll ---------------------------------------------------------------------------------


@dataclass
class PollResult:
    added: int = 0
    requests: int = 0
    now_playing: NowPlayingItem | None = None


def _stored_keys(user, since: datetime) -> set[tuple[datetime, str]]:
    """(time, title) of the user's listens since `since`: the overlap we already have."""
    rows = Listen.objects.filter(user=user, listened_at__gte=since).values_list(
        "listened_at", "track__title"
    )
    return {(at, title.casefold()) for at, title in rows}


def poll_user(user, *, client: Client | None = None) -> PollResult:
    """Fetch what `user` scrobbled since their newest stored Last.fm listen, and now-playing."""
    profile = Profile.objects.get(user=user)
    client = client or Client()
    newest = (
        Listen.objects.filter(user=user, source=Source.LASTFM)
        .order_by("-listened_at")
        .values_list("listened_at", flat=True)
        .first()
    )
    result = PollResult()
    started = _now()
    time_from = int((newest - OVERLAP).timestamp()) if newest else None
    records: list[ListenRecord] = []
    page_no, total_pages = 1, 1
    while page_no <= total_pages:
        page = client.recent_tracks(
            profile.lastfm_username,
            page=page_no,
            time_from=time_from,
            time_to=int(started.timestamp()) + 60 if newest else None,
        )
        result.requests += 1
        if page_no == 1:
            result.now_playing = page.now_playing
        records.extend(page.records)
        # A first poll takes the newest page only: the rest of history is the backfill's job.
        total_pages = page.total_pages if newest else 1
        page_no += 1
    if records and time_from is not None:
        have = _stored_keys(user, datetime.fromtimestamp(time_from, UTC))
        records = [r for r in records if (r.listened_at, r.track.casefold()) not in have]
    catalogue = Catalogue()
    for i in range(0, len(records), BATCH):  # a long absence: several short transactions
        result.added += ingest(user, records[i : i + BATCH], catalogue=catalogue).added
    _store_now_playing(user, result.now_playing)
    return result


def _store_now_playing(user, item: NowPlayingItem | None) -> None:
    current = NowPlaying.objects.filter(user=user).first()
    if item is None:
        if current is not None and current.source == Source.LASTFM:
            current.delete()
        return
    now = _now()
    minutes = int(config.get("lastfm.now_playing_minutes", 5) or 5)
    same = (
        current is not None
        and current.artist_name == item.artist
        and current.track_name == item.track
    )
    NowPlaying.objects.update_or_create(
        user=user,
        defaults={
            "artist_name": item.artist[:500],
            "track_name": item.track[:500],
            "album_name": item.album[:500],
            "image_url": item.image_url[:1000],
            "track": _find_track(item.artist, item.track),
            "source": Source.LASTFM,
            "started_at": current.started_at if same else now,
            "updated_at": now,
            "expires_at": now + timedelta(minutes=minutes),
        },
    )


def _find_track(artist: str, title: str) -> Track | None:
    artist_id = (
        Artist.objects.filter(name_key=name_key(artist)).values_list("pk", flat=True).first()
    )
    if artist_id is None:
        return None
    return Track.objects.filter(artist_id=artist_id, search_key=search_key(title)).first()


def trackable_users():
    """Users with a Last.fm username whose tracker is not paused."""
    paused = TrackerStatus.objects.filter(is_paused=True).values("user_id")
    return (
        get_user_model()
        .objects.filter(profile__lastfm_username__gt="", is_active=True)
        .exclude(pk__in=paused)
        .order_by("pk")
    )


def poll_all() -> dict[str, int]:
    """One round of the tracker: poll every followed user; a failure is recorded, never raised."""
    users = list(trackable_users())
    if not users:
        return {"users": 0, "added": 0, "failed": 0}
    try:
        client = Client()
    except LastfmError as exc:
        for user in users:
            _record_failure(user, str(exc))
        return {"users": len(users), "added": 0, "failed": len(users)}
    quiet: list[int] = []  # succeeded with nothing new: one UPDATE for all of them
    added = failed = 0
    for user in users:
        try:
            result = poll_user(user, client=client)
        except Exception as exc:  # one user's failure must not stop the others, nor the schedule
            if not isinstance(exc, LastfmError):
                log.exception("Last.fm poll of %s failed", user)
            failed += 1
            metrics.inc("polls_total", outcome="failed")
            _record_failure(user, str(exc))
            continue
        metrics.inc("polls_total", outcome="ok")
        added += result.added
        if result.added:
            _record_success(user, result.added)
        else:
            quiet.append(user.pk)
    if quiet:
        _record_quiet(quiet)
    return {"users": len(users), "added": added, "failed": failed}


def _record_success(user, added: int) -> None:
    now = _now()
    status, _ = TrackerStatus.objects.get_or_create(user=user)
    status.last_poll_at = status.last_success_at = now
    status.consecutive_failures = 0
    status.last_added = added
    status.next_poll_at = now + poll_interval()
    status.save()


def _record_quiet(user_ids: list[int]) -> None:
    now = _now()
    known = set(
        TrackerStatus.objects.filter(user_id__in=user_ids).values_list("user_id", flat=True)
    )
    missing = [TrackerStatus(user_id=pk) for pk in user_ids if pk not in known]
    if missing:
        TrackerStatus.objects.bulk_create(missing, ignore_conflicts=True)
    TrackerStatus.objects.filter(user_id__in=user_ids).update(
        last_poll_at=now,
        last_success_at=now,
        consecutive_failures=0,
        last_added=0,
        next_poll_at=now + poll_interval(),
    )


def _record_failure(user, message: str) -> None:
    now = _now()
    status, _ = TrackerStatus.objects.get_or_create(user=user)
    status.last_poll_at = status.last_error_at = now
    status.last_error = message[:2000]
    status.consecutive_failures += 1
    status.next_poll_at = now + poll_interval()
    status.save()


def set_paused(*, user, paused: bool) -> TrackerStatus:
    status, _ = TrackerStatus.objects.get_or_create(user=user)
    status.is_paused = paused
    status.next_poll_at = None if paused else _now() + poll_interval()
    status.save(update_fields=["is_paused", "next_poll_at"])
    return status


# ---- loved tracks ------------------------------------------------------------------------------


def _track_ids(items: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Track ids for (artist, title) pairs: an existing track of that artist and title (any
    album, the most played first), else an album-less track created through the catalogue."""
    out: dict[tuple[str, str], int] = {}
    missing: list[tuple[str, str]] = []
    keys = {name_key(a) for a, _ in items}
    artists = dict(Artist.objects.filter(name_key__in=keys).values_list("name_key", "pk"))
    for artist, title in items:
        artist_id = artists.get(name_key(artist))
        track_id = None
        if artist_id is not None:
            track_id = (
                Track.objects.filter(artist_id=artist_id, search_key=search_key(title))
                .order_by("album_id")
                .values_list("pk", flat=True)
                .first()
            )
        if track_id is None:
            missing.append((artist, title))
        else:
            out[(artist, title)] = track_id
    if missing:
        with transaction.atomic():
            epoch = datetime.fromtimestamp(0, UTC)
            resolved = resolve(
                [ListenRecord(artist=a, track=t, listened_at=epoch) for a, t in missing]
            )
        for pair, r in zip(missing, resolved, strict=True):
            if r is not None:
                out[pair] = r.track_id
    return out


def sync_loved(user, *, client: Client | None = None) -> dict[str, int]:
    """Mirror the user's loved tracks on Last.fm: mark what is loved there, and unmark what
    was loved there before and no longer is (local-only loves are left alone)."""
    profile = Profile.objects.get(user=user)
    client = client or Client()
    items = []
    page_no, total_pages = 1, 1
    while page_no <= total_pages:
        page = client.loved_tracks(profile.lastfm_username, page=page_no)
        items.extend(page.items)
        total_pages = page.total_pages
        page_no += 1
    when = {(i.artist, i.track): i.loved_at for i in items}
    ids = _track_ids(list(when))
    loved_ids = {ids[k]: at for k, at in when.items() if k in ids}
    with transaction.atomic():
        existing = dict(
            LovedTrack.objects.filter(user=user).values_list("track_id", "is_on_lastfm")
        )
        new = [
            LovedTrack(user=user, track_id=tid, loved_at=at, is_on_lastfm=True)
            for tid, at in loved_ids.items()
            if tid not in existing
        ]
        LovedTrack.objects.bulk_create(new, ignore_conflicts=True)
        flagged = [tid for tid in loved_ids if existing.get(tid) is False]
        if flagged:
            LovedTrack.objects.filter(user=user, track_id__in=flagged).update(is_on_lastfm=True)
        gone = [tid for tid, on in existing.items() if on and tid not in loved_ids]
        if gone:
            LovedTrack.objects.filter(user=user, track_id__in=gone, is_on_lastfm=True).delete()
        TrackerStatus.objects.update_or_create(user=user, defaults={"loved_synced_at": _now()})
    return {"loved": len(loved_ids), "added": len(new), "removed": len(gone)}


def sync_loved_all() -> dict[str, int]:
    done = failed = 0
    for user in trackable_users():
        try:
            sync_loved(user)
            done += 1
        except LastfmError as exc:  # Last.fm down or slow: one line, tried again next time
            log.warning("Last.fm loved sync of %s failed: %s", user, exc)
            failed += 1
        except Exception:  # the next user still gets synced
            log.exception("Last.fm loved sync of %s failed", user)
            failed += 1
    return {"synced": done, "failed": failed}


def push_love(*, user, track_id: int, loved: bool) -> bool:
    """Send a love/unlove to Last.fm with the user's session key; False when not connected."""
    profile = Profile.objects.get(user=user)
    if not profile.lastfm_session_key:
        return False
    track = Track.objects.select_related("artist").get(pk=track_id)
    client = Client(session_key=profile.lastfm_session_key)
    client.set_love(artist=track.artist_credit or track.artist.name, track=track.title, loved=loved)
    if loved:
        LovedTrack.objects.filter(user=user, track_id=track_id).update(is_on_lastfm=True)
    return True


def connect(*, user, token: str) -> str:
    """Finish Last.fm's authorization: exchange the token for a session key, kept on the profile
    (never shown, never logged). Returns the Last.fm username it belongs to."""
    key, name = Client().session_for_token(token)
    profile = Profile.objects.get(user=user)
    profile.lastfm_session_key = key
    if not profile.lastfm_username:
        profile.lastfm_username = name
    profile.save(update_fields=["lastfm_session_key", "lastfm_username", "updated_at"])
    return name


def disconnect(*, user) -> None:
    Profile.objects.filter(user=user).update(lastfm_session_key="")


# ---- backfill ----------------------------------------------------------------------------------


def start_backfill(*, user, since: datetime | None = None, until: datetime | None = None) -> Job:
    """The user's backfill job to run: an unfinished one with the same range is resumed."""
    state = {
        "from": int(since.timestamp()) if since else None,
        "until": int(until.timestamp()) if until else None,
    }
    unfinished = (
        Job.objects.filter(user=user, kind=Job.Kind.LASTFM_BACKFILL)
        .exclude(status=Job.Status.DONE)
        .order_by("-created_at")
        .first()
    )
    if unfinished and all(unfinished.state.get(k) == v for k, v in state.items()):
        return unfinished
    return Job.objects.create(
        user=user,
        kind=Job.Kind.LASTFM_BACKFILL,
        unit="listens",
        label=str(Job.Kind.LASTFM_BACKFILL.label),
        state=state,
    )


def run_backfill(
    job: Job,
    *,
    client: Client | None = None,
    on_progress: Callable[[Job, RecentPage], None] | None = None,
) -> Job:
    """Page through the user's history, 200 scrobbles a page, newest first.

    The upper bound `to` is fixed when the job first starts and kept in `job.state`, so scrobbles
    arriving during the import do not shift the pages; the next page to fetch is in the state
    too, saved after each stored batch, so an interrupted job resumes where it stopped (a batch
    cut short is fetched again, and the writer's unique constraint keeps it from doubling).
    """
    user = job.user
    profile = Profile.objects.get(user=user)
    state = dict(job.state)
    if not state.get("to"):
        until = state.get("until")
        state["to"] = until or int(_now().timestamp())
    state.setdefault("page", 1)
    job.state = dict(state)  # what is saved: only advanced once a batch is stored
    job.status = Job.Status.RUNNING
    job.started_at = job.started_at or _now()
    job.finished_at = None
    job.message = ""
    job.save()
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lastfm-prefetch")
    try:
        client = client or Client()
        catalogue = Catalogue()
        pending: list[ListenRecord] = []

        def fetch(number: int) -> RecentPage:
            return client.recent_tracks(
                profile.lastfm_username,
                page=number,
                time_from=state.get("from"),
                time_to=state["to"],
            )

        pages = state.get("pages")
        ahead: Future | None = None
        with bulk_writes():
            while True:
                page = ahead.result() if ahead is not None else fetch(state["page"])
                ahead = None
                if pages is None or page.page == 1:
                    pages = state["pages"] = page.total_pages
                    job.total = page.total
                last = not page.records or state["page"] >= page.total_pages
                if not last:
                    # `to` is fixed, so the next page is known: fetch it while this one is stored
                    ahead = pool.submit(fetch, state["page"] + 1)
                pending.extend(page.records)
                state["page"] += 1
                if len(pending) >= BATCH or last:
                    result = ingest(user, pending, catalogue=catalogue) if pending else None
                    job.done += len(pending)
                    if result:
                        job.added += result.added
                        job.skipped += result.duplicates + result.invalid
                    pending = []
                    job.state = dict(state)
                    job.label = _("Last.fm history import · page %(page)s of %(pages)s") % {
                        "page": state["page"] - 1,
                        "pages": pages,
                    }
                    job.save(
                        update_fields=[
                            "done",
                            "added",
                            "skipped",
                            "state",
                            "total",
                            "label",
                            "updated_at",
                        ]
                    )
                if on_progress:
                    on_progress(job, page)
                if last:
                    break
        job.status = Job.Status.DONE
        job.message = ""
    except LastfmError as exc:
        job.status = Job.Status.FAILED
        job.message = str(exc)
    except BaseException as exc:  # KeyboardInterrupt, a killed worker: resumable from the state
        job.status = Job.Status.INTERRUPTED
        job.message = f"Interrupted: {exc or type(exc).__name__}"
        job.finished_at = _now()
        job.save(update_fields=["status", "message", "finished_at", "updated_at"])
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    job.finished_at = _now()
    job.save()
    return job
