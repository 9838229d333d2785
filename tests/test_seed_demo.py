import pytest
from django.core.management import call_command

from collection.models import Artist, CollectionItem, TrackArtist
from tests.test_listens import snapshot
from tracking import listens as listens_mod
from tracking.models import Listen, LovedTrack

pytestmark = pytest.mark.django_db


def test_seed_demo_builds_a_living_history(user):
    call_command(
        "seed_demo", "--user", "alice", "--listens", "3000", "--artists", "60", "--years", "2"
    )
    assert Listen.objects.filter(user=user).count() == 3000
    assert (
        Artist.objects.filter(name__contains="é").exists()
        or Artist.objects.filter(name__contains="ó").exists()
    )
    assert TrackArtist.objects.filter(role="featured").exists()
    assert LovedTrack.objects.filter(user=user).exists()
    assert CollectionItem.objects.filter(user=user).count() >= 10
    hours = dict(
        Listen.objects.filter(user=user)
        .values_list("local_hour")
        .annotate(n=__import__("django.db.models", fromlist=["Count"]).Count("id"))
    )
    assert hours.get(20, 0) > hours.get(4, 0)  # evenings busier than the small hours
    span = Listen.objects.filter(user=user).order_by("listened_at")
    assert (span.last().listened_at - span.first().listened_at).days > 300
    before = snapshot(user)
    listens_mod.rebuild_rollups(user)
    assert snapshot(user) == before


def test_seed_demo_twice_adds_nothing(user):
    call_command("seed_demo", "--user", "alice", "--listens", "500", "--artists", "40")
    call_command("seed_demo", "--user", "alice", "--listens", "500", "--artists", "40")
    assert Listen.objects.filter(user=user).count() == 500


def test_seed_demo_creates_a_missing_user(db):
    call_command("seed_demo", "--user", "newbie", "--listens", "100", "--artists", "30")
    assert Listen.objects.filter(user__username="newbie").count() == 100
