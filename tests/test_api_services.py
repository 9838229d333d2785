"""Services and history endpoints: tracker, jobs, imports, listens with keyset pages, export."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from musictracker.models import ApiToken, Job
from tracking.models import Listen, LovedTrack, TrackerStatus

pytestmark = pytest.mark.django_db
DATA = Path(__file__).parent / "data" / "imports"


@pytest.fixture
def api(client, user):
    _, raw = ApiToken.issue(user=user, name="tests")
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {raw}"
    return client


def test_tracker_status_pause_and_resume(api, user):
    assert api.get("/api/v1/tracker").json()["is_paused"] is False
    assert api.post("/api/v1/tracker/pause").json()["is_paused"] is True
    assert TrackerStatus.objects.get(user=user).is_paused
    assert api.post("/api/v1/tracker/resume").json()["is_paused"] is False
    assert not TrackerStatus.objects.get(user=user).is_paused


def test_jobs_list_and_detail_are_the_users_own(api, user, other_user):
    mine = [Job.objects.create(user=user, kind="import", label=f"file {i}") for i in range(3)]
    theirs = Job.objects.create(user=other_user, kind="import")
    page = api.get("/api/v1/jobs?limit=2").json()
    assert [j["id"] for j in page["items"]] == [mine[2].pk, mine[1].pk]
    rest = api.get(f"/api/v1/jobs?limit=2&cursor={page['next_cursor']}").json()
    assert [j["id"] for j in rest["items"]] == [mine[0].pk] and rest["next_cursor"] is None
    assert api.get(f"/api/v1/jobs/{theirs.pk}").status_code == 404
    assert api.get("/api/v1/jobs/999999").status_code == 404
    assert api.get(f"/api/v1/jobs/{mine[0].pk}").json()["label"] == "file 0"


def test_jobs_bad_filter_names_the_field(api):
    response = api.get("/api/v1/jobs?kind=nonsense")
    assert response.status_code == 422
    assert "kind" in json.dumps(response.json())
    response = api.get("/api/v1/jobs?limit=0")
    assert response.status_code == 422 and "limit" in json.dumps(response.json())


def test_import_by_api_queues_a_job_with_progress_and_report(
    api, user, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.DATA_DIR = tmp_path
    upload = SimpleUploadedFile("lastfm.csv", (DATA / "lastfm.csv").read_bytes(), "text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/imports", {"file": upload})
    assert response.status_code == 202
    job = api.get(f"/api/v1/jobs/{response.json()['id']}").json()
    assert job["status"] == "done" and job["added"] == 3 and job["skipped"] == 2
    assert [r["line"] for r in job["report"]] == ["line 3", "line 5"]


def test_import_by_api_refuses_bad_files_with_400(api, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    upload = SimpleUploadedFile("notes.txt", b"hello", "text/plain")
    response = api.post("/api/v1/imports", {"file": upload})
    assert response.status_code == 400 and response.json()["detail"].startswith("file:")
    response = api.post("/api/v1/imports", {})
    assert response.status_code == 422 and "file" in json.dumps(response.json())


def _seed(add_listens, user, n=7):
    base = datetime(2022, 6, 1, 12, tzinfo=UTC)
    rows = [
        ("Radiohead", f"Song {i}", "OK Computer", base + timedelta(minutes=5 * i)) for i in range(n)
    ]
    rows.append(("Björk", "Jóga", "Homogenic", base + timedelta(days=2)))
    add_listens(user, rows)
    # Two listens at the very same second (different tracks): the cursor must not lose one.
    add_listens(
        user,
        [
            ("Portishead", "Roads", "Dummy", base + timedelta(days=1)),
            ("Portishead", "Sour Times", "Dummy", base + timedelta(days=1)),
        ],
    )


def test_listens_pages_follow_the_cursor_without_gaps_or_repeats(api, user, add_listens):
    _seed(add_listens, user)
    seen, cursor = [], None
    while True:
        url = "/api/v1/history/listens?limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = api.get(url).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    expected = list(
        Listen.objects.filter(user=user)
        .order_by("-listened_at", "-id")
        .values_list("id", flat=True)
    )
    assert seen == expected and len(seen) == 10


def test_listens_filters(api, user, add_listens):
    _seed(add_listens, user)
    roads = Listen.objects.get(user=user, track__title="Roads")
    LovedTrack.objects.create(user=user, track=roads.track, loved_at=datetime.now(UTC))
    items = api.get(f"/api/v1/history/listens?artist={roads.artist_id}").json()["items"]
    assert {i["track"]["title"] for i in items} == {"Roads", "Sour Times"}
    items = api.get(f"/api/v1/history/listens?album={roads.album_id}").json()["items"]
    assert len(items) == 2
    loved = api.get("/api/v1/history/listens?loved=true").json()["items"]
    assert [i["track"]["title"] for i in loved] == ["Roads"] and loved[0]["loved"] is True
    unloved = api.get("/api/v1/history/listens?loved=false").json()["items"]
    assert len(unloved) == 9
    window = api.get(
        "/api/v1/history/listens?from=2022-06-01T12:10:00Z&to=2022-06-01T12:20:00Z"
    ).json()["items"]
    assert [i["track"]["title"] for i in window] == ["Song 3", "Song 2"]
    every = api.get("/api/v1/history/listens").json()["items"]
    assert {i["track"]["title"]: i["loved"] for i in every}["Roads"] is True


def test_listens_bad_parameters_name_the_field(api):
    for query, field in [
        ("cursor=zzz", "cursor"),
        ("limit=100000", "limit"),
        ("from=yesterday", "from"),
        ("loved=perhaps", "loved"),
        ("artist=-1", "artist"),
    ]:
        response = api.get(f"/api/v1/history/listens?{query}")
        assert response.status_code == 422, query
        assert field in json.dumps(response.json()), query


def test_listens_page_costs_four_queries(api, user, add_listens, django_assert_max_num_queries):
    _seed(add_listens, user)
    api.get("/api/v1/history/listens")  # first request: first-run check, token use recorded
    with django_assert_max_num_queries(4):  # token, page ids, their rows, loved flags
        assert api.get("/api/v1/history/listens").status_code == 200


def test_export_endpoint_streams_csv_and_jsonl(api, user, add_listens):
    _seed(add_listens, user)
    response = api.get("/api/v1/history/export?format=csv")
    assert response.status_code == 200 and response.streaming
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0].startswith("listened_at,uts,artist") and len(lines) == 11
    response = api.get("/api/v1/history/export?format=jsonl")
    rows = [json.loads(x) for x in b"".join(response.streaming_content).decode().splitlines()]
    assert len(rows) == 10 and rows[0]["track_metadata"]["track_name"] == "Song 0"
    assert "attachment" in response["Content-Disposition"]
    assert api.get("/api/v1/history/export?format=xml").status_code == 422


def test_settings_download_links(auth_client, user, add_listens):
    _seed(add_listens, user)
    response = auth_client.get("/settings/imports/export/csv/")
    assert response.status_code == 200
    assert len(b"".join(response.streaming_content).decode().splitlines()) == 11
    assert auth_client.get("/settings/imports/export/xml/").status_code == 302


def test_database_errors_answer_503_not_500(api, user, monkeypatch):
    from django.db import OperationalError

    import tracking.api

    def locked(*a, **kw):
        raise OperationalError("database is locked")

    monkeypatch.setattr(tracking.api, "listens_page", locked)
    response = api.get("/api/v1/history/listens")
    assert response.status_code == 503 and "retry" in response.json()["detail"]


def test_openapi_docs_are_served(api):
    assert api.get("/api/v1/docs").status_code == 200
    schema = api.get("/api/v1/openapi.json").json()
    assert "/api/v1/history/listens" in schema["paths"]
    assert "/api/v1/imports" in schema["paths"]
