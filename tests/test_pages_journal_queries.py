"""The Journal and Timeline reads: keyset paging, filters, summaries, plans, DST days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from collection.models import Album, Artist, Track
from musictracker.timezones import zone
from tracking import queries
from tracking.loved import set_loved
from tracking.models import Listen
from tracking.queries import Cursor, JournalFilters

PARIS = zone("Europe/Paris")


@pytest.fixture(autouse=True)
def _fresh_cache(db):
    cache.clear()
    yield
    cache.clear()


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


NO_FILTER = JournalFilters()


def all_pages(user, filters=NO_FILTER, size=3, tz=PARIS):
    ids, cursor, pages = [], None, 0
    while True:
        page = queries.journal_page(
            user, tz=tz, filters=filters, cursor=cursor and Cursor.decode(cursor), size=size
        )
        ids += [r.listen.pk for d in page.days for r in d.rows]
        pages += 1
        if not page.next_cursor:
            return ids, pages
        cursor = page.next_cursor
        assert pages < 1000


def expected_ids(qs):
    return list(qs.order_by("-listened_at", "-id").values_list("pk", flat=True))


def test_cursor_round_trips_and_rejects_garbage():
    c = Cursor(at=utc(2024, 3, 31, 1, 2, 3, 456789), id=42)
    assert Cursor.decode(c.encode()) == c
    for bad in ["", "abc", "12", "1.x", "99999999999999999999999999.1", "1.-3"]:
        with pytest.raises(queries.BadParameter):
            Cursor.decode(bad)


def test_keyset_pages_have_no_duplicates_nor_gaps_with_equal_timestamps(user, add_listens):
    same = utc(2024, 5, 1, 12, 0)
    rows = [(f"Artist {i % 3}", f"Song {i}", "Record", same) for i in range(7)]
    rows += [("Artist 1", f"Other {i}", "", utc(2024, 5, 1, 10, i)) for i in range(8)]
    add_listens(user, rows)
    ids, pages = all_pages(user, size=3)
    assert ids == expected_ids(Listen.objects.filter(user=user))
    assert len(ids) == len(set(ids)) == 15
    assert pages == 5


def test_artist_filter_includes_featured_credits_and_pages_cleanly(user, add_listens):
    add_listens(
        user,
        [("Main", f"Solo {i}", "", utc(2024, 1, 1, 10, i)) for i in range(5)]
        + [("Guest", f"Own {i}", "", utc(2024, 1, 1, 11, i)) for i in range(3)]
        + [("Main feat. Guest", f"Duet {i}", "", utc(2024, 1, 1, 10, i, 30)) for i in range(4)],
    )
    guest = Artist.objects.get(name="Guest")
    main = Artist.objects.get(name="Main")
    ids, _ = all_pages(user, JournalFilters(artist_id=guest.pk), size=2)
    titles = list(Listen.objects.filter(pk__in=ids).values_list("track__title", flat=True))
    assert sorted(titles) == sorted(
        [f"Own {i}" for i in range(3)] + [f"Duet {i}" for i in range(4)]
    )
    assert ids == expected_ids(Listen.objects.filter(pk__in=ids))  # newest first across merges
    main_ids, _ = all_pages(user, JournalFilters(artist_id=main.pk), size=4)
    assert len(main_ids) == 9


def test_date_range_uses_local_days(user, add_listens):
    add_listens(
        user,
        [
            ("A", "Late", "", utc(2024, 1, 1, 23, 30)),  # 00:30 on Jan 2 in Paris
            ("A", "Early", "", utc(2024, 1, 1, 22, 30)),  # 23:30 on Jan 1 in Paris
        ],
    )
    ids, _ = all_pages(user, JournalFilters(start=date(2024, 1, 2), end=date(2024, 1, 2)))
    assert [Listen.objects.get(pk=i).track.title for i in ids] == ["Late"]
    ids, _ = all_pages(user, JournalFilters(end=date(2024, 1, 1)))
    assert [Listen.objects.get(pk=i).track.title for i in ids] == ["Early"]


def test_album_and_loved_filters(user, add_listens):
    add_listens(
        user,
        [
            ("A", "One", "First", utc(2024, 2, 1, 10)),
            ("A", "Two", "Second", utc(2024, 2, 1, 11)),
            ("A", "One", "First", utc(2024, 2, 2, 10)),
        ],
    )
    album = Album.objects.get(title="First")
    ids, _ = all_pages(user, JournalFilters(album_id=album.pk))
    assert len(ids) == 2
    two = Track.objects.get(title="Two")
    set_loved(user=user, track_id=two.pk, loved=True)
    ids, _ = all_pages(user, JournalFilters(loved=True))
    assert [Listen.objects.get(pk=i).track_id for i in ids] == [two.pk]
    page = queries.journal_page(user, tz=PARIS, filters=JournalFilters())
    loved = {r.listen.track.title: r.is_loved for d in page.days for r in d.rows}
    assert loved == {"One": False, "Two": True}


def test_page_groups_by_local_day_with_day_totals(user, add_listens):
    add_listens(user, [("A", f"T{i}", "", utc(2024, 3, 10, 8, i)) for i in range(4)])
    add_listens(user, [("A", f"U{i}", "", utc(2024, 3, 9, 8, i)) for i in range(2)])
    page = queries.journal_page(user, tz=PARIS, filters=JournalFilters(), size=3)
    assert [(d.day, d.total, len(d.rows)) for d in page.days] == [(date(2024, 3, 10), 4, 3)]
    nxt = queries.journal_page(
        user, tz=PARIS, filters=JournalFilters(), cursor=Cursor.decode(page.next_cursor), size=3
    )
    assert nxt.days[0].continued and nxt.days[0].day == date(2024, 3, 10)
    assert [(d.day, d.total) for d in nxt.days] == [(date(2024, 3, 10), 4), (date(2024, 3, 9), 2)]


def test_query_count_does_not_grow_with_rows(user, add_listens):
    add_listens(
        user,
        [
            (
                f"Artist {i % 7} feat. Guest {i % 3}",
                f"T{i}",
                f"Al {i % 5}",
                utc(2024, 1, 1) + timedelta(minutes=7 * i),
            )
            for i in range(120)
        ],
    )
    counts = []
    for size in (5, 100):
        with CaptureQueriesContext(connection) as q:
            page = queries.journal_page(user, tz=PARIS, filters=JournalFilters(), size=size)
            for d in page.days:
                for r in d.rows:
                    _ = (r.listen.track.title, r.listen.album.title, r.credits, r.links)
        counts.append(len(q.captured_queries))
        assert page.count == size
    assert counts[0] == counts[1]


def _plan(qs) -> str:
    return qs.explain()


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite plans")
def test_plans_walk_an_index_and_never_sort_the_whole_table(django_db_setup, user):
    call_command("seed_demo", "--user", user.username, "--listens", "2000", "--artists", "40")
    call_command("migrate", verbosity=0)  # no-op; keeps statistics fresh after the seed
    with connection.cursor() as c:
        c.execute("ANALYZE")
    artist = Listen.objects.filter(user=user).values_list("artist_id", flat=True).first()
    album = Listen.objects.exclude(album=None).values_list("album_id", flat=True).first()
    last = Listen.objects.filter(user=user).order_by("-listened_at").first()
    cursor = Cursor(at=last.listened_at - timedelta(days=30), id=last.pk)
    cases = {
        "none": (JournalFilters(), "sqlite_autoindex_tracking_listen_1"),
        "range": (
            JournalFilters(start=date(2020, 1, 1), end=last.local_date),
            "sqlite_autoindex_tracking_listen_1",
        ),
        "artist": (JournalFilters(artist_id=artist), "listen_user_artist"),
        "album": (JournalFilters(album_id=album), "listen_user_album"),
    }
    for name, (filters, index) in cases.items():
        for c in (None, cursor):
            plan = _plan(queries._page_ids(queries._id_querysets(user, filters, PARIS)[0], c, 51))
            assert index in plan, (name, plan)
            assert "TEMP B-TREE FOR ORDER BY" not in plan, (name, plan)  # a full sort
    ids = [
        pk
        for _, pk in queries.journal_ids(user, tz=PARIS, filters=JournalFilters(), cursor=None)[0]
    ]
    rows_plan = _plan(Listen.objects.filter(pk__in=ids).select_related("track", "artist", "album"))
    assert "INTEGER PRIMARY KEY" in rows_plan and "SCAN" not in rows_plan
    day = last.local_date
    start, end = queries.day_bounds(day, PARIS)
    day_plan = _plan(
        Listen.objects.filter(user=user, listened_at__gte=start, listened_at__lt=end)
        .select_related("track", "album", "artist")
        .order_by("listened_at", "id")
    )
    assert "sqlite_autoindex_tracking_listen_1" in day_plan
    assert "TEMP B-TREE FOR ORDER BY" not in day_plan


def test_summary_from_rollups_matches_the_listens(user, add_listens):
    rows = []
    start = utc(2024, 1, 20, 9)
    for i in range(90):
        at = start + timedelta(hours=13 * i)
        rows.append((f"Band {i % 4}", f"Song {i % 9}", f"LP {i % 3}", at, 200 if i % 5 else None))
    add_listens(user, rows)
    add_listens(user, [("Band 0 feat. Singer", "Guest spot", "", utc(2024, 2, 10, 20), 100)])
    f = JournalFilters(start=date(2024, 1, 25), end=date(2024, 2, 29))
    s = queries.journal_summary(user, tz=PARIS, filters=f)
    assert s.from_rollups
    lo, hi = f.utc_bounds(PARIS)
    listens = Listen.objects.filter(user=user, listened_at__gte=lo, listened_at__lt=hi)
    assert s.listens == listens.count()
    assert s.albums == listens.exclude(album=None).values("album_id").distinct().count()
    # Featured artists count as heard: Band 0..3 plus Singer.
    assert s.artists == 5
    assert s.seconds == sum(x.track.duration or 0 for x in listens.select_related("track"))
    assert s.unknown_duration == listens.filter(track__duration=None).count()
    hours = [x.local_hour for x in listens]
    assert s.peak_hour == max(set(hours), key=hours.count)
    everything = queries.journal_summary(user, tz=PARIS, filters=JournalFilters())
    all_albums = Listen.objects.exclude(album=None).values("album_id").distinct().count()
    assert (everything.listens, everything.artists, everything.albums) == (91, 5, all_albums)
    singer = Artist.objects.get(name="Singer")
    bounded = queries.journal_summary(user, tz=PARIS, filters=JournalFilters(artist_id=singer.pk))
    assert not bounded.from_rollups
    assert (bounded.listens, bounded.artists, bounded.seconds, bounded.peak_hour) == (1, 2, 100, 21)


def test_timeline_of_a_normal_day_has_24_slots(user, add_listens):
    add_listens(
        user,
        [("A", "Morning", "", utc(2024, 6, 1, 6, 15)), ("A", "Night", "", utc(2024, 6, 1, 21, 59))],
    )
    t = queries.day_timeline(user, tz=PARIS, day=date(2024, 6, 1))
    assert t.hours == 24 and t.total == 2
    assert [s.label for s in t.slots if s.count] == ["08:00", "23:00"]


def test_timeline_spring_forward_has_23_hours(user, add_listens):
    # 31 March 2024 in Paris: 02:00 → 03:00.
    add_listens(user, [("A", "After", "", utc(2024, 3, 31, 1, 30))])  # 03:30 CEST
    t = queries.day_timeline(user, tz=PARIS, day=date(2024, 3, 31))
    assert t.hours == 23
    labels = [s.label for s in t.slots]
    assert "02:00" not in labels and labels[:4] == ["00:00", "01:00", "03:00", "04:00"]
    assert [s.label for s in t.slots if s.count] == ["03:00"]


def test_timeline_fall_back_has_25_hours_with_the_repeated_hour_named(user, add_listens):
    # 27 October 2024 in Paris: 03:00 CEST → 02:00 CET, so 02:00 happens twice.
    add_listens(
        user,
        [
            ("A", "First two", "", utc(2024, 10, 27, 0, 30)),  # 02:30 CEST
            ("A", "Second two", "", utc(2024, 10, 27, 1, 30)),  # 02:30 CET
        ],
    )
    t = queries.day_timeline(user, tz=PARIS, day=date(2024, 10, 27))
    assert t.hours == 25
    busy = [(s.label, [x.track.title for x in s.listens]) for s in t.slots if s.count]
    assert busy == [("02:00 CEST", ["First two"]), ("02:00 CET", ["Second two"])]


def test_week_heat_reads_day_hour_rollups(user, add_listens):
    add_listens(user, [("A", f"S{i}", "", utc(2024, 6, 3, 18, i)) for i in range(3)])  # Mon 20h
    heat = queries.week_heat(user, first=date(2024, 6, 3))
    assert len(heat.days) == 7 and heat.days[0].hours[20] == 3 and heat.max_count == 3
    assert heat.days[0].total == 3 and sum(d.total for d in heat.days[1:]) == 0
