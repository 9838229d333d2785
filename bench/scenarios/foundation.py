"""Scenarios of the foundation: the Journal's placeholder and the admin's listen list."""

from bench.context import Scenario
from tracking.models import Listen


def journal(ctx):
    ctx.get("/journal/")


def admin_listens(ctx):
    if not ctx.user.is_superuser:
        ctx.user.is_superuser = ctx.user.is_staff = True
        ctx.user.save()
    ctx.get("/admin/tracking/listen/")


def latest_50_listens(ctx):
    rows = list(
        Listen.objects.filter(user=ctx.user)
        .select_related("track", "artist", "album")
        .order_by("-listened_at")[:50]
    )
    assert len(rows) == 50


SCENARIOS = [
    Scenario("foundation: journal placeholder page", journal),
    Scenario("foundation: admin listen list", admin_listens),
    Scenario("foundation: query latest 50 listens", latest_50_listens),
]
