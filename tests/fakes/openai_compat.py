"""A fake OpenAI-compatible chat service (the subset AI playlists use), on 127.0.0.1.

`POST /v1/<product>/chat/completions` answers like OpenAI/Infomaniak EurIA: a `chat.completion`
object, `choices[0].message.content`, `usage`, or an `{"error": {...}}` body with 401/429/500.
Behaviour is scripted per test with `server.script = [...]`, one mode per request (the last one
repeats):
- "good": picks the first `pick` candidate ids from the user's message, as {"track_ids": [...]};
- "fenced": the same, wrapped in ```json fences, as some models do;
- "unknown": two ids that are not candidates, a duplicate, and two real ones;
- "malformed": prose instead of JSON;
- "refusal": `message.refusal` set and no content (OpenAI's structured refusal);
- "timeout": waits `delay` seconds before answering (longer than the client's timeout);
- "error": HTTP 500 with an OpenAI error body.
Every request is kept in `server.requests` (path, headers, JSON body).
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Handler(BaseHTTPRequestHandler):
    server: FakeOpenAI

    def log_message(self, *args):  # keep test output quiet
        pass

    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-request-id", f"req_{len(self.server.requests)}")
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # client timed out
            self.wfile.write(data)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        self.server.requests.append(
            {"path": self.path, "headers": dict(self.headers), "json": body}
        )
        if not self.path.endswith("/chat/completions"):
            self._send(404, {"error": {"message": "Not found", "type": "invalid_request_error"}})
            return
        if self.headers.get("Authorization") != f"Bearer {self.server.api_key}":
            self._send(
                401, {"error": {"message": "Incorrect API key provided", "type": "auth_error"}}
            )
            return
        script = self.server.script
        mode = script.pop(0) if len(script) > 1 else script[0]
        user_text = next(m["content"] for m in body["messages"] if m["role"] == "user")
        candidates = [int(x) for x in re.findall(r"^(\d+)\t", user_text, re.M)]
        content: str | None
        refusal = None
        if mode == "timeout":
            time.sleep(self.server.delay)
            content = json.dumps({"track_ids": candidates[: self.server.pick]})
        elif mode == "error":
            self._send(
                500, {"error": {"message": "The server had an error", "type": "server_error"}}
            )
            return
        elif mode == "malformed":
            content = "Sure! Here are some calm tracks you might enjoy: the first and the third."
        elif mode == "refusal":
            content, refusal = None, "I can't help with that request."
        elif mode == "unknown":
            real = candidates[:2]
            content = json.dumps({"track_ids": [999_999, real[0], 888_888, real[0], *real[1:]]})
        else:
            content = json.dumps({"track_ids": candidates[: self.server.pick]})
            if mode == "fenced":
                content = f"```json\n{content}\n```"
        self._send(
            200,
            {
                "id": f"chatcmpl-{len(self.server.requests)}",
                "object": "chat.completion",
                "created": 1_700_000_000,
                "model": body.get("model", ""),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content, "refusal": refusal},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": len(user_text) // 4, "completion_tokens": 20},
            },
        )


class FakeOpenAI(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, api_key: str = "test-key"):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.api_key = api_key
        self.script: list[str] = ["good"]
        self.requests: list[dict] = []
        self.pick = 3
        self.delay = 2.0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1/{{product_id}}"

    def __enter__(self):
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()
