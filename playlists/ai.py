"""AI playlists: a sentence from the user, a compact list of candidate tracks from their own
library sized to the model's context, and an answer of track ids that is checked before use.

The HTTP call is an OpenAI-compatible `POST {ai.base_url}/chat/completions` with a Bearer key,
made with requests here because enrichment's shared AI client was not on main when playlists
landed; `chat()` is the one function to swap for it. Only the background task calls this module
(views queue `playlists.tasks.generate_ai_playlist`), so a slow or failing model never holds a page.
"""

from __future__ import annotations

import json
import logging
import random
import re
from dataclasses import dataclass

import requests
from django.utils.translation import gettext

from musictracker import config
from tracking.models import UserTrackStat

log = logging.getLogger(__name__)

# The model's context, in tokens, when playlists.ai_context_tokens is not set; the candidate list
# takes what the answer (ai.max_tokens) and the instructions leave.
DEFAULT_CONTEXT_TOKENS = 8000
CHARS_PER_TOKEN = 3.5  # a cautious average for names and titles in Latin scripts
INSTRUCTIONS_TOKENS = 500
MAX_CANDIDATES = 1500

SYSTEM_PROMPT = (
    "You build playlists from a music library. The user describes a playlist and gives the"
    " candidate tracks, one per line as `id<TAB>artist – title (album)`. Choose tracks that fit"
    " the description, only from the candidates, each at most once, in a good listening order."
    ' Answer with JSON only, no prose: {"track_ids": [id, id, ...]}.'
)


class AIError(Exception):
    """The AI service failed, timed out, refused, or answered something unusable."""


@dataclass(frozen=True)
class Candidate:
    track_id: int
    line: str


def is_configured() -> bool:
    return not config.missing("ai.api_key", "ai.product_id")


def _endpoint() -> str:
    base = str(config.get("ai.base_url", "")).format(product_id=config.get("ai.product_id", ""))
    return base.rstrip("/") + "/chat/completions"


def chat(messages: list[dict], *, max_tokens: int | None = None) -> str:
    """The assistant's text for `messages`; AIError on any failure or refusal."""
    payload = {
        "model": config.get("ai.model", ""),
        "messages": messages,
        "temperature": 0.3,
        "max_tokens": int(max_tokens or config.get("ai.max_tokens", 1200)),
    }
    headers = {"Authorization": f"Bearer {config.get('ai.api_key', '')}"}
    timeout = float(config.get("ai.timeout_seconds", 60))
    try:
        response = requests.post(_endpoint(), json=payload, headers=headers, timeout=timeout)
    except requests.Timeout as exc:
        raise AIError(
            gettext("The AI service did not answer within %(s)s s.") % {"s": timeout}
        ) from exc
    except requests.RequestException as exc:
        raise AIError(gettext("The AI service cannot be reached: %(e)s") % {"e": exc}) from exc
    if response.status_code != 200:
        detail = ""
        try:
            detail = response.json().get("error", {}).get("message", "")
        except (ValueError, AttributeError):
            detail = response.text[:200]
        raise AIError(
            gettext("The AI service answered HTTP %(code)s %(detail)s")
            % {"code": response.status_code, "detail": detail}
        )
    try:
        message = response.json()["choices"][0]["message"]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise AIError(gettext("The AI service sent an answer in an unknown format.")) from exc
    if message.get("refusal"):
        raise AIError(gettext("The model declined: %(why)s") % {"why": message["refusal"]})
    return message.get("content") or ""


def candidates(user, *, rng: random.Random, budget_tokens: int | None = None) -> list[Candidate]:
    """The user's most played tracks and a seeded sample of the rest, as many as fit the model's
    context (playlists.ai_context_tokens minus the answer and the instructions)."""
    if budget_tokens is None:
        context = int(config.get("playlists.ai_context_tokens", DEFAULT_CONTEXT_TOKENS))
        budget_tokens = context - int(config.get("ai.max_tokens", 1200)) - INSTRUCTIONS_TOKENS
    budget_chars = max(0, budget_tokens) * CHARS_PER_TOKEN
    ids = list(
        UserTrackStat.objects.filter(user=user)
        .order_by("-listens", "track_id")
        .values_list("track_id", flat=True)[:20_000]
    )
    # A line is about 60 characters; half the room goes to favourites, half to the long tail.
    room = min(MAX_CANDIDATES, int(budget_chars // 60))
    top, rest = ids[: room // 2], ids[room // 2 :]
    chosen = top + rng.sample(rest, min(len(rest), room - len(top)))
    stats = UserTrackStat.objects.filter(user=user, track_id__in=chosen).select_related(
        "track", "track__album"
    )
    by_id = {s.track_id: s.track for s in stats}
    out, used = [], 0
    for tid in chosen:
        track = by_id.get(tid)
        if track is None:
            continue
        album = f" ({track.album.title})" if track.album else ""
        line = f"{tid}\t{track.artist_credit} – {track.title}{album}"
        if used + len(line) + 1 > budget_chars:
            break
        used += len(line) + 1
        out.append(Candidate(tid, line))
    return out


def parse_ids(text: str) -> list[int]:
    """Track ids from the model's JSON answer (code fences tolerated); AIError if malformed."""
    cleaned = re.sub(r"^```(?:json)?\s*|\s*```$", "", text.strip())
    try:
        data = json.loads(cleaned)
    except ValueError as exc:
        raise AIError(gettext("The model's answer is not the JSON that was asked for.")) from exc
    if isinstance(data, dict):
        data = data.get("track_ids")
    if not isinstance(data, list):
        raise AIError(gettext("The model's answer holds no list of track ids."))
    ids = []
    for value in data:
        try:
            ids.append(int(value))
        except (TypeError, ValueError):
            continue
    return ids


def generate(*, user, prompt: str, length: int, rng: random.Random):
    """Ask the model for `length` tracks fitting `prompt`; an Outcome either way. A failed or
    malformed answer is retried once; unknown ids are dropped, duplicates removed."""
    from playlists.generators import Outcome

    if not is_configured():
        return Outcome(
            [], gettext("The AI service is not configured: set ai.api_key and ai.product_id.")
        )
    pool = candidates(user, rng=rng)
    if not pool:
        return Outcome([], gettext("No listens yet: the AI picks from tracks you have played."))
    known = {c.track_id for c in pool}
    messages = [
        {"role": "system", "content": SYSTEM_PROMPT},
        {
            "role": "user",
            "content": f"Playlist of {length} tracks: {prompt}\n\nCandidates:\n"
            + "\n".join(c.line for c in pool),
        },
    ]
    error: AIError | None = None
    for attempt in (1, 2):
        try:
            ids = parse_ids(chat(messages))
        except AIError as exc:
            log.warning("AI playlist attempt %s failed: %s", attempt, exc)
            error = exc
            continue
        seen: set[int] = set()
        valid = [i for i in ids if i in known and not (i in seen or seen.add(i))][:length]
        dropped = len({i for i in ids if i not in known})
        if not valid:
            return Outcome([], gettext("The model chose no track from your library."))
        note = ""
        if dropped:
            note = gettext("%(n)s unknown tracks in the model's answer were left out.") % {
                "n": dropped
            }
        return Outcome(valid, note=note)
    return Outcome([], gettext("The AI failed twice: %(error)s") % {"error": error})
