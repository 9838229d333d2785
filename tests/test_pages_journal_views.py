"""Journal, Timeline and Settings pages through the test client."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from collection.models import AlbumMetadata, Artist, Track
from tracking.models import Listen, LovedTrack, NowPlaying, Source

HX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def _fresh_cache(db):
    cache.clear()
    yield
    cache.clear()


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def history(user, add_listens):
    """120 listens over 3 days, with a featured credit and an album note."""
    rows = []
    for i in range(120):
        artist = "Nina Tide feat. Olu" if i % 10 == 0 else f"Band {i % 4}"
        rows.append(
            (
                artist,
                f"Song {i}",
                f"Record {i % 3}",
                utc(2024, 4, 1, 6) + timedelta(minutes=30 * i),
                180,
            )
        )
    add_listens(user, rows)
    AlbumMetadata.objects.create(
        album=Listen.objects.first().album, summary="A quiet, rainy record."
    )
    return user


def body(response) -> str:
    return response.content.decode()


def test_journal_lists_newest_first_grouped_by_day(auth_client, history):
    r = auth_client.get("/journal/")
    assert r.status_code == 200
    html = body(r)
    assert html.index("Song 119") < html.index("Song 100")
    assert "Song 60" not in html  # page size 50
    assert 'datetime="2024-04-03"' in html
    assert "listens</span>" in html and "Older listens" in html
    assert "feat." in html and ">Olu</a>" in html  # featured artist linked
    assert "All your listens" in html and "Peak hour" in html
    assert 'class="listen-source">Import</span>' in html
    assert 'hx-trigger="toggle once"' in html and 'form="love-form"' in html


def test_an_opened_row_shows_the_album_note_links_out_and_actions(auth_client, history):
    noted = AlbumMetadata.objects.get().album
    listen = Listen.objects.filter(album=noted).first()
    fragment = auth_client.get(f"/journal/listens/{listen.pk}/", headers=HX)
    html = body(fragment)
    assert fragment.status_code == 200 and "<html" not in html
    assert "A quiet, rainy record." in html
    for service in (
        "open.spotify.com/search",
        "music.apple.com/search",
        "discogs.com/search",
        "last.fm/music",
    ):
        assert service in html
    assert f"/journal/listens/{listen.pk}/delete/" in html and f"?album={listen.album_id}" in html
    page = body(auth_client.get(f"/journal/listens/{listen.pk}/"))  # without JavaScript
    assert "<html" in page and "A quiet, rainy record." in page
    featured = Listen.objects.filter(track__title="Song 10").get()
    html = body(auth_client.get(f"/journal/listens/{featured.pk}/", headers=HX))
    assert "Only Nina Tide" in html and "Only Olu" in html
    assert auth_client.get("/journal/listens/999999/").status_code == 404


def test_an_opened_row_of_another_user_is_not_found(client_for, other_user, history):
    listen = Listen.objects.filter(user=history).first()
    assert client_for(other_user).get(f"/journal/listens/{listen.pk}/").status_code == 404


def test_next_page_over_htmx_is_a_fragment_and_the_older_link_works_without_js(
    auth_client, history
):
    html = body(auth_client.get("/journal/"))
    older = html.split('class="more">')[1].split('href="')[1].split('"')[0].replace("&amp;", "&")
    assert "cursor=" in older
    fragment = auth_client.get("/journal/" + older, headers=HX)
    assert fragment.status_code == 200
    assert "<html" not in body(fragment) and "Song 69" in body(fragment)
    full = auth_client.get("/journal/" + older)
    assert "<html" in body(full) and "Song 69" in body(full) and "Song 70" not in body(full)


def test_query_count_is_the_same_for_few_and_many_rows(auth_client, user, add_listens):
    add_listens(user, [("A feat. B", f"T{i}", "R", utc(2024, 1, 1, 10, i)) for i in range(3)])
    auth_client.get("/journal/")  # first request of the process checks for a first run
    cache.clear()
    with CaptureQueriesContext(connection) as few:
        auth_client.get("/journal/")
    add_listens(
        user,
        [
            (f"C{i % 9} feat. D", f"U{i}", f"S{i % 7}", utc(2024, 2, 1) + timedelta(minutes=9 * i))
            for i in range(80)
        ],
    )
    cache.clear()
    with CaptureQueriesContext(connection) as many:
        auth_client.get("/journal/")
    assert len(few.captured_queries) == len(many.captured_queries) <= 22


@pytest.mark.parametrize(
    "query, message",
    [
        ("from=2024-13-01", "is not a date"),
        ("to=yesterday", "is not a date"),
        ("from=2024-05-01&to=2024-04-01", "start date is after the end date"),
        ("artist=abc", "is not a valid"),
        ("artist=999999", "There is no artist"),
        ("album=999999", "There is no album"),
        ("cursor=garbage", "page link is damaged"),
    ],
)
def test_bad_parameters_give_a_message_not_an_error(auth_client, history, query, message):
    r = auth_client.get(f"/journal/?{query}")
    assert r.status_code == 400
    assert message in body(r) and "Song 119" in body(r)


def test_cursor_past_the_end_says_so(auth_client, history):
    r = auth_client.get("/journal/?cursor=0.0")
    assert r.status_code == 200
    assert "No older listens" in body(r) and "Back to the newest" in body(r)


def test_filters_by_artist_album_dates_and_loved(auth_client, history):
    olu = Artist.objects.get(name="Olu")
    html = body(auth_client.get(f"/journal/?artist={olu.pk}"))
    assert "Song 110" in html and "Song 111" not in html
    assert "Remove the filter on Olu" in html and 'hx-trigger="load"' in html  # lazy summary
    summary = auth_client.get(f"/journal/?artist={olu.pk}&part=summary", headers=HX)
    assert "<html" not in body(summary) and "<dd>12</dd>" in body(summary)
    assert "<dd>12</dd>" in body(auth_client.get(f"/journal/?artist={olu.pk}&summary=1"))
    listen = Listen.objects.get(track__title="Song 3")
    html = body(auth_client.get(f"/journal/?album={listen.album_id}"))
    assert "Song 3" in html and "Song 4<" not in html
    html = body(auth_client.get("/journal/?from=2024-04-01&to=2024-04-01"))
    assert "Song 0" in html and "Song 40" not in html and 'hx-trigger="load"' in html
    html = body(auth_client.get("/journal/?from=2024-04-01&to=2024-04-30"))  # a whole month
    assert "These listens" in html and "<dd>120</dd>" in html and 'hx-trigger="load"' not in html
    html = body(auth_client.get("/journal/?from=2024-04-01&to=2024-04-01&part=summary", headers=HX))
    assert "<dd>32</dd>" in html  # 08:00 to midnight in Paris, every 30 minutes
    LovedTrack.objects.create(user=history, track=listen.track, loved_at=timezone.now())
    html = body(auth_client.get("/journal/?loved=1"))
    assert "Song 3" in html and "Song 4<" not in html


def test_artist_filter_by_typed_name(auth_client, history):
    html = body(auth_client.get("/journal/?artist_name=  olu "))
    assert "Song 110" in html and "Song 111" not in html and 'value="Olu"' in html
    r = auth_client.get("/journal/?artist_name=Nobody+Here")
    assert r.status_code == 400 and "No artist called" in body(r)
    html = body(auth_client.get("/journal/?artist_name=olu&artist=&artist_name="))  # chip ×
    assert "Song 111" in html


def test_empty_states_say_what_to_do(auth_client, history):
    html = body(auth_client.get("/journal/?from=1990-01-01&to=1990-01-02"))
    assert "Nothing matches these filters" in html and "Clear the filters" in html


def test_empty_journal_points_to_settings_and_adding(auth_client):
    html = body(auth_client.get("/journal/"))
    assert "Your listening history will appear here" in html and "/journal/add/" in html


def test_love_and_unlove_in_place_kept_locally(auth_client, user, history):
    track = Track.objects.get(title="Song 5")
    r = auth_client.post(f"/journal/tracks/{track.pk}/love/", {"loved": "1"}, headers=HX)
    assert r.status_code == 200 and "<html" not in body(r)
    assert "kept locally" in body(r) and 'aria-pressed="true"' in body(r)
    assert LovedTrack.objects.filter(user=user, track=track).exists()
    r = auth_client.post(
        f"/journal/tracks/{track.pk}/love/", {"loved": "0", "next": "/journal/?loved=1"}
    )
    assert r.status_code == 302 and r["Location"] == "/journal/?loved=1"
    assert not LovedTrack.objects.filter(user=user, track=track).exists()
    assert auth_client.post("/journal/tracks/987654/love/", {"loved": "1"}).status_code == 404
    assert (
        auth_client.post(
            f"/journal/tracks/{track.pk}/love/", {"loved": "1", "next": "https://evil.example/"}
        )["Location"]
        == "/journal/"
    )


def test_add_a_listen_by_hand_in_the_users_zone(auth_client, user):
    assert "Add a listen" in body(auth_client.get("/journal/add/"))
    r = auth_client.post(
        "/journal/add/",
        {
            "track": "Hand Song",
            "artist": "Hand Band",
            "album": "",
            "date": "2024-07-14",
            "time": "21:30",
        },
    )
    assert r.status_code == 302
    listen = Listen.objects.get(user=user)
    assert listen.source == Source.MANUAL
    assert listen.listened_at == utc(2024, 7, 14, 19, 30)  # Paris is UTC+2 in July
    assert "Hand Song" in body(auth_client.get("/journal/"))


def test_add_a_listen_rejects_the_future_and_missing_fields(auth_client, user):
    future = (timezone.now() + timedelta(days=3)).date().isoformat()
    r = auth_client.post(
        "/journal/add/", {"track": "X", "artist": "Y", "date": future, "time": "10:00"}
    )
    assert r.status_code == 400 and "in the future" in body(r)
    r = auth_client.post(
        "/journal/add/", {"track": "", "artist": "Y", "date": "nope", "time": "10:00"}
    )
    assert r.status_code == 400 and "This field is required" in body(r)
    assert not Listen.objects.exists()


def test_delete_a_listen_with_confirmation(auth_client, user, history):
    listen = Listen.objects.get(track__title="Song 7")
    r = auth_client.get(f"/journal/listens/{listen.pk}/delete/")
    assert r.status_code == 200 and "Delete this listen?" in body(r) and "Song 7" in body(r)
    assert Listen.objects.filter(pk=listen.pk).exists()
    r = auth_client.post(f"/journal/listens/{listen.pk}/delete/", {"next": "/journal/"})
    assert r.status_code == 302 and not Listen.objects.filter(pk=listen.pk).exists()
    other = Listen.objects.get(track__title="Song 8")
    r = auth_client.post(f"/journal/listens/{other.pk}/delete/", headers=HX)
    assert r.status_code == 200 and body(r) == ""
    assert auth_client.post(f"/journal/listens/{other.pk}/delete/").status_code == 404


def test_another_users_listen_cannot_be_deleted(client_for, other_user, history):
    listen = Listen.objects.filter(user=history).first()
    client = client_for(other_user)
    assert client.get(f"/journal/listens/{listen.pk}/delete/").status_code == 404
    assert client.post(f"/journal/listens/{listen.pk}/delete/").status_code == 404
    assert Listen.objects.filter(pk=listen.pk).exists()
    assert "Song 119" not in body(client.get("/journal/"))


def test_now_playing_banner_polls_and_hides_when_expired(auth_client, user):
    now = timezone.now()
    html = body(auth_client.get("/journal/"))
    assert 'hx-trigger="every 30s"' in html and "Now playing" not in html
    NowPlaying.objects.create(
        user=user,
        artist_name="Live Act",
        track_name="On Air",
        source=Source.LASTFM,
        started_at=now,
        updated_at=now,
        expires_at=now + timedelta(minutes=5),
    )
    r = auth_client.get("/journal/now-playing/", headers=HX)
    assert "<html" not in body(r) and "On Air" in body(r) and "Now playing" in body(r)
    NowPlaying.objects.filter(user=user).update(expires_at=now - timedelta(seconds=1))
    assert "On Air" not in body(auth_client.get("/journal/now-playing/", headers=HX))


# --- Timeline -----------------------------------------------------------------------------


def test_timeline_day_shows_hour_slots_with_listens(auth_client, history):
    r = auth_client.get("/timeline/?date=2024-04-01")
    html = body(r)
    assert r.status_code == 200
    assert html.count('<li class="slot') == 24
    assert "Song 0" in html and "Previous day" in html and 'value="2024-04-01"' in html
    assert "?date=2024-03-31" in html and "?date=2024-04-02" in html and "Today" in html


def test_timeline_listens_are_escaped_and_in_local_time(auth_client, user, add_listens):
    add_listens(user, [("A <b> & C", "<i>Tune</i>", "", utc(2024, 4, 1, 22, 30), 100)])
    html = body(auth_client.get("/timeline/?date=2024-04-02"))  # 00:30 in Paris
    assert "<i>Tune</i>" not in html
    assert '<span class="slot-track">&lt;i&gt;Tune&lt;/i&gt;</span>' in html
    assert "&lt;b&gt;" in html and '<span class="muted small">00:30</span>' in html


def test_timeline_dst_days_have_23_and_25_slots(auth_client, user):
    assert body(auth_client.get("/timeline/?date=2024-03-31")).count('<li class="slot') == 23
    html = body(auth_client.get("/timeline/?date=2024-10-27"))
    assert html.count('<li class="slot') == 25 and "02:00 CEST" in html and "02:00 CET" in html
    assert "25 hours" in html


def test_timeline_week_is_a_heat_strip(auth_client, history):
    html = body(auth_client.get("/timeline/?date=2024-04-03&view=week"))
    assert "Week of 1 April 2024" in html
    assert html.count("<tr>") == 8  # header + 7 days
    assert "heat-cell has" in html and "?date=2024-03-25&amp;view=week" in html


@pytest.mark.parametrize("raw", ["2024-02-30", "yesterday", "20240101", "2024-1-1x"])
def test_timeline_bad_date_says_so(auth_client, user, raw):
    r = auth_client.get(f"/timeline/?date={raw}")
    assert r.status_code == 400 and "is not a date" in body(r) and "Showing today" in body(r)


def test_timeline_empty_day_says_what_to_do(auth_client, user):
    html = body(auth_client.get("/timeline/?date=2001-01-01"))
    assert "Nothing played that day" in html and "/journal/" in html


def test_timeline_query_count_does_not_grow(auth_client, user, add_listens):
    add_listens(user, [("A", "One", "R", utc(2024, 5, 5, 10))])
    auth_client.get("/timeline/?date=2024-05-05")
    with CaptureQueriesContext(connection) as few:
        auth_client.get("/timeline/?date=2024-05-05")
    add_listens(
        user,
        [
            (f"A{i}", f"T{i}", f"R{i}", utc(2024, 5, 5, 0) + timedelta(minutes=7 * i))
            for i in range(150)
        ],
    )
    with CaptureQueriesContext(connection) as many:
        auth_client.get("/timeline/?date=2024-05-05")
    assert len(few.captured_queries) == len(many.captured_queries)


# --- Settings -----------------------------------------------------------------------------


def test_settings_page_masks_the_discogs_token_and_shows_services(auth_client, user):
    assert "Remove the saved token" not in body(auth_client.get("/settings/"))
    r = auth_client.post(
        "/settings/",
        {
            "lastfm_username": "rj",
            "discogs_username": "digger",
            "discogs_token": "abcdefghijklmnopqrstuvwxyz123456",
            "time_zone": "Europe/Paris",
            "language": "en",
        },
    )
    assert r.status_code == 302
    html = body(auth_client.get("/settings/"))
    assert "abcdefghijklmnopqrstuvwxyz123456" not in html
    assert "Discogs personal token" in html and "Services" in html and "Last.fm" in html
    assert 'value="rj"' in html and 'aria-labelledby="h-account"' in html
    assert "Remove the saved token" in html and "Saved: ••••••••3456" in html


def test_rows_escape_what_they_show_and_mark_loved_tracks(auth_client, user, add_listens):
    """The rows are written in Python (tracking/templatetags/journal.py): names are escaped,
    featured artists marked, a listen without album has no album link, hearts show the state
    and are the same markup the love view answers."""
    add_listens(
        user,
        [
            ("Sly <Stone> feat. Olu", "<b>Loud</b> & clear", "", utc(2024, 5, 1, 10), 100),
            ("Band 1", "Quiet", 'Record "1"', utc(2024, 5, 1, 11), 100),
        ],
    )
    loud = Track.objects.get(title="<b>Loud</b> & clear")
    LovedTrack.objects.create(user=user, track=loud, loved_at=timezone.now())
    html = body(auth_client.get("/journal/"))
    assert "<b>Loud</b>" not in html and "&lt;b&gt;Loud&lt;/b&gt; &amp; clear" in html
    assert 'Sly &lt;Stone&gt;</a> <span class="muted">feat.</span> <a' in html
    assert 'class="listen-album"' in html and "Record &quot;1&quot;</a>" in html
    assert html.count('class="listen-album"') == 1
    loud_row = html[html.index(f'id="listen-{Listen.objects.get(track=loud).pk}"') :]
    loud_row = loud_row[: loud_row.index("</li>")]
    assert 'aria-pressed="true"' in loud_row and "Loved — click to unlove" in loud_row
    assert f'formaction="/journal/tracks/{loud.pk}/love/"' in loud_row
    heart = loud_row[loud_row.index('<span class="love">') : loud_row.index("</button>") + 16]
    answered = body(
        auth_client.post(f"/journal/tracks/{loud.pk}/love/", {"loved": "1"}, headers=HX)
    )
    assert answered.strip().startswith(heart[: heart.index("</button>")])
    assert 'aria-pressed="false"' in html and "Love this track" in html
