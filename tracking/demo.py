"""A realistic, repeatable listening history for demos and benchmarks (`manage.py seed_demo`).

Artists with real-looking names (accents, "feat." credits, "&" duos), albums with tracklists and
durations, and years of listens shaped like a person's: more in the evening and at weekends,
sessions that play an album through or hop between favourite artists, a long tail of rare plays.
Everything goes through the same resolver and writer as real listens.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import transaction

from collection.catalogue import Catalogue, ListenRecord, ResolvedListen, resolve
from collection.models import Album, CollectionItem
from tracking.listens import record
from tracking.models import LovedTrack, Source

FIRST = [
    "Léa",
    "Marcus",
    "Aurora",
    "Nils",
    "Inès",
    "Kofi",
    "Mei",
    "Rafael",
    "Björn",
    "Zoë",
    "Amara",
    "Tomás",
    "Hana",
    "Élodie",
    "Jonas",
    "Priya",
    "Mateo",
    "Saoirse",
    "Yuki",
    "Oskar",
    "Camille",
    "Dmitri",
    "Lucía",
    "Noor",
    "Ezra",
    "Frida",
    "Malik",
    "Ana",
    "Kenji",
    "Ingrid",
]
LAST = [
    "Moreau",
    "Vance",
    "Lindqvist",
    "Okafor",
    "Castellano",
    "Brandt",
    "Nakamura",
    "Duval",
    "Halvorsen",
    "Ferreira",
    "Kowalski",
    "Haddad",
    "Sørensen",
    "Achebe",
    "Rossi",
    "Dubois",
    "Novak",
    "Ibarra",
    "Kaur",
    "Laurent",
    "Müller",
    "Ahn",
    "Osei",
    "Petrov",
    "Quinn",
    "Åberg",
    "Ortega",
    "Mbeki",
    "Fontaine",
    "Reyes",
]
WORDS = [
    "Velvet",
    "Echo",
    "Paper",
    "Northern",
    "Glass",
    "Midnight",
    "Golden",
    "Silent",
    "Electric",
    "Wild",
    "Neon",
    "Hollow",
    "Crystal",
    "Lunar",
    "Amber",
    "Static",
    "Copper",
    "Violet",
    "Distant",
    "Tidal",
    "Cinder",
    "Marble",
    "Secret",
    "Paper",
    "Arctic",
    "Honey",
    "Iron",
    "Satin",
    "Feral",
    "Solar",
]
NOUNS = [
    "Foxes",
    "Harbour",
    "Machines",
    "Orchard",
    "Tides",
    "Lanterns",
    "Pilots",
    "Rivers",
    "Saints",
    "Wolves",
    "Gardens",
    "Signals",
    "Ghosts",
    "Comets",
    "Islands",
    "Engines",
    "Horses",
    "Mirrors",
    "Parade",
    "Collective",
    "Quartet",
    "Trio",
    "Society",
    "Club",
    "Orchestra",
    "Sound System",
]
FOREIGN = [
    "Sigur Rós",
    "Les Étoiles Filantes",
    "Café Tacvba",
    "Mø",
    "Röyksopp",
    "Mùm",
    "Télépopmusik",
    "Jóhann Jóhannsson",
    "Amadou & Mariam",
    "Simon & Garfunkel",
    "Beyoncé",
    "Björk",
    "Rosalía",
    "Stromae",
    "Françoise Hardy",
    "Ólafur Arnalds",
    "Los Ángeles Azules",
    "Ibrahim Maalouf",
    "Christine and the Queens",
    "Zaz",
]
TITLE_A = [
    "Blue",
    "Slow",
    "Lost",
    "Summer",
    "Broken",
    "Quiet",
    "Burning",
    "Falling",
    "Sweet",
    "Last",
    "Hidden",
    "Open",
    "Bright",
    "Cold",
    "Endless",
    "First",
    "Little",
    "Golden",
    "Strange",
    "Faded",
]
TITLE_B = [
    "Light",
    "Hours",
    "Water",
    "Heart",
    "Lines",
    "Roads",
    "Skies",
    "Dreams",
    "Rooms",
    "Letters",
    "Fire",
    "Seasons",
    "Waves",
    "Stars",
    "Voices",
    "Shadows",
    "Streets",
    "Bridges",
    "Colours",
    "Days",
]
SUFFIX = ["", "", "", "", " (Live)", " - Remastered 2011", " (Acoustic)", " Pt. II"]
SUPPORTS = (
    [CollectionItem.Support.VINYL] * 5
    + [CollectionItem.Support.CD] * 3
    + [
        CollectionItem.Support.DIGITAL,
        CollectionItem.Support.CASSETTE,
    ]
)
# Relative weight of each local hour (0..23): quiet nights, a commute bump, long evenings.
HOUR_WEIGHTS = [2, 1, 1, 0.5, 0.3, 0.5, 2, 5, 7, 6, 5, 5, 6, 5, 5, 5, 6, 8, 10, 11, 11, 10, 7, 4]
WEEKDAY_WEIGHTS = [0.9, 0.9, 0.95, 1.0, 1.15, 1.35, 1.25]


@dataclass
class DemoResult:
    artists: int
    albums: int
    tracks: int
    listens: int
    collection: int


def _artist_names(rng: random.Random, n: int) -> list[str]:
    names: list[str] = list(FOREIGN)
    seen = {x.casefold() for x in names}
    while len(names) < n:
        kind = rng.random()
        if kind < 0.45:
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        elif kind < 0.8:
            name = f"{'The ' if rng.random() < 0.4 else ''}{rng.choice(WORDS)} {rng.choice(NOUNS)}"
        else:
            name = f"{rng.choice(WORDS)}{rng.choice(['', ' ', ''])}{rng.choice(NOUNS).lower()}"
        if name.casefold() not in seen:
            seen.add(name.casefold())
            names.append(name)
    return names[:n]


def _title(rng: random.Random) -> str:
    return f"{rng.choice(TITLE_A)} {rng.choice(TITLE_B)}"


def build_catalogue(rng: random.Random, n_artists: int) -> list[dict]:
    """Albums (with their tracks as ListenRecord templates), artist popularity built in."""
    artists = _artist_names(rng, n_artists)
    albums = []
    now_year = datetime.now(UTC).year
    for i, artist in enumerate(artists):
        for _ in range(rng.choice([1, 1, 2, 2, 3, 3, 4, 5])):
            title = _title(rng) + rng.choice(
                ["", "", "", " (Deluxe Edition)", " (Remastered 2011)"]
            )
            year = rng.randint(1965, now_year)
            tracks = []
            used = set()
            for n in range(1, rng.randint(7, 14) + 1):
                t = _title(rng)
                while t in used:
                    t = _title(rng)
                used.add(t)
                credit = artist
                if rng.random() < 0.06:
                    credit = f"{artist} feat. {rng.choice(artists)}"
                elif rng.random() < 0.02:
                    credit = f"{artist} & {rng.choice(artists)}"
                tracks.append(
                    {
                        "title": t + rng.choice(SUFFIX),
                        "credit": credit,
                        "number": n,
                        "duration": int(rng.triangular(95, 540, 215))
                        if rng.random() > 0.03
                        else None,
                    }
                )
            albums.append(
                {"artist": artist, "rank": i, "title": title, "year": year, "tracks": tracks}
            )
    return albums


def _resolve_catalogue(albums: list[dict], cat: Catalogue) -> None:
    now = datetime.now(UTC)
    records = []
    for album in albums:
        for t in album["tracks"]:
            records.append(
                ListenRecord(
                    artist=t["credit"],
                    track=t["title"],
                    album=album["title"],
                    album_artist=album["artist"],
                    duration=t["duration"],
                    track_number=t["number"],
                    listened_at=now,
                )
            )
    resolved: list[ResolvedListen | None] = []
    for i in range(0, len(records), 2000):
        with transaction.atomic():
            resolved.extend(resolve(records[i : i + 2000], cat))
    k = 0
    for album in albums:
        for t in album["tracks"]:
            t["resolved"] = resolved[k]
            k += 1
        album["id"] = album["tracks"][0]["resolved"].album_id
    years = {a["id"]: a["year"] for a in albums}
    for album in Album.objects.filter(pk__in=list(years), year__isnull=True):
        album.year = years[album.pk]
    Album.objects.bulk_update(
        [Album(pk=pk, year=y) for pk, y in years.items()], ["year"], batch_size=500
    )


def generate(
    user,
    *,
    listens: int,
    years: float | None = None,
    artists: int = 300,
    seed: int = 42,
    end: datetime | None = None,
    batch_size: int = 20_000,
    progress: Callable[[int], None] | None = None,
) -> DemoResult:
    rng = random.Random(seed)
    cat = Catalogue()
    albums = build_catalogue(rng, artists)
    _resolve_catalogue(albums, cat)

    end = (end or datetime.now(UTC)).replace(microsecond=0)
    years = years or max(1.0, min(10.0, listens / 100_000))
    days = int(365.25 * years)
    start = end - timedelta(days=days)
    per_day = listens / days

    # Zipf-like taste: a few favourite artists, a long tail. Album choice within an artist too.
    by_artist: dict[str, list[dict]] = {}
    for a in albums:
        by_artist.setdefault(a["artist"], []).append(a)
    artist_list = list(by_artist)
    weights = [1 / (i + 1) ** 0.9 for i in range(len(artist_list))]
    hours = list(range(24))

    made = 0
    buffer: list[ResolvedListen] = []
    day = 0
    while made < listens:
        d = start + timedelta(days=day % days)
        day += 1
        factor = WEEKDAY_WEIGHTS[d.weekday()] * (0.6 + 0.8 * rng.random())
        expected = max(0.0, rng.gauss(per_day * factor, per_day * 0.2))
        todo = min(listens - made, int(expected + rng.random()))  # random rounding: small N works
        while todo > 0:
            hour = rng.choices(hours, HOUR_WEIGHTS)[0]
            at = d.replace(hour=hour, minute=rng.randint(0, 59), second=rng.randint(0, 59))
            session = min(todo, rng.randint(3, 25))
            favourite = rng.choices(artist_list, weights)[0]
            album = rng.choice(by_artist[favourite])
            as_album = rng.random() < 0.35
            pos = 0
            for _ in range(session):
                if as_album:
                    t = album["tracks"][pos % len(album["tracks"])]
                    pos += 1
                else:
                    if rng.random() < 0.4:
                        favourite = rng.choices(artist_list, weights)[0]
                    t = rng.choice(rng.choice(by_artist[favourite])["tracks"])
                r = t["resolved"]
                if at <= end:
                    buffer.append(
                        ResolvedListen(
                            track_id=r.track_id,
                            artist_id=r.artist_id,
                            album_id=r.album_id,
                            artist_ids=r.artist_ids,
                            duration=r.duration,
                            listened_at=at,
                            source=Source.DEMO,
                        )
                    )
                at += timedelta(seconds=(t["duration"] or 200) + rng.randint(0, 20))
            todo -= session
            made += session
        if len(buffer) >= batch_size:
            record(user, buffer)
            if progress:
                progress(len(buffer))
            buffer = []
    if buffer:
        record(user, buffer)
        if progress:
            progress(len(buffer))

    # Loved tracks and a small collection, repeatably.
    track_ids = [t["resolved"].track_id for a in albums for t in a["tracks"]]
    loved = rng.sample(track_ids, k=max(1, len(track_ids) // 50))
    LovedTrack.objects.bulk_create(
        [
            LovedTrack(user=user, track_id=t, loved_at=end - timedelta(days=rng.randint(0, days)))
            for t in loved
        ],
        ignore_conflicts=True,
    )
    owned = rng.sample(albums, k=min(len(albums), max(10, len(albums) // 6)))
    items = []
    for i, a in enumerate(owned):
        copies = 2 if rng.random() < 0.08 else 1
        for c in range(copies):
            support = SUPPORTS[(i + c * 3) % len(SUPPORTS)]
            items.append(
                CollectionItem(
                    user=user,
                    album_id=a["id"],
                    support=support,
                    format_details={"vinyl": "LP, Album", "cd": "CD, Album"}.get(support, "Album"),
                    label=f"{rng.choice(WORDS)} Records",
                    catalogue_number=f"{rng.choice('ABCDEFGHJK')}{rng.randint(100, 9999)}",
                    folder="Uncategorized",
                    added_at=end - timedelta(days=rng.randint(0, days)),
                    rating=rng.choice([None, 3, 4, 5]),
                    discogs_instance_id=seed * 1_000_000 + i * 10 + c,
                )
            )
    CollectionItem.objects.bulk_create(items, ignore_conflicts=True)
    n_tracks = sum(len(a["tracks"]) for a in albums)
    return DemoResult(
        artists=len(by_artist),
        albums=len(albums),
        tracks=n_tracks,
        listens=made,
        collection=len(items),
    )
