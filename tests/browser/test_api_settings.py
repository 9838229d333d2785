"""Settings in a real browser: create a token (shown once), revoke it, import a file."""

from __future__ import annotations

from pathlib import Path

import pytest

from musictracker.models import ApiToken, Job

pytestmark = pytest.mark.django_db(transaction=True)
DATA = Path(__file__).resolve().parent.parent / "data" / "imports"


def test_create_token_then_revoke(signed_in, live_server, user, shot):
    page = signed_in
    page.goto(f"{live_server.url}/settings/")
    page.get_by_label("Token name").fill("Navidrome")
    page.get_by_role("button", name="Create a token").click()
    value = page.locator(".token-value").inner_text()
    assert len(value) > 30
    assert ApiToken.objects.get(user=user).prefix == value[:8]
    assert f"{live_server.url}/" in page.locator("#h-tokens").locator("..").inner_text()
    shot(page, "token-created")
    page.reload()
    assert page.locator(".token-value").count() == 0  # shown once only
    page.get_by_role("button", name="Revoke").click()
    assert "revoked" in page.content()
    assert ApiToken.objects.get(user=user).revoked_at is not None


def test_upload_an_export_and_see_its_job(signed_in, live_server, user, settings, tmp_path, shot):
    settings.DATA_DIR = tmp_path
    page = signed_in
    page.goto(f"{live_server.url}/settings/")
    page.get_by_label("Export file").set_input_files(str(DATA / "lastfm.csv"))
    page.get_by_role("button", name="Import", exact=True).click()
    page.wait_for_selector(".job")
    job = Job.objects.get(user=user, kind="import")
    assert job.status == "done" and job.added == 3
    assert "line 3" in page.content()
    shot(page, "import-done")
