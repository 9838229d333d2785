"""The AI service: any OpenAI-compatible chat-completions API (Infomaniak's EurIA by default, a
local Ollama or llama.cpp by changing `ai.base_url` and `ai.model`).

The one client of every AI feature (album notes in enrichment, playlists, the analytics review):

    from musictracker import ai

    if ai.missing():                      # [] when configured; else what to set (config.missing)
        ...                               # say what to configure, do not call
    answer = ai.AiClient.from_config().complete(messages, json_object=True)
    answer.text, answer.model

`complete` retries what may pass (connection errors, 429 after its Retry-After, 5xx)
and raises `AiError` with a readable message for the rest: "check ai.api_key" on a 401, the
timeout on a timeout, the model's refusal. It counts each request in the metrics. Call it from
a task, never from a view.

Configuration: `ai.base_url` (`{product_id}` is replaced by `ai.product_id`), `ai.model`,
`ai.api_key` (Bearer; not needed for a server on localhost), `ai.timeout_seconds`, `ai.max_tokens`.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import requests
from django.utils.translation import gettext

from musictracker import config, metrics

log = logging.getLogger(__name__)

RETRY_AFTER_MAX = 30.0  # seconds: a longer Retry-After fails the call (the task retries later)


class AiError(Exception):
    """The AI service could not give a usable answer."""


class AiNotConfigured(AiError):
    pass


@dataclass(frozen=True)
class Completion:
    text: str
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
        self,
        *,
        base_url: str,
        model: str,
        api_key: str = "",
        timeout: float = 60,
        max_tokens: int = 1200,
        retries: int = 2,
        backoff: float = 0.5,
    ):
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.api_key = api_key
        self.timeout = timeout
        self.max_tokens = max_tokens
        self.retries = retries
        self.backoff = backoff
        self.session = requests.Session()

    @classmethod
    def from_config(cls, **overrides) -> AiClient:
        absent = missing()
        if absent:
            raise AiNotConfigured(
                gettext("AI not configured: set %(keys)s")
                % {"keys": ", ".join(m["key"] for m in absent)}
            )
        base = config.get("ai.base_url").replace("{product_id}", str(config.get("ai.product_id")))
        settings = {
            "base_url": base,
            "model": config.get("ai.model"),
            "api_key": config.get("ai.api_key", "") or "",
            "timeout": float(config.get("ai.timeout_seconds", 60) or 60),
            "max_tokens": int(config.get("ai.max_tokens", 1200) or 1200),
        }
        return cls(**{**settings, **overrides})

    def complete(
        self,
        messages: list[dict],
        *,
        temperature: float = 0.4,
        json_object: bool = False,
        max_tokens: int | None = None,
    ) -> Completion:
        """One chat completion, retried on errors that may pass."""
        body: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "temperature": temperature,
            "max_tokens": int(max_tokens or self.max_tokens),
        }
        if json_object:
            body["response_format"] = {"type": "json_object"}
        problem = ""
        for attempt in range(self.retries + 1):
            wait = self.backoff * 2**attempt
            try:
                return self._post(body)
            except _Transient as exc:
                problem = str(exc)
                if exc.retry_after is not None:
                    if exc.retry_after > RETRY_AFTER_MAX:
                        break
                    wait = exc.retry_after
            if attempt < self.retries:
                log.info("AI service: %s, trying again in %.1f s", problem, wait)
                time.sleep(wait)
        raise AiError(problem)

    def _post(self, body: dict) -> Completion:
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        try:
            resp = self.session.post(self.url, json=body, headers=headers, timeout=self.timeout)
        except requests.Timeout:
            metrics.inc("external_requests_total", service="ai", status="timeout")
            # Not retried here: the call already waited its whole timeout (the task retries).
            raise AiError(
                gettext("the AI service did not answer within %(s)s s") % {"s": f"{self.timeout:g}"}
            ) from None
        except requests.RequestException as exc:
            metrics.inc("external_requests_total", service="ai", status="error")
            raise _Transient(
                gettext("the AI service is unreachable (%(error)s)")
                % {"error": exc.__class__.__name__}
            ) from None
        metrics.inc("external_requests_total", service="ai", status=resp.status_code)
        code = resp.status_code
        if code == 429 or code >= 500:
            raise _Transient(
                gettext("the AI service answered HTTP %(code)s: %(detail)s")
                % {"code": code, "detail": _detail(resp)},
                retry_after=_retry_after(resp) if code == 429 else None,
            )
        if code == 401:
            raise AiError(gettext("the AI service refused the key (401): check ai.api_key"))
        if code == 404:
            raise AiError(
                gettext("the AI service answered 404 at %(url)s: check ai.base_url")
                % {"url": self.url}
            )
        if code >= 400:
            raise AiError(
                gettext("the AI service answered HTTP %(code)s: %(detail)s")
                % {"code": code, "detail": _detail(resp)}
            )
        try:
            payload = resp.json()
            message = payload["choices"][0]["message"]
            refusal = message.get("refusal")
            text = message.get("content") or ""
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            raise AiError(gettext("the AI service's answer is not a chat completion")) from None
        if refusal:
            raise AiError(gettext("The model declined: %(why)s") % {"why": refusal})
        return Completion(text=text, model=str(payload.get("model") or self.model))


class _Transient(AiError):
    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


def _retry_after(resp) -> float | None:
    try:
        return max(0.0, float(resp.headers.get("Retry-After", "")))
    except ValueError:
        return None


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
