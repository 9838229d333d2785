"""AI album notes: writing, language, soundtracks, failures, regenerate, counters, pages."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from collection.models import Album, AlbumArtist, AlbumMetadata, Artist, CollectionItem, Image
from enrichment import services, tasks
from enrichment.models import AiUsage, EnrichmentState
from musictracker.models import Profile
from tests.fakes.enrichment_fixtures import *  # noqa: F403
from tests.fakes.enrichment_fixtures import configure

pytestmark = pytest.mark.django_db


def make_album(title="Discovery", artist_name="Daft Punk", owner=None, **kw) -> Album:
    """An album of the catalogue; with `owner`, that user owns a copy (so it is theirs to see)."""
    artist, _ = Artist.objects.get_or_create(
        name_key=artist_name.casefold(), defaults={"name": artist_name}
    )
    album = Album.objects.create(
        title=title, artist_credit=artist_name, match_key=Album.key_for(artist.pk, title), **kw
    )
    AlbumArtist.objects.create(album=album, artist=artist)
    if owner is not None:
        CollectionItem.objects.create(user=owner, album=album, support="vinyl")
    return album


def test_notes_are_written_with_model_and_date_in_the_users_language(user, fake_ai):
    Profile.objects.filter(user=user).update(language="fr")
    album = make_album()
    assert services.describe_album(album=album, language=services.notes_language(user)) == "done"
    meta = AlbumMetadata.objects.get(album=album)
    assert meta.summary == "Discovery, un album marquant de Daft Punk."
    assert "\n\n" in meta.description
    assert meta.model_name == "mistral3" and meta.generated_at is not None
    assert meta.language == "fr" and meta.ai_status == "done"
    assert "French" in fake_ai.bodies[-1]["messages"][-1]["content"]


def test_soundtrack_notes_carry_the_film(fake_ai):
    album = make_album("Blade Runner Soundtrack", "Vangelis")
    services.describe_album(album=album, language="en")
    meta = AlbumMetadata.objects.get(album=album)
    assert (meta.film_title, meta.film_year, meta.film_director) == (
        "Blade Runner",
        1982,
        "Ridley Scott",
    )


def test_notes_are_never_regenerated_unless_asked_and_count_a_cache_hit(fake_ai):
    album = make_album()
    services.describe_album(album=album, language="en")
    calls = len(fake_ai.bodies)
    assert services.describe_album(album=album, language="en") == "cached"
    assert len(fake_ai.bodies) == calls
    assert AiUsage.counts() == {"requests": 1, "failures": 0, "cache_hits": 1}


def test_regenerate_task_rewrites_the_notes(user, fake_ai):
    album = make_album()
    AlbumMetadata.objects.create(
        album=album, summary="old", description="old text", ai_status="done"
    )
    assert tasks.regenerate_notes(album.pk, user.pk) == "done"
    meta = AlbumMetadata.objects.get(album=album)
    assert meta.summary != "old" and meta.description != "old text"


def test_malformed_twice_marks_the_album_failed_with_the_reason(fake_ai):
    fake_ai.script = ["malformed", "malformed"]
    album = make_album()
    assert services.describe_album(album=album, language="en") == "failed"
    meta = AlbumMetadata.objects.get(album=album)
    assert meta.ai_status == "failed" and "malformed JSON twice" in meta.ai_error
    assert AiUsage.counts()["requests"] == 2 and AiUsage.counts()["failures"] == 1
    state = EnrichmentState.objects.get(album=album, service="ai")
    assert state.outcome == "error" and state.retry_after
    assert album not in list(services.albums_needing_notes())  # remembered, not retried at once


def test_401_marks_failed_with_a_hint(fake_ai):
    fake_ai.script = ["401"]
    album = make_album()
    services.describe_album(album=album, language="en")
    assert "check ai.api_key" in AlbumMetadata.objects.get(album=album).ai_error


def test_not_configured_regenerate_says_what_to_set(settings):
    configure(settings, "ai", api_key="", product_id="")
    album = make_album()
    assert services.describe_album(album=album, force=True) == "not configured"
    assert "ai.api_key" in AlbumMetadata.objects.get(album=album).ai_error


def test_backlog_writes_missing_notes(settings, fake_ai):
    configure(settings, "enrichment", image_sources=[], ai_batch_size=5)
    albums = [make_album(f"Album {i}", "Someone") for i in range(3)]
    tasks.enrich_backlog()
    assert AlbumMetadata.objects.filter(album__in=albums, ai_status="done").count() == 3


# --- Pages ---------------------------------------------------------------------------------------


def test_album_page_shows_notes_and_regenerate_queues_the_task(
    user, auth_client, fake_ai, django_capture_on_commit_callbacks
):
    album = make_album(owner=user)
    services.describe_album(album=album, language="en")
    page = auth_client.get(reverse("collection:album-detail", args=[album.pk]))
    assert b"Discovery is a landmark record by Daft Punk." in page.content
    assert b"Regenerate notes" in page.content
    AlbumMetadata.objects.filter(album=album).update(summary="stale")
    url = reverse("enrichment:album-notes-regenerate", args=[album.pk])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        resp = auth_client.post(url, headers={"HX-Request": "true"})
    assert b"<html" not in resp.content
    assert b"Notes are being written" in resp.content  # pending at once, the task runs after
    assert len(callbacks) == 1
    callbacks[0]()  # the worker (inline in tests)
    assert AlbumMetadata.objects.get(album=album).summary != "stale"
    fragment = auth_client.get(reverse("enrichment:album-notes", args=[album.pk]))
    assert b"landmark" in fragment.content and b"every 3s" not in fragment.content


def test_regenerate_without_js_redirects_to_the_album(user, auth_client, fake_ai):
    album = make_album(owner=user)
    resp = auth_client.post(reverse("enrichment:album-notes-regenerate", args=[album.pk]))
    assert resp.status_code == 302
    assert resp["Location"] == reverse("collection:album-detail", args=[album.pk])


def test_get_on_regenerate_is_refused_and_unknown_album_is_404(auth_client):
    album = make_album()
    assert (
        auth_client.get(reverse("enrichment:album-notes-regenerate", args=[album.pk])).status_code
        == 405
    )
    assert (
        auth_client.post(reverse("enrichment:album-notes-regenerate", args=[999999])).status_code
        == 404
    )


def test_image_picker_chooses_a_stored_image_or_a_pasted_url(user, auth_client):
    album = make_album(owner=user)
    a = Image.objects.create(
        kind="album",
        album=album,
        url="https://e.org/a.jpg",
        source="deezer",
        width=1000,
        height=1000,
    )
    b = Image.objects.create(kind="album", album=album, url="https://e.org/b.jpg", source="discogs")
    services.refresh_best(album=album)
    page = auth_client.get(reverse("collection:album-detail", args=[album.pk]))
    assert b"Change picture" in page.content and b"https://e.org/b.jpg" in page.content
    url = reverse("enrichment:album-images", args=[album.pk])
    assert auth_client.post(url, {"image": b.pk}).status_code == 302
    album.refresh_from_db()
    assert album.cover_url == b.url
    auth_client.post(url, {"url": "https://e.org/pasted.png"})
    album.refresh_from_db()
    assert album.cover_url == "https://e.org/pasted.png"
    auth_client.post(url, {"automatic": "1"})
    album.refresh_from_db()
    assert album.cover_url == a.url


def test_image_picker_rejects_bad_input_with_a_message(auth_client, user, add_listens):
    add_listens(user, [("Air", "Sexy Boy", "", datetime(2024, 1, 1, tzinfo=UTC))])
    artist = Artist.objects.get(name="Air")
    url = reverse("enrichment:artist-images", args=[artist.pk])
    resp = auth_client.post(url, {"url": "javascript:alert(1)"}, follow=True)
    assert resp.status_code == 200 and b"Enter a valid URL" in resp.content
    resp = auth_client.post(url, {}, follow=True)
    assert b"Choose a picture or paste a URL" in resp.content
    other = Artist.objects.create(name="Other")
    img = Image.objects.create(
        kind="artist", artist=other, url="https://e.org/o.jpg", source="deezer"
    )
    assert auth_client.post(url, {"image": img.pk}).status_code == 404  # not this artist's


def test_settings_shows_backlog_services_errors_and_hit_rate(auth_client, settings, user):
    configure(settings, "spotify", client_id="", client_secret="")
    album = make_album(owner=user)
    someone_elses = make_album("Private Press", "Nobody Alice Knows")
    AiUsage.bump("requests", 3)
    AiUsage.bump("cache_hits", 1)
    services.remember("deezer", "error", "Deezer answered HTTP 503", album=album)
    services.remember("deezer", "error", "Deezer answered HTTP 502", album=someone_elses)
    page = auth_client.get(reverse("settings")).content.decode()
    assert "Deezer answered HTTP 503" in page
    # errors about another user's albums stay theirs (the names would tell what they play)
    assert "Private Press" not in page and "HTTP 502" not in page
    assert "Pictures and album notes" in page
    assert 'id="backlog-albums">2<' in page
    assert "hit rate 25 %" in page
    assert "spotify.client_id" in page


def test_admin_regenerate_action_queues_notes(
    client, make_user, fake_ai, django_capture_on_commit_callbacks
):
    admin = make_user("root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    album = make_album()
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post(
            "/admin/collection/album/",
            {"action": "regenerate_notes", "_selected_action": [album.pk]},
        )
    assert resp.status_code == 302
    assert AlbumMetadata.objects.get(album=album).ai_status == "done"


def test_admin_inline_choice_updates_the_cover(client, make_user):
    admin = make_user("root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    album = make_album()
    img = Image.objects.create(
        kind="album", album=album, url="https://e.org/c.jpg", source="discogs"
    )
    resp = client.post(
        "/admin/collection/image/", {"action": "choose_images", "_selected_action": [img.pk]}
    )
    assert resp.status_code == 302
    album.refresh_from_db()
    assert album.cover_url == img.url


def test_album_page_queries_do_not_grow_with_images(
    user, auth_client, django_assert_max_num_queries
):
    album = make_album(owner=user)
    AlbumMetadata.objects.create(album=album, summary="s", description="d", ai_status="done")
    for i in range(12):
        Image.objects.create(
            kind="album", album=album, url=f"https://e.org/{i}.jpg", source="deezer"
        )
    with django_assert_max_num_queries(10):
        page = auth_client.get(reverse("collection:album-detail", args=[album.pk]))
    assert page.content.count(b'name="image"') == 12


def test_settings_button_runs_a_backlog_batch(
    auth_client, settings, fake_deezer, django_capture_on_commit_callbacks
):
    configure(settings, "enrichment", image_sources=["deezer"])
    artist = Artist.objects.create(name="Daft Punk")
    page = auth_client.get(reverse("settings"))
    assert b"Look for them now" in page.content
    with django_capture_on_commit_callbacks(execute=True):
        resp = auth_client.post(reverse("enrichment:backlog-run"))
    assert resp.status_code == 302 and resp["Location"] == reverse("settings")
    artist.refresh_from_db()
    assert artist.image_url


def test_picker_offers_each_picture_once_at_its_largest_size(user, auth_client):
    album = make_album(owner=user)
    for prefix, px in (
        ("ab67616d0000b273", 640),
        ("ab67616d00001e02", 300),
        ("ab67616d00004851", 64),
    ):
        Image.objects.create(
            kind="album",
            album=album,
            url=f"https://i.scdn.co/image/{prefix}abc123",
            source="spotify",
            width=px,
            height=px,
        )
    for px in (1000, 500):
        Image.objects.create(
            kind="album",
            album=album,
            url=f"https://e-cdns-images.dzcdn.net/images/cover/md5x/{px}x{px}-000000-80-0-0.jpg",
            source="deezer",
            width=px,
            height=px,
        )
    page = auth_client.get(reverse("enrichment:album-images", args=[album.pk])).content.decode()
    assert page.count('name="image"') == 2
    assert "640×640" in page and "1000×1000" in page and "64×64" not in page
