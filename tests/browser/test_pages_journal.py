"""Journal and Timeline in a real browser: endless scrolling, filters and back, love, add and
delete, moving through days, the theme and a phone-width layout."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tracking.models import Listen, LovedTrack

pytestmark = pytest.mark.django_db(transaction=True)

START = datetime(2024, 4, 1, 6, tzinfo=UTC)


@pytest.fixture
def history(user, add_listens):
    rows = []
    for i in range(160):
        artist = "Nina Tide feat. Olu" if i % 10 == 0 else f"Band {i % 4}"
        rows.append(
            (artist, f"Song {i}", f"Record {i % 3}", START + timedelta(minutes=25 * i), 200)
        )
    add_listens(user, rows)
    return user


def _wait_for_rows(page, at_least: int, timeout: float = 10.0) -> int:
    """Poll from Python: the app's CSP forbids the eval behind Playwright's wait_for_function."""
    deadline = time.monotonic() + timeout
    while True:
        n = page.locator("li.listen").count()
        if n >= at_least or time.monotonic() > deadline:
            return n
        page.wait_for_timeout(100)


def _row_ids(page) -> list[str]:
    return page.eval_on_selector_all("li.listen", "els => els.map(e => e.id)")


def test_journal_scrolls_past_two_pages(history, signed_in, live_server, shot):
    page = signed_in
    assert len(_row_ids(page)) == 50
    for expected in (100, 150):
        page.locator(".more").scroll_into_view_if_needed()
        assert _wait_for_rows(page, expected) >= expected
    page.locator(".more, .end").last.scroll_into_view_if_needed()
    assert _wait_for_rows(page, 160) == 160
    ids = _row_ids(page)
    assert len(ids) == len(set(ids)) == 160
    assert page.get_by_text("That's the beginning of this history.").is_visible()
    assert page.url == live_server.url + "/journal/"  # scrolling does not change the URL
    shot(page, "scrolled")


def test_filter_then_back_button(history, signed_in, live_server, shot):
    page = signed_in
    page.get_by_label("From").fill("2024-04-02")
    page.get_by_label("To").fill("2024-04-02")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**/journal/?from=2024-04-02&to=2024-04-02*")
    assert page.get_by_role("heading", name="These listens").is_visible()
    days = page.eval_on_selector_all(".day-head time", "els => els.map(e => e.dateTime)")
    assert days == ["2024-04-02"]
    shot(page, "filtered")
    # A row's "Only <artist>" link adds the artist to the URL.
    page.locator("li.listen details summary").first.click()
    page.locator("li.listen .filter-links a").first.click()
    page.wait_for_url("**artist=*")
    assert page.locator(".chip").first.is_visible()
    page.go_back()
    page.wait_for_url("**/journal/?from=2024-04-02&to=2024-04-02*")
    assert page.get_by_label("From").input_value() == "2024-04-02"
    page.go_back()
    page.wait_for_url(live_server.url + "/journal/")
    assert page.get_by_label("From").input_value() == ""
    assert len(_row_ids(page)) == 50


def test_love_a_track_in_place(history, signed_in, shot):
    page = signed_in
    heart = page.locator("li.listen").first.locator("button.heart")
    assert heart.get_attribute("aria-pressed") == "false"
    heart.click()
    first = page.locator("li.listen").first
    first.get_by_text("kept locally").wait_for()
    assert first.locator("button.heart").get_attribute("aria-pressed") == "true"
    assert LovedTrack.objects.filter(user=history).count() == 1
    shot(page, "loved")
    first.locator("button.heart").click()
    expect(page.locator("li.listen button.heart").first).to_have_attribute("aria-pressed", "false")
    assert LovedTrack.objects.filter(user=history).count() == 0


def test_add_and_delete_a_listen(history, signed_in, live_server, shot):
    page = signed_in
    page.get_by_role("link", name="Add a listen").first.click()
    page.wait_for_url("**/journal/add/")
    page.get_by_label("Track", exact=True).fill("Hand Played")
    page.get_by_label("Artist", exact=True).fill("Kitchen Radio")
    page.get_by_label("Album", exact=True).fill("Tuesday")
    page.get_by_label("Date", exact=True).fill("2024-04-05")
    page.get_by_label("Time", exact=True).fill("09:15")
    shot(page, "add-form")
    page.get_by_role("button", name="Add the listen").click()
    page.wait_for_url(live_server.url + "/journal/")
    assert page.get_by_text("Listen added.").is_visible()
    row = page.locator("li.listen", has_text="Hand Played")
    assert row.locator("time.listen-time").inner_text() == "09:15"
    listen = Listen.objects.get(track__title="Hand Played")
    assert listen.source == "manual"
    row.locator("summary").click()
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_text("Delete this listen").click()
    page.locator(f"#listen-{listen.pk}").wait_for(state="detached")
    assert not Listen.objects.filter(pk=listen.pk).exists()
    shot(page, "after-delete")


def test_timeline_moves_through_days_and_weeks(history, signed_in, live_server, shot):
    page = signed_in
    page.goto(live_server.url + "/timeline/?date=2024-04-02")
    assert page.locator("li.slot").count() == 24
    assert page.locator("li.slot.has").count() > 5
    shot(page, "day")
    page.get_by_role("link", name="Next day").click()
    page.wait_for_url("**date=2024-04-03")
    page.get_by_role("link", name="Previous day").click()
    page.get_by_role("link", name="Previous day").click()
    page.wait_for_url("**date=2024-04-01")
    page.get_by_label("Date").fill("2024-10-27")
    page.get_by_role("button", name="Go").click()
    page.wait_for_url("**date=2024-10-27")
    assert page.locator("li.slot").count() == 25  # clocks go back in Paris
    page.get_by_role("link", name="Today").click()
    page.wait_for_url("**/timeline/?date=*")
    page.goto(live_server.url + "/timeline/?date=2024-04-02&view=week")
    assert page.locator("table.heat-table tbody tr").count() == 7
    assert page.locator("td.heat-cell.has").count() > 10
    shot(page, "week")
    page.get_by_role("link", name="Mon 1").click()
    page.wait_for_url("**date=2024-04-01")


def test_theme_switch_on_the_journal(history, signed_in, shot):
    page = signed_in
    page.emulate_media(color_scheme="light")
    page.get_by_role("button", name="Switch between light and dark theme").click()
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    row_bg = page.evaluate("getComputedStyle(document.querySelector('li.listen')).backgroundColor")
    assert row_bg == "rgb(27, 27, 35)"  # --surface of the dark theme
    shot(page, "dark")


def test_phone_width_layout(browser, live_server, history, shot):
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(history.username)
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/journal/")
    for path in (
        "/journal/",
        "/timeline/?date=2024-04-02",
        "/timeline/?date=2024-04-02&view=week",
        "/settings/",
    ):
        page.goto(live_server.url + path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, path
        shot(page, path.strip("/").replace("/", "-").replace("?", "-").replace("&", "-") or "home")
    page.goto(live_server.url + "/journal/")
    box = page.locator("li.listen").first.bounding_box()
    assert box["width"] <= 360 and box["x"] >= 0
    heart = page.locator("li.listen button.heart").first.bounding_box()
    assert heart["width"] >= 36 and heart["height"] >= 36  # a thumb-sized target
    context.close()
