"""Transactions the agent signs: recorded in the outbox before broadcast, followed to their confirmation depth,
re-broadcast if a reorg or a dropped transaction took them off chain."""

from __future__ import annotations

import logging

from eth_account.signers.local import LocalAccount
from eth_typing import HexStr
from web3 import Web3
from web3.contract.contract import ContractFunction
from web3.exceptions import TransactionNotFound

from wellhead.agent.phases import AgentContext
from wellhead.agent.store import OutboxRow, OutboxStatus
from wellhead.chain.reports import StoredReport
from wellhead.keeper.transactions import Nonces, SentTx, bump_transaction, sign_transaction

log = logging.getLogger("wellhead.agent")


class Transactor:
    def __init__(self, ctx: AgentContext, submitter: LocalAccount) -> None:
        self.ctx = ctx
        self.submitter = submitter
        self.nonces = Nonces()  # one counter for the reports, challenges and the keeper loop alike

    @property
    def address(self) -> str:
        return str(self.submitter.address)

    def sign(self, w3: Web3, fn: ContractFunction) -> SentTx:
        """Signed with the process's next nonce, not broadcast (the keeper's loop records, then broadcasts)."""
        return sign_transaction(w3, self.submitter, fn, self.ctx.deployment.chain_id, self.nonces)

    def replace(self, w3: Web3, sent: SentTx) -> SentTx:
        return bump_transaction(w3, self.submitter, sent, self.ctx.deployment.chain_id)

    def resync(self) -> None:
        """A recorded transaction was given up: the next nonce is the node's again (no gap left behind)."""
        self.nonces.resync(self.address)

    def send(self, w3: Web3, fn: ContractFunction, row: OutboxRow | None = None) -> str:
        """Builds, signs and records (for a report's `row`) a transaction before broadcasting it."""
        sent = self.sign(w3, fn)
        if row is not None:
            self.ctx.store.add_submission(
                sent.hash, row.asset_id, row.epoch, sent.nonce, self.submitter.address, sent.raw
            )
        try:
            w3.eth.send_raw_transaction(HexStr(sent.raw))
        except Exception:
            if row is None:  # recorded nowhere, so never broadcast again: its nonce must not stay taken
                self.resync()
            raise
        self.ctx.metrics.submissions.inc()
        log.info("transaction sent", extra={"tx": sent.hash, "nonce": sent.nonce})
        return sent.hash

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
                self.resync()
        else:
            log.warning("report transaction lost and its nonce used: sending anew", extra={"tx": tx_hash})
            store.set_status(row.asset_id, row.epoch, OutboxStatus.COSIGNED)
            self.resync()
