"""Transactions the agent signs: recorded in the outbox before broadcast, followed to their confirmation depth,
re-broadcast if a reorg or a dropped transaction took them off chain."""

from __future__ import annotations

import logging

from eth_account.signers.local import LocalAccount
from eth_typing import HexStr
from web3 import Web3
from web3.contract.contract import ContractFunction
from web3.exceptions import ContractCustomError, ContractLogicError, TransactionNotFound

from wellhead.agent.phases import AgentContext
from wellhead.agent.store import OutboxRow, OutboxStatus
from wellhead.chain.client import revert_from
from wellhead.chain.reports import StoredReport

log = logging.getLogger("wellhead.agent")


class Transactor:
    def __init__(self, ctx: AgentContext, submitter: LocalAccount) -> None:
        self.ctx = ctx
        self.submitter = submitter

    def send(self, w3: Web3, fn: ContractFunction, row: OutboxRow | None = None) -> str:
        """Builds, signs and records (for a report's `row`) a transaction before broadcasting it."""
        try:
            tx = fn.build_transaction(
                {
                    "from": self.submitter.address,
                    "nonce": w3.eth.get_transaction_count(self.submitter.address, "pending"),
                    "chainId": self.ctx.deployment.chain_id,
                }
            )
        except (ContractCustomError, ContractLogicError) as exc:
            raise revert_from(exc) from None
        signed = self.submitter.sign_transaction(dict(tx))  # type: ignore[arg-type]
        tx_hash = "0x" + bytes(signed.hash).hex()
        if row is not None:
            self.ctx.store.add_submission(
                tx_hash,
                row.asset_id,
                row.epoch,
                int(tx["nonce"]),
                self.submitter.address,
                "0x" + bytes(signed.raw_transaction).hex(),
            )
        w3.eth.send_raw_transaction(signed.raw_transaction)
        self.ctx.metrics.submissions.inc()
        log.info("transaction sent", extra={"tx": tx_hash, "nonce": int(tx["nonce"])})
        return tx_hash

    def track(self, w3: Web3, row: OutboxRow) -> None:
        """Follows a submitted report to its confirmation depth; sends it again if it left the chain."""
        store = self.ctx.store
        oracle = self.ctx.pool.contract(w3, "MetricsOracle")
        head = w3.eth.block_number
        seen_key = f"seen:{row.asset_id}:{row.epoch}"
        if StoredReport.read(oracle, row.asset_id, row.epoch).exists:
            seen = store.get(seen_key)
            if seen is None:
                store.put(seen_key, str(head))
            elif head - int(seen) >= self.ctx.settings.confirmations:
                store.set_status(row.asset_id, row.epoch, OutboxStatus.CONFIRMED)
                store.delete(seen_key)
                last = store.last_epoch(OutboxStatus.CONFIRMED)
                self.ctx.metrics.last_reported_epoch.set(last if last is not None else row.epoch)
                log.info("report confirmed", extra={"epoch": row.epoch})
            return
        store.delete(seen_key)
        subs = store.submissions(row.asset_id, row.epoch)
        if not subs:
            store.set_status(row.asset_id, row.epoch, OutboxStatus.COSIGNED)
            return
        self._recover(w3, row, subs[-1][0], subs[-1][1], subs[-1][2])

    def _recover(self, w3: Web3, row: OutboxRow, tx_hash: str, nonce: int, raw: str) -> None:
        """The report is not on chain: wait for a pending or just-mined transaction, else send it again."""
        store = self.ctx.store
        try:
            receipt = w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
        except TransactionNotFound:
            receipt = None
        if receipt is not None:
            if receipt["status"] == 0:
                store.set_status(row.asset_id, row.epoch, OutboxStatus.COSIGNED)
                store.backoff(row.asset_id, row.epoch, f"transaction {tx_hash} reverted")
            return  # mined but not visible yet: wait for the next pass
        try:
            w3.eth.get_transaction(tx_hash)  # type: ignore[arg-type]
            return  # still pending
        except TransactionNotFound:
            pass
        if w3.eth.get_transaction_count(self.submitter.address, "pending") <= nonce:
            log.warning("report transaction dropped (reorg?): broadcasting it again", extra={"tx": tx_hash})
            try:
                w3.eth.send_raw_transaction(HexStr(raw))
            except ValueError as exc:
                self.ctx.warn("rebroadcast", "rebroadcast refused; sending anew", error=str(exc))
                store.set_status(row.asset_id, row.epoch, OutboxStatus.COSIGNED)
        else:
            log.warning("report transaction lost and its nonce used: sending anew", extra={"tx": tx_hash})
            store.set_status(row.asset_id, row.epoch, OutboxStatus.COSIGNED)
