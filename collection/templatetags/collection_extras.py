"""Formatting filters of the collection pages (they format; they never query)."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def duration(seconds) -> str:
    """3:07, or 1:02:03 past an hour; empty when unknown."""
    try:
        seconds = int(seconds or 0)
    except (TypeError, ValueError):
        return ""
    if seconds <= 0:
        return ""
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


@register.filter
def percent_of(value, peak) -> int:
    """value as a whole percentage of peak (for bar widths), 0 when peak is 0."""
    try:
        return round(100 * int(value) / int(peak)) if int(peak) else 0
    except (TypeError, ValueError):
        return 0
