"""Playlists in a real browser: create (generator → preview → save), reorder by drag and by
keyboard, delete with confirmation."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from playlists import services
from playlists.models import Playlist
from tests.conftest import utc

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def history(user, add_listens):
    rows = [("Ana", "First", "Dawn", utc(2025, 6, 1, 10, m), 185) for m in range(4)]
    rows += [("Ben", "Second", "Noon", utc(2025, 6, 2, 10, m), 200) for m in range(3)]
    rows += [("Cleo", "Third", "Dusk", utc(2025, 6, 3, 10, m), 100) for m in range(2)]
    rows += [("Dan", "Fourth", "", utc(2025, 6, 4, 10), 90)]
    add_listens(user, rows)


@pytest.fixture
def playlist(user, history):
    return services.create_playlist(
        user=user, name="Mine", algorithm="top", parameters={"period": "all", "seed": 1}
    ).playlist


def order_in_db(playlist) -> list[str]:
    return list(playlist.entries.order_by("position").values_list("track__title", flat=True))


def order_on_page(page) -> list[str]:
    return page.locator(".pl-track .pl-meta strong").all_inner_texts()


def test_create_by_generator_preview_and_save(signed_in, live_server, history, user, shot):
    page = signed_in
    page.goto(live_server.url + "/playlists/")
    shot(page, "empty")
    page.get_by_role("link", name="New playlist").click()
    page.get_by_role("link", name=re.compile("Top tracks")).click()
    page.get_by_label("Period").select_option("all")
    page.get_by_label("Number of tracks").fill("3")
    page.get_by_role("button", name="Preview").click()
    preview = page.locator("#preview .pl-preview li")
    preview.first.wait_for()
    assert preview.count() == 3
    assert "First" in preview.first.inner_text()
    shot(page, "preview")
    page.get_by_label("Save under the name").fill("All-time three")
    page.get_by_role("button", name="Save playlist").click()
    page.wait_for_url(re.compile(r"/playlists/\d+/$"))
    assert page.locator("h1").inner_text() == "All-time three"
    assert order_on_page(page) == ["First", "Second", "Third"]
    shot(page, "saved")
    page.goto(live_server.url + "/playlists/")
    assert page.get_by_role("link", name="All-time three").is_visible()
    shot(page, "list")


def test_reorder_with_the_keyboard_keeps_focus(signed_in, live_server, playlist, shot):
    page = signed_in
    page.goto(f"{live_server.url}/playlists/{playlist.pk}/")
    button = page.get_by_role("button", name="Move First down")
    button.focus()
    page.keyboard.press("Enter")
    titles = page.locator(".pl-track .pl-meta strong")
    expect(titles.first).to_have_text("Second")
    assert order_on_page(page) == ["Second", "First", "Third", "Fourth"]
    # Focus stays on the moved track's button: pressing Enter again moves it further down.
    expect(page.get_by_role("button", name="Move First down")).to_be_focused()
    page.keyboard.press("Enter")
    expect(titles.nth(2)).to_have_text("First")
    assert order_in_db(playlist) == ["Second", "Third", "First", "Fourth"]
    shot(page, "keyboard")


def test_reorder_by_drag_and_drop(signed_in, live_server, playlist, shot):
    page = signed_in
    page.goto(f"{live_server.url}/playlists/{playlist.pk}/")
    source = page.locator(".pl-track", has_text="Fourth")
    target = page.locator(".pl-track", has_text="First")
    with page.expect_response(lambda r: r.url.endswith("/reorder/")) as saved:
        source.drag_to(target, target_position={"x": 20, "y": 5})
    assert saved.value.status == 200
    expect(page.locator(".pl-track .pl-meta strong").first).to_have_text("Fourth")
    expect(page.locator("#pl-announce")).to_have_text("Order saved.")
    assert order_in_db(playlist) == ["Fourth", "First", "Second", "Third"]
    page.reload()
    assert order_on_page(page) == ["Fourth", "First", "Second", "Third"]
    shot(page, "dragged")


def test_delete_with_confirmation(signed_in, live_server, playlist, shot):
    page = signed_in
    page.goto(f"{live_server.url}/playlists/{playlist.pk}/")
    page.get_by_role("link", name="Delete").click()
    page.wait_for_url(re.compile(r"/delete/$"))
    assert page.get_by_role("heading", name="Delete this playlist?").is_visible()
    shot(page, "confirm")
    assert Playlist.objects.filter(pk=playlist.pk).exists()
    page.get_by_role("button", name="Delete for good").click()
    page.wait_for_url(live_server.url + "/playlists/")
    assert page.get_by_text("Playlist “Mine” deleted.").is_visible()
    assert not Playlist.objects.filter(pk=playlist.pk).exists()
    shot(page, "deleted")
