"""A fake OpenAI-compatible chat-completions server for album notes (EurIA's shape:
/2/ai/{product_id}/openai/v1/chat/completions, also /v1/chat/completions for Ollama-like roots).

`script` is a list of behaviours for the next calls, then "good" for ever:
- "good": a valid JSON object built from the prompt (French when asked; a film for soundtracks);
- "malformed": prose around a truncated object, as small models do;
- "timeout": answers after `slow_seconds` (longer than the client's timeout);
- "401": EurIA's refusal of a wrong key.
Checks the Bearer key and records each request's JSON body.
"""

from __future__ import annotations

import json
import re
import time

from tests.fakes._loopback import LoopbackFake

API_KEY = "fake-ai-key"
PRODUCT_ID = "104242"


class FakeOpenAI(LoopbackFake):
    def __init__(self, model: str = "mistral3"):
        super().__init__()
        self.model = model
        self.script: list[str] = []
        self.slow_seconds = 3.0
        self.bodies: list[dict] = []

    @property
    def base_url(self) -> str:
        """The configuration value, with {product_id} like EurIA's."""
        return self.url + "/2/ai/{product_id}/openai/v1"

    def handle(self, *, method, path, query, headers, body):
        if method == "GET" and path.endswith("/models"):
            return 200, {}, {"object": "list", "data": [{"id": self.model, "object": "model"}]}
        if not re.fullmatch(r"(/2/ai/\d+/openai)?/v1/chat/completions", path):
            return 404, {}, {"error": {"message": "Not found", "type": "not_found"}}
        behaviour = self.script.pop(0) if self.script else "good"
        if behaviour == "401" or headers.get("Authorization") != f"Bearer {API_KEY}":
            return (
                401,
                {},
                {
                    "result": "error",
                    "error": {"code": "not_authorized", "message": "Authentication required"},
                },
            )
        request = json.loads(body or b"{}")
        self.bodies.append(request)
        if behaviour == "timeout":
            time.sleep(self.slow_seconds)
        prompt = " ".join(m["content"] for m in request.get("messages", []))
        if behaviour == "malformed":
            content = 'Sure! Here are the notes: {"summary": "A fine album", "description": '
        else:
            content = json.dumps(_notes(prompt))
        return (
            200,
            {},
            {
                "id": "chatcmpl-fake",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": request.get("model", self.model),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 120, "completion_tokens": 180, "total_tokens": 300},
            },
        )


def _notes(prompt: str) -> dict:
    match = re.search(r'Album: "([^"]+)" by ([^.(]+)', prompt)
    title, artist = (match.group(1), match.group(2).strip()) if match else ("?", "?")
    french = "in French" in prompt
    if french:
        summary = f"{title}, un album marquant de {artist}."
        description = f"{title} paraît dans un contexte fertile.\n\nLe son est ample et précis."
    else:
        summary = f"{title} is a landmark record by {artist}."
        description = f"{title} arrived at a fertile time.\n\nIts sound is wide and precise."
    soundtrack = "soundtrack" in title.lower() or "ost" in title.lower().split()
    film = (
        {"title": "Blade Runner", "year": 1982, "director": "Ridley Scott"} if soundtrack else None
    )
    return {
        "summary": summary,
        "description": description,
        "is_soundtrack": soundtrack,
        "film": film,
    }
