"""Formatting filters of the Analytics pages (they format; they never query)."""

from __future__ import annotations

from django import template

from tracking.charts import duration as _duration

register = template.Library()


@register.filter
def duration(seconds) -> str:
    return _duration(int(seconds or 0))


@register.filter
def signed(value) -> str:
    """+3 / −2 / 0, for rank and percentage changes."""
    if value is None:
        return ""
    if value > 0:
        return f"+{value:g}"
    if value < 0:
        return f"−{abs(value):g}"
    return "0"


@register.filter
def get(mapping, key):
    return mapping.get(key) if mapping else None
