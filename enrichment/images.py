"""What the image clients return, and the one matching rule they share."""

from __future__ import annotations

from dataclasses import dataclass

from collection.normalize import album_title_key, name_key


class Unreachable(Exception):
    """Mixed into a client's error when the service cannot be reached at all: the rest of the
    run skips it instead of trying every artist in turn."""


@dataclass(frozen=True)
class FoundImage:
    url: str
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class Match:
    """A search result whose name matched: the service's id and page, and its pictures."""

    id: str
    url: str
    name: str
    images: tuple[FoundImage, ...]


def same_artist(a: str, b: str) -> bool:
    return bool(a) and name_key(a) == name_key(b)


def same_album(a: str, b: str) -> bool:
    """Titles match when equal after dropping edition suffixes ("Remastered 2009")."""
    return bool(a) and album_title_key(a) == album_title_key(b)
