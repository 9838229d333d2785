"""Playlist services (create, regenerate, reorder, move, remove, add) and exports parsed back."""

from __future__ import annotations

import csv
import io
import json
from xml.etree import ElementTree as ET

import pytest
import time_machine

from collection.models import Track
from playlists import exports, services
from playlists.models import Playlist, PlaylistTrack
from tests.conftest import utc

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(utc(2026, 6, 15, 12), tick=False):
        yield


@pytest.fixture
def playlist(user, add_listens):
    rows = [
        ("Ana", "First", "Dawn", utc(2026, 6, 1, 10, 0), 185),
        ("Ana", "First", "Dawn", utc(2026, 6, 1, 11, 0), 185),
        ("Ana", "First", "Dawn", utc(2026, 6, 1, 12, 0), 185),
        ("Björk & Ben", 'Sécond, "quoted"', "", utc(2026, 6, 2, 10), 3725),
        ("Björk & Ben", 'Sécond, "quoted"', "", utc(2026, 6, 2, 11), 3725),
        ("Cleo", "Third", "Dusk <&>", utc(2026, 6, 3, 10), None),
    ]
    add_listens(user, rows)
    result = services.create_playlist(
        user=user, name="Mine", algorithm="top", parameters={"period": "30d", "seed": 3}
    )
    return result.playlist


def titles(playlist):
    return list(playlist.entries.order_by("position").values_list("track__title", flat=True))


def entry_ids(playlist):
    return list(playlist.entries.order_by("position").values_list("pk", flat=True))


def test_create_stores_tracks_and_parameters(playlist):
    assert titles(playlist) == ["First", 'Sécond, "quoted"', "Third"]
    assert playlist.parameters["period"] == "30d" and playlist.parameters["seed"] == 3
    assert list(playlist.entries.values_list("position", flat=True).order_by("position")) == [
        1,
        2,
        3,
    ]


def test_create_stores_nothing_when_the_generator_finds_nothing(user):
    result = services.create_playlist(
        user=user, name="Empty", algorithm="top", parameters={"period": "2019"}
    )
    assert result.playlist is None
    assert result.outcome.why_empty == "No listens in 2019."
    assert not Playlist.objects.exists()


def test_reorder_rewrites_positions_without_breaking_unique_constraints(playlist):
    a, b, c = entry_ids(playlist)
    services.reorder_playlist(playlist=playlist, entry_ids=[c, a, b])
    assert entry_ids(playlist) == [c, a, b]
    assert sorted(PlaylistTrack.objects.values_list("position", flat=True)) == [1, 2, 3]


def test_reorder_keeps_entries_not_named_at_the_end(playlist):
    a, b, c = entry_ids(playlist)
    services.reorder_playlist(playlist=playlist, entry_ids=[b])
    assert entry_ids(playlist) == [b, a, c]


def test_move_up_and_down_and_the_ends(playlist):
    a, b, c = entry_ids(playlist)
    assert services.move_track(playlist=playlist, entry_id=b, offset=-1)
    assert entry_ids(playlist) == [b, a, c]
    assert not services.move_track(playlist=playlist, entry_id=b, offset=-1)
    assert services.move_track(playlist=playlist, entry_id=a, offset=1)
    assert entry_ids(playlist) == [b, c, a]
    assert not services.move_track(playlist=playlist, entry_id=a, offset=1)


def test_remove_closes_the_gap(playlist):
    a, b, c = entry_ids(playlist)
    assert services.remove_track(playlist=playlist, entry_id=b)
    assert list(playlist.entries.order_by("position").values_list("pk", "position")) == [
        (a, 1),
        (c, 2),
    ]
    assert not services.remove_track(playlist=playlist, entry_id=b)


def test_add_appends_and_refuses_a_second_copy(playlist, user, add_listens):
    add_listens(user, [("Dan", "Fourth", "", utc(2026, 6, 4, 10))])
    fourth = Track.objects.get(title="Fourth")
    assert services.add_track(playlist=playlist, track_id=fourth.pk)
    assert titles(playlist)[-1] == "Fourth"
    assert not services.add_track(playlist=playlist, track_id=fourth.pk)
    assert not services.add_track(playlist=playlist, track_id=999_999)
    assert playlist.entries.count() == 4


def test_regenerate_keeps_parameters_and_replaces_tracks(playlist, user, add_listens):
    add_listens(user, [("Dan", "Fourth", "", utc(2026, 6, 4, 10, m)) for m in range(5)])
    outcome = services.regenerate_playlist(playlist=playlist)
    assert outcome.track_ids
    assert titles(playlist)[0] == "Fourth"
    assert playlist.parameters["seed"] == 3


def test_rename(playlist):
    services.rename_playlist(playlist=playlist, name="  Summer  ")
    playlist.refresh_from_db()
    assert playlist.name == "Summer"


# --- exports ---------------------------------------------------------------------------------


def test_m3u8_lines(playlist):
    lines = exports.export(playlist, "m3u8").splitlines()
    assert lines[:2] == ["#EXTM3U", "#PLAYLIST:Mine"]
    assert lines[2:5] == ["#EXTINF:185,Ana - First", "#EXTALB:Dawn", "Ana - First"]
    assert '#EXTINF:3725,Björk & Ben - Sécond, "quoted"' in lines
    assert "#EXTINF:-1,Cleo - Third" in lines
    assert "#EXTALB:Dusk <&>" in lines


def test_xspf_parses_back(playlist):
    root = ET.fromstring(exports.export(playlist, "xspf").encode())
    ns = {"x": exports.XSPF_NS}
    assert root.find("x:title", ns).text == "Mine"
    tracks = root.findall("x:trackList/x:track", ns)
    assert [t.find("x:title", ns).text for t in tracks] == ["First", 'Sécond, "quoted"', "Third"]
    assert tracks[0].find("x:creator", ns).text == "Ana"
    assert tracks[0].find("x:album", ns).text == "Dawn"
    assert tracks[0].find("x:duration", ns).text == "185000"
    assert tracks[2].find("x:album", ns).text == "Dusk <&>"
    assert tracks[2].find("x:duration", ns) is None


def test_csv_parses_back(playlist):
    rows = list(csv.DictReader(io.StringIO(exports.export(playlist, "csv"))))
    assert rows[1] == {
        "position": "2",
        "artist": "Björk & Ben",
        "title": 'Sécond, "quoted"',
        "album": "",
        "duration": "3725",
    }
    assert [r["title"] for r in rows] == ["First", 'Sécond, "quoted"', "Third"]


def test_json_parses_back(playlist):
    data = json.loads(exports.export(playlist, "json"))
    assert data["name"] == "Mine" and data["algorithm"] == "top"
    assert data["tracks"][0] == {
        "position": 1,
        "artist": "Ana",
        "title": "First",
        "album": "Dawn",
        "duration": 185,
    }
    assert data["tracks"][2]["duration"] is None
