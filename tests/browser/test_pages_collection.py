"""The Collection grid, album and artist pages and the nav search, in a real browser."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from collection.models import Album, AlbumMetadata, CollectionItem

pytestmark = pytest.mark.django_db(transaction=True)

T0 = datetime(2024, 3, 1, 20, tzinfo=UTC)


@pytest.fixture
def library(user, add_listens):
    rows = [("Björk", "Jóga", "Homogenic", T0 + timedelta(minutes=i), 305) for i in range(6)]
    rows += [("Björk", "Hunter", "Homogenic", T0 + timedelta(days=35), 255)]
    rows += [
        ("Sigur Rós", "Hoppípolla", "Takk...", T0 + timedelta(days=2, minutes=i), 268)
        for i in range(3)
    ]
    rows += [("Air", "Sexy Boy", "Moon Safari", T0 + timedelta(days=3), 298)]
    rows += [("Daft Punk", "Veridis Quo", "Discovery", T0 + timedelta(days=4), 345)]
    add_listens(user, rows)
    years = {"Homogenic": 1997, "Moon Safari": 1998, "Discovery": 2001, "Takk...": 2005}
    for title, year in years.items():
        Album.objects.filter(title=title).update(year=year)
    owned = [
        ("Homogenic", "vinyl"),
        ("Homogenic", "cd"),
        ("Moon Safari", "cd"),
        ("Discovery", "vinyl"),
    ]
    for i, (title, support) in enumerate(owned):
        CollectionItem.objects.create(
            user=user,
            album=Album.objects.get(title=title),
            support=support,
            discogs_instance_id=i + 1,
            added_at=T0 + timedelta(days=i),
        )
    AlbumMetadata.objects.create(album=Album.objects.get(title="Homogenic"), genres=["Electronic"])
    return user


def _card_titles(page) -> list[str]:
    return page.locator("#grid .cover-title").all_inner_texts()


def test_grid_filters_and_sorts_in_place(signed_in, live_server, library, shot):
    page = signed_in
    page.goto(f"{live_server.url}/collection/")
    assert _card_titles(page) == ["Moon Safari", "Homogenic", "Discovery"]
    assert page.locator(".grid-count").inner_text().startswith("3 records")
    homogenic = page.locator(".cover-card", has_text="Homogenic")
    assert homogenic.locator(".badge", has_text="Vinyl").is_visible()
    assert homogenic.locator(".badge", has_text="CD").is_visible()
    shot(page, "grid")

    page.get_by_label("Sort", exact=True).select_option("-plays")
    page.wait_for_url("**/collection/?*sort=-plays*")
    expect(page.locator("#grid .cover-title").first).to_have_text("Homogenic")
    assert _card_titles(page)[0] == "Homogenic" and len(_card_titles(page)) == 3
    assert page.locator("h1").count() == 1  # the grid was swapped, not the page

    page.get_by_label("Format", exact=True).select_option("vinyl")
    page.wait_for_url("**support=vinyl*")
    expect(page.locator("#grid .cover-title")).to_have_count(2)
    assert _card_titles(page) == ["Homogenic", "Discovery"]
    assert page.locator(".grid-count").inner_text().startswith("2 records")

    page.get_by_label("Search the collection").fill("daft")
    expect(page.locator("#grid .cover-title")).to_have_count(1)
    assert _card_titles(page) == ["Discovery"]
    shot(page, "filtered")

    page.go_back()  # the URL holds the filters: back restores the earlier state
    expect(page.locator("#grid .cover-title")).to_have_count(2)
    assert page.get_by_label("Format", exact=True).input_value() == "vinyl"


def test_open_an_album_then_its_artist(signed_in, live_server, library, shot):
    page = signed_in
    page.goto(f"{live_server.url}/collection/")
    page.get_by_role("link", name="Homogenic").click()
    page.wait_for_url("**/collection/albums/*/")
    assert page.locator("h1").inner_text() == "Homogenic"
    row = page.locator(".tracklist tbody tr", has_text="Jóga")
    assert "5:05" in row.inner_text() and "6" in row.locator(".plays-n").inner_text()
    assert (
        page.get_by_role("link", name="Discogs", exact=True).count()
        + page.get_by_role("link", name="Search Discogs").count()
        == 1
    )
    shot(page, "album")

    page.locator(".hero-artists").get_by_role("link", name="Björk").click()
    page.wait_for_url("**/collection/artists/*/")
    assert page.locator("h1").inner_text() == "Björk"
    assert page.get_by_role("img", name="Your plays of Björk per month").is_visible()
    assert page.locator("svg.bars rect").count() == 2  # March and April 2024
    page.get_by_text("Show the numbers").click()
    assert page.locator(".month-table").get_by_text("March 2024").is_visible()
    assert page.locator(".top-tracks .tt-title").first.inner_text() == "Jóga"
    shot(page, "artist")


def test_album_only_heard_and_unknown_album(signed_in, live_server, library):
    page = signed_in
    takk = Album.objects.get(title="Takk...")
    page.goto(f"{live_server.url}/collection/albums/{takk.pk}/")
    assert page.get_by_text("Not in your collection").is_visible()
    response = page.goto(f"{live_server.url}/collection/albums/999999/")
    assert response.status == 404 and page.get_by_text("Nothing here").is_visible()


def test_search_by_keyboard_from_the_nav_box(signed_in, live_server, library, shot):
    page = signed_in
    box = page.get_by_role("combobox", name="Search artists, albums and tracks")
    box.click()
    page.keyboard.type("bjork")
    listbox = page.get_by_role("listbox", name="Suggestions")
    listbox.get_by_role("option", name="Björk").wait_for()
    assert box.get_attribute("aria-expanded") == "true"
    shot(page, "suggestions")
    page.keyboard.press("ArrowDown")
    active = box.get_attribute("aria-activedescendant")
    assert active and page.locator(f"#{active} .sg-text").inner_text().strip() == "Björk"
    assert page.locator(f"#{active}").get_attribute("aria-selected") == "true"
    page.keyboard.press("Enter")
    page.wait_for_url("**/collection/artists/*/")
    assert page.locator("h1").inner_text() == "Björk"

    # Escape closes the list; Enter with nothing highlighted opens the full results page
    box = page.get_by_role("combobox", name="Search artists, albums and tracks")
    box.click()
    page.keyboard.type("sigur ros")
    page.get_by_role("option", name="Sigur Rós").wait_for()
    page.keyboard.press("Escape")
    assert page.locator("#search-suggest").is_hidden()
    assert box.get_attribute("aria-expanded") == "false"
    page.keyboard.press("Enter")
    page.wait_for_url("**/search/?q=sigur+ros")
    assert page.locator("#res-artists").is_visible()
    assert page.locator(".search-group", has_text="Artists").get_by_text("Sigur Rós").is_visible()
    shot(page, "results")


def test_phone_width(browser, live_server, library, user, shot):
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/journal/")
    homogenic = Album.objects.get(title="Homogenic")
    bjork = homogenic.artists.get()
    for name, path in [
        ("grid", "/collection/"),
        ("album", f"/collection/albums/{homogenic.pk}/"),
        ("artist", f"/collection/artists/{bjork.pk}/"),
        ("search", "/search/?q=o"),
    ]:
        page.goto(live_server.url + path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, name
        shot(page, name)
    page.goto(live_server.url + "/collection/")
    boxes = page.locator("#grid .cover-card").evaluate_all(
        "cards => cards.map(c => c.getBoundingClientRect().width)"
    )
    assert all(120 <= w <= 180 for w in boxes)  # two covers a row
    context.close()


def test_grid_in_dark_theme(signed_in, live_server, library, shot):
    page = signed_in
    page.emulate_media(color_scheme="dark")
    page.goto(f"{live_server.url}/collection/")
    bg = page.evaluate("getComputedStyle(document.querySelector('.grid-controls')).backgroundColor")
    assert bg == "rgb(27, 27, 35)"
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    shot(page, "dark")
