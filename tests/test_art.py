import pytest

from collection.models import Album, Artist
from collection.templatetags.art import album_cover, artist_image, colour, initials
from tests.conftest import utc


def test_placeholder_has_initials_colour_and_fixed_size():
    html = str(artist_image(Artist(name="Sigur Rós"), 64))
    assert "SR" in html and "width:64px;height:64px" in html and 'role="img"' in html
    assert colour("Sigur Rós") == colour("Sigur Rós")
    assert initials("Björk") == "BJ" and initials("") == "?"


def test_image_is_lazy_with_dimensions_and_alt():
    html = str(album_cover(Album(title="Homogenic", cover_url="https://img.example/c.jpg"), 48))
    assert (
        'loading="lazy"' in html
        and 'width="48"' in html
        and 'height="48"' in html
        and 'alt="Homogenic"' in html
    )


@pytest.mark.django_db
def test_album_and_artist_pages(auth_client, user, add_listens):
    add_listens(user, [("Björk", "Jóga", "Homogenic", utc(2024, 1, 1), 305)])
    album, artist = Album.objects.get(), Artist.objects.get()
    assert "Jóga" in auth_client.get(f"/collection/albums/{album.pk}/").content.decode()
    assert "Homogenic" in auth_client.get(f"/collection/artists/{artist.pk}/").content.decode()
    assert auth_client.get("/collection/albums/999999/").status_code == 404
