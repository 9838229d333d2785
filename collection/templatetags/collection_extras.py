"""Formatting filters of the collection pages (they format; they never query)."""

from __future__ import annotations

from functools import lru_cache

from django import template
from django.urls import get_script_prefix, reverse
from django.utils.formats import number_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import get_language, ngettext

from collection.templatetags.art import album_cover

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


@lru_cache(maxsize=8)
def _url_prefix(name: str, script_prefix: str) -> str:
    return reverse(name, args=[0])[: -len("0/")]


@register.filter
def album_url(pk) -> str:
    """{% url 'collection:album-detail' pk %} without a URL resolution per row of a long list."""
    return f"{_url_prefix('collection:album-detail', get_script_prefix())}{int(pk)}/"


@register.filter
def artist_url(pk) -> str:
    return f"{_url_prefix('collection:artist-detail', get_script_prefix())}{int(pk)}/"


@lru_cache(maxsize=4096)
def _plays_label(language: str, n: int) -> str:
    return ngettext("%(plays)s play", "%(plays)s plays", n) % {
        "plays": number_format(n, force_grouping=True)
    }


@register.filter(name="plays")
def plays_label(n) -> str:
    """ "1 play", "1,234 plays", translated and grouped, cached per language and number."""
    return _plays_label(get_language() or "", int(n or 0))


@register.simple_tag
def album_card(album, size: int = 200, *, formats=(), plays=0, artist: bool = True):
    """One cover card of a grid (<li>): cover, title, artist, year, formats and plays.

    A grid shows up to a few hundred of these, so the card is built here in one pass rather
    than through a dozen template nodes per card (about ten times faster)."""
    url = album_url(album.pk)
    meta = format_html_join("", '<span class="badge">{}</span>', ((f,) for f in formats))
    return format_html(
        '<li class="cover-card"><a href="{}" class="cover-link"><span class="cover-art" aria-hidden="true">{}'
        '</span><span class="cover-title">{}</span></a>{}'
        '<span class="cover-meta">{}{}<span class="plays">{}</span></span></li>',
        url,
        album_cover(album, size),
        album.title,
        format_html('<span class="cover-artist">{}</span>', album.artist_credit)
        if artist and album.artist_credit
        else "",
        format_html("<span>{}</span>", album.year) if album.year else "",
        meta,
        plays_label(plays),
    )
