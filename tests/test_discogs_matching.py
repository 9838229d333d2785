# ruff: noqa: F811  (the fake fixture is imported from test_discogs_sync)
"""One album, two sources: an owned record and the same album heard on Last.fm are one Album."""

from __future__ import annotations

import pytest
from django.contrib.admin.sites import AdminSite

from collection import discogs_sync
from collection.admin import AlbumAdmin, CollectionItemAdmin
from collection.models import Album, CollectionItem, Track
from collection.normalize import album_title_key, track_title_key
from musictracker.models import Profile
from tests.conftest import utc
from tests.fakes.discogs import make_release, sample
from tests.test_discogs_sync import Sleeps, fake, run  # noqa: F401  (fixtures)
from tracking.models import Listen

pytestmark = pytest.mark.django_db


@pytest.fixture
def collector(user):
    Profile.objects.filter(user=user).update(
        discogs_username="vinylfan", discogs_token="good-token"
    )
    return user


@pytest.mark.parametrize(
    "title",
    [
        "Abbey Road (Remastered 2011)",
        "Abbey Road [Deluxe Edition]",
        "Abbey Road (2009 Mono)",
        "Abbey Road - 2015 Remaster",
        "Abbey Road (Expanded Edition)",
        "Abbey Road (Legacy Edition)",
        "Abbey Road (Remastered)",
        "Abbey Road [2011 Remaster]",
        "Abbey Road (Deluxe Version)",
        "Abbey Road (Super Deluxe)",
        "Abbey Road (Bonus Track Version)",
        "Abbey Road (Remastered 2011) [Deluxe Edition]",
        "Abbey Road (50th Anniversary)",
        "Abbey Road (Collector's Edition)",
        "Abbey Road (Special Edition)",
        "Abbey Road (Stereo)",
        "Abbey Road - 2019 Mix",
        "Abbey Road (Reissue)",
        "ABBEY ROAD",
    ],
)
def test_real_world_edition_variants_are_one_album(title):
    assert album_title_key(title) == "abbey road"


@pytest.mark.parametrize(
    "title,key",
    [
        ("Abbey Road (Live)", "abbey road (live)"),
        ("Remix (2001)", "remix (2001)"),
        ("Greatest Hits (1999)", "greatest hits (1999)"),
        ("Abbey Road (Remixed)", "abbey road (remixed)"),
    ],
)
def test_other_recordings_are_not_editions(title, key):
    assert album_title_key(title) == key


def test_track_edition_tails_match_tracklist_titles():
    assert track_title_key("Come Together - Remastered 2009") == track_title_key("Come Together")
    assert track_title_key("Something - 2019 Mix") == track_title_key("Something")


def test_owned_record_meets_the_album_heard_on_lastfm(fake, collector, add_listens):  # noqa: F811
    add_listens(
        collector,
        [
            (
                "The Beatles",
                "Come Together - Remastered 2009",
                "Abbey Road (Remastered 2009)",
                utc(2024, 5, 1, 20),
                None,
            ),  # fmt: skip
            ("The Beatles", "Come Together", "Abbey Road (Remastered 2009)", utc(2024, 5, 2, 20)),
            ("The Beatles", "Something", "Abbey Road", utc(2024, 5, 3, 20)),
        ],
        source="lastfm",
    )
    heard = Album.objects.get()
    fake.add(sample("release_abbey_road_lp"))
    fake.add(sample("release_abbey_road_cd"))
    result, job = run(collector)
    assert result.error == ""

    assert Album.objects.count() == 1  # the listened album, the LP and the CD: one Album
    album = Album.objects.get()
    assert album.pk == heard.pk and album.discogs_master_id == 24047
    assert set(CollectionItem.objects.filter(user=collector).values_list("album", flat=True)) == {
        heard.pk
    }
    come = album.tracks.get(title__startswith="Come Together")
    assert come.position == "A1" and come.duration == 260  # learnt from the tracklist
    assert Listen.objects.filter(user=collector, track=come).count() == 2  # plays visible
    assert Listen.objects.filter(user=collector, album=album).count() == 3
    assert Track.objects.filter(album=album).count() == 8


def test_listens_after_the_sync_fall_into_the_owned_album(fake, collector, add_listens):  # noqa: F811
    fake.add(sample("release_homogenic"))
    run(collector)
    add_listens(collector, [("Björk", "Jóga", "Homogenic (Remastered)", utc(2024, 6, 1, 9))])
    album = Album.objects.get(title="Homogenic")
    listen = Listen.objects.get(user=collector)
    assert listen.album_id == album.pk
    assert listen.track.position == "A2"


def test_disambiguation_suffix_and_asterisk_are_cleaned(fake, collector):  # noqa: F811
    release = make_release(1, title="Nevermind", artist="Nirvana (2)*", artist_id=1, master_id=5)
    fake.add(release)
    run(collector)
    album = Album.objects.get()
    assert album.artist_credit == "Nirvana"
    assert album.artists.get().name == "Nirvana"
    assert discogs_sync.clean_name("Björk (2)") == "Björk"
    assert discogs_sync.clean_name("Prince*") == "Prince"


def test_same_name_different_masters_stay_two_albums(fake, collector):  # noqa: F811
    for master, year in ((100, 1977), (101, 1978)):
        fake.add(
            make_release(
                master,
                title="Peter Gabriel",
                artist="Peter Gabriel",
                artist_id=7,
                master_id=master,
                year=year,
            )  # fmt: skip
        )
    run(collector)
    albums = Album.objects.order_by("year")
    assert [(a.title, a.discogs_master_id) for a in albums] == [
        ("Peter Gabriel", 100),
        ("Peter Gabriel", 101),
    ]


def test_release_without_master_is_an_album_of_its_own(fake, collector):  # noqa: F811
    fake.add(sample("release_compilation"))
    run(collector)
    album = Album.objects.get()
    assert album.discogs_master_id is None and album.discogs_release_id == 987654
    assert album.artist_credit == "Various"


def test_earliest_year_wins(fake, collector):  # noqa: F811
    fake.add(sample("release_abbey_road_cd"), date_added="2019-01-01T00:00:00-08:00")
    fake.add(sample("release_abbey_road_lp"), date_added="2020-01-01T00:00:00-08:00")
    run(collector)
    assert Album.objects.get().year == 1969


def test_admin_split_undoes_a_wrong_merge_and_resync_keeps_it(
    fake,
    collector,
    add_listens,
    rf,
    admin_user,  # noqa: F811
):
    add_listens(collector, [("The Beatles", "Come Together", "Abbey Road", utc(2024, 5, 1, 20))])
    fake.add(sample("release_abbey_road_lp"))
    run(collector)
    merged = Album.objects.get()
    item = CollectionItem.objects.get()

    request = rf.post("/admin/")
    request.user = admin_user
    request._messages = type("M", (), {"add": lambda *a, **k: None})()
    admin = CollectionItemAdmin(CollectionItem, AdminSite())
    admin.message_user = lambda *a, **k: None
    admin.get_actions(request)["split_item_copies"][0](admin, request, CollectionItem.objects.all())
    item.refresh_from_db()
    assert item.album_id != merged.pk
    new = item.album
    assert new.discogs_master_id == 24047 and new.title == "Abbey Road"
    merged.refresh_from_db()
    assert merged.discogs_master_id is None
    assert Listen.objects.get().album_id == merged.pk  # the listens stay where they were

    run(collector)  # a re-sync respects the correction and refetches the tracklist
    item.refresh_from_db()
    assert item.album_id == new.pk and item.is_detailed
    assert new.tracks.count() == 8

    album_admin = AlbumAdmin(Album, AdminSite())
    album_admin.message_user = lambda *a, **k: None
    album_admin.get_actions(request)["split_album_copies"][0](
        album_admin, request, Album.objects.filter(pk=new.pk)
    )
    assert CollectionItem.objects.get().album_id not in (new.pk, merged.pk)
