"""The chain of image sources: order, matching, remembered misses, best image, enrich_new."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command

from collection.catalogue import Catalogue, ListenRecord
from collection.models import Album, AlbumArtist, Artist, Image
from enrichment import services, tasks
from enrichment.models import EnrichmentState
from tests.fakes.enrichment_fixtures import *  # noqa: F403
from tests.fakes.enrichment_fixtures import configure
from tracking.listens import ingest

pytestmark = pytest.mark.django_db


def make_album(title: str, artist_name: str, **kw) -> Album:
    artist, _ = Artist.objects.get_or_create(
        name_key=artist_name.casefold(), defaults={"name": artist_name}
    )
    album = Album.objects.create(
        title=title, artist_credit=artist_name, match_key=Album.key_for(artist.pk, title), **kw
    )
    AlbumArtist.objects.create(album=album, artist=artist)
    return album


def make_artist(name: str) -> Artist:
    return Artist.objects.create(name=name)


def test_spotify_first_stores_every_size_and_keeps_the_id(fake_spotify, fake_deezer):
    artist = make_artist("Air")
    assert services.find_images(clients=services.Clients(), artist=artist) == "spotify"
    artist.refresh_from_db()
    assert artist.spotify_id == "5pmVGB4Wj1o3mx5CzK3u6c"
    sizes = sorted(
        Image.objects.filter(artist=artist, source="spotify").values_list("width", flat=True)
    )
    assert sizes == [160, 320, 640]
    assert artist.image_url == "https://i.scdn.co/image/ab6761610000e5ebair640"  # the largest
    assert fake_deezer.requests == []  # the chain stopped at the first source that had it


def test_album_from_spotify_keeps_id_and_url(fake_spotify):
    album = make_album("Moon Safari", "Air")
    services.find_images(clients=services.Clients(), album=album)
    album.refresh_from_db()
    assert album.spotify_id == "5Ya0ozT8iu3wWC4ZAhjgMd"
    assert album.spotify_url == "https://open.spotify.com/album/5Ya0ozT8iu3wWC4ZAhjgMd"
    assert album.cover_url.endswith("moonsafari640")


def test_chain_order_is_configurable(settings, fake_spotify, fake_deezer):
    configure(settings, "enrichment", image_sources=["deezer", "spotify"])
    album = make_album("Discovery", "Daft Punk")
    assert services.find_images(clients=services.Clients(), album=album) == "deezer"
    assert fake_spotify.hits("/v1/search") == []
    album.refresh_from_db()
    assert "1000x1000" in album.cover_url


def test_a_miss_falls_through_to_the_next_source_and_is_remembered(
    settings, fake_spotify, fake_deezer
):
    artist = make_artist("Daft Punk")  # not in the Spotify fake: a miss there
    assert services.find_images(clients=services.Clients(), artist=artist) == "deezer"
    state = EnrichmentState.objects.get(artist=artist, service="spotify")
    assert state.outcome == "miss"
    assert state.retry_after > state.tried_at + timedelta(days=13)
    searches = len(fake_spotify.hits("/v1/search"))

    Artist.objects.filter(pk=artist.pk).update(image_url="")
    Image.objects.filter(artist=artist).delete()
    services.find_images(clients=services.Clients(), artist=artist)
    assert len(fake_spotify.hits("/v1/search")) == searches  # not asked again before the delay

    with time_machine.travel(datetime.now(tz=UTC) + timedelta(days=15)):
        Image.objects.filter(artist=artist).delete()
        services.find_images(clients=services.Clients(), artist=artist)
    assert len(fake_spotify.hits("/v1/search")) == searches + 1


def test_existing_discogs_cover_ends_the_chain_when_ranked_higher(settings, fake_deezer):
    configure(settings, "enrichment", image_sources=["discogs", "deezer"])
    album = make_album("Discovery", "Daft Punk")
    Image.objects.create(
        kind="album", album=album, url="https://i.discogs.com/x.jpg", source="discogs"
    )
    assert services.find_images(clients=services.Clients(), album=album) == "discogs"
    assert fake_deezer.requests == []
    album.refresh_from_db()
    assert album.cover_url == "https://i.discogs.com/x.jpg"


def test_lastfm_star_placeholder_is_not_an_image(settings):
    configure(settings, "enrichment", image_sources=["lastfm"])
    album = make_album("Unknown", "Nobody")
    Image.objects.create(
        kind="album",
        album=album,
        url="https://lastfm.freetls.fastly.net/i/u/300x300/2a96cbd8b46e442fc41c2b86b821562f.png",
        source="lastfm",
    )
    assert services.refresh_best(album=album) == ""


def test_cover_art_archive_for_albums_with_a_musicbrainz_id(settings, fake_coverart):
    configure(settings, "enrichment", image_sources=["coverartarchive", "discogs"])
    group = uuid.uuid4()
    fake_coverart.add(str(group), image_id=7)
    album = make_album("Kind of Blue", "Miles Davis", mbid=group)
    assert services.find_images(clients=services.Clients(), album=album) == "coverartarchive"
    album.refresh_from_db()
    assert album.cover_url == f"{fake_coverart.url}/release/{group}/7.jpg"
    other = make_album("No Id", "Miles Davis")
    assert services.find_images(clients=services.Clients(), album=other) == ""
    assert len(fake_coverart.requests) == 1  # no id, no request


def test_a_users_choice_wins_and_automatic_returns(fake_spotify):
    artist = make_artist("Air")
    services.find_images(clients=services.Clients(), artist=artist)
    small = Image.objects.get(artist=artist, width=160)
    services.choose_image(image=small)
    artist.refresh_from_db()
    assert artist.image_url == small.url
    services.add_chosen_url(artist=artist, url="https://example.org/air.jpg")
    assert artist.image_url == "https://example.org/air.jpg"
    assert Image.objects.filter(artist=artist, is_chosen=True).count() == 1
    services.clear_choice(artist=artist)
    artist.refresh_from_db()
    assert artist.image_url.endswith("air640")


def test_rate_limited_service_sits_out_the_run(fake_spotify, fake_deezer):
    fake_spotify.rate_limit(times=1, retry_after=3600)
    clients = services.Clients()
    a, b = make_artist("Air"), make_artist("Björk")
    services.find_images(clients=clients, artist=a)
    services.find_images(clients=clients, artist=b)
    assert len(fake_spotify.hits("/v1/search")) == 1
    assert not EnrichmentState.objects.filter(service="spotify").exists()  # not a miss


def test_enrich_new_runs_after_an_ingest(
    user, settings, fake_deezer, django_capture_on_commit_callbacks
):
    configure(settings, "enrichment", image_sources=["deezer"])
    records = [
        ListenRecord(
            artist="Daft Punk",
            track="One More Time",
            album="Discovery",
            listened_at=datetime(2024, 5, 1, 12, tzinfo=UTC),
            source="lastfm",
        )
    ]
    with django_capture_on_commit_callbacks(execute=True):
        ingest(user, records, catalogue=Catalogue())
    artist = Artist.objects.get(name="Daft Punk")
    album = Album.objects.get(title="Discovery")
    assert "f2bc007e9133c946ac3c3907ddc5d2ea" in artist.image_url
    assert "2e018122cb56986277102d2041a592c8" in album.cover_url


def test_backlog_fills_what_is_missing_and_skips_remembered_misses(settings, fake_deezer):
    configure(settings, "enrichment", image_sources=["deezer"], batch_size=10)
    found = make_artist("Daft Punk")
    missing = make_artist("Nobody At All")
    tasks.enrich_backlog()
    found.refresh_from_db()
    assert found.image_url
    assert EnrichmentState.objects.get(artist=missing).outcome == "miss"
    before = len(fake_deezer.requests)
    assert list(services.artists_needing_images(["deezer"])) == []
    tasks.enrich_backlog()
    assert len(fake_deezer.requests) == before


def test_enrich_command_shows_progress(settings, fake_deezer, capsys):
    configure(settings, "enrichment", image_sources=["deezer"])
    make_artist("Daft Punk")
    make_album("Discovery", "Daft Punk")
    call_command("enrich", "--images", "--limit", "5")
    out = capsys.readouterr()
    assert "2 with a picture" in out.out
    assert "enrich" in out.err  # tqdm's bar


def test_an_unreachable_service_is_asked_once_per_run(settings):
    # tests/conftest.py points Deezer at a closed loopback port
    configure(settings, "enrichment", image_sources=["deezer"])
    configure(settings, "deezer", min_interval_seconds=0)
    artists = [make_artist(f"Artist {i}") for i in range(5)]
    clients = services.Clients()
    for artist in artists:
        services.find_images(clients=clients, artist=artist)
    errors = EnrichmentState.objects.filter(service="deezer", outcome="error")
    assert errors.count() == 1
    assert "unreachable" in errors.get().reason
    assert "deezer" in clients.resting
