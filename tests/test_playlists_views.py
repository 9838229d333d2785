"""Playlists pages through the test client: list, create with preview, edits, downloads, and
isolation (another user's playlist answers 404 everywhere)."""

from __future__ import annotations

import json

import pytest
import time_machine
from django.urls import reverse

from collection.models import Track
from playlists import services
from playlists.models import Playlist
from tests.conftest import utc

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(utc(2026, 6, 15, 12), tick=False):
        yield


@pytest.fixture
def history(user, add_listens):
    rows = [("Ana", "First", "Dawn", utc(2026, 6, 1, 10, m), 185) for m in range(3)]
    rows += [("Ben", "Second", "", utc(2026, 6, 2, 10, m), 200) for m in range(2)]
    rows += [("Cleo", "Third", "Dusk", utc(2026, 6, 3, 10), 100)]
    add_listens(user, rows)


@pytest.fixture
def playlist(user, history):
    return services.create_playlist(
        user=user, name="Mine", algorithm="top", parameters={"period": "30d", "seed": 1}
    ).playlist


def test_list_empty_state(auth_client):
    response = auth_client.get(reverse("playlists:playlist-list"))
    assert response.status_code == 200
    assert "No playlists yet" in response.content.decode()


def test_list_shows_name_generator_length_and_duration(
    auth_client, playlist, django_assert_max_num_queries
):
    with django_assert_max_num_queries(8):
        response = auth_client.get(reverse("playlists:playlist-list"))
    html = response.content.decode()
    assert "Mine" in html and "Top tracks" in html
    assert ">3<" in html  # tracks
    assert "8:05" in html  # 185 + 200 + 100 seconds


def test_create_page_lists_generators(auth_client):
    html = auth_client.get(reverse("playlists:playlist-create")).content.decode()
    for label in ("Top tracks", "Rediscover", "Artist flow", "AI from a prompt", "Complete albums"):
        assert label in html


def test_create_shows_the_parameters_of_a_generator(auth_client):
    html = auth_client.get(
        reverse("playlists:playlist-create") + "?generator=around"
    ).content.decode()
    assert 'name="artist"' in html and 'name="months"' in html and "20,000" in html


def test_preview_htmx_returns_the_preview_only(auth_client, history):
    url = reverse("playlists:playlist-create")
    response = auth_client.post(
        url,
        {"generator": "top", "period": "30d", "length": "2", "seed": "5", "action": "preview"},
        headers=HX,
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert "First" in html and "Second" in html and "Third" not in html
    assert 'name="seed" value="5"' in html
    assert not Playlist.objects.exists()


def test_preview_says_why_it_is_empty(auth_client, history):
    response = auth_client.post(
        reverse("playlists:playlist-create"),
        {"generator": "top", "period": "2019", "action": "preview"},
        headers=HX,
    )
    assert "No listens in 2019." in response.content.decode()


def test_preview_bad_parameter_is_a_message_not_a_500(auth_client, history):
    response = auth_client.post(
        reverse("playlists:playlist-create"),
        {"generator": "top", "length": "5000", "action": "preview"},
        headers=HX,
    )
    assert response.status_code == 200
    assert "Ensure this value is less than or equal to 200" in response.content.decode()


def test_unknown_generator_is_a_message(auth_client):
    response = auth_client.get(reverse("playlists:playlist-create") + "?generator=nope")
    assert response.status_code == 200
    assert "Unknown generator" in response.content.decode()


def test_save_creates_and_redirects(auth_client, user, history):
    response = auth_client.post(
        reverse("playlists:playlist-create"),
        {
            "generator": "top",
            "period": "30d",
            "seed": "5",
            "length": "25",
            "name": "June",
            "action": "save",
        },
    )
    playlist = Playlist.objects.get(user=user)
    assert response.status_code == 302
    assert response["Location"] == reverse("playlists:playlist-detail", args=[playlist.pk])
    assert playlist.name == "June" and playlist.entries.count() == 3


def test_save_with_htmx_redirects_the_browser(auth_client, user, history):
    response = auth_client.post(
        reverse("playlists:playlist-create"),
        {"generator": "top", "period": "30d", "name": "June", "action": "save"},
        headers=HX,
    )
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith("/playlists/")


def test_ai_create_needs_no_preview_and_is_queued(
    auth_client, user, history, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = auth_client.post(
            reverse("playlists:playlist-create"),
            {"generator": "ai", "prompt": "sunny", "name": "Sun", "action": "save"},
        )
    playlist = Playlist.objects.get(user=user)
    assert response.status_code == 302
    assert playlist.ai_prompt == "sunny"
    assert playlist.status == Playlist.Status.FAILED  # no AI key configured in tests
    html = auth_client.get(
        reverse("playlists:playlist-detail", args=[playlist.pk])
    ).content.decode()
    assert "sunny" in html and "ai.api_key" in html


def test_detail_shows_tracks_with_covers_and_actions(
    auth_client, playlist, django_assert_max_num_queries
):
    with django_assert_max_num_queries(8):
        response = auth_client.get(reverse("playlists:playlist-detail", args=[playlist.pk]))
    html = response.content.decode()
    assert "First" in html and "Dawn" in html
    assert 'class="art placeholder-art"' in html or 'class="art"' in html
    assert "Move First down" in html and "Remove Third" in html
    for fmt in ("m3u8", "xspf", "csv", "json"):
        assert reverse("playlists:playlist-export", args=[playlist.pk, fmt]) in html


def test_move_htmx_returns_tracks_and_focus(auth_client, playlist):
    entry = playlist.entries.get(position=1)
    response = auth_client.post(
        reverse("playlists:playlist-move", args=[playlist.pk, entry.pk]),
        {"direction": "down"},
        headers=HX,
    )
    html = response.content.decode()
    assert "<html" not in html and 'id="tracks"' in html
    assert f'data-focus="move-{entry.pk}-down"' in html
    entry.refresh_from_db()
    assert entry.position == 2


def test_move_without_js_redirects(auth_client, playlist):
    entry = playlist.entries.get(position=2)
    response = auth_client.post(
        reverse("playlists:playlist-move", args=[playlist.pk, entry.pk]), {"direction": "up"}
    )
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.position == 1


def test_reorder_and_bad_order(auth_client, playlist):
    a, b, c = playlist.entries.order_by("position").values_list("pk", flat=True)
    url = reverse("playlists:playlist-reorder", args=[playlist.pk])
    assert auth_client.post(url, {"order": f"{c},{b},{a}"}, headers=HX).status_code == 200
    assert list(playlist.entries.order_by("position").values_list("pk", flat=True)) == [c, b, a]
    assert auth_client.post(url, {"order": "drop table"}).status_code == 400


def test_remove_search_and_add(auth_client, playlist):
    third = playlist.entries.get(track__title="Third")
    auth_client.post(reverse("playlists:playlist-remove", args=[playlist.pk, third.pk]), headers=HX)
    assert playlist.entries.count() == 2
    search = reverse("playlists:playlist-track-search", args=[playlist.pk])
    html = auth_client.get(search, {"q": "thi"}, headers=HX).content.decode()
    assert "<html" not in html and "Third" in html and "First" not in html
    track = Track.objects.get(title="Third")
    html = auth_client.post(
        reverse("playlists:playlist-add", args=[playlist.pk]), {"track": track.pk}, headers=HX
    ).content.decode()
    assert "Track added." in html
    assert playlist.entries.order_by("-position").first().track_id == track.pk


def test_rename_regenerate_delete(auth_client, playlist):
    auth_client.post(reverse("playlists:playlist-rename", args=[playlist.pk]), {"name": "Renamed"})
    playlist.refresh_from_db()
    assert playlist.name == "Renamed"
    response = auth_client.post(
        reverse("playlists:playlist-regenerate", args=[playlist.pk]), follow=True
    )
    assert "Regenerated with the same parameters." in response.content.decode()
    confirm = auth_client.get(reverse("playlists:playlist-delete", args=[playlist.pk]))
    assert "Delete this playlist?" in confirm.content.decode()
    assert Playlist.objects.filter(pk=playlist.pk).exists()
    auth_client.post(reverse("playlists:playlist-delete", args=[playlist.pk]))
    assert not Playlist.objects.filter(pk=playlist.pk).exists()


def test_downloads(auth_client, playlist):
    response = auth_client.get(reverse("playlists:playlist-export", args=[playlist.pk, "json"]))
    assert response["Content-Disposition"] == 'attachment; filename="mine.json"'
    assert [t["title"] for t in json.loads(response.content)["tracks"]] == [
        "First",
        "Second",
        "Third",
    ]
    response = auth_client.get(reverse("playlists:playlist-export", args=[playlist.pk, "m3u8"]))
    assert response["Content-Type"].startswith("audio/x-mpegurl")
    assert (
        auth_client.get(reverse("playlists:playlist-export", args=[playlist.pk, "exe"])).status_code
        == 404
    )


def test_another_users_playlist_is_404_everywhere(client_for, other_user, playlist):
    client = client_for(other_user)
    entry = playlist.entries.first()
    gets = [
        reverse("playlists:playlist-detail", args=[playlist.pk]),
        reverse("playlists:playlist-delete", args=[playlist.pk]),
        reverse("playlists:playlist-track-search", args=[playlist.pk]) + "?q=fir",
        reverse("playlists:playlist-export", args=[playlist.pk, "csv"]),
    ]
    posts = [
        (reverse("playlists:playlist-rename", args=[playlist.pk]), {"name": "x"}),
        (reverse("playlists:playlist-regenerate", args=[playlist.pk]), {}),
        (reverse("playlists:playlist-delete", args=[playlist.pk]), {}),
        (reverse("playlists:playlist-reorder", args=[playlist.pk]), {"order": str(entry.pk)}),
        (reverse("playlists:playlist-move", args=[playlist.pk, entry.pk]), {"direction": "up"}),
        (reverse("playlists:playlist-remove", args=[playlist.pk, entry.pk]), {}),
        (reverse("playlists:playlist-add", args=[playlist.pk]), {"track": entry.track_id}),
    ]
    for url in gets:
        assert client.get(url).status_code == 404, url
    for url, data in posts:
        assert client.post(url, data).status_code == 404, url
    assert "Mine" not in client.get(reverse("playlists:playlist-list")).content.decode()
    playlist.refresh_from_db()
    assert playlist.name == "Mine" and playlist.entries.count() == 3
