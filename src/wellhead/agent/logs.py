"""JSON logs: one object per line, with the record's extra fields, and no RPC URL in any of them (providers put
API keys in them): each configured URL, and its path and query, is written as `rpc_urls[i]`, whatever logger
wrote it (urllib3's retry warnings name the URL they retry)."""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TextIO
from urllib.parse import urlsplit

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


def redactions(rpc_urls: Sequence[str]) -> list[tuple[str, str]]:
    """(text, placeholder) pairs for every RPC URL and its path and query, longest first."""
    pairs: list[tuple[str, str]] = []
    for i, url in enumerate(rpc_urls):
        parts = urlsplit(url)
        tail = parts.path + (f"?{parts.query}" if parts.query else "")
        pairs.append((url, f"rpc_urls[{i}]"))
        if len(tail) > 1:  # "/" alone names nothing
            pairs.append((tail, f"rpc_urls[{i}]"))
    return sorted(pairs, key=lambda p: -len(p[0]))


class JsonFormatter(logging.Formatter):
    def __init__(self, redact: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__()
        self.redact = list(redact)

    def format(self, record: logging.LogRecord) -> str:
        line = self._json(record)
        for text, placeholder in self.redact:
            line = line.replace(text, placeholder)
        return line

    def _json(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def setup_json_logging(level: str = "INFO", rpc_urls: Sequence[str] = (), stream: TextIO | None = None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(redactions(rpc_urls)))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("urllib3", "web3", "pymodbus"):
        logging.getLogger(noisy).setLevel("WARNING")


class Warnings:
    """Warnings logged at most once a minute per key: a dead peer or collector must not flood the log."""

    def __init__(self, logger: logging.Logger, every: float = 60.0) -> None:
        self.logger = logger
        self.every = every
        self._last: dict[str, float] = {}

    def __call__(self, key: str, message: str, **fields: object) -> None:
        now = time.monotonic()
        if now - self._last.get(key, -1e9) >= self.every:
            self._last[key] = now
            self.logger.warning(message, extra=fields)
