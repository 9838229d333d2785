"""Enrichment in a real browser: choosing a picture and regenerating album notes on the album
page, and pasting a URL on the artist page."""

from __future__ import annotations

import pytest

from collection.models import Album, AlbumArtist, AlbumMetadata, Artist, CollectionItem, Image
from enrichment import services
from tests.fakes.enrichment_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db(transaction=True)


def _album(owner):
    """An album the signed-in user owns a copy of (pages show only the user's own albums)."""
    artist = Artist.objects.create(name="Daft Punk")
    album = Album.objects.create(
        title="Discovery",
        artist_credit="Daft Punk",
        match_key=Album.key_for(artist.pk, "Discovery"),
    )
    AlbumArtist.objects.create(album=album, artist=artist)
    CollectionItem.objects.create(user=owner, album=album, support="vinyl")
    return artist, album


def test_choose_another_cover_on_the_album_page(signed_in, user, live_server, shot):
    page = signed_in
    _, album = _album(user)
    first = Image.objects.create(
        kind="album", album=album, url=f"{live_server.url}/static/img/icon.svg?a", source="deezer"
    )
    second = Image.objects.create(
        kind="album", album=album, url=f"{live_server.url}/static/img/icon.svg?b", source="discogs"
    )
    services.refresh_best(album=album)
    page.goto(f"{live_server.url}/collection/albums/{album.pk}/")
    header_img = page.locator(".hero-art img")
    assert header_img.get_attribute("src") == first.url
    page.get_by_text("Change picture").click()
    page.locator(f'input[name="image"][value="{second.pk}"]').check()
    shot(page, "picker-open")
    page.get_by_role("button", name="Use this picture").click()
    page.wait_for_load_state()
    assert page.get_by_text("Picture updated.").is_visible()
    assert page.locator(".hero-art img").get_attribute("src") == second.url
    album.refresh_from_db()
    assert album.cover_url == second.url


def test_paste_a_url_for_an_artist(signed_in, user, live_server):
    page = signed_in
    artist, _ = _album(user)
    page.goto(f"{live_server.url}/collection/artists/{artist.pk}/")
    assert page.locator(".hero-art .placeholder-art").is_visible()  # initials, no picture yet
    page.get_by_text("Change picture").click()
    page.get_by_label("Or paste an image URL").fill(f"{live_server.url}/static/img/icon.svg?p")
    page.get_by_role("button", name="Use this picture").click()
    page.wait_for_load_state()
    assert page.locator(".hero-art img").get_attribute("src").endswith("icon.svg?p")


def test_regenerate_notes_on_the_album_page(signed_in, user, live_server, fake_ai, shot):
    page = signed_in
    _, album = _album(user)
    AlbumMetadata.objects.create(
        album=album, summary="An old summary.", description="Old words.", ai_status="done"
    )
    page.goto(f"{live_server.url}/collection/albums/{album.pk}/")
    notes = page.locator("#album-notes")
    assert notes.get_by_text("An old summary.").is_visible()
    notes.get_by_role("button", name="Regenerate notes").click()
    notes = page.locator("#album-notes")
    notes.get_by_text("Discovery is a landmark record by Daft Punk.").wait_for()
    assert "Old words." not in notes.inner_text()
    assert "mistral3" in notes.inner_text()
    shot(page, "notes")
    assert AlbumMetadata.objects.get(album=album).summary.startswith("Discovery is a landmark")


def test_failed_notes_show_the_reason(signed_in, user, live_server, fake_ai):
    page = signed_in
    _, album = _album(user)
    fake_ai.script = ["401"]
    page.goto(f"{live_server.url}/collection/albums/{album.pk}/")
    page.locator("#album-notes").get_by_role("button", name="Write notes").click()
    page.locator("#album-notes").get_by_text("check ai.api_key").wait_for()
    assert page.locator("#album-notes [role=alert]").is_visible()


def test_settings_shows_the_enrichment_section(signed_in, user, live_server, shot):
    page = signed_in
    _album(user)
    page.goto(f"{live_server.url}/settings/")
    section = page.locator("section[aria-labelledby=h-enrichment]")
    assert section.get_by_text("Albums without notes").is_visible()
    assert section.locator("#backlog-notes").inner_text() == "1"
    shot(page, "settings")
