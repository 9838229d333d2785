"""Template helpers of the Journal and Timeline pages."""

from __future__ import annotations

from django import template

from collection.templatetags.art import album_cover

register = template.Library()


@register.simple_tag(takes_context=True)
def listen_cover(context, album, size: int = 48):
    """`{% album_cover %}`, rendered once per album and size for the whole page: a day of
    listens repeats the same few albums hundreds of times."""
    memo = context.render_context.setdefault("listen_cover", {})
    key = (getattr(album, "pk", None), size)
    html = memo.get(key)
    if html is None:
        html = memo[key] = album_cover(album, size)
    return html
