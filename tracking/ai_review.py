"""The AI portrait of a period: a tiny client for the OpenAI-compatible chat API and the service
that writes one review from a period's statistics.

Tracking may not import enrichment (enrichment sits above it), so this feature carries its own
small client; it shares the `ai.*` configuration keys with enrichment/ai.py. Views never call it:
they queue `tracking.tasks.write_ai_review`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import requests
from django.utils import timezone

from musictracker import config

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
    """One chat completion; retries twice on connection errors, 429 and 5xx."""
    key = config.get("ai.api_key")
    product = config.get("ai.product_id")
    if not key or not product:
        raise AiReviewError("The AI service is not configured (ai.api_key, ai.product_id).")
    base = str(config.get("ai.base_url", "")).replace("{product_id}", str(product)).rstrip("/")
    model = config.get("ai.model", "")
    body = {
        "model": model,
        "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
        "max_tokens": int(config.get("ai.max_tokens", 1200) or 1200),
        "temperature": 0.7,
    }
    timeout = float(config.get("ai.timeout_seconds", 60) or 60)
    last = ""
    for attempt in range(3):
        try:
            r = requests.post(
                f"{base}/chat/completions",
                json=body,
                headers={"Authorization": f"Bearer {key}"},
                timeout=timeout,
            )
        except requests.RequestException as exc:
            last = f"could not reach the AI service: {exc}"
        else:
            if r.status_code == 429 or r.status_code >= 500:
                last = f"the AI service answered {r.status_code}"
            elif r.status_code != 200:
                raise AiReviewError(f"the AI service answered {r.status_code}: {r.text[:300]}")
            else:
                try:
                    data = r.json()
                    text = data["choices"][0]["message"]["content"].strip()
                except (ValueError, KeyError, IndexError, TypeError, AttributeError):
                    raise AiReviewError("the AI service answered without a message") from None
                if not text:
                    raise AiReviewError("the AI service answered an empty message")
                return Completion(text=text, model=str(data.get("model") or model))
        time.sleep(0.2 * (attempt + 1))
    raise AiReviewError(last)


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
