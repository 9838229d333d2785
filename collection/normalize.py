"""Matching rules for names and titles: what makes two spellings one artist, album or track.

- `name_key`: Unicode NFKC, case-folded, typographic quotes and dashes made plain, whitespace
  collapsed. "The Beatles" and "the  beatles" share a key; "Beyonce" and "Beyoncé" do not (an
  ArtistAlias joins them), since accents can tell artists apart.
- `search_key`: `name_key` with accents folded away, for search only ("bjork" finds Björk).
- `album_title_key`: `name_key` without edition suffixes, so "Abbey Road (Remastered 2009)",
  "Abbey Road [Deluxe Edition]" and "Abbey Road - 2019 Mix" are the same album. A suffix is dropped
  when it is a trailing (...) or [...] group, or a " - ..." tail, whose words are all edition words
  (configuration `catalogue.edition_patterns`), years, or filler ("the", "edition", "version").
- `track_title_key`: likewise for " - Remastered 2009" style tails on track titles. "(Live)" and
  "(Acoustic)" stay: they are other recordings.
- `split_credit`: "A feat. B", "A & B", "A, B" → main and featured artists, by the separators in
  `catalogue.featured_separators` and `catalogue.artist_separators`; names listed in
  `catalogue.never_split` (and, in the resolver, names already known as one artist) stay whole.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u00b4": "'",
        "`": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\x00": None,
    }
)
_SPACES = re.compile(r"\s+")
_FOLD_EXTRA = str.maketrans({"ø": "o", "đ": "d", "ł": "l", "æ": "ae", "œ": "oe", "þ": "th"})


@lru_cache(maxsize=200_000)
def name_key(name: str) -> str:
    # (_QUOTES also drops NUL, which no name means and PostgreSQL refuses in a query)
    text = unicodedata.normalize("NFKC", name or "").translate(_QUOTES).casefold()
    return _SPACES.sub(" ", text).strip()


@lru_cache(maxsize=200_000)
def search_key(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name_key(text))
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return stripped.translate(_FOLD_EXTRA)


def _config(name: str, default):
    try:
        from musictracker import config

        value = config.get(f"catalogue.{name}")
    except Exception:  # settings not configured (a plain script): fall back to defaults
        value = None
    return value if value is not None else default


_FILLER = {"the", "a", "edition", "version", "mix", "remix"}
_TRAILING_GROUP = re.compile(r"\s*[\(\[]([^\(\)\[\]]*)[\)\]]\s*$")
_DASH_TAIL = re.compile(r"\s+-\s+([^-]+)$")
_YEAR = re.compile(r"^(19|20)\d\d$")


def _edition_words() -> frozenset[str]:
    words: set[str] = set()
    for pattern in _config("edition_patterns", ["remaster", "remastered", "deluxe", "edition"]):
        words.update(name_key(pattern).split())
    return frozenset(words)


def _is_edition(group: str, words: frozenset[str]) -> bool:
    # "collector's" counts as "collector"
    tokens = [t.removesuffix("'s") for t in re.split(r"[\s/,;:.\-]+", name_key(group)) if t]
    if not tokens:
        return False
    has_edition_word = any(t in words for t in tokens)
    # "(2019 Mix)", "- 2009 Version": a year with a filler word is an edition too.
    dated = any(_YEAR.match(t) for t in tokens) and any(t in _FILLER for t in tokens)
    return (has_edition_word or dated) and all(
        t in words
        or t in _FILLER
        or _YEAR.match(t)
        or t.isdigit()
        or re.match(r"^\d+(st|nd|rd|th)$", t)
        for t in tokens
    )


@lru_cache(maxsize=200_000)
def album_title_key(title: str) -> str:
    return _strip_editions(title, groups=True)


@lru_cache(maxsize=200_000)
def track_title_key(title: str) -> str:
    return _strip_editions(title, groups=True)


def _strip_editions(title: str, *, groups: bool) -> str:
    words = _edition_words()
    text = name_key(title)
    while True:
        match = _TRAILING_GROUP.search(text) if groups else None
        if match and _is_edition(match.group(1), words):
            text = text[: match.start()].rstrip()
            continue
        match = _DASH_TAIL.search(text)
        if match and _is_edition(match.group(1), words):
            text = text[: match.start()].rstrip()
            continue
        break
    return text or name_key(title)


def _separator_pattern(separators: list[str], *, featured: bool) -> re.Pattern[str]:
    parts = []
    for sep in sorted(separators, key=len, reverse=True):
        if featured:
            # "feat." must stand as a word: "Defeat" and "Ftw" are not separators.
            parts.append(r"(?:^|(?<=[\s\(\[]))" + re.escape(sep) + r"(?=\s)")
        else:
            parts.append(re.escape(sep))
    return re.compile("|".join(parts), re.IGNORECASE)


@lru_cache(maxsize=4)
def _patterns(featured: tuple[str, ...], separators: tuple[str, ...]):
    return (
        _separator_pattern(list(featured), featured=True),
        _separator_pattern(list(separators), featured=False),
    )


def _rules():
    featured = tuple(_config("featured_separators", ["feat.", "ft.", "featuring"]))
    separators = tuple(_config("artist_separators", [" & ", ", "]))
    never = frozenset(name_key(n) for n in _config("never_split", []))
    return featured, separators, never


def split_credit(
    credit: str, *, known: frozenset[str] | set[str] = frozenset()
) -> list[tuple[str, str]]:
    """Split an artist credit into [(name, role)], role "main" or "featured", in credited order.

    `known` holds name keys of artists that exist whole (so "Simon & Garfunkel" stays one).
    """
    credit = _SPACES.sub(" ", (credit or "").strip())
    if not credit:
        return []
    featured_seps, separators, never = _rules()
    feat_re, sep_re = _patterns(featured_seps, separators)
    keep_whole = never | set(known)
    if name_key(credit) in keep_whole:
        return [(credit, "main")]

    main_part, featured_part = credit, ""
    match = feat_re.search(credit)
    if match and match.start() > 0:
        main_part = credit[: match.start()].rstrip(" ([")
        featured_part = credit[match.end() :].strip().strip("()[] ")
    out: list[tuple[str, str]] = []
    for part, role in ((main_part, "main"), (featured_part, "featured")):
        if not part:
            continue
        if name_key(part) in keep_whole:
            names = [part]
        else:
            names = [n.strip() for n in sep_re.split(part) if n.strip()]
        for name in names:
            if all(name_key(name) != name_key(seen) for seen, _ in out):
                out.append((name, role))
    return out or [(credit, "main")]


_TITLE_FEAT = re.compile(
    r"[\(\[]\s*(?:feat\.?|ft\.?|featuring|with)\s+([^\)\]]+)[\)\]]", re.IGNORECASE
)


def featured_in_title(title: str) -> list[str]:
    """Artists named in a title's "(feat. X & Y)" group."""
    match = _TITLE_FEAT.search(title or "")
    if not match:
        return []
    return [name for name, _ in split_credit(match.group(1))]
