"""File imports: every format, skipped rows reported, no doubles, resumable, command and upload."""

from __future__ import annotations

import io
import itertools
import json
import os
import shutil
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection

from collection.catalogue import Catalogue
from musictracker.models import Job
from tracking.imports import detect_format, import_file, start_import
from tracking.models import Listen

DATA = Path(__file__).parent / "data" / "imports"


def _listens(user):
    return list(
        Listen.objects.filter(user=user)
        .order_by("listened_at")
        .values_list("artist__name", "track__title", "album__title", "listened_at", "source")
    )


@pytest.mark.parametrize(
    "name,fmt",
    [
        ("Streaming_History_Audio_2021.json", "spotify"),
        ("lastfm.csv", "lastfm_csv"),
        ("lastfm_header.csv", "lastfm_csv"),
        ("ghan.csv", "ghan_csv"),
        ("ghan.json", "lastfm_json"),
        ("listens.jsonl", "listenbrainz_jsonl"),
    ],
)
def test_formats_are_detected_from_their_content(name, fmt):
    assert detect_format(DATA / name) == fmt


def test_spotify_import_skips_short_plays_podcasts_and_reports_malformed(db, user):
    result = import_file(user=user, path=DATA / "Streaming_History_Audio_2021.json", enrich=False)
    assert (result.added, result.short, result.podcasts, result.malformed) == (2, 1, 1, 1)
    assert result.report == [{"line": "item 4", "reason": result.report[0]["reason"]}]
    assert "bad ts" in result.report[0]["reason"]
    rows = _listens(user)
    # ts is the end of the play: the listen starts ms_played earlier.
    assert rows[0] == (
        "Radiohead",
        "Paranoid Android",
        "OK Computer",
        datetime(2021, 3, 1, 12, 0, tzinfo=UTC),
        "spotify",
    )
    assert rows[1][1] == "Teardrop"
    assert rows[1][3] == datetime(2021, 3, 2, 8, 0, tzinfo=UTC)


def test_lastfm_csv_with_and_without_header(db, user):
    result = import_file(user=user, path=DATA / "lastfm.csv", enrich=False)
    assert result.added == 3
    assert result.malformed == 2
    assert [r["line"] for r in result.report] == ["line 3", "line 5"]
    assert "columns" in result.report[0]["reason"]
    assert "date" in result.report[1]["reason"]
    result = import_file(user=user, path=DATA / "lastfm_header.csv", enrich=False)
    assert (result.added, result.duplicates, result.malformed) == (0, 1, 0)
    roads = Listen.objects.get(user=user, track__title="Roads")
    assert roads.listened_at == datetime(2021, 1, 31, 21, 5, tzinfo=UTC)


def test_ghan_csv_and_json_keep_musicbrainz_ids_and_do_not_double(db, user):
    result = import_file(user=user, path=DATA / "ghan.csv", enrich=False)
    assert result.added == 2
    roads = Listen.objects.select_related("artist", "track").get(user=user, track__title="Roads")
    assert str(roads.artist.mbid) == "8f6bd1e4-fbe1-4f50-aa9b-94c450ec0f11"
    assert str(roads.track.mbid) == "3b1d4bd3-7c8f-4d8f-a2b1-0f8c0f0e2b1a"
    result = import_file(user=user, path=DATA / "ghan.json", enrich=False)
    assert (result.added, result.duplicates) == (0, 2)
    assert Listen.objects.filter(user=user).count() == 2


def test_listenbrainz_jsonl_reports_bad_lines_and_imports_the_rest(db, user):
    result = import_file(user=user, path=DATA / "listens.jsonl", enrich=False)
    assert result.added == 2
    assert [r["line"] for r in result.report] == ["line 2", "line 3"]
    roads = Listen.objects.select_related("track", "album").get(track__title="Roads")
    assert roads.track.duration == 305
    assert str(roads.album.mb_release_id) == "76df3287-6cda-33eb-8e9a-044b5e15ffdd"
    assert roads.source == "listenbrainz"


def test_listenbrainz_zip_and_json_array(db, user, tmp_path):
    lines = (DATA / "listens.jsonl").read_text().splitlines()
    path = tmp_path / "listenbrainz_me_1.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("user.json", json.dumps({"user_name": "me"}))
        z.writestr("listens/2021/1.jsonl", "\n".join(lines) + "\n")
        z.writestr("feedback.jsonl", "")
    assert detect_format(path) == "listenbrainz_zip"
    result = import_file(user=user, path=path, enrich=False)
    assert result.added == 2
    assert result.report[0]["line"] == "listens/2021/1.jsonl line 2"
    array = tmp_path / "listens.json"
    array.write_text(json.dumps([json.loads(lines[0]), json.loads(lines[3])]))
    assert detect_format(array) == "listenbrainz_json"
    result = import_file(user=user, path=array, enrich=False)
    assert (result.added, result.duplicates) == (0, 2)


def test_rows_already_present_from_another_source_are_not_doubled(db, user, add_listens):
    # Last.fm scrobbled it 4 s later than Spotify's computed start: the cross-source window.
    add_listens(
        user,
        [
            (
                "Radiohead",
                "Paranoid Android",
                "OK Computer",
                datetime(2021, 3, 1, 12, 0, 4, tzinfo=UTC),
            )
        ],
        source="lastfm",
    )
    result = import_file(user=user, path=DATA / "Streaming_History_Audio_2021.json", enrich=False)
    assert (result.added, result.duplicates) == (1, 1)
    assert Listen.objects.filter(user=user).count() == 2


def _spotify_file(path: Path, n: int, *, bad_every: int = 0, tracks: int = 0) -> Path:
    """`n` plays, every `bad_every`-th malformed; `tracks`: plays of that many tracks in turn
    (else every play is of a track of its own)."""
    rows = []
    for i in range(n):
        j = i % tracks if tracks else i
        if bad_every and i % bad_every == 0:
            rows.append({"ts": "nope", "ms_played": 100000, "master_metadata_track_name": "x"})
            continue
        rows.append(
            {
                "ts": datetime.fromtimestamp(1600000000 + i * 200, UTC).isoformat(),
                "ms_played": 180000,
                "master_metadata_track_name": f"Song {j % 300}",
                "master_metadata_album_artist_name": f"Artist {j % 40}",
                "master_metadata_album_album_name": f"Album {j % 90}",
                "spotify_track_uri": f"spotify:track:{i}",
                "episode_name": None,
            }
        )
    path.write_text(json.dumps(rows))
    return path


def _writes_in_parts_with_the_helper_busy_at_first(monkeypatch, seconds: float = 0.3) -> dict:
    """Every batch's writes go through the helper thread (as a large import's do), and the
    helper is kept busy for a moment first, so the importer waits, reading rows ahead
    meanwhile (`_Ahead`). Returns the count of plays matched ahead (`prepare`, watched)."""
    import threading

    import musictracker.db
    import tracking.imports as imports
    import tracking.listens

    monkeypatch.setattr(musictracker.db, "MEANWHILE_MIN_ROWS", 1)
    monkeypatch.setattr(musictracker.db, "VALUES_ROWS", 8)
    monkeypatch.setattr(tracking.listens, "INSERT_PART", 30)
    monkeypatch.setattr(imports._Ahead, "STEP", 7)
    seen = {"matched": 0}
    real = imports.prepare

    def watched(records, catalogue):
        out = real(records, catalogue)
        seen["matched"] += sum(1 for x in out if x is not None)
        return out

    monkeypatch.setattr(imports, "prepare", watched)
    busy = threading.Event()
    musictracker.db._helper().submit(busy.wait, 10)
    threading.Timer(seconds, busy.set).start()
    return seen


@pytest.mark.parametrize("ahead", [False, True], ids=["in-turn", "read-ahead"])
def test_interrupted_import_resumes_from_the_job_state(db, user, tmp_path, monkeypatch, ahead):
    import tracking.imports as imports

    monkeypatch.setattr(imports, "BATCH", 100)
    path = _spotify_file(
        tmp_path / "Streaming_History_Audio_big.json", 450, bad_every=50, tracks=60
    )
    if ahead:  # rows beyond the interrupted batch were read and matched: resumed all the same
        seen = _writes_in_parts_with_the_helper_busy_at_first(monkeypatch)
    job = start_import(user=user, path=path)
    calls = {"n": 0}

    def stop_after_two(position, result):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # the worker died mid-file

    with pytest.raises(KeyboardInterrupt):
        import_file(user=user, path=path, job=job, on_batch=stop_after_two, enrich=False)
    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING
    assert job.state["rows"] > 0
    done_before = Listen.objects.filter(user=user).count()
    assert 0 < done_before < 441
    result = import_file(user=user, path=path, job=job, enrich=False)
    job.refresh_from_db()
    assert Listen.objects.filter(user=user).count() == 441
    assert result.added == 441  # counts carried over from the first run
    assert result.duplicates == 0  # resumed past what was done, not re-read
    assert result.malformed == 9 and len(job.report) == 9
    assert job.status == Job.Status.DONE and job.added == 441 and job.skipped == 9
    # Running the finished file again adds nothing.
    again = import_file(user=user, path=path, enrich=False)
    assert (again.added, again.duplicates) == (0, 441)
    if ahead and connection.vendor == "sqlite":  # PostgreSQL writes in turn: no helper thread
        assert seen["matched"] > 0


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the helper thread is SQLite's")
def test_plays_matched_while_the_writer_waits_are_stored_like_the_others(
    db, user, tmp_path, monkeypatch
):
    """The rows read ahead while SQLite writes a batch, and matched from memory, give the same
    listens, rollups, sessions and report as rows taken in turn."""
    import tracking.imports as imports
    from tests.test_listens import snapshot
    from tracking.listens import rebuild_rollups

    monkeypatch.setattr(imports, "BATCH", 100)
    path = _spotify_file(
        tmp_path / "Streaming_History_Audio_big.json", 450, bad_every=50, tracks=60
    )
    seen = _writes_in_parts_with_the_helper_busy_at_first(monkeypatch)
    result = import_file(user=user, path=path, enrich=False)
    assert seen["matched"] >= 90  # the second batch, at least, was matched while waiting
    assert (result.added, result.malformed) == (441, 9)
    assert [r["line"] for r in result.report] == [f"item {i}" for i in range(1, 451, 50)]
    stored = _listens(user)
    assert len(stored) == 441 and [s[4] for s in stored] == ["spotify"] * 441
    incremental = snapshot(user)
    rebuild_rollups(user)
    assert snapshot(user) == incremental


def test_rows_read_ahead_come_out_in_order_and_a_parser_error_after_them():
    from tracking.imports import Row, _Ahead

    def rows():
        for i in range(5):
            yield Row(f"item {i}", skip="short", reason="played under 30 seconds"), i
        raise ValueError("broken at item 5")

    ahead = _Ahead(rows(), Catalogue(), limit=100)
    assert ahead.step() is False  # read to the parser's error: nothing more to do
    got = []
    with pytest.raises(ValueError, match="broken at item 5"):
        for row, position, matched in ahead:
            got.append((row.where, position, matched))
    assert got == [(f"item {i}", i, None) for i in range(5)]
    endless = ((Row(f"item {i}", skip="short", reason="short"), i) for i in itertools.count())
    limited = _Ahead(endless, Catalogue(), limit=2)
    limited.STEP = 2
    assert limited.step() is True and limited.step() is False  # 2 rows waiting: enough
    assert [position for _, position, _ in itertools.islice(limited, 4)] == [0, 1, 2, 3]


def test_import_command_shows_summary_and_report(db, user, capsys):
    call_command("import_listens", "--user", "alice", "--no-enrich", str(DATA / "lastfm.csv"))
    out = capsys.readouterr().out
    assert "3 added" in out and "2 malformed" in out
    assert "line 3:" in out
    assert Job.objects.get(user=user, kind="import").status == "done"


def test_import_command_rejects_unknown_user_and_files(db, user, tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--user"):
        call_command("import_listens", "--user", "nobody", str(DATA / "lastfm.csv"))
    junk = tmp_path / "junk.txt"
    junk.write_text("hello")
    with pytest.raises(CommandError, match="not a file we can import"):
        call_command("import_listens", "--user", "alice", str(junk))


def test_settings_upload_runs_the_import_as_a_job(
    auth_client, user, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.DATA_DIR = tmp_path
    content = (DATA / "Streaming_History_Audio_2021.json").read_bytes()
    upload = SimpleUploadedFile("Streaming_History_Audio_2021.json", content, "application/json")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with (
        CaptureQueriesContext(connection) as ctx,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = auth_client.post("/settings/imports/upload/", {"file": upload})
    assert response.status_code == 302
    # the planner's statistics refreshed after the import, as the command does
    assert {q["sql"] for q in ctx.captured_queries} & {"PRAGMA optimize", "ANALYZE"}
    job = Job.objects.get(user=user, kind="import")
    assert job.status == "done" and job.added == 2 and job.skipped == 3
    assert "1 under 30 s" in job.message and "1 podcast" in job.message
    assert not list((tmp_path / "uploads").iterdir())  # removed once imported
    page = auth_client.get("/settings/")
    assert b"Import and export your history" in page.content
    assert b"item 4" in page.content


def test_an_import_is_done_even_when_the_statistics_cannot_be_refreshed(db, user, tmp_path):
    """The statistics refresh runs after the job is marked done: a locked database there must
    not turn a complete import into a failed task."""
    from django.db import OperationalError, connection

    from tracking.tasks import import_listens_file

    path = tmp_path / "Streaming_History_Audio_2021.json"
    shutil.copy(DATA / "Streaming_History_Audio_2021.json", path)
    job = start_import(user=user, path=path)

    def locked(execute, sql, params, many, context):
        if sql in ("PRAGMA optimize", "ANALYZE"):
            raise OperationalError("database is locked")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(locked):
        out = import_listens_file(job.pk)
    job.refresh_from_db()
    assert job.status == "done" and job.added == 2
    assert out.startswith("2 added")


def test_settings_upload_refuses_wrong_types(auth_client, user, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    bad = SimpleUploadedFile("photo.png", b"\x89PNG....", "image/png")
    response = auth_client.post("/settings/imports/upload/", {"file": bad}, follow=True)
    assert b"only .json, .jsonl, .csv and .zip" in response.content
    fake = SimpleUploadedFile("x.json", b'{"hello": 1}', "application/json")
    response = auth_client.post("/settings/imports/upload/", {"file": fake}, follow=True)
    assert b"not a ListenBrainz listen" in response.content
    assert not Job.objects.filter(user=user).exists()


def test_settings_upload_refuses_files_over_the_limit(auth_client, user, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    settings.MUSICTRACKER = {**settings.MUSICTRACKER, "imports": {"max_upload_mb": 0.00001}}
    upload = SimpleUploadedFile("a.csv", b"x" * 100, "text/csv")
    response = auth_client.post("/settings/imports/upload/", {"file": upload}, follow=True)
    assert b"larger than the limit" in response.content


def test_export_then_import_into_an_empty_install_gives_the_same_listens(
    db, user, make_user, add_listens, tmp_path
):
    add_listens(
        user,
        [
            (
                "Daft Punk feat. Pharrell Williams",
                "Get Lucky",
                "Random Access Memories",
                datetime(2021, 5, 1, 10, 0, 0, 250000, tzinfo=UTC),
                248,
            ),
            (
                "Simon & Garfunkel",
                "The Boxer",
                "Bridge over Troubled Water",
                datetime(2021, 5, 1, 10, 5, tzinfo=UTC),
            ),
            ("Björk", "Jóga", "", datetime(2021, 5, 2, 23, 59, 59, tzinfo=UTC), 305),
        ],
        source="lastfm",
    )
    Listen.objects.filter(user=user, track__title="Jóga").update(source_id="abc-1")
    before = _listens(user)
    for fmt in ("csv", "jsonl"):
        out = tmp_path / f"export.{fmt}"
        call_command("export_listens", "--user", user.username, "--format", fmt, str(out))
        # "An empty install": wipe the listens and the catalogue, then import the file back.
        from collection.models import Album, Artist, Track

        Listen.objects.all().delete()
        Track.objects.all().delete()
        Album.objects.all().delete()
        Artist.objects.all().delete()
        fresh = make_user(f"fresh-{fmt}")
        result = import_file(user=fresh, path=out, enrich=False)
        assert result.added == 3 and result.malformed == 0
        assert _listens(fresh) == before
        got = Listen.objects.select_related("track").get(user=fresh, track__title="Get Lucky")
        assert got.track.duration == 248
        assert Listen.objects.get(user=fresh, track__title="Jóga").source_id == "abc-1"
        user = fresh
        before = _listens(fresh)


def test_export_jsonl_carries_musicbrainz_ids(db, user, tmp_path):
    import_file(user=user, path=DATA / "listens.jsonl", enrich=False)
    out = io.StringIO()
    call_command("export_listens", "--user", "alice", "--format", "jsonl", "-", stdout=out)
    first = json.loads(out.getvalue().splitlines()[0])
    info = first["track_metadata"]["additional_info"]
    assert first["listened_at"] == 1612127100
    assert info["recording_mbid"] == "3b1d4bd3-7c8f-4d8f-a2b1-0f8c0f0e2b1a"
    assert info["release_mbid"] == "76df3287-6cda-33eb-8e9a-044b5e15ffdd"
    assert info["artist_mbids"] == ["8f6bd1e4-fbe1-4f50-aa9b-94c450ec0f11"]


def test_zip_of_spotify_history(db, user, tmp_path):
    path = tmp_path / "my_spotify_data.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.write(
            DATA / "Streaming_History_Audio_2021.json",
            "Spotify Extended Streaming History/Streaming_History_Audio_2021.json",
        )
    result = import_file(user=user, path=path, enrich=False)
    assert result.added == 2 and result.podcasts == 1
    shutil.rmtree(tmp_path, ignore_errors=True)


@pytest.mark.parametrize("block", [1, 2, 7, 64, 1 << 20])
def test_json_lists_are_read_whole_whatever_falls_on_a_block_s_edge(block, monkeypatch):
    """Items, numbers, multi-byte characters and a byte order mark cut by the reader's block
    boundaries come out as the standard decoder reads the whole file."""
    from tracking import formats

    monkeypatch.setattr(formats, "JSON_BLOCK", block)
    items = [
        {"ts": "2021-03-01T12:04:00Z", "ms_played": 123456789, "name": "Björk — Jóga ☃ 𝄞"},
        1234567890123,
        -0.5e-7,
        "a string, with [brackets] and {braces}",
        [1, [2, {"3": None}]],
        True,
        None,
        {},
    ]
    text = (
        "\ufeff \n[\r\n" + " ,\n ".join(json.dumps(i, ensure_ascii=False) for i in items) + "\n]\n"
    )
    raw = io.BytesIO(text.encode())
    assert list(formats._json_array(raw)) == items
    assert not raw.closed  # the importer still reads its position
    assert list(formats._json_array(io.BytesIO(b" [ ] "))) == []


@pytest.mark.parametrize(
    "text,reason",
    [
        ('[{"a": 1}, {"a": 2}, {"a": "thr', "the file ends inside an item"),
        ('[{"a": 1}, {"a": 2}, {"a": 3', "the file ends inside an item"),
        ('[{"a": 1}, {"a": 2},', "the file ends inside an item"),
        ('[{"a": 1}, {"a": 2} {"a": 3}]', "expected ',' or ']' after an item, found '{'"),
        ('[{"a": 1}, {"a": 2}, {"a": tru}]', "Expecting value"),
        ('{"a": 1}', "the file is not a JSON list"),
    ],
)
def test_broken_json_lists_give_what_came_before_and_say_where_and_why(text, reason, monkeypatch):
    from tracking import formats

    monkeypatch.setattr(formats, "JSON_BLOCK", 5)
    rows = list(formats._json_items(io.BytesIO(text.encode()), lambda where, item: (where, item)))
    if text.startswith("["):
        assert rows[:2] == [("item 1", {"a": 1}), ("item 2", {"a": 2})]
    last = rows[-1]
    assert last.skip == "malformed" and last.where == ("item 3" if len(rows) == 3 else "item 1")
    assert last.reason.startswith(f"invalid JSON, rest ignored: {reason}")


def test_a_spotify_file_cut_short_imports_the_plays_before_the_cut_and_says_so(db, user, tmp_path):
    whole = (DATA / "Streaming_History_Audio_2021.json").read_text()
    path = tmp_path / "Streaming_History_Audio_2021.json"
    path.write_text(whole[: whole.index("Teardrop") + 20])  # inside the fifth item
    result = import_file(user=user, path=path, enrich=False)
    assert (result.added, result.short, result.podcasts, result.malformed) == (1, 1, 1, 2)
    assert result.report[-1] == {
        "line": "item 5",
        "reason": "invalid JSON, rest ignored: the file ends inside an item (cut short?)",
    }


def test_a_listen_with_a_length_or_number_that_is_not_one_is_kept_without_them(db, user, tmp_path):
    path = tmp_path / "listens.jsonl"
    meta = {"artist_name": "Air", "track_name": "Kelly Watch the Stars"}
    path.write_text(
        json.dumps(
            {
                "listened_at": 1700000000,
                "track_metadata": {
                    **meta,
                    "additional_info": {"duration_ms": "four minutes", "tracknumber": "\u00b2"},
                },
            }
        )
        + "\n"
    )
    result = import_file(user=user, path=path, enrich=False)
    assert (result.added, result.malformed) == (1, 0)
    listen = Listen.objects.select_related("track").get(user=user)
    assert listen.track.duration is None and listen.track.track_number is None


def test_read_ahead_keeps_order_raises_where_the_parser_failed_and_stops_when_abandoned():
    import io
    import threading

    from tracking.imports import Row, _chunks, _read_ahead

    def rows(n, fail_at=None):
        for i in range(n):
            if i == fail_at:
                raise UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")
            yield Row(f"line {i}", skip="malformed", reason="x")

    raw = io.BytesIO(b"x" * 10)
    got = [row.where for row, _position in _read_ahead(_chunks(rows(4500), raw, chunk=1000))]
    assert got == [f"line {i}" for i in range(4500)]

    seen = []
    with pytest.raises(UnicodeDecodeError):
        for row, _position in _read_ahead(_chunks(rows(4500, fail_at=2500), raw, chunk=1000)):
            seen.append(row.where)
    assert seen == [f"line {i}" for i in range(2500)]  # every row before the failure

    before = threading.active_count()
    reader = _read_ahead(_chunks(rows(100_000), raw, chunk=100), depth=2)
    next(reader)
    reader.close()  # the importer stopped (an error while writing): the parser thread ends too
    assert threading.active_count() <= before


@pytest.mark.parametrize(
    "name",
    ["Streaming_History_Audio_2021.json", "lastfm.csv", "ghan.json", "listens.jsonl", "big"],
)
def test_large_files_are_parsed_by_a_process_of_their_own_with_the_same_result(
    db, user, other_user, monkeypatch, tmp_path, name
):
    """From PROCESS_PARSE_BYTES up, a child process parses the file and pickles its rows: the
    listens, counts and report are those of the parser thread used for smaller files."""
    import tracking.imports as imports

    path = (
        _spotify_file(tmp_path / "Streaming_History_Audio_big.json", 2500, bad_every=97)
        if name == "big"
        else DATA / name
    )
    by_thread = import_file(user=other_user, path=path, enrich=False)
    children = []
    real = imports._parsed_in_process

    def counted(fmt, p):
        children.append(fmt)
        return real(fmt, p)

    monkeypatch.setattr(imports, "PROCESS_PARSE_BYTES", 0)
    monkeypatch.setattr(imports, "_parsed_in_process", counted)
    by_process = import_file(user=user, path=path, enrich=False)
    assert children == [detect_format(path)]
    assert by_process.added > 0
    assert vars(by_process) == vars(by_thread)
    assert _listens(user) == _listens(other_user)


def test_the_parser_process_reports_its_failure_where_it_happened_and_ends_with_the_import(
    tmp_path, monkeypatch
):
    import subprocess

    from tracking.imports import _parsed_in_process

    started = []

    class Recorded(subprocess.Popen):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            started.append(self)

    monkeypatch.setattr(subprocess, "Popen", Recorded)
    not_a_zip = tmp_path / "listens.zip"
    not_a_zip.write_bytes(b"PK\x03\x04 but not a ZIP archive")
    with pytest.raises(zipfile.BadZipFile):
        list(_parsed_in_process("listenbrainz_zip", not_a_zip))
    assert started[-1].returncode is not None

    path = _spotify_file(tmp_path / "Streaming_History_Audio_big.json", 20_000)
    chunks = _parsed_in_process("spotify", path)
    rows, position = next(chunks)
    assert len(rows) == 2000 and rows[0].record.artist and 0 < position < path.stat().st_size
    chunks.close()  # the import stopped (an error while writing): the child is gone too
    assert started[-1].poll() is not None


def test_bulk_writes_do_not_map_the_database_and_restore_every_setting(tmp_path):
    """A long import read most of a large database through SQLite's memory map, and every page
    it touched counted in its resident memory (400 MB for 500,000 plays); bulk work reads it
    without the map and with half the page cache, then the connection gets its settings back. (A process of its own: the
    test database lives in memory, where SQLite maps nothing.)"""
    import subprocess
    import sys

    script = """
import gc, json, sys, django
django.setup()
from django.db import connection
from musictracker.db import bulk_writes

def pragma(name):
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA " + name)
        return cursor.fetchone()[0]

def settings():
    names = ("mmap_size", "wal_autocheckpoint", "cache_size")
    return [pragma(name) for name in names] + [list(gc.get_threshold()), sys.getswitchinterval()]

seen = {"before": settings()}
with bulk_writes():
    seen["during"] = settings()
seen["after"] = settings()
print(json.dumps(seen))
"""
    env = {
        **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},  # SQLite, whatever runs
        "DJANGO_SETTINGS_MODULE": "musictracker.settings",
        "MUSICTRACKER_DB_PATH": str(tmp_path / "bulk.db"),
    }
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["before"][0] > 0  # the app's connections map the database...
    assert seen["during"][:2] == [0, 20_000]  # ...bulk work does not, and checkpoints apart
    assert seen["before"][2] == -64_000 and seen["during"][2] == -32_000  # half the cache
    assert seen["during"][3] != seen["before"][3]
    assert seen["before"][4] == 0.005 and seen["during"][4] == 0.0005  # quicker thread switches
    assert seen["after"] == seen["before"]
