"""A fake OpenAI-compatible chat API for the Analytics portrait (Infomaniak speaks this dialect), on 127.0.0.1.

It answers POST /2/ai/<product>/openai/v1/chat/completions like the real service: a
chat.completion JSON, 401 with an error object for a wrong key, and whatever status is queued in
`fail_with` (e.g. 429 or 503, answered once each before the normal answer; a 429 carries
`Retry-After: retry_after` seconds when set, as rate-limited APIs do)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data" / "openai"


class FakeOpenAI:
    def __init__(self, *, api_key: str = "test-key", product: str = "1234"):
        self.api_key = api_key
        self.product = product
        self.requests: list[dict] = []
        self.fail_with: list[int] = []
        self.retry_after: str | None = None
        self.reply = json.loads((DATA / "chat_completion.json").read_text())
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def _send(self, status: int, payload: dict) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                if status == 429 and fake.retry_after is not None:
                    self.send_header("Retry-After", fake.retry_after)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                fake.requests.append(
                    {"path": self.path, "body": body, "auth": self.headers.get("Authorization")}
                )
                if self.path != f"/2/ai/{fake.product}/openai/v1/chat/completions":
                    return self._send(
                        404, {"error": {"message": "Not found", "type": "invalid_request_error"}}
                    )
                if self.headers.get("Authorization") != f"Bearer {fake.api_key}":
                    return self._send(
                        401,
                        {"error": {"message": "Invalid API key", "type": "authentication_error"}},
                    )
                if fake.fail_with:
                    status = fake.fail_with.pop(0)
                    return self._send(
                        status, {"error": {"message": "try later", "type": "server_error"}}
                    )
                return self._send(200, fake.reply)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/2/ai/{{product_id}}/openai/v1"

    def __enter__(self) -> FakeOpenAI:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
