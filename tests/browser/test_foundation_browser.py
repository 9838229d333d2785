"""The shell of the app in a real browser: first run, navigation, theme, language, phone width."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_first_run_creates_the_account_and_lands_in_settings(page, live_server, shot):
    page.goto(live_server.url + "/")
    assert page.url.endswith("/setup/")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password", exact=True).fill("a long pass phrase")
    page.get_by_label("Password, again").fill("a long pass phrase")
    page.get_by_label("Time zone").select_option("Europe/Zurich")
    shot(page, "setup")
    page.get_by_role("button", name="Create my account").click()
    page.wait_for_url(live_server.url + "/settings/")
    assert page.get_by_text("Your account is ready").is_visible()


def test_navigation_reaches_every_page(signed_in, live_server, shot):
    page = signed_in
    for name, path in [
        ("Timeline", "/timeline/"),
        ("Collection", "/collection/"),
        ("Playlists", "/playlists/"),
        ("Analytics", "/analytics/"),
        ("Settings", "/settings/"),
        ("Journal", "/journal/"),
    ]:
        page.get_by_role("navigation", name="Main").get_by_role("link", name=name).click()
        page.wait_for_url(live_server.url + path)
        assert page.locator("h1").first.is_visible()
        assert page.get_by_role("link", name=name).get_attribute("aria-current") == "page"
    shot(page, "journal-empty")


def test_theme_toggle_switches_and_is_remembered(signed_in, shot):
    page = signed_in
    page.emulate_media(color_scheme="light")
    page.get_by_role("button", name="Switch between light and dark theme").click()
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert bg == "rgb(18, 18, 24)"
    shot(page, "dark")
    page.reload()
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"


def test_language_switch_to_french(signed_in):
    page = signed_in
    with page.expect_navigation():
        page.get_by_label("Language").select_option("fr")
    assert page.get_by_role("link", name="Paramètres", exact=True).is_visible()
    page.reload()  # remembered in the user's settings, not only for this page
    assert page.locator("html").get_attribute("lang") == "fr"


def test_phone_width_has_no_horizontal_scroll(browser, live_server, user, shot):
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/journal/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(page, "phone")
    context.close()


def test_keyboard_skip_link(signed_in):
    page = signed_in
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Skip to content"
