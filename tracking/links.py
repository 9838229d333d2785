"""Links out to other services for a listen: built from names and stored ids, never fetched."""

from __future__ import annotations

from urllib.parse import quote, quote_plus


def _lastfm_part(name: str) -> str:
    # Last.fm paths use "+" for spaces and percent-encode the rest (a literal "+" becomes %2B).
    return quote_plus(name or "", safe="")


def links_out(*, artist: str, track: str, album=None) -> list[tuple[str, str]]:
    """(service, url) pairs: the exact page when an id is known, else a search."""
    query = f"{artist} {track}".strip()
    album_query = f"{artist} {album.title}" if album is not None else query
    spotify = (
        album.spotify_url
        if album is not None and album.spotify_url
        else f"https://open.spotify.com/search/{quote(query, safe='')}"
    )
    if album is not None and album.discogs_release_id:
        discogs = f"https://www.discogs.com/release/{album.discogs_release_id}"
    elif album is not None and album.discogs_master_id:
        discogs = f"https://www.discogs.com/master/{album.discogs_master_id}"
    else:
        discogs = f"https://www.discogs.com/search/?q={quote_plus(album_query)}&type=all"
    lastfm = f"https://www.last.fm/music/{_lastfm_part(artist)}/_/{_lastfm_part(track)}"
    return [
        ("Spotify", spotify),
        ("Apple Music", f"https://music.apple.com/search?term={quote_plus(query)}"),
        ("Discogs", discogs),
        ("Last.fm", lastfm),
    ]
