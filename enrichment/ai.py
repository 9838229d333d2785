"""The AI service: any OpenAI-compatible chat-completions API (Infomaniak's EurIA by default, a
local Ollama or llama.cpp by changing `ai.base_url` and `ai.model`).

Reusable entry point for every AI feature of the app (playlists, analytics, album notes):

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
timeout on a timeout, "malformed JSON twice: …") and counts requests and failures in
`enrichment.models.AiUsage`, which Settings shows. Call it from a task, never from a view.

Configuration: `ai.base_url` (`{product_id}` is replaced by `ai.product_id`), `ai.model`,
`ai.api_key` (Bearer; not needed for a server on localhost), `ai.timeout_seconds`, `ai.max_tokens`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import requests

from musictracker import config, metrics

log = logging.getLogger(__name__)


class AiError(Exception):
    """The AI service could not give a usable answer."""


class AiNotConfigured(AiError):
    pass


@dataclass(frozen=True)
class AiAnswer:
    data: dict[str, Any]
    model: str


def missing() -> list[dict[str, str]]:
    """The configuration keys still needed (empty when the AI can be called)."""
    base = config.get("ai.base_url", "") or ""
    keys = ["ai.base_url", "ai.model"]
    if "{product_id}" in base:
        keys.append("ai.product_id")
    host = urlparse(base.replace("{product_id}", "x")).hostname or ""
    if host not in {"localhost", "127.0.0.1", "::1"}:
        keys.append("ai.api_key")
    return config.missing(*keys)


class AiClient:
    def __init__(
        self, *, base_url: str, model: str, api_key: str = "", timeout: float = 60, max_tokens=1200
    ):
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.api_key = api_key
        self.timeout = timeout
        self.max_tokens = max_tokens
        self.session = requests.Session()

    @classmethod
    def from_config(cls) -> AiClient:
        if missing():
            raise AiNotConfigured(
                "AI not configured: set " + ", ".join(m["key"] for m in missing())
            )
        base = config.get("ai.base_url").replace("{product_id}", str(config.get("ai.product_id")))
        return cls(
            base_url=base,
            model=config.get("ai.model"),
            api_key=config.get("ai.api_key", ""),
            timeout=float(config.get("ai.timeout_seconds", 60)),
            max_tokens=int(config.get("ai.max_tokens", 1200)),
        )

    def complete(self, messages: list[dict], *, temperature: float = 0.4) -> tuple[str, str]:
        """One chat completion: (content, model)."""
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        body = {
            "model": self.model,
            "messages": messages,
            "temperature": temperature,
            "max_tokens": self.max_tokens,
            "response_format": {"type": "json_object"},
        }
        try:
            resp = self.session.post(self.url, json=body, headers=headers, timeout=self.timeout)
        except requests.Timeout:
            metrics.inc("external_requests_total", service="ai", status="timeout")
            raise AiError(f"the AI service did not answer within {self.timeout:g} s") from None
        except requests.RequestException as exc:
            metrics.inc("external_requests_total", service="ai", status="error")
            raise AiError(f"the AI service is unreachable ({exc.__class__.__name__})") from None
        metrics.inc("external_requests_total", service="ai", status=resp.status_code)
        if resp.status_code == 401:
            raise AiError("the AI service refused the key (401): check ai.api_key")
        if resp.status_code == 404:
            raise AiError(f"the AI service answered 404 at {self.url}: check ai.base_url")
        if resp.status_code >= 400:
            raise AiError(f"the AI service answered HTTP {resp.status_code}: {_detail(resp)}")
        try:
            payload = resp.json()
            content = payload["choices"][0]["message"]["content"] or ""
        except (ValueError, KeyError, IndexError, TypeError):
            raise AiError("the AI service's answer is not a chat completion") from None
        return content, payload.get("model") or self.model


def _detail(resp) -> str:
    try:
        error = resp.json().get("error")
        return (error.get("message") if isinstance(error, dict) else str(error))[:200]
    except (ValueError, AttributeError):
        return resp.text[:200]


def parse_json_object(content: str, required: Sequence[str] = ()) -> dict[str, Any]:
    """The JSON object in an answer (tolerating ```json fences); ValueError when malformed."""
    text = content.strip()
    if text.startswith("```"):
        text = text.strip("`")
        text = text[4:] if text.lower().startswith("json") else text
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end < start:
        raise ValueError("no JSON object in the answer")
    data = json.loads(text[start : end + 1])
    if not isinstance(data, dict):
        raise ValueError("the answer is not a JSON object")
    absent = [k for k in required if k not in data]
    if absent:
        raise ValueError("missing keys: " + ", ".join(absent))
    return data


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
            content, model = client.complete(convo, temperature=temperature)
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
