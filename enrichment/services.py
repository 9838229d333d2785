"""Enrichment services: find pictures through the chain of sources, keep the best one on the
artist or album, let a user choose, and write AI album notes.

The chain (`enrichment.image_sources`, e.g. spotify, deezer, coverartarchive, discogs, lastfm) is
walked in order: a source that already gave images ends the walk (nothing better is left to ask);
a remote source that is configured and due is asked; its miss is remembered in
`EnrichmentState` and asked again only after `enrichment.retry_misses_after_days`. Discogs and
Last.fm images arrive with their syncs and are only ranked here.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from collection.models import Album, AlbumMetadata, Artist, Image
from enrichment import ai
from enrichment.coverart import CoverArtClient, CoverArtError
from enrichment.deezer import DeezerClient, DeezerError, DeezerRateLimited
from enrichment.images import Unreachable
from enrichment.models import AiUsage, EnrichmentState
from enrichment.spotify import SpotifyClient, SpotifyError, SpotifyRateLimited
from enrichment.throttle import Busy, Limiter
from musictracker import config, metrics

log = logging.getLogger(__name__)

REMOTE = ("spotify", "deezer", "coverartarchive")
KNOWN_SOURCES = (*REMOTE, "discogs", "lastfm")
# Last.fm's grey star stands in for a missing picture: it is not an image.
PLACEHOLDER_MARKERS = ("2a96cbd8b46e442fc41c2b86b821562f", "/noimage/", "default_album", "star.png")
Service = EnrichmentState.Service
Outcome = EnrichmentState.Outcome


def image_order() -> list[str]:
    order = config.get("enrichment.image_sources") or list(KNOWN_SOURCES)
    return [s for s in order if s in KNOWN_SOURCES]


def is_placeholder(url: str) -> bool:
    return not url or any(marker in url for marker in PLACEHOLDER_MARKERS)


# --- Ranking and choosing ------------------------------------------------------------------------


def best_image(images: list[Image]) -> Image | None:
    """A user's choice wins; else the first source in the chain's order, largest size first."""
    usable = [i for i in images if not is_placeholder(i.url)]
    chosen = [i for i in usable if i.is_chosen]
    if chosen:
        return max(chosen, key=lambda i: (i.created_at or timezone.now(), i.pk or 0))
    order = image_order()

    def rank(img: Image):
        position = order.index(img.source) if img.source in order else len(order)
        return (position, -((img.width or 0) * (img.height or 0)), img.pk or 0)

    return min(usable, key=rank) if usable else None


def refresh_best(*, artist: Artist | None = None, album: Album | None = None) -> str:
    """Store the best image's URL on the artist or album (so lists need no join); return it."""
    if artist is not None:
        best = best_image(list(Image.objects.filter(artist=artist)))
        url = best.url if best else ""
        if artist.image_url != url:
            Artist.objects.filter(pk=artist.pk).update(image_url=url)
            artist.image_url = url
        return url
    assert album is not None
    best = best_image(list(Image.objects.filter(album=album)))
    url = best.url if best else ""
    if album.cover_url != url:
        Album.objects.filter(pk=album.pk).update(cover_url=url)
        album.cover_url = url
    return url


def _subject(image_or_kw) -> dict:
    return {"artist": image_or_kw.artist} if image_or_kw.artist_id else {"album": image_or_kw.album}


def choose_image(*, image: Image) -> Image:
    """Make `image` the one shown for its artist or album, over the chain's ranking."""
    subject = _subject(image)
    with transaction.atomic():
        Image.objects.filter(**subject, is_chosen=True).exclude(pk=image.pk).update(is_chosen=False)
        Image.objects.filter(pk=image.pk).update(is_chosen=True)
        image.is_chosen = True
        refresh_best(**subject)
    return image


def add_chosen_url(*, url: str, artist: Artist | None = None, album: Album | None = None) -> Image:
    """A pasted picture URL, chosen at once."""
    subject = {"artist": artist} if artist is not None else {"album": album}
    kind = Image.Kind.ARTIST if artist is not None else Image.Kind.ALBUM
    with transaction.atomic():
        image, _ = Image.objects.get_or_create(
            **subject, url=url, defaults={"kind": kind, "source": Image.Source.USER}
        )
        return choose_image(image=image)


def clear_choice(*, artist: Artist | None = None, album: Album | None = None) -> str:
    """Back to the automatic choice."""
    subject = {"artist": artist} if artist is not None else {"album": album}
    with transaction.atomic():
        Image.objects.filter(**subject, is_chosen=True).update(is_chosen=False)
        return refresh_best(**subject)


def _store(images, *, source: str, artist=None, album=None) -> int:
    kind = Image.Kind.ARTIST if artist is not None else Image.Kind.ALBUM
    rows = [
        Image(
            kind=kind,
            artist=artist,
            album=album,
            url=i.url[:1000],
            width=i.width,
            height=i.height,
            source=source,
        )
        for i in images
        if i.url and not is_placeholder(i.url)
    ]
    Image.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


# --- Remembering what was tried ------------------------------------------------------------------


def _retry_at(outcome: str):
    now = timezone.now()
    if outcome == Outcome.MISS:
        return now + timedelta(days=float(config.get("enrichment.retry_misses_after_days", 14)))
    if outcome == Outcome.ERROR:
        return now + timedelta(hours=float(config.get("enrichment.retry_errors_after_hours", 6)))
    return None


def remember(service: str, outcome: str, reason: str = "", *, artist=None, album=None) -> None:
    subject = {"artist": artist} if artist is not None else {"album": album}
    EnrichmentState.objects.update_or_create(
        **subject,
        service=service,
        defaults={
            "outcome": outcome,
            "reason": reason[:2000],
            "tried_at": timezone.now(),
            "retry_after": _retry_at(outcome),
        },
    )


def _is_due(state: EnrichmentState | None) -> bool:
    if state is None:
        return True
    if state.outcome == Outcome.FOUND:
        return False
    return state.retry_after is None or state.retry_after <= timezone.now()


# --- The chain -----------------------------------------------------------------------------------


@dataclass
class Clients:
    """The configured image clients of one run; a rate-limited service sits out the rest of it."""

    built: dict = field(default_factory=dict)
    resting: set = field(default_factory=set)

    def get(self, source: str):
        if source in self.resting:
            return None
        if source not in self.built:
            self.built[source] = _build(source)
        return self.built[source]

    def configured(self) -> list[str]:
        return [s for s in REMOTE if self.get(s) is not None]


def _interval(key: str, default: float) -> float:
    return float(config.get(key, default))


def _build(source: str):
    max_wait = _interval("enrichment.max_wait_seconds", 60)
    if source == "spotify":
        limiter = Limiter(
            "spotify", _interval("spotify.min_interval_seconds", 0.2), max_wait=max_wait
        )
        return SpotifyClient.from_config(limiter)
    if source == "deezer":
        limiter = Limiter(
            "deezer", _interval("deezer.min_interval_seconds", 0.12), max_wait=max_wait
        )
        return DeezerClient.from_config(limiter)
    if source == "coverartarchive":
        # One request a second, shared with MusicBrainz (same operators, same rule).
        limiter = Limiter(
            "musicbrainz", _interval("coverartarchive.min_interval_seconds", 1.0), max_wait=max_wait
        )
        return CoverArtClient.from_config(limiter)
    return None


RATE_LIMITED = (SpotifyRateLimited, DeezerRateLimited, Busy)
CLIENT_ERRORS = (SpotifyError, DeezerError, CoverArtError)


def _ask(source: str, client, *, artist=None, album=None):
    """(images, id, url) from one source for one subject, or None for a miss."""
    if artist is not None:
        if source == "coverartarchive":
            return "skip"
        match = client.find_artist(artist.name)
        return (match.images, match.id, match.url) if match and match.images else None
    if source == "coverartarchive":
        if not (album.mbid or album.mb_release_id):
            return "skip"
        found = client.front(release_group=album.mbid or "", release=album.mb_release_id or "")
        return ((found,), "", "") if found else None
    match = client.find_album(album.title, album.artist_credit)
    return (match.images, match.id, match.url) if match and match.images else None


def find_images(
    *, clients: Clients, artist: Artist | None = None, album: Album | None = None, force=False
) -> str:
    """Walk the chain for one artist or album; return the source that now gives its image."""
    subject = {"artist": artist} if artist is not None else {"album": album}
    have = {
        i.source
        for i in Image.objects.filter(**subject).only("source", "url")
        if not is_placeholder(i.url)
    }
    states = {s.service: s for s in EnrichmentState.objects.filter(**subject)}
    result = ""
    for source in image_order():
        if source in have:
            result = source
            break
        if source not in REMOTE:
            continue
        client = clients.get(source)
        if client is None or (not force and not _is_due(states.get(source))):
            continue
        try:
            answer = _ask(source, client, **subject)
        except RATE_LIMITED as exc:
            log.info("%s resting for this run: %s", source, exc)
            clients.resting.add(source)
            continue
        except CLIENT_ERRORS as exc:
            remember(source, Outcome.ERROR, str(exc), **subject)
            if isinstance(exc, Unreachable):
                clients.resting.add(source)
            continue
        if answer == "skip":
            continue
        if answer is None:
            remember(source, Outcome.MISS, "no result with a matching name", **subject)
            continue
        images, ext_id, ext_url = answer
        with transaction.atomic():
            _store(images, source=source, **subject)
            if source == "spotify" and ext_id:
                _keep_spotify_id(ext_id, ext_url, **subject)
            remember(source, Outcome.FOUND, **subject)
        result = source
        break
    refresh_best(**subject)
    return result


def _keep_spotify_id(spotify_id: str, url: str, *, artist=None, album=None) -> None:
    if artist is not None:
        Artist.objects.filter(pk=artist.pk).update(spotify_id=spotify_id[:64])
    else:
        Album.objects.filter(pk=album.pk).update(spotify_id=spotify_id[:64], spotify_url=url[:500])


# --- Backlog -------------------------------------------------------------------------------------


def _not_resting(model_field: str, service: str):
    now = timezone.now()
    return ~Exists(
        EnrichmentState.objects.filter(**{model_field: OuterRef("pk")}, service=service).filter(
            Q(outcome=Outcome.FOUND) | Q(retry_after__gt=now)
        )
    )


def artists_needing_images(services: list[str]):
    services = [s for s in services if s != "coverartarchive"]
    qs = Artist.objects.filter(image_url="")
    if not services:
        return qs.none()
    due = Q()
    for s in services:
        due |= Q(_not_resting("artist", s))
    return qs.filter(due).order_by("pk")


def albums_needing_images(services: list[str]):
    qs = Album.objects.filter(cover_url="")
    if not services:
        return qs.none()
    due = Q()
    for s in services:
        cond = Q(_not_resting("album", s))
        if s == "coverartarchive":
            cond &= Q(mbid__isnull=False) | Q(mb_release_id__isnull=False)
        due |= cond
    return qs.filter(due).order_by("pk")


def albums_needing_notes():
    has_notes = AlbumMetadata.objects.filter(album=OuterRef("pk")).exclude(description="")
    return (
        Album.objects.filter(~Exists(has_notes))
        .filter(_not_resting("album", Service.AI))
        .order_by("pk")
    )


def backlog_counts() -> dict[str, int]:
    has_notes = AlbumMetadata.objects.filter(album=OuterRef("pk")).exclude(description="")
    return {
        "artists_without_image": Artist.objects.filter(image_url="").count(),
        "albums_without_image": Album.objects.filter(cover_url="").count(),
        "albums_without_notes": Album.objects.filter(~Exists(has_notes)).count(),
    }


# --- AI notes ------------------------------------------------------------------------------------


def notes_language(user=None) -> str:
    """The language notes are written in: the asking user's, else the most common one."""
    from musictracker.models import Profile

    if user is not None:
        lang = Profile.objects.filter(user=user).values_list("language", flat=True).first()
        if lang:
            return lang
    langs = Counter(Profile.objects.values_list("language", flat=True))
    if langs:
        return langs.most_common(1)[0][0]
    return config.get("general.language", "en") or "en"


def describe_album(*, album: Album, language: str = "", force: bool = False) -> str:
    """Write the album's AI notes unless present (then it counts a cache hit); "done", "cached",
    "failed" or "not configured"."""
    meta, _ = AlbumMetadata.objects.get_or_create(album=album)
    if meta.description and not force:
        AiUsage.bump(AiUsage.CACHE_HITS)
        metrics.inc("ai_cache_total", result="hit")
        return "cached"
    missing = ai.missing()
    if missing:
        if force:  # a user asked: say why nothing comes instead of staying "pending"
            reason = "AI not configured: set " + ", ".join(m["key"] for m in missing)
            AlbumMetadata.objects.filter(pk=meta.pk).update(
                ai_status=AlbumMetadata.Status.FAILED, ai_error=reason
            )
        return "not configured"
    metrics.inc("ai_cache_total", result="miss")
    language = language or notes_language()
    AlbumMetadata.objects.filter(pk=meta.pk).update(ai_status=AlbumMetadata.Status.PENDING)
    tracks = list(
        album.tracks.order_by("disc_number", "track_number").values_list("title", flat=True)[:20]
    )
    try:
        notes = ai.album_notes(
            title=album.title,
            artist=album.artist_credit,
            year=album.year,
            language=language,
            tracks=tracks,
        )
    except ai.AiError as exc:
        AlbumMetadata.objects.filter(pk=meta.pk).update(
            ai_status=AlbumMetadata.Status.FAILED, ai_error=str(exc)[:2000]
        )
        remember(Service.AI, Outcome.ERROR, str(exc), album=album)
        return "failed"
    with transaction.atomic():
        AlbumMetadata.objects.filter(pk=meta.pk).update(
            description=notes.description,
            summary=notes.summary,
            film_title=notes.film_title,
            film_year=notes.film_year,
            film_director=notes.film_director,
            language=language[:8],
            model_name=notes.model,
            generated_at=timezone.now(),
            ai_status=AlbumMetadata.Status.DONE,
            ai_error="",
        )
        remember(Service.AI, Outcome.FOUND, album=album)
    return "done"


def mark_notes_pending(*, album: Album) -> None:
    """Shown at once by the page while the task runs."""
    meta, _ = AlbumMetadata.objects.get_or_create(album=album)
    AlbumMetadata.objects.filter(pk=meta.pk).update(
        ai_status=AlbumMetadata.Status.PENDING, ai_error=""
    )


# --- Runs ----------------------------------------------------------------------------------------


@dataclass
class RunResult:
    artists: int = 0
    albums: int = 0
    images_found: int = 0
    notes: Counter = field(default_factory=Counter)

    def __str__(self) -> str:
        notes = ", ".join(f"{n} {k}" for k, n in sorted(self.notes.items())) or "no notes"
        return (
            f"{self.artists} artists and {self.albums} albums looked up, "
            f"{self.images_found} with a picture; notes: {notes}"
        )


def enrich(
    *,
    artists=(),
    albums=(),
    images: bool = True,
    notes: bool = True,
    force: bool = False,
    clients: Clients | None = None,
    progress=None,
) -> RunResult:
    """Pictures and notes for the given artists and albums (each step skipped when its
    services are not configured); `progress(n)` is called after each item."""
    clients = clients or Clients()
    result = RunResult()
    for artist in artists:
        if images:
            result.artists += 1
            result.images_found += bool(find_images(clients=clients, artist=artist, force=force))
        if progress:
            progress(1)
    ai_ready = notes and not ai.missing()
    for album in albums:
        if images:
            result.albums += 1
            result.images_found += bool(find_images(clients=clients, album=album, force=force))
        if ai_ready:
            outcome = describe_album(album=album)
            result.notes[outcome] += 1
        if progress:
            progress(1)
    return result
