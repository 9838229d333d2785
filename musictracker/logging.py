"""Logging helpers: secrets never reach a log line."""

from __future__ import annotations

import logging
import re

# api_key=…, token=…, sk=… (Last.fm session keys), Authorization headers, Discogs tokens in URLs.
# A name counts only when no letter precedes it: `lastfm_session_key=` is a secret, `task=` (which
# ends in "sk=") is not.
_PATTERNS = [
    re.compile(
        r"(?i)(?<![a-z])((?:api_key|api_secret|token|secret|password|sk|session_key|client_secret)=)"
        r"[^&\s'\"]+"
    ),
    re.compile(
        r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?(?:token|bearer|discogs token=)?\s*)[^\s'\",}]+"
    ),
    re.compile(r"(?i)(\"(?:api_key|token|client_secret|secret|password)\"\s*:\s*\")[^\"]+"),
]


def redact(text: str) -> str:
    for pattern in _PATTERNS:
        text = pattern.sub(r"\1[redacted]", text)
    return text


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            # The traceback text is rendered later by the formatter; redact it there.
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
            record.msg = f"{record.msg}\n{record.exc_text}"
            record.exc_text = None
        return True
