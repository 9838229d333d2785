"""Each generator on a small hand-built history whose right answer is known, with a fixed seed."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from collection.models import Album, CollectionItem, Track
from playlists import generators
from tests.conftest import utc
from tracking.models import LovedTrack

NOW = utc(2026, 6, 15, 12, 0)  # a Monday; the user lives in Europe/Paris (UTC+2 in June)
PARIS = ZoneInfo("Europe/Paris")

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def ids(*titles: str) -> list[int]:
    by_title = dict(Track.objects.values_list("title", "pk"))
    return [by_title[t] for t in titles]


def session(start: datetime, *tracks: tuple[str, str, str], gap_minutes: int = 4) -> list[tuple]:
    """Listens one after another, `gap_minutes` apart: one listening session."""
    return [
        (artist, title, album, start + timedelta(minutes=gap_minutes * i), 240)
        for i, (artist, title, album) in enumerate(tracks)
    ]


def run(user, key, **params):
    return generators.run(user, key, {"seed": 7, **params})


# --- top tracks -----------------------------------------------------------------------------


@pytest.fixture
def top_history(user, add_listens):
    rows = []
    for i in range(3):
        rows.append(("Ana", "x", "", utc(2026, 6, 1 + i, 10)))
    for i in range(2):
        rows.append(("Ben", "y", "", utc(2026, 6, 5 + i, 10)))
    rows.append(("Cleo", "z", "", utc(2026, 6, 10, 10)))
    for i in range(5):
        rows.append(("Dan", "w", "", utc(2025, 1, 3 + i, 10)))
    add_listens(user, rows)


def test_top_tracks_of_the_last_30_days_in_play_order(user, top_history):
    assert run(user, "top", period="30d").track_ids == ids("x", "y", "z")


def test_top_tracks_of_a_year_read_the_month_rollups(user, top_history):
    assert run(user, "top", period="2025").track_ids == ids("w")
    assert run(user, "top", period="this-year").track_ids == ids("x", "y", "z")


def test_top_tracks_all_time_respect_the_length(user, top_history):
    assert run(user, "top", period="all", length=2).track_ids == ids("w", "x")


def test_top_tracks_say_why_a_period_is_empty(user, top_history):
    outcome = run(user, "top", period="2019")
    assert outcome.track_ids == []
    assert outcome.why_empty == "No listens in 2019."


# --- rediscover ----------------------------------------------------------------------------


def test_rediscover_finds_old_favourites_and_old_loves_not_played_lately(user, add_listens):
    rows = [("Old", "old", "", utc(2024, 3, 1 + i, 10)) for i in range(5)]
    rows += [("Back", "back", "", utc(2024, 3, 1 + i, 11)) for i in range(5)]
    rows += [("Back", "back", "", utc(2026, 5, 1, 11))]  # played again: not forgotten
    rows += [("Rare", "rare", "", utc(2024, 3, 1, 12))]  # played once: not a favourite
    rows += [("Heart", "heart", "", utc(2023, 3, 1, 12))]
    add_listens(user, rows)
    LovedTrack.objects.create(user=user, track_id=ids("heart")[0], loved_at=utc(2023, 3, 2))
    # The loved track weighs its plays plus the top weight, so it comes first.
    assert run(user, "rediscover", months=12).track_ids == ids("heart", "old")


def test_rediscover_says_when_there_is_nothing_that_old(user, add_listens):
    add_listens(user, [("Old", "old", "", utc(2024, 3, 1, 10))])
    outcome = run(user, "rediscover", months=60)
    assert outcome.track_ids == []
    assert outcome.why_empty == "No listens before June 2021."


# --- this time of day ------------------------------------------------------------------------


def test_time_of_day_keeps_the_hour_and_the_weekday(user, add_listens):
    def paris(y, m, d, h, mi=10):
        return datetime(y, m, d, h, mi, tzinfo=PARIS)

    rows = [("Eve", "evening", "", paris(2026, 6, d, 21)) for d in (1, 8)]  # Mondays 21:10
    rows += [("Eve", "evening", "", paris(2026, 5, 25, 21))]
    rows += [("Night", "late", "", paris(2026, 6, 8, 22, 30))]  # within an hour after
    rows += [("Day", "morning", "", paris(2026, 6, 8, 8))]  # another hour
    rows += [("Tue", "tuesday", "", paris(2026, 6, 9, 21))]  # another day
    rows += [("Old", "long ago", "", paris(2024, 6, 10, 21))]  # outside the 12-month window
    add_listens(user, rows)
    assert run(user, "time_of_day", hour=21, weekday=0).track_ids == ids("evening", "late")
    empty = run(user, "time_of_day", hour=4, weekday=2)
    assert (
        empty.why_empty == "No listens on Wednesdays between 3:00 and 6:00 in the last 12 months."
    )


def test_time_of_day_defaults_to_now_in_the_users_zone(user):
    params = generators.clean_parameters("time_of_day", {}, user=user)
    assert (params["hour"], params["weekday"]) == (14, "0")  # 12:00 UTC is 14:00 in Paris


# --- around an artist or an album ------------------------------------------------------------


@pytest.fixture
def sessions_history(user, add_listens):
    day = utc(2026, 5, 1, 18)
    rows = session(day, ("A", "a1", "Alpha"), ("B", "b1", ""), ("C", "c1", ""))
    rows += session(day + timedelta(hours=3), ("A", "a2", "Alpha"), ("B", "b1", ""))
    rows += session(day + timedelta(hours=6), ("D", "d1", ""), ("E", "e1", ""))
    add_listens(user, rows)


def test_around_an_artist_ranks_tracks_by_shared_sessions(user, sessions_history):
    assert run(user, "around", artist="a").track_ids == ids("b1", "c1")


def test_around_an_album_uses_the_albums_sessions(user, sessions_history):
    assert run(user, "around", album="alpha").track_ids == ids("b1", "c1")


def test_around_says_when_the_artist_is_unknown(user, sessions_history):
    outcome = run(user, "around", artist="Nobody")
    assert outcome.why_empty == "You have never played an artist called “Nobody”."


def test_around_needs_an_artist_or_an_album(user):
    with pytest.raises(generators.ParameterError):
        generators.clean_parameters("around", {}, user=user)


# --- from the collection ---------------------------------------------------------------------


def test_collection_prefers_rarely_played_tracks_of_owned_records(user, add_listens):
    rows = [("Own", "o1", "Owned", utc(2026, 1, 1 + i, 10)) for i in range(5)]
    rows += [("Own", "o2", "Owned", utc(2026, 2, 1, 10))]
    rows += [("Other", "n1", "Not mine", utc(2026, 2, 1, 11))]
    add_listens(user, rows)
    album = Album.objects.get(title="Owned")
    o1 = Track.objects.get(title="o1")
    Track.objects.create(
        title="o3",
        match_key="x:o3",
        artist_credit="Own",
        album=album,
        artist_id=o1.artist_id,
    )
    CollectionItem.objects.create(user=user, album=album, support="vinyl")
    assert run(user, "collection", max_plays=2).track_ids == ids("o3", "o2")


def test_collection_says_when_nothing_is_owned(user):
    assert "collection is empty" in run(user, "collection").why_empty


# --- discovery mix ---------------------------------------------------------------------------


def test_discovery_favours_rare_tracks_of_much_played_artists(user, add_listens):
    rows = [("Big", "hit", "", utc(2026, 1, 1, 10, i)) for i in range(8)]
    rows += [("Big", "deep", "", utc(2026, 1, 2, 10)), ("Big", "rare", "", utc(2026, 1, 3, 10))]
    rows += [("Small", "one", "", utc(2026, 1, 4, 10))]
    add_listens(user, rows)
    first = run(user, "discovery", max_plays=3, length=10).track_ids
    assert first == ids("deep", "rare", "one")  # weights 10, 10, 1; the hit has too many plays
    assert run(user, "discovery", max_plays=3, length=10).track_ids == first


def test_discovery_sampling_is_repeatable_and_weighted(user, add_listens):
    rows = [("Big", f"big{i}", "", utc(2026, 1, 1, 10, i)) for i in range(30)]
    rows += [("Big", "big0", "", utc(2026, 1, 2, 10, i)) for i in range(50)]
    rows += [(f"Tiny{i}", f"tiny{i}", "", utc(2026, 1, 3, 10, i)) for i in range(30)]
    add_listens(user, rows)
    a = run(user, "discovery", length=10).track_ids
    assert a == run(user, "discovery", length=10).track_ids
    assert a != generators.run(user, "discovery", {"seed": 8, "length": 10}).track_ids
    big = set(Track.objects.filter(artist__name="Big").values_list("pk", flat=True))
    assert sum(t in big for t in a) == 2  # at most two per artist, and Big's rare ones win


# --- artist flow -----------------------------------------------------------------------------


def test_artist_flow_follows_the_most_frequent_transitions(user, add_listens):
    day = utc(2026, 5, 1, 8)
    a, b, c, d = ("A", "a1", ""), ("B", "b1", ""), ("C", "c1", ""), ("D", "d1", "")
    rows = session(day, a, b, c, d)
    rows += session(day + timedelta(hours=2), a, b, c)
    rows += session(day + timedelta(hours=4), a, b)
    rows += session(day + timedelta(hours=6), a, c)
    add_listens(user, rows)
    assert run(user, "artist_flow", artist="A").track_ids == ids("a1", "b1", "c1", "d1")


def test_artist_flow_says_when_there_are_no_transitions(user, add_listens):
    add_listens(user, [("A", "a1", "", utc(2026, 5, 1, 8))])
    assert "No change from one artist" in run(user, "artist_flow").why_empty


# --- complete albums -------------------------------------------------------------------------


def test_complete_albums_in_track_order(user, add_listens):
    day = utc(2026, 5, 2, 9)
    whole = [("W", f"w{n}", "Whole") for n in (1, 2, 3, 4)]
    bits = [("P", f"p{n}", "Bits") for n in (1, 2, 3, 4, 5)]
    rows = session(day, whole[1], whole[0], whole[2], whole[3])  # shuffled, but whole
    rows += session(day + timedelta(hours=2), bits[0], bits[1])  # two of five: not an album play
    rows += [(*t, day + timedelta(hours=5 + 2 * i), 200) for i, t in enumerate(bits[2:])]
    add_listens(user, rows)
    for n in (1, 2, 3, 4):
        Track.objects.filter(title=f"w{n}").update(track_number=n)
    assert run(user, "complete_albums").track_ids == ids("w1", "w2", "w3", "w4")
    too_short = run(user, "complete_albums", length=3)
    assert too_short.why_empty == "The albums you play whole are longer than 3 tracks."


# --- best sessions ---------------------------------------------------------------------------


def test_best_sessions_take_the_longest_sessions_first(user, add_listens):
    day = utc(2026, 5, 3, 9)
    short = session(day, ("S", "x", ""), ("S", "y", ""), ("S", "z", ""))
    long = session(
        day + timedelta(hours=2),
        ("L", "p", ""),
        ("L", "q", ""),
        ("L", "r", ""),
        ("L", "p", ""),
        ("L", "s", ""),
    )
    add_listens(user, short + long)
    assert run(user, "best_sessions", length=6).track_ids == ids("p", "q", "r", "s", "x", "y")


def test_best_sessions_empty_window(user):
    assert run(user, "best_sessions").why_empty == "No listening sessions in the last 12 months."


# --- parameters ------------------------------------------------------------------------------


def test_parameters_are_checked_and_completed(user):
    params = generators.clean_parameters("top", {"length": "10"}, user=user)
    assert params["length"] == 10 and params["period"] == "90d"
    assert isinstance(params["seed"], int)
    with pytest.raises(generators.ParameterError, match="between 1 and 200"):
        generators.clean_parameters("top", {"length": "0"})
    with pytest.raises(generators.ParameterError, match="valid"):
        generators.clean_parameters("top", {"period": "forever"})
    with pytest.raises(generators.ParameterError):
        generators.clean_parameters("nope", {})
