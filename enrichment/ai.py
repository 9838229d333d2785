"""AI calls of enrichment: JSON answers (`chat_json`) and album notes, through the one AI client
(musictracker/ai.py: configuration, retries, errors), counted in `enrichment.models.AiUsage`.

    from enrichment import ai

    if ai.missing():                      # [] when configured; else what to set (config.missing)
        ...                               # show the hint, do not call
    answer = ai.chat_json(
        [{"role": "system", "content": "You suggest playlists."},
         {"role": "user", "content": "Ten calm tracks for a rainy Sunday"}],
        schema_hint={"tracks": [{"artist": "string", "title": "string"}]},
        required=["tracks"],
    )
    answer.data["tracks"]; answer.model    # the parsed JSON object, and the model that wrote it

`chat_json` asks for a JSON object (`response_format={"type": "json_object"}` plus the schema
hint in the system message), parses and checks the `required` keys, and retries once when the
answer is malformed. It raises `AiError` (with a readable message: "check ai.api_key" on a 401, the
timeout on a timeout, "malformed JSON twice: …"). Call it from a task, never from a view.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from musictracker.ai import AiClient, AiError, AiNotConfigured, missing, parse_json_object

__all__ = ["AiAnswer", "AiClient", "AiError", "AiNotConfigured", "chat_json", "missing"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AiAnswer:
    data: dict[str, Any]
    model: str


def chat_json(
    messages: list[dict],
    schema_hint: dict | str,
    *,
    required: Sequence[str] = (),
    client: AiClient | None = None,
    temperature: float = 0.4,
) -> AiAnswer:
    """Ask for a JSON object; retry once when malformed; count requests and failures."""
    from enrichment.models import AiUsage

    client = client or AiClient.from_config()
    hint = schema_hint if isinstance(schema_hint, str) else json.dumps(schema_hint)
    system = {
        "role": "system",
        "content": "Answer with one JSON object only, no prose around it, of this shape: " + hint,
    }
    convo = [system, *messages]
    problem = ""
    for _attempt in range(2):
        AiUsage.bump(AiUsage.REQUESTS)
        try:
            answer = client.complete(convo, temperature=temperature, json_object=True)
            content, model = answer.text, answer.model
        except AiError:
            AiUsage.bump(AiUsage.FAILURES)
            raise
        try:
            return AiAnswer(data=parse_json_object(content, required), model=model)
        except ValueError as exc:
            problem = str(exc)
            log.info("AI answer malformed (%s), asking again", problem)
            convo = [
                *convo,
                {"role": "assistant", "content": content[:2000]},
                {
                    "role": "user",
                    "content": f"That was not valid ({problem}). Answer again with the JSON "
                    "object only.",
                },
            ]
    AiUsage.bump(AiUsage.FAILURES)
    raise AiError(f"the AI answered malformed JSON twice ({problem})")


# --- Album notes -------------------------------------------------------------------------------

ALBUM_NOTES_PROMPT = """You write short, accurate liner notes for a personal music library.
Album: "{title}" by {artist}{year}.{tracks}
Write in {language}:
- "summary": one line (at most 25 words) that says what this album is;
- "description": two to four short paragraphs (separated by a blank line) on its context, its
  sound, and its place in the artist's work. Do not invent facts: when unsure, stay general.
- "is_soundtrack": true only if this album is the soundtrack of a film;
- "film": for a film soundtrack {{"title": ..., "year": ..., "director": ...}}, otherwise null."""

ALBUM_NOTES_SCHEMA = {
    "summary": "string",
    "description": "string",
    "is_soundtrack": "boolean",
    "film": {"title": "string", "year": "integer", "director": "string"},
}

LANGUAGE_NAMES = {"en": "English", "fr": "French", "de": "German", "it": "Italian", "es": "Spanish"}


@dataclass(frozen=True)
class AlbumNotes:
    summary: str
    description: str
    film_title: str
    film_year: int | None
    film_director: str
    model: str


def album_notes(
    *,
    title: str,
    artist: str,
    year: int | None,
    language: str,
    tracks: Sequence[str] = (),
    client: AiClient | None = None,
) -> AlbumNotes:
    """Notes for one album, validated; AiError when the AI cannot give them."""
    prompt = ALBUM_NOTES_PROMPT.format(
        title=title,
        artist=artist or "various artists",
        year=f" ({year})" if year else "",
        tracks=(" Tracks: " + "; ".join(tracks[:20]) + ".") if tracks else "",
        language=LANGUAGE_NAMES.get(language[:2], language or "English"),
    )
    answer = chat_json(
        [{"role": "user", "content": prompt}],
        ALBUM_NOTES_SCHEMA,
        required=["summary", "description"],
        client=client,
    )
    data = answer.data
    summary, description = data.get("summary"), data.get("description")
    if not isinstance(summary, str) or not summary.strip():
        raise AiError("the AI gave no summary")
    if not isinstance(description, str) or not description.strip():
        raise AiError("the AI gave no description")
    film = data.get("film") if data.get("is_soundtrack") else None
    film = film if isinstance(film, dict) else {}
    try:
        film_year = int(film.get("year")) if film.get("year") else None
    except (TypeError, ValueError):
        film_year = None
    if film_year is not None and not 1880 <= film_year <= 2100:
        film_year = None
    return AlbumNotes(
        summary=summary.strip()[:500],
        description=description.strip(),
        film_title=str(film.get("title") or "")[:300],
        film_year=film_year,
        film_director=str(film.get("director") or "")[:300],
        model=answer.model[:100],
    )
