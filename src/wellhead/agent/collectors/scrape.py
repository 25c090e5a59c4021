"""Concurrent HTTP reads with one deadline for the whole pass, for collectors that read many peers.

One event loop in a background thread holds a pooled aiohttp session (keep-alive connections, a cap on
connections in flight). `fetch_all(urls, parse, deadline)` reads every URL at once, parses each body as it
arrives (parsing overlaps the slow peers' waits), and returns when all are done or the deadline passes,
whichever is first: a hung or slow peer costs nothing beyond the deadline and comes back as a failure.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import aiohttp
import yarl

T = TypeVar("T")


@dataclass(frozen=True)
class Fetched(Generic[T]):
    """One URL's outcome: the parsed body, or why there is none."""

    url: str
    value: T | None = None
    error: str | None = None


class ParseError(ValueError):
    """A body that is not what the collector expects: the peer's reading is missing."""


class ConcurrentFetcher:
    def __init__(
        self,
        max_in_flight: int = 256,
        headers: Mapping[str, str] | None = None,
        ssl_context: ssl.SSLContext | None = None,
        max_body: int = 2 * 1024 * 1024,  # an exporter's page is ~50 KB; 256 in flight stay under 512 MB
    ) -> None:
        self.max_in_flight = max_in_flight
        self.headers = dict(headers or {})
        self.ssl_context = ssl_context
        self.max_body = max_body
        self._session: aiohttp.ClientSession | None = None
        self._urls: dict[str, yarl.URL] = {}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="wellhead-scrape", daemon=True)
        self._thread.start()

    def fetch_all(self, urls: Sequence[str], parse: Callable[[str, bytes], T], deadline: float) -> list[Fetched[T]]:
        """Every URL read and parsed, in the order given; those not done by `deadline` seconds are failures."""
        future = asyncio.run_coroutine_threadsafe(self._all(urls, parse, deadline), self._loop)
        return future.result()

    async def _all(self, urls: Sequence[str], parse: Callable[[str, bytes], T], deadline: float) -> list[Fetched[T]]:
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self.max_in_flight, ttl_dns_cache=300, ssl=self.ssl_context or True)
            self._session = aiohttp.ClientSession(
                connector=connector,
                # uncompressed only: a compressed body's length says nothing of what it inflates to
                headers={**self.headers, "Accept-Encoding": "identity"},
                auto_decompress=False,
                cookie_jar=aiohttp.DummyCookieJar(),  # exporters set none; skipping the jar saves CPU per request
                read_bufsize=2**17,  # a whole exporter page in one read
            )
        tasks = [asyncio.ensure_future(self._one(self._session, url, parse)) for url in urls]
        if not tasks:
            return []
        _done, pending = await asyncio.wait(tasks, timeout=deadline)
        for task in pending:
            task.cancel()
        out: list[Fetched[T]] = []
        for url, task in zip(urls, tasks, strict=True):
            if task in pending:
                out.append(Fetched(url, error=f"no answer within the pass deadline of {deadline:g} s"))
            else:
                out.append(task.result())
        return out

    async def _one(self, session: aiohttp.ClientSession, url: str, parse: Callable[[str, bytes], T]) -> Fetched[T]:
        target = self._urls.get(url)
        try:
            if target is None:
                target = self._urls[url] = yarl.URL(url)  # parsed once, not on every pass
                target.port  # noqa: B018 (an out-of-range port raises here, not mid-request)
        except ValueError as exc:
            return Fetched(url, error=f"not a URL: {exc}")
        try:
            async with session.get(target, allow_redirects=False) as response:
                if response.status != 200:
                    return Fetched(url, error=f"HTTP {response.status}")
                if response.headers.get("Content-Encoding", "identity") != "identity":
                    return Fetched(url, error="a compressed answer to a request for identity")
                length = response.content_length
                if length is not None and length > self.max_body:
                    return Fetched(url, error=f"answer larger than {self.max_body} bytes")
                if length is not None:
                    body = await response.read()
                else:  # chunked: read it whole, within the limit
                    buffer = bytearray()
                    async for chunk in response.content.iter_any():
                        buffer += chunk
                        if len(buffer) > self.max_body:
                            return Fetched(url, error=f"answer larger than {self.max_body} bytes")
                    body = bytes(buffer)
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            return Fetched(url, error=type(exc).__name__)
        try:
            return Fetched(url, value=parse(url, body))
        except (ParseError, ValueError, UnicodeDecodeError) as exc:
            return Fetched(url, error=f"malformed: {exc}")

    def close(self) -> None:
        async def shut() -> None:
            if self._session is not None:
                await self._session.close()

        if self._loop.is_running():
            asyncio.run_coroutine_threadsafe(shut(), self._loop).result(timeout=10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
        if not self._loop.is_running() and not self._loop.is_closed():
            self._loop.close()
