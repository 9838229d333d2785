"""Discogs sync through the real python3-discogs-client against the fake Discogs API."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from collection import discogs_sync
from collection.discogs import DiscogsClient
from collection.models import Album, AlbumMetadata, Artist, CollectionItem, Image, Track
from musictracker.models import Job, Profile
from tests.conftest import utc
from tests.fakes.discogs import FakeDiscogs, make_release, sample

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake(settings):
    server = FakeDiscogs().start()
    settings.MUSICTRACKER = {
        **settings.MUSICTRACKER,
        "discogs": {**settings.MUSICTRACKER["discogs"], "base_url": server.url, "token": ""},
    }
    yield server
    server.stop()


@pytest.fixture
def collector(user):
    Profile.objects.filter(user=user).update(
        discogs_username="vinylfan", discogs_token="good-token"
    )
    return user


class Sleeps(list):
    """Records the waits instead of waiting."""

    def __call__(self, seconds):
        self.append(seconds)


def run(user, sleeps=None):
    job, _ = discogs_sync.queue_sync(user)
    result = discogs_sync.sync_collection(
        user, job, sleep=sleeps if sleeps is not None else Sleeps()
    )
    job.refresh_from_db()
    return result, job


def own_samples(fake):
    lp = fake.add(
        sample("release_abbey_road_lp"),
        folder_id=2,
        rating=5,
        notes=[
            {"field_id": 1, "value": "Very Good Plus (VG+)"},
            {"field_id": 3, "value": "Bought in Paris"},
        ],
        date_added="2017-06-22T05:11:56-07:00",
    )
    cd = fake.add(sample("release_abbey_road_cd"))
    fake.add(sample("release_homogenic"))
    fake.add(sample("release_compilation"))
    return lp, cd


def bulk(fake, n, start=0):
    for i in range(start, start + n):
        fake.add(
            make_release(
                500000 + i,
                title=f"Album {i}",
                artist=f"Band {i % 40}",
                artist_id=9000 + i % 40,
                master_id=700000 + i,
                tracks=2,
            ),
            date_added=f"2021-{1 + i // 28 % 12:02d}-{1 + i % 28:02d}T10:00:{i % 60:02d}-08:00",
        )


# --- the client ---------------------------------------------------------------------------------


def test_client_sends_user_agent_and_token_and_owns_timeouts_and_waiting(fake, settings):
    client = DiscogsClient("vinylfan", "good-token", sleep=Sleeps())
    assert client.identity() == "vinylfan"
    request = fake.requests[0]
    assert request["user_agent"] == settings.MUSICTRACKER["discogs"]["user_agent"]
    assert request["query"]["token"] == "good-token"
    assert client.client.backoff_enabled is False
    assert client.client.read_timeout == settings.MUSICTRACKER["discogs"]["timeout_seconds"]
    assert client.client.connection_timeout


def test_client_waits_when_the_rate_limit_budget_is_spent(fake):
    sleeps = Sleeps()
    client = DiscogsClient("vinylfan", "good-token", sleep=sleeps)
    fake.remaining_override = 0
    client.identity()
    assert sleeps == []  # nothing known before the first answer
    client.identity()
    assert len(sleeps) == 1 and 55 <= sleeps[0] <= 60  # the moving minute frees a slot
    fake.remaining_override = 2
    client.identity()  # still waits: the last answer said 0 left
    client.identity()
    assert len(sleeps) == 3
    assert sleeps[-1] == pytest.approx(1.0)  # few left: spread out at 60 a minute


def test_client_answers_429_by_waiting_retry_after_then_continues(fake):
    sleeps = Sleeps()
    client = DiscogsClient("vinylfan", "good-token", sleep=sleeps)
    fake.storm, fake.retry_after = 2, "7"
    assert client.identity() == "vinylfan"
    assert sleeps == [7.0, 7.0]
    fake.storm, fake.retry_after = 1, None
    client.identity()
    assert sleeps[-1] == 60.0  # no Retry-After: a minute


# --- first sync -------------------------------------------------------------------------------


def test_first_sync_imports_every_record_with_details(fake, collector):
    own_samples(fake)
    result, job = run(collector)

    assert result.error == "" and job.status == Job.Status.DONE
    assert (result.added, result.removed, result.detailed) == (4, 0, 4)
    assert job.done == job.total and job.total > 0
    items = {i.discogs_release_id: i for i in CollectionItem.objects.filter(user=collector)}
    assert len(items) == 4 and all(i.is_detailed for i in items.values())

    lp, cd = items[2278869], items[1939549]
    assert lp.album_id == cd.album_id  # the LP and the CD: two copies of one album
    album = lp.album
    assert (album.title, album.year, album.discogs_master_id) == ("Abbey Road", 1969, 24047)
    assert album.artist_credit == "The Beatles"
    beatles = Artist.objects.get(name="The Beatles")
    assert beatles.discogs_id == 82730
    assert list(album.artists.all()) == [beatles]

    assert (lp.support, lp.format_details) == ("vinyl", "LP, Album, Stereo")
    assert (lp.label, lp.catalogue_number, lp.folder, lp.rating) == (
        "Apple Records",
        "PCS 7088",
        "Jazz shelf",
        5,
    )
    assert lp.notes == "Media Condition: Very Good Plus (VG+)\nBought in Paris"
    assert lp.added_at.isoformat() == "2017-06-22T12:11:56+00:00"
    assert (cd.support, cd.format_details, cd.folder) == (
        "cd",
        "Album, Reissue, Remastered, Enhanced",
        "Uncategorized",
    )
    assert cd.rating is None

    tracks = list(album.tracks.order_by("disc_number", "track_number"))
    titles = [t.title for t in tracks]
    assert "Side One" not in titles and "Abbey Road Medley" not in titles  # heading, index
    assert titles[:3] == ["Come Together", "Something", "Maxwell's Silver Hammer"]
    assert "Golden Slumbers" in titles and "Her Majesty" in titles
    assert len(titles) == len(set(titles)) == 8  # the CD's tracks are the LP's tracks
    come = tracks[0]
    assert (come.position, come.disc_number, come.track_number, come.duration) == ("A1", 1, 1, 260)
    slumbers = album.tracks.get(title="Golden Slumbers")
    assert (slumbers.position, slumbers.duration) == ("B2a", 91)

    meta = AlbumMetadata.objects.get(album=album)
    assert meta.genres == ["Rock"]
    assert meta.styles == ["Pop Rock", "Psychedelic Rock"]
    assert meta.labels == ["Apple Records", "EMI"]
    assert "PCS 7088" in meta.catalogue_numbers and "none" not in meta.catalogue_numbers
    images = Image.objects.filter(album=album, source=Image.Source.DISCOGS)
    assert {i.url for i in images} >= {
        "https://i.discogs.com/abbey-road-lp-600.jpg",
        "https://i.discogs.com/abbey-road-cd-600.jpg",
    }
    assert images.get(url="https://i.discogs.com/abbey-road-lp-600.jpg").width == 600
    assert album.cover_url == "https://i.discogs.com/abbey-road-lp-600.jpg"

    homogenic = items[41532]
    assert homogenic.format_details == "2×LP, Album, Reissue, 180g"
    discs = dict(homogenic.album.tracks.values_list("title", "disc_number"))
    assert discs == {
        "Hunter": 1,
        "Jóga": 1,
        "Unravel": 1,
        "Bachelorette": 2,
        "All Is Full Of Love": 2,
    }

    comp = items[987654]
    assert (comp.support, comp.label) == ("cassette", "Trikont")  # "(2)" cleaned
    assert comp.album.discogs_master_id is None and comp.album.discogs_release_id == 987654
    pushin = comp.album.tracks.get(title="Pushin' Too Hard")
    assert pushin.artist.name == "The Seeds"  # "The Seeds (2)", its variation "Seeds*" not used
    assert list(pushin.credits.values_list("artist__name", "role")) == [
        ("The Seeds", "main"),
        ("Sky Saxon", "featured"),
    ]
    assert (pushin.disc_number, pushin.track_number) == (1, 2)
    assert comp.album.tracks.get(title="Talk Talk").disc_number == 2


# --- re-sync ----------------------------------------------------------------------------------


def test_resync_adds_new_updates_changed_removes_gone_and_never_duplicates(fake, collector):
    bulk(fake, 250)
    result, job = run(collector)
    assert (result.added, result.detailed) == (250, 250)
    assert CollectionItem.objects.filter(user=collector).count() == 250

    gone = fake.instances[10]
    fake.remove(gone)
    fake.instances[0]["rating"] = 4
    bulk(fake, 2, start=250)
    fake.requests.clear()
    result, job = run(collector)

    assert (result.added, result.updated, result.removed, result.detailed) == (2, 1, 1, 2)
    assert job.status == Job.Status.DONE
    assert CollectionItem.objects.filter(user=collector).count() == 251
    assert not CollectionItem.objects.filter(discogs_instance_id=gone["instance_id"]).exists()
    assert (
        CollectionItem.objects.get(discogs_instance_id=fake.instances[0]["instance_id"]).rating == 4
    )
    # identity, profile, folders, fields, 3 pages, and the 2 new releases: nothing else
    assert fake.count("/releases/") == 2
    assert len(fake.requests) == 4 + 3 + 2
    assert Album.objects.count() == 252  # the removed copy's album stays in the catalogue


def test_second_sync_of_a_thousand_records_makes_about_ten_requests(fake, collector):
    fake.rate_limit = 100000
    bulk(fake, 100)
    for copy in range(9):  # 1,000 copies of 100 releases keep the first sync short
        for release in list(fake.releases.values())[:100]:
            fake.add(release, date_added=f"2022-01-01T00:{copy:02d}:00-08:00")
    result, _job = run(collector)
    assert (result.added, result.detailed) == (1000, 100)
    fake.requests.clear()
    result, job = run(collector)
    assert (result.added, result.removed, result.detailed) == (0, 0, 0)
    assert fake.count("/releases/") == 0
    assert len(fake.requests) == 4 + 10  # identity, profile, folders, fields and 10 pages
    assert CollectionItem.objects.filter(user=collector).count() == 1000
    assert Track.objects.count() == 200


# --- interrupted, resumed ---------------------------------------------------------------------


def test_network_failure_half_way_keeps_what_was_stored_and_the_next_run_resumes(fake, collector):
    bulk(fake, 250)
    fake.break_after = 4 + 2  # identity, profile, folders, fields, pages 1 and 2
    result, job = run(collector)

    assert job.status == Job.Status.FAILED
    assert "Could not reach Discogs" in job.message and "Nothing imported is lost" in job.message
    assert CollectionItem.objects.filter(user=collector).count() == 200
    assert job.state["page"] == 3 and job.state["phase"] == "list"

    fake.break_after = None
    fake.requests.clear()
    again, resumed = discogs_sync.queue_sync(collector)
    assert resumed and again.pk == job.pk
    result = discogs_sync.sync_collection(collector, again, sleep=Sleeps())
    again.refresh_from_db()
    assert again.status == Job.Status.DONE and again.state == {}
    pages = [r["query"]["page"] for r in fake.requests if r["path"].endswith("/releases")]
    assert pages == ["3"]  # resumed at the page after the last one stored
    assert CollectionItem.objects.filter(user=collector).count() == 250
    assert CollectionItem.objects.filter(user=collector, is_detailed=False).count() == 0
    assert result.removed == 0


def test_a_job_stuck_running_is_marked_interrupted_and_resumed(fake, collector):
    bulk(fake, 3)
    job = Job.objects.create(
        user=collector,
        kind=Job.Kind.DISCOGS_SYNC,
        status=Job.Status.RUNNING,
        state={"sync_started": "2026-01-01T00:00:00+00:00", "phase": "list", "page": 1},
    )
    Job.objects.filter(pk=job.pk).update(updated_at=utc(2026, 1, 1))
    again, start = discogs_sync.queue_sync(collector)
    assert start and again.pk == job.pk
    discogs_sync.sync_collection(collector, again, sleep=Sleeps())
    assert CollectionItem.objects.filter(user=collector).count() == 3


# --- errors -----------------------------------------------------------------------------------


def test_wrong_token_gives_a_clear_message(fake, collector):
    Profile.objects.filter(user=collector).update(discogs_token="nope")
    result, job = run(collector)
    assert job.status == Job.Status.FAILED
    assert "rejected the personal token (401" in job.message
    assert result.error == job.message


def test_unknown_user_gives_a_clear_message(fake, collector):
    Profile.objects.filter(user=collector).update(discogs_username="nobody-here")
    _result, job = run(collector)
    assert "404" in job.message and "nobody-here" in job.message


def test_private_collection_gives_a_clear_message(fake, collector):
    fake.private = True
    fake.other_tokens["someone-elses-token"] = "someone"
    Profile.objects.filter(user=collector).update(discogs_token="someone-elses-token")
    _result, job = run(collector)
    assert "403" in job.message and "private" in job.message


def test_missing_username_or_token_says_what_to_set(fake, user):
    _result, job = run(user)
    assert job.status == Job.Status.FAILED
    assert "Discogs username" in job.message
    assert fake.requests == []


def test_app_wide_token_is_the_fallback(fake, user, settings):
    Profile.objects.filter(user=user).update(discogs_username="vinylfan")
    settings.MUSICTRACKER["discogs"]["token"] = "good-token"
    bulk(fake, 2)
    result, job = run(user)
    assert job.status == Job.Status.DONE and result.added == 2


def test_429_storm_waits_and_finishes(fake, collector):
    bulk(fake, 3)
    fake.storm, fake.retry_after = 5, "30"
    sleeps = Sleeps()
    result, job = run(collector, sleeps)
    assert job.status == Job.Status.DONE and result.added == 3
    assert sleeps.count(30.0) == 5
    assert result.waited >= 150


def test_endless_429_stops_with_a_message_and_loses_nothing(fake, collector):
    bulk(fake, 150)
    fake.break_after = None
    result, job = run(collector)  # a first full sync
    bulk(fake, 120, start=150)
    # the next sync stores page 1 and 2, then Discogs answers 429 forever
    original = fake._route

    def route(path, query, who):
        if query.get("page") == "3":
            fake.storm = 100
            return 429, {"message": "You are making requests too quickly."}
        return original(path, query, who)

    fake._route = route
    result, job = run(collector)
    assert job.status == Job.Status.FAILED
    assert "too many requests" in job.message and "429" in job.message
    assert CollectionItem.objects.filter(user=collector).count() == 200 + 0  # pages 1–2 kept
    assert job.state["page"] == 3


def test_command_shows_progress_and_errors(fake, collector, capsys):
    own_samples(fake)
    call_command("sync_discogs", "--user", collector.username)
    out = capsys.readouterr()
    assert "4 added" in out.out
    Profile.objects.filter(user=collector).update(discogs_token="bad")
    with pytest.raises(CommandError, match="rejected the personal token"):
        call_command("sync_discogs", "--user", collector.username)
    with pytest.raises(CommandError, match="No user named"):
        call_command("sync_discogs", "--user", "ghost")


def test_eta_counts_rate_limit_waits(fake, collector):
    bulk(fake, 130)
    seen = []
    job, _ = discogs_sync.queue_sync(collector)
    discogs_sync.sync_collection(
        collector, job, sleep=Sleeps(), progress=lambda j: seen.append(dict(j.state))
    )
    etas = [s["eta_seconds"] for s in seen if "eta_seconds" in s]
    # 130 tracklists to fetch at 60 a minute: more than a minute left after the listing
    assert max(etas) >= 60
    assert job.eta is None  # finished
