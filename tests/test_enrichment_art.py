"""Pictures at the size the page needs: Spotify's sized variants, chosen without a query."""

from collection.templatetags.art import sized_url

COVER_640 = "https://i.scdn.co/image/ab67616d0000b2732c5b0f5a1f3c7d1f0e6d1b2a"
ARTIST_640 = "https://i.scdn.co/image/ab6761610000e5eb9e3acf1eaf3e8e3e2b0f1a2c"


def test_spotify_album_cover_picks_the_smallest_variant_that_is_big_enough():
    assert sized_url(COVER_640, 48) == COVER_640.replace("ab67616d0000b273", "ab67616d00004851")
    assert sized_url(COVER_640, 200) == COVER_640.replace("ab67616d0000b273", "ab67616d00001e02")
    assert sized_url(COVER_640, 600) == COVER_640
    assert sized_url(COVER_640, 1200) == COVER_640  # nothing bigger: the largest


def test_spotify_artist_picture_sizes():
    small = sized_url(ARTIST_640, 64)
    assert small == ARTIST_640.replace("ab6761610000e5eb", "ab6761610000f178")
    assert sized_url(small, 300) == ARTIST_640.replace("ab6761610000e5eb", "ab67616100005174")


def test_unknown_spotify_prefix_is_left_alone():
    url = "https://i.scdn.co/image/0123456789abcdef0123"
    assert sized_url(url, 64) == url
