"""Relaying: signed EIP-1559 transactions for this chain and the protocol's contracts sent to the node, recorded,
and followed to their confirmation depth."""

from __future__ import annotations

import time

from eth_account import Account
from eth_account.typed_transactions.typed_transaction import TypedTransaction
from hexbytes import HexBytes
from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from web3 import Web3
from web3.exceptions import TransactionNotFound, Web3RPCError

from wellhead.chain.deployment import Deployment
from wellhead.gateway import db
from wellhead.gateway.problems import Problem
from wellhead.gateway.schemas.transactions import RelayIn, TransactionStatus


class Relay:
    def __init__(self, w3: Web3, deployment: Deployment, confirmations: int) -> None:
        self.w3 = w3
        self.chain_id = deployment.chain_id
        self.confirmations = confirmations
        self.core: dict[str, str] = {Web3.to_checksum_address(c.address): n for n, c in deployment.contracts.items()}

    def relay(self, s: Session, body: RelayIn, submitted_by: str) -> TransactionStatus:
        raw = bytes.fromhex(body.raw_transaction[2:])
        if not raw or raw[0] != 2:
            raise Problem(422, "unsupported_transaction", "only EIP-1559 (type 2) transactions", "raw_transaction")
        try:
            tx = TypedTransaction.from_bytes(HexBytes(raw)).as_dict()
            sender = Account.recover_transaction(raw)
        except Exception:  # any malformed encoding or signature: the library raises many kinds
            raise Problem(
                422, "malformed_transaction", "not a signed EIP-1559 transaction", "raw_transaction"
            ) from None
        if tx["chainId"] != self.chain_id:
            raise Problem(
                422, "wrong_chain", f"signed for chain {tx['chainId']}, this is {self.chain_id}", "raw_transaction"
            )
        to = Web3.to_checksum_address("0x" + bytes(tx["to"]).hex()) if tx.get("to") else None
        contract = self._contract_name(s, to)
        if to is None or contract is None:
            raise Problem(422, "unknown_contract", f"{to} is not a Wellhead contract", "raw_transaction")
        tx_hash = Web3.to_hex(Web3.keccak(raw))
        existing = s.get(db.RelayedTransaction, tx_hash)
        if existing is None:
            try:
                self.w3.eth.send_raw_transaction(raw)
            except Web3RPCError as exc:
                message = exc.rpc_response.get("error", {}).get("message") if exc.rpc_response else str(exc)
                raise Problem(422, "rejected_by_node", f"the node refused it: {message}", "raw_transaction") from None
            existing = db.RelayedTransaction(
                hash=tx_hash,
                sender=sender,
                to=to,
                contract=contract,
                nonce=int(tx["nonce"]),
                submitted_at=int(time.time()),
                submitted_by=submitted_by,
                status="pending",
            )
            s.add(existing)
            s.commit()
        return self.status(s, tx_hash)

    def _contract_name(self, s: Session, to: str | None) -> str | None:
        if to is None:
            return None
        if to in self.core:
            return self.core[to]
        hit = s.scalar(select(db.Asset).where(or_(db.Asset.shares == to, db.Asset.nav_feed == to)))
        if hit is None:
            return None
        return "CapacityShares" if hit.shares == to else "NavOracle"

    def status(self, s: Session, tx_hash: str) -> TransactionStatus:
        row = s.get(db.RelayedTransaction, tx_hash.lower())
        if row is None:
            raise Problem(404, "transaction_not_found", f"{tx_hash} was not relayed here", "hash")
        confirmations = 0
        try:
            receipt = self.w3.eth.get_transaction_receipt(row.hash)  # type: ignore[arg-type]
        except TransactionNotFound:
            receipt = None
        if receipt is None:
            row.status, row.block_number, row.gas_used = "pending", None, None
        else:
            confirmations = self.w3.eth.block_number - receipt["blockNumber"] + 1
            row.block_number, row.gas_used = receipt["blockNumber"], receipt["gasUsed"]
            if receipt["status"] == 0:
                row.status = "failed"
            else:
                row.status = "confirmed" if confirmations >= max(1, self.confirmations) else "pending"
        s.commit()
        return TransactionStatus(
            hash=row.hash,
            sender=row.sender,
            to=row.to,
            contract=row.contract,
            nonce=row.nonce,
            status=row.status,  # type: ignore[arg-type]
            block_number=row.block_number,
            confirmations=confirmations,
            gas_used=row.gas_used,
            submitted_at=row.submitted_at,
        )
