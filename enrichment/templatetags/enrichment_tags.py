"""Template helpers of enrichment (formatting only, no queries)."""

from __future__ import annotations

import re

from django import template

register = template.Library()

_DEEZER_SIZE = re.compile(r"/\d+x\d+-[^/]*$")


def _picture_key(image) -> tuple[str, str]:
    """The same picture at several sizes shares a key (Spotify's id after its size prefix,
    Deezer's path before its WxH file name)."""
    url = image.url
    if "i.scdn.co/image/" in url:
        return image.source, url.rsplit("/", 1)[-1][16:]
    if "dzcdn.net" in url:
        return image.source, _DEEZER_SIZE.sub("", url)
    return image.source, url


@register.filter
def distinct_pictures(images):
    """One choice per picture: its largest size (a chosen row always stays)."""
    best: dict[tuple[str, str], object] = {}
    for image in images:
        key = _picture_key(image)
        kept = best.get(key)
        area = (image.width or 0) * (image.height or 0)
        if (
            kept is None
            or image.is_chosen
            or (not kept.is_chosen and area > (kept.width or 0) * (kept.height or 0))
        ):
            best[key] = image
    return list(best.values())
