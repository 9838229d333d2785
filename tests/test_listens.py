"""The one road in: resolve + record, duplicates, denormalized local time, and rollups."""

from datetime import date, timedelta

import pytest
from django.db import IntegrityError, transaction

from collection.models import Album, Artist, Track, TrackArtist
from tests.conftest import utc
from tracking import listens as listens_mod
from tracking import rollups
from tracking.models import (
    DayHourStat,
    DayStat,
    Listen,
    MonthAlbumStat,
    MonthArtistStat,
    MonthTrackStat,
    UserArtistStat,
    UserTrackStat,
)

pytestmark = pytest.mark.django_db


def snapshot(user):
    """Every rollup row of a user, as comparable tuples."""
    out = {}
    for model in rollups.ALL_MODELS:
        fields = [f.attname for f in model._meta.concrete_fields if f.attname not in {"id"}]
        out[model.__name__] = sorted(
            tuple(str(v) for v in row)
            for row in model.objects.filter(user=user).values_list(*fields)
        )
    return out


def test_unique_constraint_refuses_a_second_copy(user, add_listens):
    add_listens(user, [("Air", "La Femme d'argent", "Moon Safari", utc(2024, 1, 1, 12))])
    listen = Listen.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Listen.objects.create(
            user=user,
            track=listen.track,
            artist=listen.artist,
            listened_at=listen.listened_at,
            local_date=listen.local_date,
            local_hour=0,
            local_weekday=0,
        )


def test_rerun_adds_nothing_and_two_plays_in_a_row_are_two(user, add_listens):
    rows = [
        ("Air", "Sexy Boy", "Moon Safari", utc(2024, 1, 1, 12, 0), 298),
        (
            "Air",
            "Sexy Boy",
            "Moon Safari",
            utc(2024, 1, 1, 12, 5),
            298,
        ),  # played again: a second listen
    ]
    first = add_listens(user, rows)
    again = add_listens(user, rows)
    assert (first.added, again.added, again.duplicates) == (2, 0, 2)
    assert Listen.objects.count() == 2


def test_same_track_within_seconds_from_another_source_is_one_listen(user, add_listens):
    add_listens(
        user, [("Air", "Sexy Boy", "Moon Safari", utc(2024, 1, 1, 12, 0, 0))], source="lastfm"
    )
    r = add_listens(
        user, [("Air", "Sexy Boy", "Moon Safari", utc(2024, 1, 1, 12, 0, 4))], source="api"
    )
    assert r.duplicates == 1 and Listen.objects.count() == 1


def test_same_moment_for_two_users_is_two_listens(user, other_user, add_listens):
    row = [("Air", "Sexy Boy", "Moon Safari", utc(2024, 1, 1, 12))]
    add_listens(user, row)
    add_listens(other_user, row)
    assert Listen.objects.count() == 2


def test_local_date_and_hour_follow_the_users_zone_across_dst(user, add_listens):
    # Europe/Paris: 2024-03-31 01:30 UTC is 03:30 local (after the spring-forward jump);
    # 2024-03-30 23:30 UTC is 00:30 local on the 31st.
    add_listens(
        user,
        [
            ("A", "t1", "", utc(2024, 3, 30, 23, 30)),
            ("A", "t2", "", utc(2024, 3, 31, 1, 30)),
        ],
    )
    got = sorted(Listen.objects.values_list("local_date", "local_hour", "local_weekday"))
    assert got == [(date(2024, 3, 31), 0, 6), (date(2024, 3, 31), 3, 6)]


def test_featured_artists_are_credited_and_counted(user, add_listens):
    add_listens(
        user,
        [
            (
                "Daft Punk feat. Pharrell Williams",
                "Get Lucky",
                "Random Access Memories",
                utc(2024, 5, 1, 20),
                369,
            )
        ],
    )
    track = Track.objects.get()
    assert track.artist_credit == "Daft Punk feat. Pharrell Williams"
    assert list(TrackArtist.objects.order_by("position").values_list("artist__name", "role")) == [
        ("Daft Punk", "main"),
        ("Pharrell Williams", "featured"),
    ]
    assert Artist.objects.count() == 2  # no third "Daft Punk feat. Pharrell Williams" artist
    assert set(UserArtistStat.objects.filter(user=user).values_list("artist__name", "listens")) == {
        ("Daft Punk", 1),
        ("Pharrell Williams", 1),
    }
    assert Listen.objects.get().artist.name == "Daft Punk"


def test_names_match_case_insensitively_and_keep_first_spelling(user, add_listens):
    add_listens(
        user,
        [
            ("The Beatles", "Something", "Abbey Road", utc(2024, 1, 1)),
            ("the  beatles", "Something", "Abbey Road (Remastered 2009)", utc(2024, 1, 2)),
        ],
    )
    assert Artist.objects.get().name == "The Beatles"
    assert Album.objects.count() == 1 and Track.objects.count() == 1


def test_track_without_album_is_kept_as_such(user, add_listens):
    add_listens(user, [("Burial", "Archangel", "", utc(2024, 1, 1))])
    listen = Listen.objects.get()
    assert listen.album_id is None and listen.track.album_id is None


def test_invalid_records_are_counted_not_stored(user, add_listens):
    r = add_listens(user, [("", "No artist", "", utc(2024, 1, 1)), ("A", "", "", utc(2024, 1, 1))])
    assert (r.added, r.invalid) == (0, 2)


def _history(user, add_listens):
    rows = []
    start = utc(2023, 12, 30, 22)
    for i in range(120):
        artist = ["Air", "Björk", "Air feat. Beth Hirsch", "Burial"][i % 4]
        album = ["Moon Safari", "Homogenic", "Moon Safari", ""][i % 4]
        title = f"Duet {i % 7}" if "feat." in artist else f"Song {i % 7}"
        rows.append(
            (artist, title, album, start + timedelta(hours=7 * i), None if i % 5 == 0 else 200 + i)
        )
    add_listens(user, rows[:60])
    add_listens(user, rows[60:])


def test_rollups_equal_a_fresh_computation(user, add_listens):
    _history(user, add_listens)
    incremental = snapshot(user)
    listens_mod.rebuild_rollups(user)
    assert snapshot(user) == incremental
    day_total = sum(DayStat.objects.filter(user=user).values_list("listens", flat=True))
    assert day_total == Listen.objects.filter(user=user).count() == 120
    assert sum(DayHourStat.objects.filter(user=user).values_list("listens", flat=True)) == 120
    assert sum(MonthTrackStat.objects.filter(user=user).values_list("listens", flat=True)) == 120
    assert sum(MonthAlbumStat.objects.filter(user=user).values_list("listens", flat=True)) == 90
    # featured credits count too: 120 listens + 30 featured credits
    assert sum(MonthArtistStat.objects.filter(user=user).values_list("listens", flat=True)) == 150
    # durations learnt from later listens of the same track count for the earlier ones too
    unknown = sum(DayStat.objects.filter(user=user).values_list("unknown_duration", flat=True))
    assert unknown == 0


def test_rollups_equal_a_fresh_computation_when_batches_are_written_in_parts(
    user, add_listens, monkeypatch
):
    """Large batches go in parts, each stored by a helper thread while the next is prepared
    and the rollups and sessions are computed (`_insert`, `Meanwhile`): small parts here, so
    every batch of the history takes that road."""
    import musictracker.db

    monkeypatch.setattr(listens_mod, "INSERT_PART", 7)
    monkeypatch.setattr(musictracker.db, "MEANWHILE_MIN_ROWS", 1)
    monkeypatch.setattr(musictracker.db, "VALUES_ROWS", 3)  # statements of 3 rows, and the rest
    _history(user, add_listens)
    incremental = snapshot(user)
    assert Listen.objects.filter(user=user).count() == 120
    listens_mod.rebuild_rollups(user)
    assert snapshot(user) == incremental
    assert sum(DayStat.objects.filter(user=user).values_list("listens", flat=True)) == 120


def test_a_write_that_fails_in_the_helper_thread_raises_as_django_s_cursor_would(user, monkeypatch):
    import musictracker.db
    from musictracker.db import Meanwhile

    monkeypatch.setattr(musictracker.db, "MEANWHILE_MIN_ROWS", 1)
    sql = "INSERT INTO tracking_listen (user_id, track_id, listened_at)"
    rows = [(user.pk, 1, "2024-01-01 00:00:00")] * 3
    writes = Meanwhile(len(rows))
    with pytest.raises(IntegrityError), transaction.atomic():  # NOT NULL columns left out
        writes.insert_many(sql, 3, rows)
        writes.insert_many(sql, 3, rows)  # queued behind the failing one, waited for too
        writes.wait()
    assert Listen.objects.count() == 0
    assert listens_mod.ingest(user, []).added == 0  # the connection works on


def _helper_works_in_a_forked_child() -> bool:
    import musictracker.db

    return musictracker.db._helper().submit(lambda: 41 + 1).result(timeout=10) == 42


def test_a_forked_process_gets_a_helper_thread_of_its_own():
    """django-q and gunicorn fork their workers: a child that queued on its parent's helper
    (a thread it has no copy of) would wait for ever."""
    import multiprocessing

    import musictracker.db

    musictracker.db._helper().submit(int).result()  # the parent's thread, busy once
    with multiprocessing.get_context("fork").Pool(1) as pool:
        assert pool.apply(_helper_works_in_a_forked_child) is True


def test_deleting_listens_takes_them_out_of_rollups(user, add_listens):
    _history(user, add_listens)
    doomed = list(
        Listen.objects.filter(user=user).order_by("listened_at").values_list("pk", flat=True)[:10]
    )
    assert listens_mod.delete_listens(user, doomed) == 10
    after_delete = snapshot(user)
    listens_mod.rebuild_rollups(user)
    assert snapshot(user) == after_delete
    first = UserTrackStat.objects.filter(user=user).order_by("first_listened_at").first()
    assert (
        first.first_listened_at
        == Listen.objects.filter(user=user).order_by("listened_at").first().listened_at
    )


def test_delete_ignores_other_users_listens(user, other_user, add_listens):
    add_listens(other_user, [("Air", "Sexy Boy", "", utc(2024, 1, 1))])
    assert listens_mod.delete_listens(user, list(Listen.objects.values_list("pk", flat=True))) == 0
    assert Listen.objects.count() == 1


def test_time_zone_change_redates_listens_and_rollups(user, add_listens):
    add_listens(user, [("A", "t", "", utc(2024, 6, 1, 23, 30))])
    assert Listen.objects.get().local_date == date(2024, 6, 2)  # Paris, UTC+2
    user.profile.time_zone = "America/New_York"
    user.profile.save()
    listens_mod.recompute_local_times(user)
    listen = Listen.objects.get()
    assert (listen.local_date, listen.local_hour) == (date(2024, 6, 1), 19)
    assert DayStat.objects.get(user=user).day == date(2024, 6, 1)


def test_one_batch_costs_a_bounded_number_of_queries(
    user, add_listens, django_assert_max_num_queries
):
    rows = [
        (
            f"Artist {i % 40}",
            f"Song {i}",
            f"Album {i % 25}",
            utc(2024, 1, 1) + timedelta(minutes=4 * i),
        )
        for i in range(400)
    ]
    with django_assert_max_num_queries(60):
        add_listens(user, rows)
    assert Listen.objects.count() == 400


def test_duplicate_checks_read_ranges_not_the_whole_history(user, add_listens):
    """Regression: ranges joined by OR made SQLite walk every listen of the user per batch."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "sqlite":
        pytest.skip("SQLite query plans")
    add_listens(
        user, [(f"A{i % 5}", f"T{i}", "", utc(2020, 1, 1) + timedelta(days=i)) for i in range(300)]
    )
    scattered = [
        (f"A{i % 5}", f"New {i}", "", utc(2020, 1, 1) + timedelta(days=40 * i, hours=3))
        for i in range(8)
    ]
    with CaptureQueriesContext(connection) as ctx:
        add_listens(user, scattered)
    plans = []
    with connection.cursor() as cursor:
        for q in ctx.captured_queries:
            sql = q["sql"]
            if sql.startswith("SELECT") and (
                "tracking_listen" in sql or "tracking_listeningsession" in sql
            ):
                cursor.execute("EXPLAIN QUERY PLAN " + sql)
                plans.append(" ".join(str(r[-1]) for r in cursor.fetchall()))
    assert plans
    for plan in plans:
        # every read of listens or sessions is a bounded range or a seek, never "user_id=?" alone
        assert not plan.rstrip().endswith("(user_id=?)"), plan


def test_no_read_scans_a_table_with_the_statistics_of_a_one_user_install(user, add_listens):
    """Regression: after `PRAGMA optimize` on a one-user install (every listen has the same
    user_id), SQLite read the session windows by scanning every track and probing the listens of
    each (30 ms a window: a 100,000-listen import spent two thirds of its time there)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "sqlite":
        pytest.skip("SQLite query plans")
    add_listens(
        user, [(f"A{i % 5}", f"T{i}", "", utc(2020, 1, 1) + timedelta(hours=i)) for i in range(50)]
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute(
            "DELETE FROM sqlite_stat1 WHERE tbl IN ('tracking_listen', 'collection_track')"
        )
        stats = [  # measured on a seeded million-listen install
            ("tracking_listen", "listen_track_user", "999921 118 118 1"),
            ("tracking_listen", "listen_user_album", "999921 999921 1232 1"),
            ("tracking_listen", "listen_user_artist", "999921 999921 3334 1"),
            ("tracking_listen", "sqlite_autoindex_tracking_listen_1", "999921 999921 1 1"),
            ("collection_track", "sqlite_autoindex_collection_track_1", "8545 1"),
        ]
        cursor.executemany("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES (%s, %s, %s)", stats)
        cursor.execute("ANALYZE sqlite_schema")  # reload the statistics
    try:
        with CaptureQueriesContext(connection) as ctx:
            add_listens(user, [("A1", "T3", "", utc(2020, 1, 1, 3, 10))])
        plans = []
        with connection.cursor() as cursor:
            for q in ctx.captured_queries:
                if q["sql"].startswith("SELECT") and "tracking_listen " in q["sql"]:
                    cursor.execute("EXPLAIN QUERY PLAN " + q["sql"])
                    plans.append(" | ".join(str(r[-1]) for r in cursor.fetchall()))
        assert plans
        for plan in plans:
            assert "SCAN" not in plan, plan
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM sqlite_stat1")
            cursor.execute("ANALYZE sqlite_schema")


def test_the_new_track_index_gets_statistics_when_it_is_created(user, add_listens):
    """Regression: after migration 0006 an install had statistics for every index of the listens
    but the new (track, user, listened_at) one, which SQLite then took for a very selective
    index: the latest 50 listens walked every track and probed its listens (1 s at a million
    listens instead of 8 ms). The migration analyzes the table."""
    import importlib

    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite query plans")
    add_listens(
        user, [(f"A{i % 5}", f"T{i}", "", utc(2020, 1, 1) + timedelta(hours=i)) for i in range(50)]
    )
    latest = (
        Listen.objects.filter(user=user)
        .select_related("track", "artist", "album")
        .order_by("-listened_at")[:50]
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute("DELETE FROM sqlite_stat1 WHERE tbl = 'tracking_listen'")
        cursor.executemany(  # a million-listen install's, before the new index existed
            "INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('tracking_listen', %s, %s)",
            [
                ("listen_user_album", "999921 999921 1232 1"),
                ("listen_user_artist", "999921 999921 3334 1"),
                ("sqlite_autoindex_tracking_listen_1", "999921 999921 1 1"),
            ],
        )
        cursor.execute("ANALYZE sqlite_schema")
    try:
        assert "SCAN collection_track" in latest.explain()  # the trap, as upgraded installs had it
        migration = importlib.import_module("tracking.migrations.0006_listen_one_track_index")
        with connection.cursor() as cursor:

            class Editor:  # the part of a schema editor the step uses (a real one cannot run
                execute = staticmethod(cursor.execute)  # inside the test's transaction)

            migration.analyze_listens(None, Editor())
            cursor.execute("ANALYZE sqlite_schema")
        plan = latest.explain()
        assert "SCAN" not in plan and "sqlite_autoindex_tracking_listen_1 (user_id=?)" in plan
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM sqlite_stat1")
            cursor.execute("ANALYZE sqlite_schema")


def test_first_and_last_listen_keep_fractions_of_a_second(user, add_listens):
    """The writer's sums compare times as the database stores them (text on SQLite), where
    "12:00:00" must come before "12:00:00.250000" and after "11:59:40.750000"."""
    noon = utc(2024, 5, 1, 12)
    times = [
        noon + timedelta(seconds=30, microseconds=250_000),
        noon,
        noon - timedelta(seconds=19, microseconds=250_000),
        noon + timedelta(minutes=5),
    ]
    add_listens(user, [("Air", "Alpha", "Moon", t, 180) for t in times[:3]])
    add_listens(user, [("Air feat. Beck", "Beta", "Moon", times[3], 180)])
    track = UserTrackStat.objects.get(user=user, track__title="Alpha")
    assert (track.first_listened_at, track.last_listened_at) == (times[2], times[0])
    air = UserArtistStat.objects.get(user=user, artist__name="Air")
    assert (air.listens, air.first_listened_at, air.last_listened_at) == (4, times[2], times[3])
    kept = snapshot(user)
    listens_mod.rebuild_rollups(user)
    assert snapshot(user) == kept
