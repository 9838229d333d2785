import pytest
from django.contrib.auth import get_user_model

from collection.models import Album, Artist
from tests.conftest import utc

pytestmark = pytest.mark.django_db

ADMIN_LISTS = [
    "collection/artist",
    "collection/artistalias",
    "collection/album",
    "collection/track",
    "collection/image",
    "collection/albummetadata",
    "collection/collectionitem",
    "tracking/listen",
    "tracking/lovedtrack",
    "tracking/nowplaying",
    "tracking/trackerstatus",
    "playlists/playlist",
    "musictracker/profile",
    "musictracker/job",
    "musictracker/apitoken",
]


@pytest.fixture
def admin_client_with_data(client, user, add_listens):
    admin = get_user_model().objects.create_superuser("root", password="x" * 12)
    add_listens(
        user,
        [
            (
                "Daft Punk feat. Pharrell Williams",
                "Get Lucky",
                "Random Access Memories",
                utc(2024, 1, 1),
            )
        ],
    )
    client.force_login(admin)
    return client


@pytest.mark.parametrize("model", ADMIN_LISTS)
def test_every_admin_list_and_search_works(admin_client_with_data, model):
    assert admin_client_with_data.get(f"/admin/{model}/").status_code == 200
    assert admin_client_with_data.get(f"/admin/{model}/?q=lucky").status_code == 200


def test_album_change_page_has_inlines(admin_client_with_data):
    album = Album.objects.get()
    body = admin_client_with_data.get(
        f"/admin/collection/album/{album.pk}/change/"
    ).content.decode()
    assert "Get Lucky" in body and "Album metadata" in body.replace(
        "album metadata", "Album metadata"
    )


def test_merge_action_from_admin(admin_client_with_data):
    Artist.objects.create(name="Daft Punk (FR)")
    ids = list(Artist.objects.filter(name__icontains="daft").values_list("pk", flat=True))
    response = admin_client_with_data.post(
        "/admin/collection/artist/",
        {"action": "merge_artists", "_selected_action": ids},
        follow=True,
    )
    assert response.status_code == 200
    assert Artist.objects.filter(name__icontains="daft").count() == 1
