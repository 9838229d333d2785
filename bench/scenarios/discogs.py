"""Scenarios of the Discogs sync: the pages that show it, and storing a page of 100 records
(the work one collection page costs, network aside) into a catalogue of a million listens."""

import time

from bench.context import Scenario
from collection.catalogue import Catalogue
from collection.discogs_sync import store_page


def settings_page(ctx):
    assert ctx.client.get("/settings/").status_code == 200


def sync_panel(ctx):
    r = ctx.client.get("/collection/discogs/sync/", headers={"HX-Request": "true"})
    assert r.status_code == 200


def store_100_records(ctx):
    n = ctx.cache.setdefault("discogs_round", 0)
    ctx.cache["discogs_round"] = n + 1
    # Release ids no earlier run stored in this database copy (a rerun found its records there).
    base = ctx.cache.setdefault("discogs_base", 100_000_000 + time.time_ns() // 1000 % 10**6 * 1000)
    page = []
    for i in range(100):
        rid = base + n * 100 + i
        page.append(
            {
                "id": rid,
                "instance_id": rid,
                "folder_id": 1,
                "rating": 0,
                "date_added": "2024-01-01T00:00:00-08:00",
                "basic_information": {
                    "id": rid,
                    "master_id": rid,
                    "title": f"Bench record {rid}",
                    "year": 2001,
                    "artists": [
                        {"name": f"Bench band {i % 20}", "id": 80_000 + i % 20, "join": ""}
                    ],
                    "formats": [{"name": "Vinyl", "qty": "1", "descriptions": ["LP", "Album"]}],
                    "labels": [{"name": "Label (2)", "catno": f"B-{rid}"}],
                    "genres": ["Rock"],
                    "styles": ["Indie Rock"],
                    "cover_image": f"https://i.discogs.com/{rid}.jpg",
                },
            }
        )
    from django.db import transaction

    with transaction.atomic():
        added, _ = store_page(ctx.user, page, {1: "Uncategorized"}, {}, cat=Catalogue())
    assert added == 100


SCENARIOS = [
    Scenario("discogs: settings page with the Discogs section", settings_page, target_ms=300),
    Scenario("discogs: sync panel fragment", sync_panel, target_ms=200),
    Scenario("discogs: store a page of 100 records", store_100_records, target_ms=1000, runs=10),
]
