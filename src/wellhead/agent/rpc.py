"""Several JSON-RPC URLs with failover: a call goes to the last URL that worked, then to the others.

When every URL fails, the pool backs off (exponentially with jitter, up to MAX_BACKOFF seconds): calls in the
meantime fail at once without touching the network, so an outage costs the agent's loop nothing (sampling
goes on) and the node is not hammered. An endpoint going down or coming back is logged once per change, by its
position in `rpc_urls` (URLs may carry API keys)."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

import requests
from web3 import HTTPProvider, Web3
from web3.contract import Contract

from wellhead.agent.metrics import AgentMetrics
from wellhead.chain.artifacts import abi
from wellhead.chain.deployment import Deployment
from wellhead.core.errors import RpcUnavailableError

T = TypeVar("T")
MIN_BACKOFF, MAX_BACKOFF = 1.0, 60.0
log = logging.getLogger("wellhead.agent.rpc")
TRANSPORT_ERRORS = (requests.ConnectionError, requests.Timeout, ConnectionError, OSError)


class RpcPool:
    def __init__(self, urls: list[str], deployment: Deployment, metrics: AgentMetrics, timeout: float = 5.0) -> None:
        self.urls = urls
        self.deployment = deployment
        self.metrics = metrics
        self._w3 = {u: Web3(HTTPProvider(u, request_kwargs={"timeout": timeout})) for u in urls}
        self._current = 0
        self._down: set[int] = set()
        self._retry_at = 0.0
        self._backoff = MIN_BACKOFF

    def call(self, fn: Callable[[Web3], T]) -> T:
        """Runs fn on the current node; on a transport error, on the next ones in turn."""
        wait = self._retry_at - time.monotonic()
        if wait > 0:
            raise RpcUnavailableError(f"none of {len(self.urls)} RPC URLs answered; next try in {wait:.0f} s")
        for i in range(len(self.urls)):
            index = (self._current + i) % len(self.urls)
            url = self.urls[index]
            try:
                result = fn(self._w3[url])
            except TRANSPORT_ERRORS as exc:
                self.metrics.rpc_errors.labels(endpoint=str(index)).inc()
                if index not in self._down:
                    self._down.add(index)
                    log.warning("rpc endpoint down", extra={"endpoint": index, "error": type(exc).__name__})
                continue
            if index in self._down:
                self._down.discard(index)
                log.info("rpc endpoint back", extra={"endpoint": index})
            if index != self._current:
                log.info("rpc failover", extra={"endpoint": index})
                self._current = index
            self._backoff = MIN_BACKOFF
            return result
        self._retry_at = time.monotonic() + self._backoff * random.uniform(0.5, 1.5)
        self._backoff = min(self._backoff * 2, MAX_BACKOFF)
        raise RpcUnavailableError(f"none of {len(self.urls)} RPC URLs answered")

    def contract(self, w3: Web3, name: str) -> Contract:
        key = "Stablecoin" if name == "TestStablecoin" else name
        artifact = "TestStablecoin" if name in ("Stablecoin", "TestStablecoin") else name
        address = Web3.to_checksum_address(self.deployment.address(key))
        # struct outputs decode as named tuples: read by field name, never by position
        c: Contract = w3.eth.contract(address=address, abi=abi(artifact), decode_tuples=True)
        return c
