"""Reads behind the Collection grid, the album and artist pages and search (pages and the API).

Every function takes the user explicitly and reads only that user's copies and rollups; the
catalogue (artists, albums, tracks) is shared. Query counts are fixed: none grows with the rows
shown (tests assert it).

- The grid groups a user's copies per album, so the LP and the CD of one album make one card
  listing both formats; plays come from tracking's UserAlbumStat rollup, never from listens.
- Genres live in AlbumMetadata's JSON lists. JSON containment differs between SQLite and
  PostgreSQL (and Django offers none on SQLite), so the genre filter matches the quoted genre in
  the lists cast to text, which both databases do the same way; the filter menu reads the few
  distinct genre lists of the collection.
- Search folds case and accents with `normalize.search_key` and matches every word of the query
  as a substring of the stored `search_key` columns, within the user's library (what they heard
  or own), prefix matches first, then by the user's plays.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import quote, quote_plus

from django.db.models import (
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
)
from django.db.models.functions import Cast, Coalesce
from django.utils.translation import gettext_lazy as _

from collection.models import Album, AlbumArtist, AlbumMetadata, Artist, CollectionItem, Track
from collection.normalize import search_key
from tracking.models import (
    LovedTrack,
    MonthArtistStat,
    UserAlbumStat,
    UserArtistStat,
    UserTrackStat,
)

# --------------------------------------------------------------------------------------------
# The collection grid

# Sort key → (label, ORDER BY). Every order ends on the album id so pages never overlap.
SORTS: dict[str, tuple[str, list]] = {
    "artist": (_("Artist, A to Z"), [F("artist_key").asc(nulls_last=True), "search_key", "id"]),
    "-artist": (
        _("Artist, Z to A"),
        [F("artist_key").desc(nulls_last=True), F("search_key").desc(), "-id"],
    ),
    "title": (_("Title, A to Z"), ["search_key", "id"]),
    "-title": (_("Title, Z to A"), [F("search_key").desc(), "-id"]),
    "-year": (_("Year, newest first"), [F("year").desc(nulls_last=True), "search_key", "id"]),
    "year": (_("Year, oldest first"), [F("year").asc(nulls_last=True), "search_key", "id"]),
    "-added": (_("Recently added"), [F("added_at").desc(nulls_last=True), "-id"]),
    "added": (_("First added"), [F("added_at").asc(nulls_last=True), "id"]),
    "-plays": (_("Most played"), [F("plays").desc(), "search_key", "id"]),
    "plays": (_("Least played"), [F("plays").asc(), "search_key", "id"]),
}
DEFAULT_SORT = "artist"
SUPPORT_LABELS = dict(CollectionItem.Support.choices)
CARD_FIELDS = ("id", "title", "artist_credit", "year", "cover_url", "search_key")


@dataclass(frozen=True)
class GridFilters:
    sort: str = DEFAULT_SORT
    support: str = ""
    genre: str = ""
    decade: int | None = None
    never_played: bool = False
    q: str = ""

    def __post_init__(self) -> None:
        if "\x00" in self.genre:  # a NUL matches no genre, and PostgreSQL refuses it
            object.__setattr__(self, "genre", self.genre.replace("\x00", ""))

    @property
    def is_filtered(self) -> bool:
        return bool(self.support or self.genre or self.decade or self.never_played or self.q)


@dataclass
class Card:
    album: Album  # annotated with plays and added_at
    formats: list[str]  # display labels, one per kind of copy owned ("Vinyl", "CD")
    copies: int


@dataclass
class GridPage:
    cards: list[Card]
    number: int
    pages: int
    albums: int  # records (cards) matching the filters
    copies: int  # copies behind those cards

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def previous_number(self) -> int:
        return self.number - 1

    @property
    def next_number(self) -> int:
        return self.number + 1


class PageOutOfRange(Exception):
    """The page asked for lies past the last one."""

    def __init__(self, pages: int):
        super().__init__(pages)
        self.pages = pages


@dataclass
class Facets:
    """What the filter controls offer: only values present in this user's collection."""

    supports: list[tuple[str, str]]
    genres: list[str]
    decades: list[int]
    has_items: bool


def _owned(user) -> QuerySet:
    return CollectionItem.objects.filter(user=user)


# ---- what is "yours" -------------------------------------------------------------------------
# The catalogue is shared, but an artist, album or track exists in it only because someone heard
# or owns it: its name is that person's data. Pages, the API and forms show or accept an id only
# when it is in the user's library (owned, heard, or loved); any other id answers like an
# unknown one (404), so no user learns what another listens to.


def your_albums(user) -> QuerySet:
    """Albums the user owns a copy of or has listened to."""
    return Album.objects.filter(
        Exists(_owned(user).filter(album_id=OuterRef("pk")))
        | Exists(UserAlbumStat.objects.filter(user=user, album_id=OuterRef("pk")))
    )


def your_artists(user) -> QuerySet:
    """Artists the user has listened to or owns a record credited to."""
    owned = _owned(user).values("album_id")
    return Artist.objects.filter(
        Exists(UserArtistStat.objects.filter(user=user, artist_id=OuterRef("pk")))
        | Exists(AlbumArtist.objects.filter(artist_id=OuterRef("pk"), album_id__in=owned))
    )


def in_library(user, *, artist: str | None = None, album: str | None = None) -> Q:
    """A filter for rows of another model pointing at an artist and/or an album (through the
    named fields): a row is kept when that artist or album is the user's. Evaluated per row kept
    by the rest of the query, so meant for short lists (Settings' last errors)."""
    owned = _owned(user)
    q = Q(pk__in=[])
    if artist:
        q |= Exists(UserArtistStat.objects.filter(user=user, artist_id=OuterRef(artist)))
        q |= Exists(
            AlbumArtist.objects.filter(
                artist_id=OuterRef(artist), album_id__in=owned.values("album_id")
            )
        )
    if album:
        q |= Exists(UserAlbumStat.objects.filter(user=user, album_id=OuterRef(album)))
        q |= Exists(owned.filter(album_id=OuterRef(album)))
    return q


def album_is_yours(user, album_id: int) -> bool:
    return your_albums(user).filter(pk=album_id).exists()


def artist_is_yours(user, artist_id: int) -> bool:
    return your_artists(user).filter(pk=artist_id).exists()


def track_is_yours(user, track_id: int) -> bool:
    """The user has listened to the track, loved it, or owns the album it is on (one query)."""
    return Track.objects.filter(
        Exists(UserTrackStat.objects.filter(user=user, track_id=OuterRef("pk")))
        | Exists(LovedTrack.objects.filter(user=user, track_id=OuterRef("pk")))
        | Exists(_owned(user).filter(album_id=OuterRef("album_id"))),
        pk=track_id,
    ).exists()


def _plays(user, ref: str = "pk"):
    stat = UserAlbumStat.objects.filter(user=user, album=OuterRef(ref)).values("listens")[:1]
    return Coalesce(Subquery(stat), Value(0), output_field=IntegerField())


def _metadata_texts() -> QuerySet:
    """AlbumMetadata with its genre and style lists as JSON text (`::text` on PostgreSQL, the
    stored text on SQLite), so both databases can match and group them without JSON functions."""
    return AlbumMetadata.objects.annotate(
        genres_text=Cast("genres", TextField()), styles_text=Cast("styles", TextField())
    )


def _genre_match(genre: str) -> Q:
    """The genre as one whole, quoted list item, in any letter case. SQLite keeps Django's
    ASCII-escaped JSON ("Caf\\u00e9"), PostgreSQL's jsonb prints the characters: match both."""
    spellings = {genre, json.dumps(genre)[1:-1]}
    match = Q()
    for spelling in spellings:
        for column in ("genres_text", "styles_text"):
            match |= Q(**{f"{column}__icontains": f'"{spelling}"'})
    return match


def _grid_queryset(user, filters: GridFilters) -> QuerySet:
    owned = _owned(user)
    qs = Album.objects.filter(id__in=owned.values("album_id"))
    if filters.support:
        qs = qs.filter(id__in=owned.filter(support=filters.support).values("album_id"))
    if filters.genre:
        tagged = _metadata_texts().filter(_genre_match(filters.genre))
        qs = qs.filter(id__in=tagged.values("album_id"))
    if filters.decade is not None:
        qs = qs.filter(year__gte=filters.decade, year__lt=filters.decade + 10)
    if filters.never_played:
        qs = qs.exclude(
            Exists(UserAlbumStat.objects.filter(user=user, album=OuterRef("pk"), listens__gt=0))
        )
    for word in _words(filters.q):
        by_artist = AlbumArtist.objects.filter(artist__search_key__contains=word)
        qs = qs.filter(Q(search_key__contains=word) | Q(id__in=by_artist.values("album_id")))
    return qs


def _sort_key(qs: QuerySet, user, sort: str) -> QuerySet:
    """Only the value the chosen order needs, computed in SQL for every matching album."""
    if sort in ("artist", "-artist"):
        first = AlbumArtist.objects.filter(album=OuterRef("pk")).order_by("position")
        return qs.annotate(artist_key=Subquery(first.values("artist__search_key")[:1]))
    if sort in ("added", "-added"):
        copies = _owned(user).filter(album=OuterRef("pk")).order_by("-added_at")
        return qs.annotate(added_at=Subquery(copies.values("added_at")[:1]))
    if sort in ("plays", "-plays"):
        return qs.annotate(plays=_plays(user))
    return qs


def collection_grid(
    *, user, filters: GridFilters = GridFilters(), page: int = 1, per_page: int = 60
) -> GridPage:
    """One page of the user's records, one card per album. Raises PageOutOfRange. Five queries:
    the totals, the page's album ids in order (only the sort key computed for every album),
    then the page's albums, plays and copies."""
    qs = _grid_queryset(user, filters)
    totals = qs.aggregate(
        albums=Count("id", distinct=True), copies=Count("copies", filter=Q(copies__user=user))
    )
    albums = totals["albums"] or 0
    pages = max(1, -(-albums // per_page))
    if page > pages:
        raise PageOutOfRange(pages)

    start = (page - 1) * per_page
    ordered = _sort_key(qs, user, filters.sort).order_by(*SORTS[filters.sort][1])
    ids = list(ordered.values_list("id", flat=True)[start : start + per_page])
    loaded = Album.objects.only(*CARD_FIELDS).in_bulk(ids)
    plays = dict(
        UserAlbumStat.objects.filter(user=user, album_id__in=ids).values_list("album_id", "listens")
    )
    kinds: dict[int, list[str]] = defaultdict(list)
    counts: dict[int, int] = defaultdict(int)
    for album_id, support in (
        _owned(user).filter(album_id__in=ids).order_by("support").values_list("album_id", "support")
    ):
        counts[album_id] += 1
        label = str(SUPPORT_LABELS.get(support, support))
        if label not in kinds[album_id]:
            kinds[album_id].append(label)
    cards = []
    for pk in ids:
        album = loaded[pk]
        album.plays = plays.get(pk, 0)
        cards.append(Card(album=album, formats=kinds[pk], copies=counts[pk]))
    return GridPage(cards=cards, number=page, pages=pages, albums=albums, copies=totals["copies"])


def _json_names(text: str | None) -> list[str]:
    try:
        value = json.loads(text or "[]")
    except ValueError:
        return []
    if not isinstance(value, list):
        return []
    return [v.strip() for v in value if isinstance(v, str) and v.strip()]


def collection_facets(*, user) -> Facets:
    owned = _owned(user)
    supports = set(owned.values_list("support", flat=True).distinct())
    years = owned.exclude(album__year=None).values_list("album__year", flat=True).distinct()
    decades = sorted({y - y % 10 for y in years}, reverse=True)
    # Distinct genre lists, not one row per album: a collection has few combinations.
    lists = (
        _metadata_texts()
        .filter(album_id__in=owned.values("album_id"))
        .values_list("genres_text", "styles_text")
        .distinct()
    )
    genres: dict[str, str] = {}
    for genres_text, styles_text in lists:
        for name in [*_json_names(genres_text), *_json_names(styles_text)]:
            genres.setdefault(name.casefold(), name)
    return Facets(
        supports=[(k, v) for k, v in CollectionItem.Support.choices if k in supports],
        genres=sorted(genres.values(), key=str.casefold),
        decades=decades,
        has_items=bool(supports),
    )


# --------------------------------------------------------------------------------------------
# Album page


@dataclass
class Link:
    name: str
    url: str
    is_search: bool = False  # a search on the service, not a page known to be this album


@dataclass
class AlbumPage:
    album: Album
    artists: list[Artist]
    metadata: AlbumMetadata | None
    copies: list[CollectionItem]
    tracks: list[Track]  # annotated with plays
    stat: UserAlbumStat | None
    formats: list[str]
    labels: list[str]
    genres: list[str]
    links: list[Link]

    @property
    def plays(self) -> int:
        return self.stat.listens if self.stat else 0

    @property
    def total_duration(self) -> int | None:
        known = [t.duration for t in self.tracks if t.duration]
        return sum(known) if known and len(known) == len(self.tracks) else None

    @property
    def most_track_plays(self) -> int:
        return max((t.plays for t in self.tracks), default=0)


def _unique(values) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for v in values:
        v = (v or "").strip()
        if v and v.casefold() not in seen:
            seen.add(v.casefold())
            out.append(v)
    return out


def _album_links(album: Album, artists: list[Artist], copies: list[CollectionItem]) -> list[Link]:
    artist = artists[0].name if artists else album.artist_credit
    words = f"{artist} {album.title}".strip()
    release = album.discogs_release_id or next(
        (c.discogs_release_id for c in copies if c.discogs_release_id), None
    )
    if album.discogs_master_id:
        discogs = Link("Discogs", f"https://www.discogs.com/master/{album.discogs_master_id}")
    elif release:
        discogs = Link("Discogs", f"https://www.discogs.com/release/{release}")
    else:
        discogs = Link(
            "Discogs", f"https://www.discogs.com/search/?type=all&q={quote_plus(words)}", True
        )
    if album.spotify_url:
        spotify = Link("Spotify", album.spotify_url)
    elif album.spotify_id:
        spotify = Link("Spotify", f"https://open.spotify.com/album/{album.spotify_id}")
    else:
        spotify = Link("Spotify", f"https://open.spotify.com/search/{quote(words)}", True)
    if album.lastfm_url:
        lastfm = Link("Last.fm", album.lastfm_url)
    else:
        lastfm = Link(
            "Last.fm",
            f"https://www.last.fm/music/{quote_plus(artist)}/{quote_plus(album.title)}",
        )
    return [discogs, spotify, lastfm]


def album_page(*, user, album_id: int) -> AlbumPage:
    """Everything the album page shows; raises Album.DoesNotExist (also for an album that is
    not the user's). Five queries."""
    album = your_albums(user).select_related("metadata").get(pk=album_id)
    try:
        metadata = album.metadata
    except AlbumMetadata.DoesNotExist:
        metadata = None
    artists = list(
        Artist.objects.filter(album_credits__album=album).order_by("album_credits__position")
    )
    copies = list(_owned(user).filter(album=album).order_by("added_at", "id"))
    track_plays = UserTrackStat.objects.filter(user=user, track=OuterRef("pk")).values("listens")
    tracks = list(
        Track.objects.filter(album=album)
        .annotate(plays=Coalesce(Subquery(track_plays[:1]), Value(0)))
        .order_by(
            F("disc_number").asc(nulls_first=True),
            F("track_number").asc(nulls_last=True),
            "position",
            "title",
            "id",
        )
    )
    stat = UserAlbumStat.objects.filter(user=user, album=album).first()
    labels = _unique(
        [" ".join(p for p in (c.label, c.catalogue_number) if p) for c in copies]
        + [f"{label} {number}".strip() if number else label for label, number in _pairs(metadata)]
    )
    return AlbumPage(
        album=album,
        artists=artists,
        metadata=metadata,
        copies=copies,
        tracks=tracks,
        stat=stat,
        formats=_unique(str(SUPPORT_LABELS.get(c.support, c.support)) for c in copies),
        labels=labels,
        genres=_unique([*(metadata.genres or []), *(metadata.styles or [])]) if metadata else [],
        links=_album_links(album, artists, copies),
    )


def _pairs(metadata: AlbumMetadata | None) -> list[tuple[str, str]]:
    if metadata is None:
        return []
    labels = [str(x) for x in (metadata.labels or []) if x]
    numbers = [str(x) for x in (metadata.catalogue_numbers or []) if x]
    return [(label, numbers[i] if i < len(numbers) else "") for i, label in enumerate(labels)]


# --------------------------------------------------------------------------------------------
# Artist page


@dataclass
class MonthPlays:
    month: date
    listens: int


@dataclass
class ArtistPage:
    artist: Artist
    stat: UserArtistStat | None
    owned: list[Album]  # annotated with plays; .formats set here
    heard: list[UserAlbumStat]  # albums credited to the artist, heard and not owned
    top_tracks: list[UserTrackStat]
    links: list[Link]
    months: list[MonthPlays] = field(default_factory=list)  # every month first..last, gaps = 0

    @property
    def plays(self) -> int:
        return self.stat.listens if self.stat else 0


def _every_month(rows: list[tuple[date, int]]) -> list[MonthPlays]:
    if not rows:
        return []
    counts = dict(rows)
    first, last = rows[0][0], rows[-1][0]
    out = []
    y, m = first.year, first.month
    while (y, m) <= (last.year, last.month):
        day = date(y, m, 1)
        out.append(MonthPlays(day, counts.get(day, 0)))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def artist_links(artist: Artist) -> list[Link]:
    name = quote_plus(artist.name)
    discogs = (
        Link("Discogs", f"https://www.discogs.com/artist/{artist.discogs_id}")
        if artist.discogs_id
        else Link("Discogs", f"https://www.discogs.com/search/?type=artist&q={name}", True)
    )
    spotify = (
        Link("Spotify", f"https://open.spotify.com/artist/{artist.spotify_id}")
        if artist.spotify_id
        else Link("Spotify", f"https://open.spotify.com/search/{quote(artist.name)}", True)
    )
    lastfm = Link("Last.fm", artist.lastfm_url or f"https://www.last.fm/music/{name}")
    return [discogs, spotify, lastfm]


def artist_page(*, user, artist_id: int, top: int = 10, albums_limit: int = 100) -> ArtistPage:
    """Everything the artist page shows; raises Artist.DoesNotExist (also for an artist who is
    not the user's). Seven queries."""
    artist = your_artists(user).get(pk=artist_id)
    stat = UserArtistStat.objects.filter(user=user, artist=artist).first()
    owned_ids = _owned(user).values("album_id")
    owned = list(
        Album.objects.filter(credits__artist=artist, id__in=owned_ids)
        .annotate(plays=_plays(user))
        .order_by(F("year").asc(nulls_last=True), "search_key", "id")[:albums_limit]
    )
    kinds: dict[int, list[str]] = defaultdict(list)
    for album_id, support in (
        _owned(user)
        .filter(album_id__in=[a.id for a in owned])
        .order_by("support")
        .values_list("album_id", "support")
    ):
        label = str(SUPPORT_LABELS.get(support, support))
        if label not in kinds[album_id]:
            kinds[album_id].append(label)
    for album in owned:
        album.formats = kinds[album.id]
    heard = list(
        UserAlbumStat.objects.filter(user=user, album__credits__artist=artist)
        .exclude(album_id__in=owned_ids)
        .select_related("album")
        .order_by("-listens", "album_id")[:albums_limit]
    )
    top_tracks = list(
        UserTrackStat.objects.filter(user=user, track__credits__artist=artist)
        .select_related("track", "track__album")
        .order_by("-listens", "track_id")[:top]
    )
    months = list(
        MonthArtistStat.objects.filter(user=user, artist=artist)
        .order_by("month")
        .values_list("month", "listens")
    )
    return ArtistPage(
        artist=artist,
        stat=stat,
        owned=owned,
        heard=heard,
        top_tracks=top_tracks,
        links=artist_links(artist),
        months=_every_month(months),
    )


# --------------------------------------------------------------------------------------------
# Search


@dataclass
class SearchResults:
    query: str
    artists: list[Artist] = field(default_factory=list)  # annotated: plays
    albums: list[Album] = field(default_factory=list)  # annotated: plays, is_owned
    tracks: list[Track] = field(default_factory=list)  # annotated: plays; album selected
    more_artists: bool = False
    more_albums: bool = False
    more_tracks: bool = False

    @property
    def is_empty(self) -> bool:
        return not (self.artists or self.albums or self.tracks)

    @property
    def count(self) -> int:
        return len(self.artists) + len(self.albums) + len(self.tracks)


def _words(query: str) -> list[str]:
    return search_key(query or "").split()[:8]


# A query matching more names than this is vague ("e"): its group is simply the most played
# matches, walked down the rollup's (user, -listens) index until the group is full.
CANDIDATES = 1500


def _rank(key: str, first: str) -> int:
    """0: the name starts with the first word; 1: one of its words does; 2: elsewhere."""
    if key.startswith(first):
        return 0
    return 1 if f" {first}" in key else 2


class _Library:
    """What the user owns, loaded at most once per search and only when a group needs it."""

    def __init__(self, user):
        self.user = user
        self._albums: set[int] | None = None
        self._artists: set[int] | None = None

    @property
    def albums(self) -> set[int]:
        if self._albums is None:
            self._albums = set(_owned(self.user).values_list("album_id", flat=True))
        return self._albums

    @property
    def artists(self) -> set[int]:
        if self._artists is None:
            credits = AlbumArtist.objects.filter(album__in=_owned(self.user).values("album_id"))
            self._artists = set(credits.values_list("artist_id", flat=True))
        return self._artists


def _search_group(
    *, model, stat_model, subject: str, words: list[str], user, limit: int, is_owned, related=()
) -> tuple[list, bool]:
    """One group of results: matches of every word in `search_key` among what the user heard
    (plays from the rollup) or owns; by rank, then plays, then name. Three queries."""
    want = limit + 1
    matches = model.objects.all()
    for word in words:
        matches = matches.filter(search_key__contains=word)
    fields = ["id", "search_key"] + (["album_id"] if model is Track else [])
    candidates = list(matches.order_by().values_list(*fields)[:CANDIDATES])
    if len(candidates) < CANDIDATES:
        plays = dict(
            stat_model.objects.filter(
                user=user, **{f"{subject}_id__in": matches.values("id")}
            ).values_list(f"{subject}_id", "listens")
        )
        eligible = [c for c in candidates if plays.get(c[0]) or is_owned(c)]
        eligible.sort(key=lambda c: (_rank(c[1], words[0]), -plays.get(c[0], 0), c[1], c[0]))
        chosen = [c[0] for c in eligible[:want]]
        loaded = model.objects.select_related(*related).in_bulk(chosen)
        rows = [loaded[pk] for pk in chosen if pk in loaded]
        for row in rows:
            row.plays = plays.get(row.id, 0)
        return rows[:limit], len(rows) > limit

    stats = stat_model.objects.filter(user=user)
    for word in words:
        stats = stats.filter(**{f"{subject}__search_key__contains": word})
    related_through = [subject, *(f"{subject}__{r}" for r in related)]
    rows = []
    for stat in stats.select_related(*related_through).order_by("-listens", f"{subject}_id")[:want]:
        item = getattr(stat, subject)
        item.plays = stat.listens
        rows.append(item)
    if len(rows) < want:  # few of these many matches were heard: add owned ones
        have = {r.id for r in rows}
        extra = [c[0] for c in candidates if c[0] not in have and is_owned(c)][: want - len(rows)]
        loaded = model.objects.select_related(*related).in_bulk(extra)
        for pk in extra:
            if pk in loaded:
                loaded[pk].plays = 0
                rows.append(loaded[pk])
    return rows[:limit], len(rows) > limit


def search(*, user, query: str, limit: int = 5) -> SearchResults:
    """Artists, albums and tracks of the user's library (heard or owned) matching every word of
    the query, accent- and case-insensitively; `limit` rows per group; at most 11 queries."""
    words = _words(query)
    results = SearchResults(query=query)
    if not words:
        return results
    library = _Library(user)
    results.artists, results.more_artists = _search_group(
        model=Artist,
        stat_model=UserArtistStat,
        subject="artist",
        words=words,
        user=user,
        limit=limit,
        is_owned=lambda c: c[0] in library.artists,
    )
    results.albums, results.more_albums = _search_group(
        model=Album,
        stat_model=UserAlbumStat,
        subject="album",
        words=words,
        user=user,
        limit=limit,
        is_owned=lambda c: c[0] in library.albums,
    )
    for album in results.albums:
        album.is_owned = album.id in library.albums
    results.tracks, results.more_tracks = _search_group(
        model=Track,
        stat_model=UserTrackStat,
        subject="track",
        words=words,
        user=user,
        limit=limit,
        is_owned=lambda c: c[2] in library.albums,
        related=("album",),
    )
    return results
