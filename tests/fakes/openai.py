"""A fake OpenAI-compatible chat service on 127.0.0.1, in Infomaniak EurIA's shape: POST
/2/ai/{product_id}/openai/v1/chat/completions (also /v1/chat/completions, an Ollama-like root)
answers a `chat.completion` object, `choices[0].message.content` and `usage`; errors come as
`{"error": {...}}` bodies, a 429 with `Retry-After` when `retry_after` is set.

What each feature's answer says is its own: a subclass writes it in `answer(request, behaviour)`
(album notes, a playlist's track ids); by default it is `text`.

- `fail_with`: HTTP statuses answered first, one a call (429, 500, 503…);
- `script`: behaviours for the next calls, one a call, the last one repeating; none is "good":
  - "good": `answer(request, "good")`; "fenced": the same inside ```json fences, as some models
    write; any other word a subclass knows ("unknown"…) goes to `answer` too;
  - "malformed": prose around a truncated JSON object, as small models write;
  - "refusal": `message.refusal` set and no content (OpenAI's structured refusal);
  - "timeout": the answer after `delay` seconds (longer than the client's timeout);
  - "error": HTTP 500; "401": EurIA's refusal of a key, as a wrong key gets.
Every request is kept in `requests` (method, path, headers, body, and `json`, the parsed body).
"""

from __future__ import annotations

import json
import re
import time

from tests.fakes._loopback import LoopbackFake

CHAT_PATH = re.compile(r"(/2/ai/\d+/openai)?/v1/chat/completions")
NOT_AUTHORIZED = {
    "result": "error",
    "error": {"code": "not_authorized", "message": "Authentication required"},
}


class FakeChat(LoopbackFake):
    def __init__(self, *, api_key: str = "test-key", product: str = "1234", model="mistral3"):
        super().__init__()
        self.api_key, self.product, self.model = api_key, product, model
        self.script: list[str] = []
        self.fail_with: list[int] = []
        self.retry_after: str | None = None
        self.delay = 2.0
        self.text = "You spent 2024 with Air at dawn and Daft Punk after midnight."

    @property
    def base_url(self) -> str:
        """The configuration value, with {product_id} as EurIA's."""
        return self.url + "/2/ai/{product_id}/openai/v1"

    @property
    def bodies(self) -> list[dict]:
        return [r["json"] for r in self.requests if CHAT_PATH.fullmatch(r["path"])]

    def answer(self, request: dict, behaviour: str) -> str:
        return self.text

    def _next(self) -> str:
        if not self.script:
            return "good"
        return self.script.pop(0) if len(self.script) > 1 else self.script[0]

    def handle(self, *, method, path, query, headers, body):
        request = json.loads(body or b"{}")
        next(r for r in reversed(self.requests) if r["body"] is body)["json"] = request
        if method == "GET" and path.endswith("/models"):
            return 200, {}, {"object": "list", "data": [{"id": self.model, "object": "model"}]}
        if not CHAT_PATH.fullmatch(path):
            return 404, {}, {"error": {"message": "Not found", "type": "invalid_request_error"}}
        if headers.get("Authorization") != f"Bearer {self.api_key}":
            return 401, {}, NOT_AUTHORIZED
        if self.fail_with:
            status = self.fail_with.pop(0)
            extra = {"Retry-After": self.retry_after} if status == 429 and self.retry_after else {}
            return status, extra, {"error": {"message": "try later", "type": "server_error"}}
        behaviour = self._next()
        if behaviour == "401":
            return 401, {}, NOT_AUTHORIZED
        if behaviour == "error":
            return (
                500,
                {},
                {"error": {"message": "The server had an error", "type": "server_error"}},
            )
        content, refusal = None, None
        if behaviour == "timeout":
            time.sleep(self.delay)
            content = self.answer(request, "good")
        elif behaviour == "malformed":
            content = 'Sure! Here it is: {"summary": "A fine album", "track_ids": [1, 2'
        elif behaviour == "refusal":
            refusal = "I can't help with that request."
        elif behaviour == "fenced":
            content = f"```json\n{self.answer(request, 'good')}\n```"
        else:
            content = self.answer(request, behaviour)
        prompt = " ".join(str(m.get("content")) for m in request.get("messages", []))
        return (
            200,
            {"x-request-id": f"req_{len(self.requests)}"},
            {
                "id": f"chatcmpl-{len(self.requests)}",
                "object": "chat.completion",
                "created": 1_700_000_000,
                "model": request.get("model", self.model),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content, "refusal": refusal},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": len(prompt) // 4, "completion_tokens": 20},
            },
        )
