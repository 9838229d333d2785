"""First run, login everywhere, and one user's data out of another's reach."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from collection.models import CollectionItem
from musictracker.models import Job, Profile
from playlists.models import Playlist
from tests.conftest import utc
from tracking.models import Listen

pytestmark = pytest.mark.django_db

PAGES = [
    "/journal/",
    "/timeline/",
    "/collection/",
    "/playlists/",
    "/analytics/",
    "/settings/",
    "/search/",
]


def test_fresh_install_leads_to_first_run(client):
    for path in ["/", "/journal/", "/login/", "/admin/"]:
        response = client.get(path)
        assert response.status_code == 302 and response["Location"] == "/setup/", path
    assert client.get("/setup/").status_code == 200


def test_first_run_creates_the_admin_and_signs_in(client):
    response = client.post(
        "/setup/",
        {
            "username": "ada",
            "password": "a long pass phrase",
            "password_again": "a long pass phrase",
            "time_zone": "Europe/Zurich",
        },
    )
    assert response.status_code == 302
    user = get_user_model().objects.get()
    assert user.is_superuser and user.is_staff
    assert Profile.objects.get(user=user).time_zone == "Europe/Zurich"
    assert client.get("/journal/").status_code == 200
    # once an account exists, the first-run page is closed
    assert client.get("/setup/").status_code == 302


def test_first_run_rejects_mismatched_passwords(client):
    response = client.post(
        "/setup/",
        {
            "username": "ada",
            "password": "a long pass phrase",
            "password_again": "other",
            "time_zone": "UTC",
        },
    )
    assert response.status_code == 200
    assert "differ" in response.content.decode()
    assert not get_user_model().objects.exists()


@pytest.mark.parametrize("path", PAGES + ["/"])
def test_every_page_needs_a_login(client, user, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_health_and_login_are_open(client, user):
    assert client.get("/healthz").status_code == 200
    assert client.get("/login/").status_code == 200


def test_api_answers_401_not_a_redirect(client, user):
    response = client.get("/api/v1/me")
    assert response.status_code == 401


@pytest.mark.parametrize("path", PAGES)
def test_pages_render_with_their_empty_state(auth_client, path):
    response = auth_client.get(path)
    assert response.status_code == 200
    assert b'class="empty-state"' in response.content or path == "/settings/"


def test_login_then_pages(client, user):
    response = client.post("/login/", {"username": "alice", "password": "correct horse battery"})
    assert response.status_code == 302
    assert client.get("/journal/").status_code == 200


def test_settings_saves_and_masks_the_discogs_token(auth_client, user):
    token = "abcdefghijklmnopqrstuvwxyz123456"
    response = auth_client.post(
        "/settings/",
        {
            "lastfm_username": " rj ",
            "discogs_username": "me",
            "discogs_token": token,
            "time_zone": "Europe/Paris",
            "language": "fr",
        },
    )
    assert response.status_code == 302
    profile = Profile.objects.get(user=user)
    assert (profile.lastfm_username, profile.discogs_token, profile.language) == ("rj", token, "fr")
    page = auth_client.get("/settings/").content.decode()
    assert token not in page and "3456" in page
    # saving again with the field left empty keeps the token
    auth_client.post(
        "/settings/",
        {
            "lastfm_username": "rj",
            "discogs_username": "me",
            "discogs_token": "",
            "time_zone": "Europe/Paris",
            "language": "en",
        },
    )
    assert Profile.objects.get(user=user).discogs_token == token


def test_french_is_available(auth_client, user):
    Profile.objects.filter(user=user).update(language="fr")
    page = auth_client.get("/journal/").content.decode()
    assert 'lang="fr"' in page and "Paramètres" in page


def test_a_second_user_sees_none_of_the_first_users_data(client_for, user, other_user, add_listens):
    add_listens(user, [("Air", "Sexy Boy", "Moon Safari", utc(2024, 1, 1))])
    listen = Listen.objects.get()
    CollectionItem.objects.create(
        user=user, album=listen.album, support="vinyl", discogs_instance_id=1
    )
    Playlist.objects.create(user=user, name="Alice's secret mix", algorithm="top")
    job = Job.objects.create(user=user, kind="import", label="alice-job")
    Profile.objects.filter(user=user).update(lastfm_username="alice_on_lastfm")

    c = client_for(other_user)
    for path in PAGES:
        body = c.get(path).content.decode()
        assert (
            "Sexy Boy" not in body
            and "Alice's secret mix" not in body
            and "alice_on_lastfm" not in body
        ), path
    assert c.get(reverse("job-progress", args=[job.pk])).status_code == 404


def test_admin_is_for_staff_only(client_for, other_user):
    response = client_for(other_user).get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_staff_who_is_not_superuser_sees_only_own_listens_in_admin(
    client_for, user, other_user, add_listens
):
    from django.contrib.auth.models import Permission

    add_listens(user, [("Air", "Sexy Boy", "Moon Safari", utc(2024, 1, 1))])
    add_listens(other_user, [("Björk", "Jóga", "Homogenic", utc(2024, 1, 1))])
    other_user.is_staff = True
    other_user.save()
    other_user.user_permissions.add(Permission.objects.get(codename="view_listen"))
    body = client_for(other_user).get("/admin/tracking/listen/").content.decode()
    assert "Jóga" in body and "Sexy Boy" not in body
    mine = Listen.objects.get(user=user)
    assert client_for(other_user).get(f"/admin/tracking/listen/{mine.pk}/change/").status_code in (
        302,
        404,
    )


def test_unknown_page_is_a_friendly_404(auth_client):
    response = auth_client.get("/no-such-page/")
    assert response.status_code == 404


@pytest.mark.django_db(transaction=True)
def test_two_first_requests_at_once_share_one_profile(client):
    """Found by the web-and-worker fault test: two requests of a user without a profile both
    created one, and the second answered 500. Here the other request (a thread, with its own
    connection) commits its profile just before this one inserts."""
    import threading

    from django.contrib.auth import get_user_model
    from django.db import connection

    from musictracker.models import Profile

    if connection.vendor == "sqlite":
        pytest.skip("the in-memory test database locks whole tables between connections")
    user = get_user_model().objects.create_user("carol", password="correct horse battery")
    assert not Profile.objects.filter(user=user).exists()
    client.force_login(user)
    won = []

    def other_request() -> None:
        try:
            Profile.objects.create(user=user)
            won.append(True)
        finally:
            connection.close()  # this thread's own connection

    def other_request_first(execute, sql, params, many, context):
        if 'INSERT INTO "musictracker_profile"' in sql and not won:
            thread = threading.Thread(target=other_request)
            thread.start()
            thread.join()
        return execute(sql, params, many, context)

    with connection.execute_wrapper(other_request_first):
        response = client.get("/")
    assert won and response.status_code < 500
    assert Profile.objects.filter(user=user).count() == 1
