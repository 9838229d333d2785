"""Settings sections of the wiring layer."""

from __future__ import annotations


def health(request) -> dict | None:
    """The install's health, for administrators only."""
    if not request.user.is_staff:
        return None
    from musictracker.health import check

    return {"template": "settings/_health.html", "health": check()}
