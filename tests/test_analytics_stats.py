"""Analytics statistics against a small hand-built history whose answers are known.

The user lives in Europe/Paris. 2024-03-31 is a daylight-saving day (clocks jump from 02:00 to
03:00 local); a listen at 00:30 local that day is 23:30 UTC the day before. One listen falls
exactly on the first instant of April (local), another exactly on the first instant of 2024.
"""

from collections import Counter
from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from collection.models import Album, Artist, CollectionItem, Track, TrackArtist
from musictracker.timezones import zone
from tests.conftest import utc
from tracking import listens as listens_mod
from tracking.listens import delete_listens
from tracking.models import Listen
from tracking.stats import (
    History,
    Period,
    PeriodError,
    Stats,
    item_history,
    parse_period,
    year_review,
)

pytestmark = pytest.mark.django_db

PARIS = zone("Europe/Paris")
TODAY = date(2025, 6, 30)

HISTORY = [
    ("Massive Attack", "Teardrop", "Mezzanine", utc(2023, 12, 31, 22, 59, 59), 330),  # 2023
    ("Massive Attack", "Angel", "Mezzanine", utc(2023, 12, 31, 23, 0, 0), 380),  # 2024-01-01 00:00
    ("Air", "La Femme d'argent", "Moon Safari", utc(2024, 2, 10, 12), 400),
    ("Air", "Sexy Boy", "Moon Safari", utc(2024, 3, 30, 23, 30), 300),  # 00:30 local, DST day
    ("Air", "Kelly Watch the Stars", "Moon Safari", utc(2024, 3, 30, 23, 40)),  # no duration
    ("Daft Punk", "One More Time", "Discovery", utc(2024, 3, 31, 0, 5), 320),  # 01:05 local
    ("Air", "Sexy Boy", "Moon Safari", utc(2024, 3, 31, 1, 10), 300),  # 03:10 local (CEST)
    ("Daft Punk", "Aerodynamic", "Discovery", utc(2024, 3, 31, 22, 0), 200),  # April 1st 00:00
    ("Daft Punk feat. Romanthony", "Too Long", "Discovery", utc(2024, 4, 15, 18), 600),
    ("Massive Attack", "Teardrop", "Mezzanine", utc(2024, 6, 1, 10), 330),
]


@pytest.fixture
def history(user, add_listens):
    add_listens(user, HISTORY)
    return user


def stats(user, **params) -> Stats:
    h = History.of(user)
    period = parse_period(params, today=TODAY, first_day=h.first)
    return Stats(user, period, PARIS, history=h, today=TODAY)


def names(rows):
    return [(str(r["obj"]), r["listens"]) for r in rows]


# ---- periods ---------------------------------------------------------------------------------
def test_periods_are_local_day_ranges():
    p = lambda **kw: parse_period(kw, today=TODAY, first_day=date(2020, 5, 3))  # noqa: E731
    assert p(period="7d") == Period("7d", date(2025, 6, 24), TODAY)
    assert p(period="30d") == Period("30d", date(2025, 6, 1), TODAY)
    assert p(period="12m") == Period("12m", date(2024, 7, 1), TODAY)
    assert p(period="year", year="2024") == Period("year", date(2024, 1, 1), date(2024, 12, 31))
    assert p(period="month", month="2024-02") == Period(
        "month", date(2024, 2, 1), date(2024, 2, 29)
    )
    assert p(period="all") == Period("all", date(2020, 5, 3), TODAY)
    assert p(period="custom", **{"from": "2024-03-31", "to": "2024-04-02"}).days == 3
    assert p(period="year", year="2024").previous() == Period(
        "year", date(2023, 1, 1), date(2023, 12, 31)
    )
    assert p(period="30d").previous() == Period("custom", date(2025, 5, 2), date(2025, 5, 31))
    assert p(period="all").previous() is None


@pytest.mark.parametrize(
    "params, words",
    [
        ({"period": "decade"}, "Unknown period"),
        ({"period": "year", "year": "24x"}, "is not a year"),
        ({"period": "month", "month": "2024-13"}, "is not a month"),
        ({"period": "custom", "from": "2024-01-01"}, "“to”"),
        ({"period": "custom", "from": "2024-02-01", "to": "2024-01-01"}, "starts after it ends"),
    ],
)
def test_bad_periods_say_why(params, words):
    with pytest.raises(PeriodError, match=words):
        parse_period(params, today=TODAY, first_day=None)


# ---- totals ------------------------------------------------------------------------------------
def test_totals_of_a_year_with_estimate_and_change(history):
    t = stats(history, period="year", year="2024").totals_with_change()
    assert (t["listens"], t["artists"], t["albums"], t["tracks"]) == (9, 4, 3, 8)
    assert t["seconds"] == 2830 and t["unknown_duration"] == 1
    assert t["estimated_seconds"] == 354  # 2830 s over 8 known listens, for the one unknown
    assert t["total_seconds"] == 3184
    assert t["previous"]["listens"] == 1  # 2023 held only the listen one second before 2024
    assert t["change"]["listens"] == 800.0


def test_a_listen_exactly_at_the_edge_belongs_to_the_period_it_starts(history):
    april = stats(history, period="month", month="2024-04")
    assert april.totals["listens"] == 2  # 00:00:00 on April 1st local is April's
    march = stats(history, period="month", month="2024-03")
    assert march.totals["listens"] == 4
    dst_day = stats(history, period="custom", **{"from": "2024-03-31", "to": "2024-03-31"})
    assert dst_day.totals["listens"] == 4  # 00:30 local counts on the 31st, not the 30th
    assert dst_day.totals["tracks"] == 3 and dst_day.totals["artists"] == 2


def test_partial_months_and_whole_months_add_up(history):
    # March 31st (edge day) + April (whole month) + June 1st (edge day)
    s = stats(history, period="custom", **{"from": "2024-03-31", "to": "2024-06-01"})
    assert s.months == (date(2024, 4, 1), date(2024, 5, 1))
    assert s.totals["listens"] == 7
    # Ties rank by id: artists were created in the order the history first names them.
    assert names(s.top("artist")) == [
        ("Air", 3),
        ("Daft Punk", 3),
        ("Massive Attack", 1),
        ("Romanthony", 1),
    ]


# ---- tops ----------------------------------------------------------------------------------
def test_top_artists_count_featured_artists_and_show_rank_change(history):
    s = stats(history, period="year", year="2024")
    top = s.top("artist")
    assert names(top)[:3] == [("Air", 4), ("Daft Punk", 3), ("Massive Attack", 2)]
    assert ("Romanthony", 1) in names(top)
    by_name = {str(r["obj"]): r for r in top}
    assert by_name["Massive Attack"]["previous_rank"] == 1  # alone in 2023
    assert by_name["Massive Attack"]["change"] == -2
    assert by_name["Air"]["is_new"] is True


def test_top_tracks_and_albums(history):
    s = stats(history, period="year", year="2024")
    assert names(s.top("track"))[0] == ("Air – Sexy Boy", 2)
    assert names(s.top("album")) == [
        ("Air – Moon Safari", 4),
        ("Daft Punk – Discovery", 3),
        ("Massive Attack – Mezzanine", 2),
    ]


def test_all_time_reads_the_all_time_rollups(history):
    s = stats(history, period="all")
    assert s.is_all_time
    assert s.totals["listens"] == 10
    assert names(s.top("artist"))[:3] == [("Air", 4), ("Massive Attack", 3), ("Daft Punk", 3)]


# ---- rhythms -----------------------------------------------------------------------------
def test_listening_clock_and_heat_map_in_local_time(history):
    s = stats(history, period="year", year="2024")
    clock = s.clock
    assert clock[0] == 4 and clock[1] == 1 and clock[3] == 1 and clock[2] == 0
    assert (clock[12], clock[13], clock[20]) == (1, 1, 1)
    assert sum(clock) == 9
    sunday, monday, saturday = s.heatmap[6], s.heatmap[0], s.heatmap[5]
    assert (sunday[0], sunday[1], sunday[3]) == (2, 1, 1)  # 2024-03-31, a Sunday
    assert (monday[0], monday[20]) == (2, 1)
    assert (saturday[12], saturday[13]) == (1, 1)


def test_heat_map_of_edge_days_matches_whole_months(history):
    whole = stats(history, period="month", month="2024-03").heatmap
    edge = stats(history, period="custom", **{"from": "2024-03-02", "to": "2024-03-31"}).heatmap
    assert whole == edge


def test_listens_over_time_and_streaks(history):
    s = stats(history, period="month", month="2024-03")
    assert s.series_step == "day"
    series = dict(s.series)
    assert series[date(2024, 3, 31)] == 4 and series[date(2024, 3, 30)] == 0
    assert len(series) == 31
    year = stats(history, period="year", year="2024")
    assert year.series_step == "week"
    assert sum(n for _d, n in year.series) == 9
    streaks = year.streaks
    assert streaks["longest"] == 2
    assert (streaks["longest_from"], streaks["longest_to"]) == (date(2024, 3, 31), date(2024, 4, 1))
    assert streaks["current"] == 0


# ---- sessions ------------------------------------------------------------------------------
def test_sessions_end_after_thirty_minutes(history):
    s = stats(history, period="year", year="2024").sessions
    # 23:30, 23:40, 00:05 UTC form one session (35 min + the last track's 320 s); the listen at
    # 2024-01-01 00:00 local belongs to the session that began one second earlier, in 2023.
    assert s["count"] == 6
    assert s["longest_seconds"] == 2100 + 320
    assert s["average_seconds"] == round((2420 + 300 + 200 + 600 + 400 + 330) / 6)


def test_transitions_between_artists(history):
    rows = stats(history, period="year", year="2024").transitions()
    assert [(str(r["from"]), str(r["to"]), r["count"]) for r in rows] == [("Air", "Daft Punk", 1)]
    edge = stats(history, period="custom", **{"from": "2024-03-31", "to": "2024-03-31"})
    assert [r["count"] for r in edge.transitions()] == [1]
    # The transition's second listen is on the 31st: the 30th (UTC) alone has none.
    assert stats(history, period="month", month="2024-02").transitions() == []


# ---- discovery ----------------------------------------------------------------------------
def test_discovery_new_artists_albums_and_share(history):
    d = stats(history, period="year", year="2024").discovery
    assert d["new_artists"] == 3  # Air, Daft Punk, Romanthony; Massive Attack came in 2023
    assert d["new_albums"] == 2
    assert d["months"] == [
        (date(2024, 2, 1), 1, 1),
        (date(2024, 3, 1), 1, 1),
        (date(2024, 4, 1), 1, 0),
    ]
    assert d["new_listens"] == 8 and d["new_share"] == round(800 / 9, 1)


def test_item_history_for_artist_and_album_pages(history):
    air = Artist.objects.get(name="Air")
    h = item_history(history, PARIS, artist_id=air.pk)
    assert h["listens"] == 4
    assert h["first_listened_at"] == datetime(2024, 2, 10, 12, tzinfo=UTC)
    assert h["months"] == [(date(2024, 2, 1), 1), (date(2024, 3, 1), 3)]
    album = Album.objects.get(title="Mezzanine")
    assert item_history(history, PARIS, album_id=album.pk)["months"] == [
        (date(2023, 12, 1), 1),
        (date(2024, 1, 1), 1),
        (date(2024, 6, 1), 1),
    ]


# ---- year in review and collection ---------------------------------------------------------
def test_year_in_review(history):
    r = year_review(history, 2024, PARIS, today=TODAY)
    assert r["busiest_day"] == {"day": date(2024, 3, 31), "listens": 4}
    months = {m["month"]: m for m in r["months"]}
    assert str(months[date(2024, 3, 1)]["artist"]["obj"]) == "Air"
    assert months[date(2024, 3, 1)]["artist"]["listens"] == 3
    assert str(months[date(2024, 4, 1)]["album"]["obj"]) == "Daft Punk – Discovery"
    assert [str(f["obj"]) for f in r["favourites"]["artist"]] == ["Air", "Daft Punk", "Romanthony"]
    assert r["totals"]["listens"] == 9


def _month_tops_from_listens(user, year: int) -> dict:
    """The slow, obvious answer: count the raw listens per local month (featured artists
    credited, as the rollups do) and take the most played item, ties to the lowest id."""
    credits: dict[int, list[int]] = {}
    for t, a in TrackArtist.objects.values_list("track_id", "artist_id"):
        credits.setdefault(t, []).append(a)
    counts: dict = {}
    for listen in Listen.objects.filter(user=user):
        month = listen.listened_at.astimezone(PARIS).date().replace(day=1)
        if month.year != year:
            continue
        for kind, ids in (
            ("artist", credits.get(listen.track_id) or [listen.artist_id]),
            ("album", [listen.album_id] if listen.album_id else []),
            ("track", [listen.track_id]),
        ):
            for k in ids:
                per = counts.setdefault(month, {}).setdefault(kind, Counter())
                per[k] += 1
    return {
        m: {kind: min(c.items(), key=lambda kv: (-kv[1], kv[0])) for kind, c in kinds.items()}
        for m, kinds in counts.items()
    }


def test_year_in_review_month_tops_equal_a_fresh_count(user, add_listens):
    """Each month's top artist, album and track equal a count of the raw listens, ties going to
    the lowest id, on a history with a DST day, a month's first instant, featured artists and a
    deleted listen; months without listens are absent."""
    add_listens(user, HISTORY)
    add_listens(
        user,
        [
            # March 2024: Air and Daft Punk tied on tracks/albums with each other's ids.
            ("Daft Punk", "Digital Love", "Discovery", utc(2024, 3, 3, 9)),
            ("Daft Punk", "Digital Love", "Discovery", utc(2024, 3, 4, 9)),
            ("Portishead", "Roads", "Dummy", utc(2024, 2, 29, 23, 0)),  # 1 March 00:00 local
            ("Portishead", "Roads", "Dummy", utc(2024, 10, 27, 0, 30)),  # DST end, 02:30 CEST
            ("Portishead", "Glory Box", "Dummy", utc(2024, 10, 27, 1, 30)),  # 02:30 CET
            ("Air", "Playground Love", "", utc(2024, 10, 27, 2)),  # no album
            ("Air", "Playground Love", "", utc(2024, 12, 31, 22, 59, 59)),  # last instant
            ("Air", "Playground Love", "", utc(2024, 12, 31, 23, 0)),  # 2025 already
        ],
    )
    gone = Listen.objects.get(user=user, listened_at=utc(2024, 6, 1, 10))
    delete_listens(user, [gone.pk])  # June had this one listen only
    expected = _month_tops_from_listens(user, 2024)
    assert date(2024, 6, 1) not in expected and date(2024, 10, 1) in expected
    review = year_review(user, 2024, PARIS, today=TODAY)
    got = {
        m["month"]: {
            kind: (m[kind]["obj"].pk, m[kind]["listens"])
            for kind in ("artist", "album", "track")
            if kind in m
        }
        for m in review["months"]
    }
    assert got == expected
    assert [m["month"] for m in review["months"]] == sorted(expected)
    listens_mod.rebuild_rollups(user)  # a fresh rebuild answers the same
    again = year_review(user, 2024, PARIS, today=TODAY)
    assert [(m["month"], m["artist"]["listens"]) for m in again["months"]] == [
        (m, v["artist"][1]) for m, v in sorted(expected.items())
    ]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite plans")
def test_each_month_top_is_a_seek_in_the_listens_ordered_index(history):
    """The year in review's 36 lookups walk (user, month, listens, id) from the end of one
    month's range: no scan of the year's rows, no sort of them."""
    with CaptureQueriesContext(connection) as q:
        year_review(history, 2024, PARIS, today=TODAY)
    sql = next(x["sql"] for x in q.captured_queries if "UNION ALL" in x["sql"])
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql)
        plan = [row[-1] for row in cursor.fetchall()]
    reads = [p for p in plan if "tracking_month" in p]
    assert len(reads) == 36 and all(p.startswith("SEARCH") for p in reads), plan
    for kind in ("artist", "album", "track"):
        index = f"COVERING INDEX month{kind}_top (user_id=? AND month=?"
        assert sum(index in p for p in reads) == 12, plan
    assert not any(p == "USE TEMP B-TREE FOR ORDER BY" for p in plan), plan


def test_year_in_review_takes_a_fixed_number_of_queries(history, django_assert_num_queries):
    year_review(history, 2024, PARIS, today=TODAY)["totals"]  # noqa: B018 (warm caches)
    with django_assert_num_queries(14):
        year_review(history, 2024, PARIS, today=TODAY)["totals"]  # noqa: B018


def test_collection_insights(history):
    moon = Album.objects.get(title="Moon Safari")
    mezzanine = Album.objects.get(title="Mezzanine")
    unplayed = Album.objects.create(title="Kind of Blue", match_key="0:kind of blue")
    CollectionItem.objects.create(user=history, album=moon, support="vinyl")
    CollectionItem.objects.create(user=history, album=mezzanine, support="cd")
    CollectionItem.objects.create(user=history, album=unplayed, support="vinyl")
    c = stats(history, period="year", year="2024").collection
    assert c["owned"] == 3
    assert [(r["obj"].title, r["listens"]) for r in c["most_played"]] == [
        ("Moon Safari", 4),
        ("Mezzanine", 2),
    ]
    assert [a.title for a in c["never_played"]] == ["Kind of Blue"]
    assert {r["obj"].title for r in c["dormant"]} == {"Moon Safari", "Mezzanine"}  # by 2025-06-30
    assert [(r["obj"].title, r["listens"]) for r in c["wish_list"]] == [("Discovery", 3)]
    formats = {f["support"]: (f["records"], f["listens"]) for f in c["formats"]}
    assert formats == {"vinyl": (2, 4), "cd": (1, 2)}


def test_statistics_take_a_bounded_number_of_queries(history, django_assert_max_num_queries):
    for params in ({"period": "year", "year": "2024"}, {"period": "all"}, {"period": "30d"}):
        with django_assert_max_num_queries(45):
            s = stats(history, **params)
            s.totals_with_change()
            for kind in ("artist", "album", "track"):
                s.top(kind)
            s.clock, s.heatmap, s.series, s.streaks, s.sessions  # noqa: B018
            s.transitions()
            s.discovery  # noqa: B018
            s.collection  # noqa: B018


def test_no_listens_gives_zeros(user):
    s = stats(user, period="all")
    assert s.totals["listens"] == 0 and s.top("artist") == [] and s.sessions["count"] == 0
    assert s.streaks["longest"] == 0 and s.transitions() == []
    assert Track.objects.count() == 0
