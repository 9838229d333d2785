"""Sessions, transitions and the weekday×hour rollup, kept current as listens arrive in any
order and leave, always equal to a fresh computation (`rebuild_rollups`)."""

from datetime import timedelta

import pytest

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


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_random_batches_and_deletions_always_equal_a_rebuild(user, add_listens, seed):
    """Listens 20 to 40 minutes apart (either side of the session gap), spread over days with
    long breaks, arrive in shuffled batches that interleave with what is stored; some are then
    deleted. After every step the sessions and transitions equal a fresh computation."""
    import random

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
