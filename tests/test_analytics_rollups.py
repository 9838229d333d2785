"""Sessions, transitions and the weekday×hour rollup, kept current as listens arrive in any
order and leave, always equal to a fresh computation (`rebuild_rollups`)."""

from datetime import timedelta

import pytest
from django.db import transaction

from collection.catalogue import Catalogue, ListenRecord
from tests.conftest import utc
from tests.test_listens import snapshot
from tracking import listens as listens_mod
from tracking.listens import ingest
from tracking.models import (
    Listen,
    ListeningSession,
    MonthTransitionStat,
    MonthWeekdayHourStat,
    UserTransitionStat,
)

pytestmark = pytest.mark.django_db

T0 = utc(2024, 3, 30, 22, 0)
ARTISTS = ["Air", "Daft Punk", "Massive Attack", "Portishead"]


def rows(minutes, artist_of=lambda i: ARTISTS[i % 4]):
    return [
        (artist_of(i), f"Track {m}", "Album", T0 + timedelta(minutes=m), 200 if m % 3 else None)
        for i, m in enumerate(minutes)
    ]


def sessions(user):
    return list(
        ListeningSession.objects.filter(user=user)
        .order_by("started_at")
        .values_list("started_at", "listens", "seconds")
    )


def test_batches_in_any_order_bridge_and_split_sessions_like_a_rebuild(user, add_listens):
    # Two sessions 60 minutes apart...
    add_listens(user, rows([0, 10, 20]) + rows([80, 90]))
    assert [s[1] for s in sessions(user)] == [3, 2]
    # ...a listen in the gap joins them into one...
    add_listens(user, rows([50], artist_of=lambda i: "Portishead"))
    assert [s[1] for s in sessions(user)] == [6]
    # ...and batches arriving out of order, across a month's end and a DST change, too.
    add_listens(user, rows([300, 2000, 45, 2010, 2015, 305, 24 * 60 * 3]))
    incremental = snapshot(user)
    listens_mod.rebuild_rollups(user)
    assert snapshot(user) == incremental
    assert ListeningSession.objects.filter(user=user).count() == len(sessions(user)) > 3
    assert MonthTransitionStat.objects.filter(user=user).exists()
    assert UserTransitionStat.objects.filter(user=user).exists()
    assert MonthWeekdayHourStat.objects.filter(user=user).exists()


def test_deleting_a_listen_splits_its_session(user, add_listens):
    add_listens(user, rows([0, 25, 50]))
    assert [s[1] for s in sessions(user)] == [3]
    middle = Listen.objects.get(listened_at=T0 + timedelta(minutes=25))
    listens_mod.delete_listens(user, [middle.pk])
    assert [s[1] for s in sessions(user)] == [1, 1]  # 50 minutes apart now
    # Air → Massive Attack is gone; nothing follows anything any more.
    assert not UserTransitionStat.objects.filter(user=user).exists()
    after = snapshot(user)
    listens_mod.rebuild_rollups(user)
    assert snapshot(user) == after


def test_transitions_count_artist_changes_within_sessions_only(user, add_listens):
    artists = ["Air", "Air", "Daft Punk", "Air", "Daft Punk"]
    add_listens(user, rows([0, 5, 10, 15, 100], artist_of=lambda i: artists[i]))
    pairs = {
        (a, b): n
        for a, b, n in UserTransitionStat.objects.filter(user=user).values_list(
            "from_artist__name", "to_artist__name", "listens"
        )
    }
    # 15 → 100 minutes is a new session: that Air → Daft Punk does not count.
    assert pairs == {("Air", "Daft Punk"): 1, ("Daft Punk", "Air"): 1}


def test_a_duration_learnt_later_lengthens_the_session(user, add_listens):
    cat = Catalogue()
    add_listens(user, [("Air", "Sexy Boy", "Moon Safari", T0)], catalogue=cat)
    assert sessions(user)[0][2] == 0  # one listen of unknown length
    ingest(
        user,
        [
            ListenRecord(
                artist="Air",
                track="Sexy Boy",
                album="Moon Safari",
                listened_at=T0 + timedelta(days=5),
                duration=298,
                source="import",
            )
        ],
        catalogue=cat,
        enrich=False,
    )
    incremental = snapshot(user)
    assert [s[2] for s in sessions(user)] == [298, 298]
    listens_mod.rebuild_rollups(user)
    assert snapshot(user) == incremental


@pytest.mark.parametrize("queued", [False, True], ids=["direct", "queued"])
@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_random_batches_and_deletions_always_equal_a_rebuild(
    user, add_listens, seed, queued, monkeypatch
):
    """Listens 20 to 40 minutes apart (either side of the session gap), spread over days with
    long breaks, arrive in shuffled batches that interleave with what is stored; some are then
    deleted. After every step the sessions and transitions equal a fresh computation. Queued:
    the writes of every batch, the sessions' and transitions' too, go through the helper
    thread, as a large import's do."""
    import random

    import musictracker.db

    if queued:
        monkeypatch.setattr(musictracker.db, "MEANWHILE_MIN_ROWS", 1)
        monkeypatch.setattr(musictracker.db, "VALUES_ROWS", 4)
    rng = random.Random(seed)
    at, minutes = 0, []
    for _ in range(240):
        at += rng.choice([3, 20, 29, 31, 40, 60 * 5, 60 * 24 * 3])
        minutes.append(at)
    rng.shuffle(minutes)
    for i in range(0, len(minutes), 40):
        add_listens(user, rows(minutes[i : i + 40], artist_of=lambda k: rng.choice(ARTISTS)))
        incremental = snapshot(user)
        listens_mod.rebuild_rollups(user)
        assert snapshot(user) == incremental
    ids = list(Listen.objects.filter(user=user).values_list("pk", flat=True))
    for chunk in (rng.sample(ids, 15), rng.sample(ids, 1)):
        chunk = [pk for pk in chunk if Listen.objects.filter(pk=pk).exists()]
        listens_mod.delete_listens(user, chunk)
        incremental = snapshot(user)
        listens_mod.rebuild_rollups(user)
        assert snapshot(user) == incremental


def test_a_backfill_extending_one_long_session_reads_only_near_the_new_listens(user, add_listens):
    """Newest first, 5 minutes apart: every batch extends one long session. The result equals a
    rebuild, and each batch reads only the listens near its own (not the whole session)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    minutes = list(range(0, 5 * 600, 5))[::-1]
    for i in range(0, len(minutes), 100):
        with CaptureQueriesContext(connection) as ctx:
            add_listens(user, rows(minutes[i : i + 100]))
        window_reads = [q["sql"] for q in ctx.captured_queries if "CROSS JOIN" in q["sql"]]
        assert len(window_reads) == 1
        if connection.vendor == "sqlite":  # the captured SQL has its parameters inlined
            with connection.cursor() as cursor:
                cursor.execute(window_reads[0])
                assert len(cursor.fetchall()) <= 100 + 6  # the new listens ± 30 minutes
    assert [s[1] for s in sessions(user)] == [600]
    incremental = snapshot(user)
    listens_mod.rebuild_rollups(user)
    assert snapshot(user) == incremental


ROLLUP_TABLES = {
    # table: its key, as stored since tracking 0007
    "tracking_daystat": ("user_id", "day"),
    "tracking_dayhourstat": ("user_id", "day", "hour"),
    "tracking_monthweekdayhourstat": ("user_id", "month", "weekday", "hour"),
    "tracking_monthartiststat": ("user_id", "month", "artist_id"),
    "tracking_monthalbumstat": ("user_id", "month", "album_id"),
    "tracking_monthtrackstat": ("user_id", "month", "track_id"),
    "tracking_userartiststat": ("user_id", "artist_id"),
    "tracking_useralbumstat": ("user_id", "album_id"),
    "tracking_usertrackstat": ("user_id", "track_id"),
    "tracking_monthtransitionstat": ("user_id", "month", "from_artist_id", "to_artist_id"),
    "tracking_usertransitionstat": ("user_id", "from_artist_id", "to_artist_id"),
}


def _rollup_rows(connection) -> dict:
    out = {}
    with connection.cursor() as cursor:
        for table, key in ROLLUP_TABLES.items():
            columns = sorted(
                c.name
                for c in connection.introspection.get_table_description(cursor, table)
                if c.name != "id"
            )
            cursor.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {', '.join(key)}")
            out[table] = (columns, cursor.fetchall())
    return out


def _keys_and_indexes(connection, table: str) -> tuple[list, list, list]:
    """(primary key columns, unique column sets, single-column indexes) of a table."""
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, table).values()
    primary = [c["columns"] for c in found if c["primary_key"]]
    unique = [c["columns"] for c in found if c["unique"] and not c["primary_key"]]
    single = [c["columns"] for c in found if c["index"] and len(c["columns"]) == 1]
    return primary, unique, single


@pytest.mark.django_db(transaction=True)
def test_rollups_move_to_their_natural_key_and_back_keeping_every_row(user, add_listens):
    """Migration tracking 0007 rebuilds every rollup table, both ways, with all its rows; on
    SQLite the tables are WITHOUT ROWID and pass `PRAGMA integrity_check` (which backups run:
    SQLite 3.40 gave false errors there for such tables whose columns did not start with
    their key)."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    add_listens(user, rows([0, 4, 9, 14, 60, 200, 205, 1440, 1445, 1500]))
    add_listens(user, [("Air feat. Beck", "Duet", "Album", T0 + timedelta(days=40), 180)])
    before = _rollup_rows(connection)
    assert all(rows_ for _, rows_ in before.values())

    def migrate(target: str) -> None:
        executor = MigrationExecutor(connection)
        executor.migrate([("tracking", target)])

    try:
        migrate("0006_listen_one_track_index")
        assert _rollup_rows(connection) == before
        primary, unique, _ = _keys_and_indexes(connection, "tracking_monthartiststat")
        assert primary == [["id"]]
        assert ["user_id", "month", "artist_id"] in unique
    finally:
        migrate("0007_rollups_keyed_by_their_key")
    assert _rollup_rows(connection) == before
    for table, key in ROLLUP_TABLES.items():
        primary, unique, single = _keys_and_indexes(connection, table)
        assert primary == [list(key)], table
        assert unique == [], table
        assert [c for c in single if c[0] != "user_id"] == [], table
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name IN"
                f" ({', '.join(['%s'] * len(ROLLUP_TABLES))})",
                list(ROLLUP_TABLES),
            )
            tables = dict(cursor.fetchall())
            cursor.execute("PRAGMA integrity_check")
            assert cursor.fetchall() == [("ok",)]
        assert len(tables) == len(ROLLUP_TABLES)
        assert all(sql.endswith("WITHOUT ROWID") for sql in tables.values())
    # They still take listens, and the upserts still add up to a fresh computation.
    add_listens(user, rows([3000, 3004, 9]))
    kept = snapshot(user)
    assert sum(int(r[1]) for r in kept["UserArtistStat"]) == 14  # 13 new, the one double dropped
    listens_mod.rebuild_rollups(user)
    assert snapshot(user) == kept


def test_plays_matched_from_memory_equal_the_matching_of_the_batch(user):
    """`prepare` matches the plays of tracks the job has seen without the database; `resolve`
    matches the rest and gives the same answer as without them, lengths learnt in the batch
    included (the prepared play of a track of unknown length gets it too)."""
    from collection.catalogue import prepare, resolve

    cat = Catalogue()

    def play(artist, title, minutes, duration=None):
        return ListenRecord(
            artist=artist,
            track=title,
            album="Album",
            listened_at=T0 + timedelta(minutes=minutes),
            duration=duration,
            source="import",
        )

    ingest(user, [play("Air", "Known", 0, 200), play("Air", "No length yet", 5)], catalogue=cat)
    batch = [
        play("Air", "Known", 60),  # from memory
        play("Air", "No length yet", 65),  # from memory, then its length is learnt below
        play("Air", "No length yet", 70, 250),  # teaches the length: left to `resolve`
        play("Daft Punk", "New", 75),  # new track: left to `resolve`
        ListenRecord(artist="", track="", listened_at=T0, source="import"),  # invalid
    ]
    prepared = prepare(batch, cat)
    assert [p is not None for p in prepared] == [True, True, False, False, False]
    with transaction.atomic():
        matched = resolve(batch, cat, prepared)
    assert matched[4] is None
    assert matched[1].duration == matched[2].duration == 250
    assert matched[1].track_id == matched[2].track_id
    assert resolve(batch, cat) == matched  # matched again, all from the database road


def test_a_new_track_played_again_in_its_batch_is_made_once_with_its_first_play_s_details(user):
    """Each spelling of a batch's new tracks is matched once: every play points at one track,
    made with the first play's details; an artist's MusicBrainz id carried by a later play of
    the same spelling still reaches the artist."""
    from collection.models import Artist, Track

    mbid = "0383dadf-2a4e-4d10-a46a-e9e041da8eb3"
    plays = [
        ListenRecord(
            artist="Queen",
            track="Bicycle Race",
            album="Jazz",
            listened_at=T0 + timedelta(minutes=4 * i),
            duration=[181, 999, 181][i % 3],
            artist_mbid=mbid if i == 4 else None,
            source="import",
        )
        for i in range(6)
    ]
    result = ingest(user, plays, catalogue=Catalogue(), enrich=False)
    assert result.added == 6
    (track,) = Track.objects.filter(title="Bicycle Race")
    assert track.duration == 181
    assert set(Listen.objects.filter(user=user).values_list("track_id", flat=True)) == {track.pk}
    assert str(Artist.objects.get(name="Queen").mbid) == mbid
