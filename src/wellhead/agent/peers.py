"""Peers' signed answers, fetched off the agent's loop. The loop samples the site: what it does not sample is
unproven time, paid from the operator's bond, so no peer may hold it. Each fetch runs on a small thread pool,
stops at PEER_DEADLINE seconds in all and PEER_MAX_BYTES (a peer answering one byte at a time keeps a per-read
timeout happy for ever), and a peer cut off is left alone for a minute. One `fetch` asks for everything a phase
needs at once and waits at most PASS_BUDGET seconds for all of it; an answer that arrives later is kept for
the phase's next pass."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

import requests

PEER_DEADLINE = 3.0  # seconds one answer from a peer may take in all
PEER_MAX_BYTES = 1 << 20  # an observation or a page of proposals is a few kB
PASS_BUDGET = 1.0  # seconds one fetch waits for all its peers together
CUT_OFF_FOR = 60.0  # seconds a peer too slow or too large is left alone
UNREACHABLE_FOR = 5.0  # seconds an unreachable peer is left alone

Key = tuple[str, str]  # (peer URL, path)


class PeerClient:
    def __init__(self, warn: Callable[..., None], workers: int = 8) -> None:
        self._warn = warn
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="peer")
        self._lock = threading.Lock()
        self._pending: dict[Key, Future[Any]] = {}
        self._backoff: dict[str, float] = {}

    def fetch(self, wanted: list[Key]) -> dict[Key, Any]:
        """The JSON answers of `wanted` that are in (a missing key: not yet, or nothing usable). Fetches not
        under way start now, all at once; the call waits for them PASS_BUDGET seconds at most."""
        with self._lock:
            for key in wanted:
                if key not in self._pending and self._backoff.get(key[0], 0.0) <= time.monotonic():
                    self._pending[key] = self._pool.submit(self._get, *key)
            futures = [self._pending[k] for k in wanted if k in self._pending]
        wait(futures, timeout=PASS_BUDGET)
        answers: dict[Key, Any] = {}
        with self._lock:
            for key in wanted:
                future = self._pending.get(key)
                if future is not None and future.done():
                    del self._pending[key]
                    if (body := future.result()) is not None:
                        answers[key] = body
        return answers

    def one(self, url: str, path: str) -> Any | None:
        return self.fetch([(url, path)]).get((url, path))

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _get(self, url: str, path: str) -> Any | None:
        started = time.monotonic()
        try:
            with requests.get(f"{url.rstrip('/')}{path}", timeout=1.5, stream=True) as response:
                if response.status_code != 200:
                    return None
                body = bytearray()
                while chunk := response.raw.read1(8192):  # what has arrived, never waiting to fill a buffer
                    body += chunk
                    if len(body) > PEER_MAX_BYTES or time.monotonic() - started > PEER_DEADLINE:
                        self._backoff[url] = time.monotonic() + CUT_OFF_FOR
                        self._warn(f"peer:{url}", "peer too slow or too large; cut off", peer=url)
                        return None
        except requests.RequestException:
            self._backoff[url] = time.monotonic() + UNREACHABLE_FOR
            return None
        try:
            return json.loads(body)
        except ValueError:
            self._warn(f"peer:{url}", "peer answered with invalid JSON", peer=url)
            return None
