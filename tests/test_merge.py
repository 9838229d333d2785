import pytest

from collection.merge import merge_albums, merge_artists, merge_tracks
from collection.models import Album, Artist, ArtistAlias, Track
from tests.conftest import utc
from tracking.models import Listen, UserArtistStat

pytestmark = pytest.mark.django_db


def test_merge_artists_moves_everything_and_keeps_an_alias(
    user, add_listens, django_capture_on_commit_callbacks
):
    add_listens(
        user,
        [
            ("Beyoncé", "Halo", "I Am... Sasha Fierce", utc(2024, 1, 1, 10)),
            ("Beyonce", "Halo", "I Am... Sasha Fierce", utc(2024, 1, 2, 10)),
            ("Beyonce", "Single Ladies", "", utc(2024, 1, 3, 10)),
        ],
    )
    kept, gone = Artist.objects.get(name="Beyoncé"), Artist.objects.get(name="Beyonce")
    with django_capture_on_commit_callbacks(execute=True):
        merge_artists(kept=kept, gone=gone)
    assert list(Artist.objects.values_list("name", flat=True)) == ["Beyoncé"]
    assert ArtistAlias.objects.get().name == "Beyonce"
    assert Listen.objects.filter(artist=kept).count() == 3
    # the two "Halo" tracks and albums became one each
    assert Track.objects.filter(title="Halo").count() == 1
    assert Album.objects.count() == 1
    # rollups were rebuilt (the task runs inline in tests)
    assert UserArtistStat.objects.get(user=user).listens == 3
    # and the alias now resolves new listens to the kept artist
    add_listens(user, [("Beyonce", "Halo", "I Am... Sasha Fierce", utc(2024, 2, 1))])
    assert Artist.objects.count() == 1 and Track.objects.filter(title="Halo").count() == 1


def test_merge_tracks_drops_the_listen_that_becomes_a_duplicate(
    user, add_listens, django_capture_on_commit_callbacks
):
    add_listens(
        user,
        [
            ("Air", "Sexy Boy", "Moon Safari", utc(2024, 1, 1, 10)),
            ("Air", "Sexy Boy", "", utc(2024, 1, 1, 10)),  # same moment, scrobbled without album
            ("Air", "Sexy Boy", "", utc(2024, 1, 5, 10)),
        ],
    )
    with_album, without = (
        Track.objects.get(album__isnull=False),
        Track.objects.get(album__isnull=True),
    )
    with django_capture_on_commit_callbacks(execute=True):
        merge_tracks(kept=with_album, gone=without)
    assert Track.objects.count() == 1
    assert Listen.objects.count() == 2
    # the rebuild queued after the merge brought the rollups back in line
    assert list(UserArtistStat.objects.values_list("listens", flat=True)) == [2]


def test_merge_albums(user, add_listens):
    add_listens(
        user,
        [
            ("Air", "Sexy Boy", "Moon Safari", utc(2024, 1, 1, 10)),
            ("Air", "Kelly Watch the Stars", "Moon Safari (Deluxe)", utc(2024, 1, 2, 10)),
            ("Air", "Sexy Boy", "Moon Safari (Deluxe)", utc(2024, 1, 3, 10)),
        ],
    )
    assert Album.objects.count() == 1  # "(Deluxe)" is an edition: already one album
    a1 = Album.objects.get()
    a2 = Album.objects.create(title="Moon Safari Live", match_key="x", artist_credit="Air")
    Track.objects.filter(title="Kelly Watch the Stars").update(album=a2)
    merge_albums(kept=a1, gone=a2)
    assert Album.objects.count() == 1 and Track.objects.filter(album=a1).count() == 2
