"""AI playlists: a sentence from the user, a compact list of candidate tracks from their own
library sized to the model's context, and an answer of track ids that is checked before use.

The call goes through the app's one AI client (musictracker/ai.py: an OpenAI-compatible chat
API, its configuration, retries and errors). Only the background task calls this module
(views queue `playlists.tasks.generate_ai_playlist`), so a slow or failing model never holds a page.
"""

from __future__ import annotations

import json
import logging
import random
import re
from dataclasses import dataclass

from django.utils.translation import gettext

from musictracker import ai, config
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
    return not ai.missing()


def chat(messages: list[dict], *, max_tokens: int | None = None) -> str:
    """The assistant's text for `messages`; AIError on any failure or refusal."""
    try:
        answer = ai.AiClient.from_config().complete(
            messages, temperature=0.3, max_tokens=max_tokens
        )
    except ai.AiError as exc:
        message = str(exc)
        raise AIError(message[:1].upper() + message[1:]) from exc
    return answer.text


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

    absent = ai.missing()
    if absent:
        return Outcome(
            [],
            gettext("The AI service is not configured: set %(keys)s.")
            % {"keys": ", ".join(m["key"] for m in absent)},
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
