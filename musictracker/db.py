"""Small database helpers shared by the bulk writers."""

from __future__ import annotations

from datetime import UTC, date, datetime

from django.db import connection


def adapt_datetime(value: datetime):
    """A timestamp as the backend stores it, several times faster than Django's adapter on the
    hot paths (imports, rollups): SQLite keeps naive UTC text, PostgreSQL takes the object."""
    if connection.vendor == "sqlite":
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
    return value


def adapt_date(value: date):
    if connection.vendor == "sqlite":
        return value.isoformat()
    return value


def optimize() -> None:
    """Refresh the planner's statistics after a large write (PERFORMANCE-NOTES rule 4)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA optimize")
        else:
            cursor.execute("ANALYZE")
