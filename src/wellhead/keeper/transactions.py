"""Transactions a service signs with its own key: one nonce counter per process, a gas limit with headroom, and
fee-bumped replacements for a transaction stuck in the mempool.

The nonce is the larger of the node's pending count and the next one this process has handed out, so two
transactions signed before either is broadcast (an RPC outage between record and broadcast, or a pool of
nodes whose mempools lag each other) never share a nonce. When a recorded transaction is given up for good,
`resync()` drops the local counter so that a nonce never broadcast leaves no gap behind it.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract.contract import ContractFunction
from web3.exceptions import ContractCustomError, ContractLogicError
from web3.types import Nonce, TxParams

from wellhead.chain.client import revert_from

GAS_HEADROOM = (6, 5)  # limit = estimate x 6/5: a later block may write storage the estimate skipped
FEE_BUMP = (9, 8)  # a replacement pays at least 12.5 % more on both fee fields (nodes ask for 10 %)


@dataclass(frozen=True)
class SentTx:
    hash: str
    nonce: int
    raw: str
    sent_at: float
    to: str = ""
    data: str = ""
    gas: int = 0
    max_fee: int = 0
    priority_fee: int = 0
    earlier: tuple[str, ...] = field(default=())  # hashes this one replaced (same nonce, lower fees)
    fee_cap: int = 0  # wei per gas a replacement may offer at most (0: the policy's cap only)

    @property
    def hashes(self) -> tuple[str, ...]:
        """Every version of the transaction, newest first: any of them may be the one mined."""
        return (self.hash, *reversed(self.earlier))

    def dumps(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def loads(cls, text: str) -> SentTx:
        data: dict[str, Any] = json.loads(text)
        data["earlier"] = tuple(data.get("earlier", ()))
        return cls(**data)


class Nonces:
    """The next nonce per address, shared by every part of the process that signs with it."""

    def __init__(self) -> None:
        self._next: dict[str, int] = {}
        self._lock = threading.Lock()

    def take(self, w3: Web3, address: str) -> int:
        with self._lock:
            pending = int(w3.eth.get_transaction_count(Web3.to_checksum_address(address), "pending"))
            nonce = max(pending, self._next.get(address, 0))
            self._next[address] = nonce + 1
            return nonce

    def resync(self, address: str) -> None:
        with self._lock:
            self._next.pop(address, None)


def ceil_ratio(value: int, ratio: tuple[int, int]) -> int:
    return -(-value * ratio[0] // ratio[1])


def _signed(account: LocalAccount, tx: dict[str, Any], earlier: tuple[str, ...] = ()) -> SentTx:
    signed = account.sign_transaction(tx)
    return SentTx(
        hash="0x" + bytes(signed.hash).hex(),
        nonce=int(tx["nonce"]),
        raw="0x" + bytes(signed.raw_transaction).hex(),
        sent_at=time.time(),
        to=str(tx["to"]),
        data=str(tx["data"]),
        gas=int(tx["gas"]),
        max_fee=int(tx["maxFeePerGas"]),
        priority_fee=int(tx["maxPriorityFeePerGas"]),
        earlier=earlier,
    )


def sign_transaction(w3: Web3, account: LocalAccount, fn: ContractFunction, chain_id: int, nonces: Nonces) -> SentTx:
    """Estimates, takes a nonce and signs; nothing is broadcast. A call that would revert raises the named
    contract error before a nonce is taken."""
    address = account.address
    try:
        estimate = int(fn.estimate_gas({"from": address}))
    except (ContractCustomError, ContractLogicError) as exc:
        raise revert_from(exc) from None
    gas = ceil_ratio(estimate, GAS_HEADROOM)
    # every field the node supplies (fees) is filled before a nonce is taken: a node failing here leaves no gap
    params: TxParams = {"from": address, "gas": gas, "chainId": chain_id, "nonce": Nonce(0)}
    tx = dict(fn.build_transaction(params))
    tx["nonce"] = nonces.take(w3, address)  # the last call to the node: nothing fails between it and signing
    return _signed(account, tx)


def bump_transaction(w3: Web3, account: LocalAccount, sent: SentTx, chain_id: int) -> SentTx:
    """The same call and nonce with both fees raised by at least an eighth, and to today's market if higher."""
    base = int(w3.eth.get_block("latest").get("baseFeePerGas", 0))
    priority = max(ceil_ratio(sent.priority_fee, FEE_BUMP), int(w3.eth.max_priority_fee))
    max_fee = max(ceil_ratio(sent.max_fee, FEE_BUMP), 2 * base + priority)
    tx = {
        "type": 2,
        "chainId": chain_id,
        "nonce": sent.nonce,
        "to": sent.to,
        "data": sent.data,
        "gas": sent.gas,
        "value": 0,
        "maxFeePerGas": max_fee,
        "maxPriorityFeePerGas": priority,
    }
    return _signed(account, tx, (*sent.earlier, sent.hash))


@dataclass
class AccountSender:
    """Signs for a keeper with its own key; `nonces` is shared with anything else in the process that signs."""

    account: LocalAccount
    chain_id: int
    nonces: Nonces = field(default_factory=Nonces)

    @property
    def address(self) -> str:
        return str(self.account.address)

    def sign(self, w3: Web3, fn: ContractFunction) -> SentTx:
        return sign_transaction(w3, self.account, fn, self.chain_id, self.nonces)

    def replace(self, w3: Web3, sent: SentTx) -> SentTx:
        return bump_transaction(w3, self.account, sent, self.chain_id)

    def resync(self) -> None:
        self.nonces.resync(self.address)
