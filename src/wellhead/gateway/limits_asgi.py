"""Request bodies with a size limit and a deadline, for every route (ASGI middleware).

A body over `max_bytes` is a 413 (by its Content-Length before a byte is read, or as it streams in); a body not
fully received within `timeout` seconds of its first read (a client trickling bytes to hold a worker) is a 408.
Both surface as HTTPExceptions from the route's body read, so the API answers them as its other problems.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyLimits:
    def __init__(self, app: ASGIApp, max_bytes: int = 1 << 20, timeout: float = 10.0) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        state: dict[str, Any] = {"received": 0, "deadline": None}

        async def limited() -> Message:
            if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
                raise HTTPException(413, f"the body is over {self.max_bytes} bytes")
            if state["deadline"] is None:
                state["deadline"] = time.monotonic() + self.timeout
            left = state["deadline"] - time.monotonic()
            try:
                message = await asyncio.wait_for(receive(), timeout=max(left, 0.001))
            except TimeoutError:
                raise HTTPException(408, f"the body did not arrive within {self.timeout:g} s") from None
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > self.max_bytes:
                    raise HTTPException(413, f"the body is over {self.max_bytes} bytes")
            return message

        await self.app(scope, limited, send)


# The dashboard and the docs pages: no framing (clickjacking), no MIME sniffing, scripts and styles from this
# origin only (the docs' and charts' inline bootstrap code is allowed; nothing loads from elsewhere).
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy", CSP.encode()),
]


class SecurityHeaders:
    """Adds the headers above to every answer that does not set them itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []), *(h for h in HEADERS if h[0] not in present)]
            await send(message)

        await self.app(scope, receive, with_headers)
