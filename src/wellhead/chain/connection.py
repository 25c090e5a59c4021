"""Connecting to a JSON-RPC node with errors a person can act on."""

from __future__ import annotations

from typing import Any

import requests
from web3 import HTTPProvider, Web3

from wellhead.core.errors import RpcUnavailableError


def connect(rpc_url: str, timeout: float = 10.0) -> Web3:
    """A Web3 on `rpc_url`, checked to answer `eth_chainId`."""
    if not rpc_url.startswith(("http://", "https://")):
        raise RpcUnavailableError(f"RPC URL must start with http:// or https://, got {rpc_url!r}")
    w3 = Web3(HTTPProvider(rpc_url, request_kwargs={"timeout": timeout}))
    try:
        w3.eth.chain_id  # noqa: B018 - probe the node
    except (requests.RequestException, OSError) as exc:
        raise RpcUnavailableError(f"cannot reach the RPC node at {rpc_url}: {type(exc).__name__}") from exc
    except ValueError as exc:
        raise RpcUnavailableError(f"{rpc_url} does not answer like an Ethereum node: {exc}") from exc
    return w3


def rpc(w3: Web3, method: str, params: list[Any]) -> Any:
    """A raw JSON-RPC call (dev-chain methods such as evm_increaseTime); raises on an error answer."""
    response = w3.provider.make_request(method, params)  # type: ignore[arg-type]
    if "error" in response:
        raise RpcUnavailableError(f"{method} failed: {response['error']}")
    return response.get("result")
