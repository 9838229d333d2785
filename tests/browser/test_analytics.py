"""Analytics in a real browser: the period changes through htmx (no page load), the URL follows,
a chart's tooltip reads its number, the year in review opens; screenshots in both themes."""

import pytest

from tests.test_analytics_stats import HISTORY

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def with_history(user, add_listens):
    add_listens(user, HISTORY)
    return user


def test_period_change_refreshes_through_htmx_and_tooltip_reads(
    with_history, signed_in, live_server, shot
):
    page = signed_in
    page.goto(f"{live_server.url}/analytics/?period=all")
    assert page.locator('[data-stat="listens"]').inner_text() == "10"
    page.evaluate("window.__notReloaded = true")
    page.get_by_label("Year", exact=True).fill("2024")
    page.get_by_label("Show", exact=True).select_option("year")
    page.wait_for_url("**period=year**")
    page.wait_for_function(
        "document.querySelector('[data-stat=\"listens\"]').textContent.trim() === '9'"
    )
    assert page.evaluate("window.__notReloaded") is True  # swapped in place, not reloaded
    assert "year=2024" in page.url
    bar = page.locator("#chart-clock rect.bar").nth(0)
    bar.hover()
    tip = page.locator("#chart-clock .chart-tip")
    tip.wait_for(state="visible")
    assert tip.inner_text() == "00:00 — 4 listens"
    assert page.locator("#chart-clock rect.bar title").nth(0).text_content() == "00:00 — 4 listens"
    page.locator("#h-clock ~ details summary").click()
    assert page.locator("#h-clock ~ details table").get_by_text("00:00").is_visible()
    page.emulate_media(color_scheme="light")
    shot(page, "year-light")
    page.emulate_media(color_scheme="dark")
    page.evaluate("document.documentElement.dataset.theme = 'dark'")
    shot(page, "year-dark")


def test_custom_range_and_bad_input(with_history, signed_in, live_server):
    page = signed_in
    page.goto(f"{live_server.url}/analytics/?period=custom&from=2024-03-31&to=2024-03-31")
    assert page.locator('[data-stat="listens"]').inner_text() == "4"
    page.goto(f"{live_server.url}/analytics/?period=custom&from=2024-05-01&to=2024-01-01")
    assert page.get_by_role("alert").inner_text() == "The custom period starts after it ends."


def test_year_in_review(with_history, signed_in, live_server, shot):
    page = signed_in
    page.goto(f"{live_server.url}/analytics/year/2024/")
    assert page.locator('[data-stat="busiest"]').inner_text() == "2024-03-31"
    assert page.get_by_role("heading", name="March").is_visible()
    shot(page, "year-in-review")
