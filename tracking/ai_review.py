"""The AI portrait of a period: one review written from a period's statistics, through the app's
one AI client (musictracker/ai.py). Views never call it: they queue
`tracking.tasks.write_ai_review`.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from musictracker import ai

PROMPTS = {
    "prose": (
        "You write short, warm, concrete portraits of a person's music listening. Using only the"
        " statistics given, write three or four sentences in the second person about the period:"
        " what dominated, when they listened, what was new. No lists, no headings, no invented"
        " facts. Answer in the language code given."
    ),
    "haiku": (
        "You write one haiku (three lines, 5-7-5 syllables) about a person's music listening in a"
        " period, using only the statistics given. Answer with the haiku only, in the language"
        " code given."
    ),
}


class AiReviewError(Exception):
    """The AI service could not be reached or answered something unusable."""


@dataclass(frozen=True)
class Completion:
    text: str
    model: str


def complete(system: str, user: str) -> Completion:
    """One chat completion (the client retries connection errors, 429 and 5xx)."""
    messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
    try:
        answer = ai.AiClient.from_config().complete(messages, temperature=0.7)
    except ai.AiError as exc:
        raise AiReviewError(str(exc)) from exc
    text = answer.text.strip()
    if not text:
        raise AiReviewError("the AI service answered an empty message")
    return Completion(text=text, model=answer.model)


def facts(stats) -> str:
    """The period's statistics as compact text for the prompt."""
    t = stats.totals
    lines = [
        f"Period: {stats.period.label} ({stats.period.first} to {stats.period.last})",
        f"Listens: {t['listens']}; hours: {round(t['total_seconds'] / 3600, 1)};"
        f" artists: {t['artists']}; albums: {t['albums']}; tracks: {t['tracks']}",
    ]
    for kind in ("artist", "album", "track"):
        top = ", ".join(f"{r['obj']} ({r['listens']})" for r in stats.top(kind, 5))
        lines.append(f"Top {kind}s: {top or 'none'}")
    clock = stats.clock
    if any(clock):
        lines.append(f"Busiest hour: {max(range(24), key=lambda h: clock[h]):02d}:00")
    d = stats.discovery
    lines.append(
        f"New artists: {d['new_artists']}; new albums: {d['new_albums']};"
        f" share of listening to new tracks: {d['new_share']}%"
    )
    s = stats.sessions
    lines.append(f"Sessions: {s['count']}; longest: {round(s['longest_seconds'] / 60)} minutes")
    return "\n".join(lines)


def write_review(review, stats, *, language: str = "en") -> None:
    """Fill an AiReview row from the AI's answer (or record why it failed)."""
    prompt = PROMPTS.get(review.style, PROMPTS["prose"])
    try:
        answer = complete(prompt, f"Language: {language}\n{facts(stats)}")
    except AiReviewError as exc:
        review.status, review.error = review.Status.FAILED, str(exc)
        review.save(update_fields=["status", "error"])
        return
    review.status, review.text, review.error = review.Status.DONE, answer.text, ""
    review.model_name, review.generated_at = answer.model[:100], timezone.now()
    review.save(update_fields=["status", "text", "error", "model_name", "generated_at"])
