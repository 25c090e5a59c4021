"""Peers' signed answers, fetched off the agent's loop. The loop samples the site: what it does not sample is
unproven time, paid from the operator's bond, so no peer may hold it.

- Each peer is one task at a time on a small thread pool: its wanted pages over one connection, PEER_DEADLINE
  seconds in all (headers included: a watchdog closes the socket at the deadline, so a peer trickling bytes
  cannot outlive it) and PEER_MAX_BYTES a page. One peer therefore holds at most one worker, for 3 s once
  its name is resolved (a hostname's lookup runs under the resolver's own timeout, before the watchdog can act).
- A peer that was cut off is left alone for a minute; one that failed (refused, broken, malformed) for 5 s.
- A phase asks for everything it needs and waits at most PASS_BUDGET seconds for all of it; inside
  `with peers.phase():` every fetch of the phase shares one budget. An answer that lands later is handed to
  the next fetch that wants it, and dropped when that fetch no longer does (a closed epoch's).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any
from urllib.parse import urlsplit

PEER_DEADLINE = 3.0  # seconds one peer's task may take in all
PEER_MAX_BYTES = 1 << 20  # an observation or a page of proposals is a few kB
PASS_BUDGET = 1.0  # seconds a phase waits for all its peers together
CONNECT_TIMEOUT = 1.5
CUT_OFF_FOR = 60.0  # seconds a peer too slow or too large is left alone
FAILED_FOR = 5.0  # seconds a peer that failed otherwise is left alone

Key = tuple[str, str]  # (peer URL, path)


class PeerCutOffError(Exception):
    """The peer's task passed its deadline or an answer its size cap."""


class PeerClient:
    def __init__(self, warn: Callable[..., None], workers: int = 8) -> None:
        self._warn = warn
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="peer")
        self._lock = threading.Lock()
        self._tasks: dict[str, tuple[frozenset[str], Future[dict[str, Any]]]] = {}
        self._backoff: dict[str, float] = {}
        self._phase_until: float | None = None
        self._closed = False

    @contextlib.contextmanager
    def phase(self) -> Iterator[None]:
        """Every fetch inside shares one PASS_BUDGET."""
        self._phase_until = time.monotonic() + PASS_BUDGET
        try:
            yield
        finally:
            self._phase_until = None

    def fetch(self, wanted: list[Key]) -> dict[Key, Any]:
        """The JSON answers of `wanted` that are in (a missing key: not yet, or nothing usable). Peers without a
        task under way get one now, all at once; the call waits for them within the budget, never longer."""
        by_peer: dict[str, set[str]] = {}
        for url, path in wanted:
            by_peer.setdefault(url, set()).add(path)
        with self._lock:
            for url, paths in by_peer.items():
                if url not in self._tasks and self._backoff.get(url, 0.0) <= time.monotonic() and not self._closed:
                    self._tasks[url] = (frozenset(paths), self._pool.submit(self._task, url, sorted(paths)))
            futures = [self._tasks[url][1] for url in by_peer if url in self._tasks]
        until = time.monotonic() + PASS_BUDGET if self._phase_until is None else self._phase_until
        wait(futures, timeout=max(0.0, until - time.monotonic()))
        answers: dict[Key, Any] = {}
        with self._lock:
            for url, paths in by_peer.items():
                task = self._tasks.get(url)
                if task is None or not task[1].done():
                    continue
                del self._tasks[url]  # its answers are handed over now or never (no one wants the others)
                for path, body in task[1].result().items():
                    if path in paths:
                        answers[(url, path)] = body
        return answers

    def one(self, url: str, path: str) -> Any | None:
        return self.fetch([(url, path)]).get((url, path))

    def close(self) -> None:
        """Stops taking work; running tasks end by their deadline (the watchdog closes their sockets)."""
        self._closed = True
        self._pool.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------------ one peer's task, on a worker
    def _task(self, url: str, paths: list[str]) -> dict[str, Any]:
        """Never raises: whatever a peer does ends as missing answers and a backoff."""
        parts = urlsplit(url)
        scheme = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        conn = scheme(parts.hostname or "", parts.port, timeout=CONNECT_TIMEOUT)
        cut = threading.Event()  # set by the watchdog before it closes the socket: what the worker then reads is void
        started = time.monotonic()
        watchdog = threading.Timer(PEER_DEADLINE, _shut, args=(conn, cut))
        watchdog.daemon = True
        watchdog.start()
        answers: dict[str, Any] = {}
        try:
            for path in paths:
                body = self._page(conn, url, parts.path.rstrip("/") + path, started, cut)
                if body is not None:
                    answers[path] = body
        except PeerCutOffError:
            self._backoff[url] = time.monotonic() + CUT_OFF_FOR
            self._warn(f"peer:{url}", "peer too slow or too large; cut off", peer=url)
        except Exception:  # refused, reset, broken, malformed, closed by the watchdog: a peer's doing, never ours
            if cut.is_set() or time.monotonic() - started >= PEER_DEADLINE:  # the watchdog closed it mid-read
                self._backoff[url] = time.monotonic() + CUT_OFF_FOR
                self._warn(f"peer:{url}", "peer too slow or too large; cut off", peer=url)
            else:
                self._backoff[url] = time.monotonic() + FAILED_FOR
        finally:
            watchdog.cancel()
            conn.close()
        return answers

    def _page(
        self, conn: http.client.HTTPConnection, url: str, path: str, started: float, cut: threading.Event
    ) -> Any | None:
        conn.request("GET", path, headers={"Accept": "application/json"})
        response = conn.getresponse()
        body = bytearray()
        while chunk := response.read1(8192):  # what has arrived, never waiting to fill a buffer
            body += chunk
            if len(body) > PEER_MAX_BYTES or time.monotonic() - started > PEER_DEADLINE:
                raise PeerCutOffError(path)
        if cut.is_set() or time.monotonic() - started >= PEER_DEADLINE:  # cut short, even if what came parses
            raise PeerCutOffError(path)
        if response.status != 200:
            return None
        try:
            return json.loads(body)
        except ValueError:
            self._warn(f"peer:{url}", "peer answered with invalid JSON", peer=url)
            return None


def _shut(conn: http.client.HTTPConnection, cut: threading.Event) -> None:
    """The deadline: whatever the worker is blocked on (headers, body) returns at once. The flag is set first,
    so the worker, woken by the shutdown, always knows its read was cut (an end of file after half a header
    otherwise parses as a short, empty answer)."""
    cut.set()
    sock = conn.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
