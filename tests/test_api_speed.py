"""What keeps the API fast without changing what it answers: tokens remembered for a few seconds
(revocation still prompt), the history page's queries, and the JSON it renders."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from musictracker import models as mt_models
from musictracker.models import ApiToken

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_cached_tokens():
    mt_models._token_cache.clear()
    yield
    mt_models._token_cache.clear()


def _token_client(user) -> tuple[ApiToken, Client]:
    token, raw = ApiToken.issue(user=user, name="tests")
    return token, Client(HTTP_AUTHORIZATION=f"Token {raw}")


# ---- tokens ----------------------------------------------------------------------------------
def test_a_remembered_token_costs_no_query(user, django_assert_num_queries):
    _, api = _token_client(user)
    assert api.get("/api/v1/me").json()["username"] == "alice"  # looked up, use recorded
    with django_assert_num_queries(0):
        assert api.get("/api/v1/me").json() == {"id": user.pk, "username": "alice"}


def test_tokens_of_two_users_stay_apart_when_remembered(user, other_user, add_listens):
    add_listens(user, [("Radiohead", "Airbag", "OK Computer", datetime(2021, 1, 1, tzinfo=UTC))])
    add_listens(other_user, [("Björk", "Jóga", "", datetime(2021, 1, 2, tzinfo=UTC))])
    _, alice = _token_client(user)
    _, bob = _token_client(other_user)
    for _ in range(3):
        assert alice.get("/api/v1/me").json()["username"] == "alice"
        assert bob.get("/api/v1/me").json()["username"] == "bob"
        items = alice.get("/api/v1/history/listens").json()["items"]
        assert [i["track"]["title"] for i in items] == ["Airbag"]
        items = bob.get("/api/v1/history/listens").json()["items"]
        assert [i["track"]["title"] for i in items] == ["Jóga"]


def test_each_request_gets_its_own_user_object(user):
    first = ApiToken.authenticate(_raw := ApiToken.issue(user=user, name="x")[1])
    second = ApiToken.authenticate(_raw)  # from the cache
    assert first.user == second.user and first.user is not second.user
    second.user.first_name = "changed by a view"
    assert ApiToken.authenticate(_raw).user.first_name == ""


def test_revoking_in_settings_takes_effect_at_once(auth_client, user):
    token, api = _token_client(user)
    assert api.get("/api/v1/me").status_code == 200  # remembered now
    auth_client.post(f"/settings/tokens/{token.pk}/revoke/")
    assert api.get("/api/v1/me").status_code == 401
    assert api.get("/api/v1/history/listens").status_code == 401


def test_deleting_a_token_or_deactivating_its_user_takes_effect_at_once(user, other_user):
    token, api = _token_client(user)
    assert api.get("/api/v1/me").status_code == 200
    token.delete()
    assert api.get("/api/v1/me").status_code == 401
    _, bob = _token_client(other_user)
    assert bob.get("/api/v1/me").status_code == 200
    other_user.is_active = False
    other_user.save()
    assert bob.get("/api/v1/me").status_code == 401


def test_a_token_revoked_by_another_process_stops_within_the_cache_time(user, monkeypatch):
    monkeypatch.setattr(mt_models, "TOKEN_CACHE_SECONDS", 1.5)
    token, api = _token_client(user)
    assert api.get("/api/v1/me").status_code == 200
    remembered_at = time.monotonic()
    # Another process (a second web worker) revokes it: no signal reaches this one, which may go
    # on accepting the token for the cache time…
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=datetime.now(UTC))
    assert api.get("/api/v1/me").status_code == 200
    time.sleep(max(0.0, remembered_at + 1.5 - time.monotonic()) + 0.05)
    # …and no longer.
    assert api.get("/api/v1/me").status_code == 401
    assert api.get("/api/v1/history/listens").status_code == 401


def test_the_default_cache_time_is_a_few_seconds():
    assert 0 < mt_models.TOKEN_CACHE_SECONDS <= 5


def test_a_wrong_token_is_never_remembered(client):
    for _ in range(2):
        response = client.get("/api/v1/me", HTTP_AUTHORIZATION="Token not-a-token")
        assert response.status_code == 401
    assert mt_models._token_cache == {}


def test_a_remembered_token_still_records_its_use_once_a_minute(user):
    token, api = _token_client(user)
    with time_machine.travel(datetime(2030, 1, 1, 12, tzinfo=UTC), tick=False):
        api.get("/api/v1/me")
    token.refresh_from_db()
    assert token.last_used_at == datetime(2030, 1, 1, 12, tzinfo=UTC)
    with time_machine.travel(datetime(2030, 1, 1, 12, 0, 30, tzinfo=UTC), tick=False):
        api.get("/api/v1/me")  # within the minute: no write
    token.refresh_from_db()
    assert token.last_used_at == datetime(2030, 1, 1, 12, tzinfo=UTC)
    later = datetime(2030, 1, 1, 12, 2, tzinfo=UTC)
    with time_machine.travel(later, tick=False):
        api.get("/api/v1/me")
        api.get("/api/v1/me")
    token.refresh_from_db()
    assert token.last_used_at == later
    assert later - timedelta(minutes=1) < token.last_used_at


# ---- the history page ------------------------------------------------------------------------
def _history(user, add_listens):
    """Listens with ties at one second, one without album, a loved track, another user's."""
    from tracking.models import Listen, LovedTrack

    base = datetime(2023, 3, 1, 8, tzinfo=UTC)
    rows = [
        ("Radiohead", f"Song {i}", "OK Computer", base + timedelta(minutes=i)) for i in range(9)
    ]
    rows += [("Björk", f"Jóga {i}", "Homogenic", base + timedelta(minutes=4)) for i in range(3)]
    rows += [("Air", "Single", "", base + timedelta(hours=2), 250)]
    add_listens(user, rows)
    song = Listen.objects.get(user=user, track__title="Song 3").track
    LovedTrack.objects.create(user=user, track=song, loved_at=base)
    return Listen.objects.filter(user=user)


def _expected(user, qs, limit, cursor_row, **filters):
    """The same page by the ORM, the straightforward way."""
    from tracking.history_api import encode_cursor, listen_item
    from tracking.models import LovedTrack

    loved_ids = set(LovedTrack.objects.filter(user=user).values_list("track_id", flat=True))
    if "artist_id" in filters:
        qs = qs.filter(artist_id=filters["artist_id"])
    if "album_id" in filters:
        qs = qs.filter(album_id=filters["album_id"])
    if "start" in filters:
        qs = qs.filter(listened_at__gte=filters["start"])
    if "end" in filters:
        qs = qs.filter(listened_at__lt=filters["end"])
    rows = list(qs.order_by("-listened_at", "-id").values(*PAGE_FIELDS))
    if filters.get("loved") is not None:
        rows = [r for r in rows if (r["track_id"] in loved_ids) == filters["loved"]]
    if cursor_row is not None:
        key = (cursor_row["listened_at"], cursor_row["id"])
        rows = [r for r in rows if (r["listened_at"], r["id"]) < key]
    page = rows[:limit]
    nxt = encode_cursor(page[-1]["listened_at"], page[-1]["id"]) if len(rows) > limit else None
    return [listen_item(r, loved=r["track_id"] in loved_ids) for r in page], nxt


from tracking.history_api import PAGE_FIELDS, encode_cursor, listens_page  # noqa: E402


def test_history_pages_match_the_orm_for_every_filter_and_cursor(user, other_user, add_listens):
    from tracking.models import Listen

    qs = _history(user, add_listens)
    add_listens(
        other_user, [("Radiohead", "Song 1", "OK Computer", datetime(2023, 3, 1, tzinfo=UTC))]
    )
    radiohead = Listen.objects.filter(user=user, artist__name="Radiohead").first()
    single = Listen.objects.get(user=user, track__title="Single")
    base = datetime(2023, 3, 1, 8, tzinfo=UTC)
    every = list(qs.order_by("-listened_at", "-id").values(*PAGE_FIELDS))
    cursors = [None, every[0], every[5], every[7], every[-2]]
    filter_sets = [
        {},
        {"artist_id": radiohead.artist_id},
        {"album_id": radiohead.album_id},
        {"album_id": single.album_id} if single.album_id else {"loved": False},
        {"loved": True},
        {"loved": False},
        {"start": base + timedelta(minutes=2), "end": base + timedelta(minutes=6)},
        {"artist_id": radiohead.artist_id, "loved": False, "end": base + timedelta(hours=1)},
    ]
    checked = 0
    for filters in filter_sets:
        for limit in (1, 2, 5, 50):
            for row in cursors:
                cursor = encode_cursor(row["listened_at"], row["id"]) if row else None
                page = listens_page(user, cursor=cursor, limit=limit, **filters)
                items, nxt = _expected(user, qs, limit, row, **filters)
                assert (page.items, page.next_cursor) == (items, nxt), (filters, limit, cursor)
                checked += bool(items)
    assert checked > 100
    assert single.album_id is None or listens_page(user, limit=1).items[0]["album"] is None


def test_history_page_is_one_query_with_a_remembered_token(
    user, add_listens, django_assert_num_queries
):
    _history(user, add_listens)
    _, api = _token_client(user)
    first = api.get("/api/v1/history/listens?limit=5").json()  # token looked up, use recorded
    with django_assert_num_queries(1):
        page = api.get("/api/v1/history/listens?limit=5").json()
    assert page == first and len(page["items"]) == 5
    with django_assert_num_queries(1):
        nxt = api.get(f"/api/v1/history/listens?limit=5&cursor={page['next_cursor']}").json()
    assert [i["id"] for i in nxt["items"]] and nxt["items"][0]["id"] not in {
        i["id"] for i in page["items"]
    }


def test_history_page_query_plan_reads_the_listens_index_not_a_scan(user, add_listens):
    from django.db import connection

    from tracking.history_api import _page_sql

    if connection.vendor != "sqlite":
        pytest.skip("the plan checked is SQLite's")
    _history(user, add_listens)
    with connection.cursor() as c:
        c.execute("ANALYZE")
        c.execute(
            "EXPLAIN QUERY PLAN " + _page_sql("p.user_id = %s AND p.listened_at <= %s"),
            [user.pk, user.pk, "2030-01-01 00:00:00", 51],
        )
        plan = " | ".join(str(r[-1]) for r in c.fetchall())
    # The page of ids from the listens index, then each of its rows by primary key: never a scan
    # of the listens (small tables like this one's albums may be scanned: a few rows).
    assert "SEARCH p USING COVERING INDEX" in plan, plan
    assert "SCAN page | SEARCH l USING INTEGER PRIMARY KEY" in plan, plan
    assert "SCAN l" not in plan and "SCAN p " not in plan, plan


# ---- JSON ------------------------------------------------------------------------------------
def test_api_json_has_the_same_values_as_ninjas_standard_encoder():
    import json
    import uuid
    from datetime import date
    from datetime import time as dtime
    from decimal import Decimal
    from zoneinfo import ZoneInfo

    from django.utils.translation import gettext_lazy
    from ninja.responses import NinjaJSONEncoder

    from musictracker.api import api
    from musictracker.models import Job

    data = {
        "at": datetime(2024, 5, 1, 12, 30, 15, 123456, tzinfo=UTC),
        "whole": datetime(2024, 5, 1, 12, 30, 15, tzinfo=UTC),
        "paris": datetime(2024, 5, 1, 12, 30, tzinfo=ZoneInfo("Europe/Paris")),
        "paris_us": datetime(2024, 5, 1, 12, 30, 1, 999, tzinfo=ZoneInfo("Europe/Paris")),
        "naive": datetime(2024, 5, 1, 12, 30, 1, 4000),
        "day": date(2024, 5, 1),
        "clock": dtime(7, 5, 1, 500000),
        "span": timedelta(minutes=3, seconds=2),
        "money": Decimal("1.50"),
        "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "lazy": gettext_lazy("name"),
        "kind": next(iter(Job.Kind)),
        "text": "Björk — Jóga ✓",
        "numbers": [1, 2.5, -3, 2**62, None, True],
        "nested": [{"a": {"b": []}}],
        1: "int key",
    }
    ours = api.renderer.render(None, data, response_status=200)
    standard = json.dumps(data, cls=NinjaJSONEncoder)
    assert json.loads(ours) == json.loads(standard)
    assert b'"at":"2024-05-01T12:30:15.123Z"' in ours and "Björk".encode() in ours


def test_api_responses_are_compact_utf8_json(user, add_listens):
    add_listens(user, [("Björk", "Jóga", "Homogenic", datetime(2021, 1, 2, 3, 4, 5, tzinfo=UTC))])
    _, api = _token_client(user)
    response = api.get("/api/v1/history/listens")
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert "Jóga".encode() in response.content
    item = response.json()["items"][0]
    assert item["listened_at"] == "2021-01-02T03:04:05Z" and item["track"]["title"] == "Jóga"
    assert item["album"]["title"] == "Homogenic" and item["loved"] is False
    error = api.get("/api/v1/history/listens?limit=0")
    assert error.status_code == 422 and "limit" in error.content.decode()


# ---- the server ------------------------------------------------------------------------------
def test_the_load_bench_runs_gunicorn_as_scripts_run_prod_does(settings):
    import runpy

    conf = runpy.run_path(str(settings.BASE_DIR / "deploy" / "gunicorn.conf.py"))
    assert conf["worker_class"] == "gthread" and conf["keepalive"] > 0
    assert conf["workers"] >= 2 and conf["threads"] >= 2 and conf["accesslog"] == "-"
    run = (settings.BASE_DIR / "scripts" / "run").read_text()
    bench = (settings.BASE_DIR / "bench" / "load_api.py").read_text()
    assert "--config deploy/gunicorn.conf.py" in run
    assert 'ROOT / "deploy" / "gunicorn.conf.py"' in bench
    # Not at the top of the repository, where gunicorn would load it for any other command too.
    assert not (settings.BASE_DIR / "gunicorn.conf.py").exists()


def test_history_page_written_directly_is_what_ninja_would_write(user, add_listens):
    """The history list skips ninja's validation of its own output: check here, for pages with
    every kind of value, that it is byte for byte what ninja's validated way writes, and valid."""
    from musictracker.api import api
    from tracking.history_api import listens_page
    from tracking.models import Listen, LovedTrack
    from tracking.schemas import ListenPage

    _history(user, add_listens)
    add_listens(
        user,
        [
            ("Sigur Rós", "Hoppípolla", "Takk…", datetime(2023, 3, 2, 9, 0, 1, 123456, tzinfo=UTC)),
            ("Sigur Rós", "Glósóli", "Takk…", datetime(2023, 3, 2, 9, 5, 0, 999, tzinfo=UTC), 380),
            ("Old", "Song", "", datetime(1969, 7, 20, 20, 17, 40, tzinfo=UTC)),
        ],
    )
    song = Listen.objects.get(user=user, track__title="Hoppípolla").track
    LovedTrack.objects.create(user=user, track=song, loved_at=datetime.now(UTC))
    _, client = _token_client(user)
    cursor, pages = None, 0
    while True:
        url = "/api/v1/history/listens?limit=4" + (f"&cursor={cursor}" if cursor else "")
        response = client.get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/json; charset=utf-8"
        page = listens_page(user, limit=4, cursor=cursor)
        data = {"items": page.items, "next_cursor": page.next_cursor}
        validated = ListenPage.model_validate(data).model_dump()
        assert response.content == api.renderer.render(None, validated, response_status=200)
        ListenPage.model_validate_json(response.content)  # and it fits the schema
        pages += 1
        cursor = response.json()["next_cursor"]
        if not cursor:
            break
    assert pages == 4
    body = client.get("/api/v1/history/listens?limit=2").json()
    assert [i["listened_at"] for i in body["items"]] == [
        "2023-03-02T09:05:00.000Z",
        "2023-03-02T09:00:01.123Z",
    ]
    assert body["items"][1]["loved"] is True and body["items"][1]["album"]["title"] == "Takk…"
    oldest = client.get("/api/v1/history/listens?to=1970-01-01T00:00:00Z").json()["items"]
    assert oldest[0]["listened_at"] == "1969-07-20T20:17:40Z" and oldest[0]["album"] is None
