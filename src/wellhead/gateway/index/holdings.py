"""Projections of what accounts hold: leases (and their NFT owner), share balances, credit positions."""

from __future__ import annotations

from web3 import Web3

from wellhead.gateway.db import CreditPosition, Lease, ShareBalance
from wellhead.gateway.index.batch import ZERO, Batch
from wellhead.gateway.index.decoding import LogEvent


def lease_opened(b: Batch, e: LogEvent) -> None:
    a = e.args
    lease = Lease(
        id=a["leaseId"],
        asset_id=a["assetId"],
        lessee=a["lessee"],
        owner=a["lessee"],
        lease_class=a["class"],
        gpus=a["gpus"],
        start_epoch=a["startEpoch"],
        end_epoch=a["endEpoch"],
        price_per_gpu_hour=a["pricePerGpuHour"],
        rate_per_epoch=a["ratePerEpoch"],
        prepaid=a["prepaid"],
        closed_refund=0,
        refunded=0,
        credited=0,
        opened_at=e.timestamp,
    )
    b.add(Lease, (lease.id,), lease)


def lease_closed(b: Batch, e: LogEvent) -> None:
    lease = b.get(Lease, (e.args["leaseId"],))
    if lease is not None:
        lease.end_epoch = e.args["newEndEpoch"]
        lease.closed_refund += e.args["refunded"]


def lease_extended(b: Batch, e: LogEvent) -> None:
    lease = b.get(Lease, (e.args["leaseId"],))
    if lease is not None:
        lease.end_epoch = e.args["newEndEpoch"]
        lease.prepaid += e.args["paid"]


def lease_refunded(b: Batch, e: LogEvent) -> None:
    lease = b.get(Lease, (e.args["leaseId"],))
    if lease is not None:
        lease.refunded += e.args["refund"]
        lease.credited += e.args["serviceCredit"]


def lease_transferred(b: Batch, e: LogEvent) -> None:
    if e.args["from"] == ZERO:
        return  # the mint: LeaseOpened recorded the owner
    lease = b.get(Lease, (e.args["tokenId"],))
    if lease is not None:
        lease.owner = Web3.to_checksum_address(e.args["to"])


def _balance(b: Batch, token: str, holder: str) -> ShareBalance:
    row = b.get(ShareBalance, (token, holder))
    if row is None:
        row = b.add(ShareBalance, (token, holder), ShareBalance(token=token, holder=holder, balance=0))
    return row


def shares_transferred(b: Batch, e: LogEvent) -> None:
    value = e.args["value"]
    if e.args["from"] != ZERO:
        _balance(b, e.address, e.args["from"]).balance -= value
    if e.args["to"] != ZERO:
        _balance(b, e.address, e.args["to"]).balance += value


def _position(b: Batch, e: LogEvent) -> CreditPosition:
    key = (e.args["assetId"], e.args["borrower"])
    row = b.get(CreditPosition, key)
    if row is None:
        row = CreditPosition(
            asset_id=key[0], borrower=key[1], collateral=0, borrowed=0, repaid=0, revenue_applied=0, liquidations=0
        )
        b.add(CreditPosition, key, row)
    return row


def collateral_deposited(b: Batch, e: LogEvent) -> None:
    _position(b, e).collateral += e.args["shares"]


def collateral_withdrawn(b: Batch, e: LogEvent) -> None:
    _position(b, e).collateral -= e.args["shares"]


def borrowed(b: Batch, e: LogEvent) -> None:
    _position(b, e).borrowed += e.args["amount"]


def repaid(b: Batch, e: LogEvent) -> None:
    _position(b, e).repaid += e.args["amount"]


def revenue_applied(b: Batch, e: LogEvent) -> None:
    _position(b, e).revenue_applied += e.args["repaid"]


def liquidated(b: Batch, e: LogEvent) -> None:
    row = _position(b, e)
    row.collateral -= e.args["seized"]
    row.liquidations += 1
