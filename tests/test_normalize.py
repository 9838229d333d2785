import pytest

from collection.normalize import (
    album_title_key,
    name_key,
    search_key,
    split_credit,
    track_title_key,
)


@pytest.mark.parametrize(
    "a,b",
    [
        ("The Beatles", "the  beatles"),
        ("The Beatles", " THE BEATLES "),
        ("Guns N’ Roses", "Guns N' Roses"),
        ("ＡＢＢＡ", "abba"),  # full-width letters
    ],
)
def test_name_key_same_artist(a, b):
    assert name_key(a) == name_key(b)


def test_name_key_keeps_accents_apart_but_search_folds_them():
    assert name_key("Beyoncé") != name_key("Beyonce")
    assert search_key("Björk") == "bjork"
    assert search_key("Sigur Rós") == search_key("sigur ros")
    assert search_key("Mø") == "mo"


@pytest.mark.parametrize(
    "title",
    [
        "Abbey Road (Remastered 2009)",
        "Abbey Road [Deluxe Edition]",
        "Abbey Road (2009 Mono)",
        "Abbey Road - 2019 Remaster",
        "Abbey Road (Super Deluxe Edition)",
        "Abbey Road (50th Anniversary Edition)",
        "abbey road",
    ],
)
def test_album_edition_suffixes_do_not_split(title):
    assert album_title_key(title) == "abbey road"


@pytest.mark.parametrize(
    "title,key",
    [
        ("Live at Leeds", "live at leeds"),
        ("Unplugged (Live)", "unplugged (live)"),  # another recording, not an edition
        ("Version 2.0", "version 2.0"),
        ("(What's the Story) Morning Glory?", "(what's the story) morning glory?"),
    ],
)
def test_album_titles_that_are_not_editions_stay(title, key):
    assert album_title_key(title) == key


def test_track_remaster_tail_dropped_but_live_kept():
    assert track_title_key("Come Together - Remastered 2009") == "come together"
    assert track_title_key("Come Together (Live)") == "come together (live)"


@pytest.mark.parametrize(
    "credit,expected",
    [
        ("A feat. B", [("A", "main"), ("B", "featured")]),
        ("A ft. B", [("A", "main"), ("B", "featured")]),
        ("A featuring B & C", [("A", "main"), ("B", "featured"), ("C", "featured")]),
        ("A (feat. B)", [("A", "main"), ("B", "featured")]),
        ("A & B", [("A", "main"), ("B", "main")]),
        ("A, B & C", [("A", "main"), ("B", "main"), ("C", "main")]),
        ("Simon & Garfunkel", [("Simon & Garfunkel", "main")]),
        (
            "Earth, Wind & Fire feat. The Emotions",
            [("Earth, Wind & Fire", "main"), ("The Emotions", "featured")],
        ),
        ("Defeated Sanity", [("Defeated Sanity", "main")]),
        ("Craft Spells", [("Craft Spells", "main")]),
    ],
)
def test_split_credit(credit, expected):
    assert split_credit(credit) == expected


def test_split_credit_keeps_known_artists_whole():
    assert split_credit("Florence + Friends", known={name_key("Florence + Friends")}) == [
        ("Florence + Friends", "main")
    ]


def test_rules_come_from_configuration(settings):
    settings.MUSICTRACKER = {
        **settings.MUSICTRACKER,
        "catalogue": {
            **settings.MUSICTRACKER["catalogue"],
            "artist_separators": [" x "],
            "never_split": [],
        },
    }
    from collection import normalize

    normalize._patterns.cache_clear()
    assert split_credit("A x B") == [("A", "main"), ("B", "main")]
    assert split_credit("A & B") == [("A & B", "main")]
