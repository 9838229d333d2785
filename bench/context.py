"""What scenarios get: the benchmark user, a signed-in test client, and handy ids."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.test import Client


@dataclass
class Scenario:
    name: str
    fn: Any  # callable(ctx) -> None; should raise if the answer is wrong (e.g. a non-200)
    target_ms: float | None = None  # p95 target, when the issue sets one
    runs: int | None = None  # override --runs (slow scenarios)


@dataclass
class Context:
    user: Any
    client: Client
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    cache: dict = field(default_factory=dict)

    @classmethod
    def create(cls) -> Context:
        user = get_user_model().objects.get(username="bench")
        client = Client()
        client.force_login(user)
        return cls(user=user, client=client)

    def get(self, url: str, **kw):
        response = self.client.get(url, **kw)
        if response.status_code != 200:
            raise AssertionError(f"GET {url} answered {response.status_code}")
        return response
