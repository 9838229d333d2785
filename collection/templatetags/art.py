"""Pictures of artists and albums: a sized, lazy-loaded <img>, or a placeholder of initials on a
colour derived from the name, so a page never shows a grey square nor jumps while loading.

    {% load art %}
    {% album_cover album 64 %}     {% artist_image artist 160 %}
    {% cover_for url=listen.album.cover_url name=listen.album.title size=48 %}
"""

from __future__ import annotations

import hashlib

from django import template
from django.utils.html import format_html

register = template.Library()

# Hues chosen to stay readable with white initials in both themes.
_PALETTE = [
    "#5b3df5",
    "#c2185b",
    "#00796b",
    "#ef6c00",
    "#1565c0",
    "#6a1b9a",
    "#2e7d32",
    "#ad1457",
    "#4e342e",
    "#37474f",
]


def initials(name: str) -> str:
    words = [w for w in (name or "?").replace("&", " ").split() if w[:1].isalnum()]
    if not words:
        return "?"
    if len(words) == 1:
        return words[0][:2].upper()
    return (words[0][0] + words[-1][0]).upper()


def colour(name: str) -> str:
    digest = hashlib.md5((name or "").encode(), usedforsecurity=False).digest()
    return _PALETTE[digest[0] % len(_PALETTE)]


def sized_url(url: str, size: int) -> str:
    """The same picture at about the size shown, where the source lets us ask for one."""
    if (
        "coverartarchive.org" in url
        and url.endswith((".jpg", ".png"))
        and "-" not in url.rsplit("/", 1)[-1]
    ):
        # Cover Art Archive serves 250/500/1200 px thumbnails beside the original.
        step = 250 if size <= 125 else 500 if size <= 250 else 1200
        return url.rsplit(".", 1)[0] + f"-{step}.jpg"
    if "i.scdn.co/image/" in url:
        return _spotify_sized(url, size)
    if "dzcdn.net" in url or "api.deezer.com" in url:
        px = 250 if size <= 125 else 500 if size <= 250 else 1000
        return url.replace("1000x1000", f"{px}x{px}").replace("500x500", f"{px}x{px}")
    return url


# Spotify's image ids start with a 16-character prefix naming the size; the rest is the picture.
# Album covers: 640 / 300 / 64 px; artist pictures: 640 / 320 / 160 px.
_SPOTIFY_SIZES = [
    {"ab67616d0000b273": 640, "ab67616d00001e02": 300, "ab67616d00004851": 64},
    {"ab6761610000e5eb": 640, "ab67616100005174": 320, "ab6761610000f178": 160},
]


def _spotify_sized(url: str, size: int) -> str:
    """The smallest Spotify variant at least `size` px (the largest when none is)."""
    head, _, image_id = url.rpartition("/")
    prefix = image_id[:16]
    for family in _SPOTIFY_SIZES:
        if prefix in family:
            fitting = [(px, p) for p, px in family.items() if px >= size]
            px, best = min(fitting) if fitting else max((px, p) for p, px in family.items())
            return f"{head}/{best}{image_id[16:]}"
    return url


@register.simple_tag
def cover_for(
    *, url: str = "", name: str = "", size: int = 64, round: bool = False, alt: str | None = None
):
    size = int(size)
    cls = "art round" if round else "art"
    label = name if alt is None else alt
    if url:
        return format_html(
            '<img class="{}" src="{}" alt="{}" width="{}" height="{}" loading="lazy" decoding="async">',
            cls,
            sized_url(url, size),
            label,
            size,
            size,
        )
    return format_html(
        '<span class="{} placeholder-art" style="width:{}px;height:{}px;background:{};font-size:{}px"'
        ' role="img" aria-label="{}">{}</span>',
        cls,
        size,
        size,
        colour(name),
        max(10, size // 3),
        label,
        initials(name),
    )


@register.simple_tag
def album_cover(album, size: int = 64):
    if album is None:
        return cover_for(url="", name="♪", size=size, alt="")
    return cover_for(url=album.cover_url, name=album.title, size=size, alt=f"{album.title}")


@register.simple_tag
def artist_image(artist, size: int = 64):
    return cover_for(url=artist.image_url, name=artist.name, size=size, round=True, alt=artist.name)
