"""The gateway's tables: every decoded event of the protocol, the read models built from them, and the
accounts, keys, webhooks and relayed transactions of the API.

Amounts are integers of any size, stored as decimal text so that no database rounds them. Read models
(assets, epochs, leases, NAV rounds) are projections of `chain_events`: a reorg deletes the orphaned events
and restores the rows they changed (from `undo_log`; past its depth, rebuilds them all), so they can never
disagree with the events.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    Index,
    Integer,
    String,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Uint(TypeDecorator[int]):
    """An unsigned integer of up to 256 bits, kept exact as decimal text."""

    impl = String(78)
    cache_ok = True

    def process_bind_param(self, value: int | None, dialect: Dialect) -> str | None:
        return None if value is None else str(int(value))

    def process_result_value(self, value: str | None, dialect: Dialect) -> int | None:
        return None if value is None else int(value)


# A 64-bit primary key that SQLite still auto-increments (it only does so for INTEGER PRIMARY KEY).
AutoId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON}


class IndexerState(Base):
    """Where the indexer stands: the next block to read."""

    __tablename__ = "indexer_state"
    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class IndexedBlock(Base):
    """The hash of each indexed block that had events or ended a batch: what a reorg is detected against."""

    __tablename__ = "indexed_blocks"
    number: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(String(66))


class ChainEvent(Base):
    """One decoded log of a protocol contract."""

    __tablename__ = "chain_events"
    __table_args__ = (UniqueConstraint("tx_hash", "log_index", name="uq_chain_events_log"),)
    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    block_number: Mapped[int] = mapped_column(BigInteger, index=True)
    block_hash: Mapped[str] = mapped_column(String(66))
    timestamp: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(String(66))
    log_index: Mapped[int] = mapped_column(Integer)
    address: Mapped[str] = mapped_column(String(42), index=True)
    contract: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(48), index=True)
    args: Mapped[dict[str, Any]]


class Asset(Base):
    __tablename__ = "assets"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    operator: Mapped[str] = mapped_column(String(42))
    shares: Mapped[str] = mapped_column(String(42))
    site_id: Mapped[str] = mapped_column(String(66))
    gpu_class: Mapped[str] = mapped_column(String(66))
    gpu_count: Mapped[int] = mapped_column(BigInteger)
    max_watts_per_gpu: Mapped[int] = mapped_column(BigInteger)
    epoch_length: Mapped[int] = mapped_column(BigInteger)
    genesis: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[int] = mapped_column(Integer)
    nav_feed: Mapped[str | None] = mapped_column(String(42))
    registered_block: Mapped[int] = mapped_column(BigInteger)
    # the attestor set (index i + 1 at position i) and the faulty attestors it tolerates
    attestors: Mapped[dict[str, Any] | None]
    fault_tolerance: Mapped[int | None] = mapped_column(Integer)


class Epoch(Base):
    """One asset's epoch: its accepted report (if any) and its settlement."""

    __tablename__ = "epochs"
    asset_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    epoch: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    reported: Mapped[bool] = mapped_column(Boolean, default=False)
    uptime_bps: Mapped[int | None] = mapped_column(Integer)
    curtailed_bps: Mapped[int | None] = mapped_column(Integer)
    gpu_energy_wh: Mapped[int | None] = mapped_column(Uint)
    facility_energy_wh: Mapped[int | None] = mapped_column(Uint)
    mining_energy_wh: Mapped[int | None] = mapped_column(Uint)
    mining_revenue: Mapped[int | None] = mapped_column(Uint)
    renewable_bps: Mapped[int | None] = mapped_column(Integer)
    carbon_grams_per_kwh: Mapped[int | None] = mapped_column(Integer)
    evidence_hash: Mapped[str | None] = mapped_column(String(66), index=True)
    signers: Mapped[dict[str, Any] | None]
    # the report's life: pending, challenged, upheld, corrected, voided; its digest, observers, co-signers and
    # any dispute (challenger, verdict, slashes)
    report_status: Mapped[str | None] = mapped_column(String(16))
    attestation: Mapped[dict[str, Any] | None]
    settled: Mapped[bool] = mapped_column(Boolean, default=False)
    proven: Mapped[bool | None] = mapped_column(Boolean)
    delivered: Mapped[int | None] = mapped_column(Uint)
    protocol_fee: Mapped[int | None] = mapped_column(Uint)
    operator_fee: Mapped[int | None] = mapped_column(Uint)
    holders_revenue: Mapped[int | None] = mapped_column(Uint)
    service_credit: Mapped[int | None] = mapped_column(Uint)
    settled_at: Mapped[int | None] = mapped_column(BigInteger)


class ReportObservation(Base):
    """One attestor's observation in an accepted report: the evidence behind a payout, per attestor."""

    __tablename__ = "report_observations"
    asset_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    epoch: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    observer: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    attestor: Mapped[str] = mapped_column(String(42))
    uptime_bps: Mapped[int] = mapped_column(Integer)
    curtailed_bps: Mapped[int] = mapped_column(Integer)
    gpu_energy_wh: Mapped[int] = mapped_column(Uint)
    facility_energy_wh: Mapped[int] = mapped_column(Uint)
    mining_energy_wh: Mapped[int] = mapped_column(Uint)
    mining_revenue: Mapped[int] = mapped_column(Uint)
    renewable_bps: Mapped[int] = mapped_column(Integer)
    carbon_grams_per_kwh: Mapped[int] = mapped_column(Integer)
    evidence_hash: Mapped[str] = mapped_column(String(66), index=True)
    valid: Mapped[bool] = mapped_column(Boolean, default=True)  # false once a fault proof showed it forged


class Lease(Base):
    __tablename__ = "leases"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    asset_id: Mapped[int] = mapped_column(BigInteger, index=True)
    lessee: Mapped[str] = mapped_column(String(42))
    owner: Mapped[str] = mapped_column(String(42), index=True)
    lease_class: Mapped[int] = mapped_column(Integer)
    gpus: Mapped[int] = mapped_column(BigInteger)
    start_epoch: Mapped[int] = mapped_column(BigInteger)
    end_epoch: Mapped[int] = mapped_column(BigInteger)
    price_per_gpu_hour: Mapped[int] = mapped_column(Uint)
    rate_per_epoch: Mapped[int] = mapped_column(Uint)
    prepaid: Mapped[int] = mapped_column(Uint)
    closed_refund: Mapped[int] = mapped_column(Uint, default=0)
    refunded: Mapped[int] = mapped_column(Uint, default=0)
    credited: Mapped[int] = mapped_column(Uint, default=0)
    opened_at: Mapped[int] = mapped_column(BigInteger)


class GridEventRow(Base):
    """A grid curtailment event declared for an asset (GridLedger), keyed by its declaration id (what reports
    name); `program_event_id` is the grid program's own event."""

    __tablename__ = "grid_events"
    event_id: Mapped[str] = mapped_column(String(66), primary_key=True)
    program_event_id: Mapped[str | None] = mapped_column(String(66))
    asset_id: Mapped[int] = mapped_column(BigInteger, index=True)
    source: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[int] = mapped_column(BigInteger)
    ends_at: Mapped[int] = mapped_column(BigInteger)
    payload_hash: Mapped[str] = mapped_column(String(66))
    signer: Mapped[str] = mapped_column(String(42))
    declared_at: Mapped[int] = mapped_column(BigInteger)


class EnergyIncome(Base):
    """A demand-response or energy-credit deposit into an asset's revenue, with its reference (a grid event)."""

    __tablename__ = "energy_income"
    tx_hash: Mapped[str] = mapped_column(String(66), primary_key=True)
    log_index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    asset_id: Mapped[int] = mapped_column(BigInteger, index=True)
    reference: Mapped[str] = mapped_column(String(66), index=True)
    depositor: Mapped[str] = mapped_column(String(42))
    amount: Mapped[int] = mapped_column(Uint)
    protocol_fee: Mapped[int] = mapped_column(Uint)
    operator_fee: Mapped[int] = mapped_column(Uint)
    holders_revenue: Mapped[int] = mapped_column(Uint)
    deposited_at: Mapped[int] = mapped_column(BigInteger)


class RetiredCertificate(Base):
    """A renewable energy certificate retired against an asset's epoch (GridLedger)."""

    __tablename__ = "retired_certificates"
    certificate_id: Mapped[str] = mapped_column(String(66), primary_key=True)
    asset_id: Mapped[int] = mapped_column(BigInteger)
    epoch: Mapped[int] = mapped_column(BigInteger)
    energy_wh: Mapped[int] = mapped_column(Uint)
    retired_at: Mapped[int] = mapped_column(BigInteger)


Index("ix_retired_certificates_asset_epoch", RetiredCertificate.asset_id, RetiredCertificate.epoch)


class NavRound(Base):
    __tablename__ = "nav_rounds"
    asset_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    round_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    epoch: Mapped[int] = mapped_column(BigInteger)
    price_per_share: Mapped[int] = mapped_column(Uint)
    annual_revenue_per_share: Mapped[int] = mapped_column(Uint)
    uptime_bps: Mapped[int] = mapped_column(Integer)
    remaining_life_seconds: Mapped[int] = mapped_column(BigInteger)
    recorded_at: Mapped[int] = mapped_column(BigInteger)
    # what the credit market lends at: the lowest life-capped window price of the last K windows
    lending_price: Mapped[int | None] = mapped_column(Uint, nullable=True)
    capped_price: Mapped[int | None] = mapped_column(Uint, nullable=True)
    full_windows: Mapped[int | None] = mapped_column(Integer, nullable=True)


class ShareBalance(Base):
    """Capacity shares held, per shares token and holder (from the token's Transfer events). Keyed by the
    token, not the asset: the token mints to the first holders before the registry announces the asset."""

    __tablename__ = "share_balances"
    token: Mapped[str] = mapped_column(String(42), primary_key=True)
    holder: Mapped[str] = mapped_column(String(42), primary_key=True, index=True)
    balance: Mapped[int] = mapped_column(Uint)


class CreditPosition(Base):
    """A borrower's position against one asset, as its events describe it (debt with interest is live)."""

    __tablename__ = "credit_positions"
    asset_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    borrower: Mapped[str] = mapped_column(String(42), primary_key=True, index=True)
    collateral: Mapped[int] = mapped_column(Uint)
    borrowed: Mapped[int] = mapped_column(Uint)
    repaid: Mapped[int] = mapped_column(Uint)
    revenue_applied: Mapped[int] = mapped_column(Uint)
    liquidations: Mapped[int] = mapped_column(Integer)


PROJECTIONS = (
    Asset,
    Epoch,
    ReportObservation,
    Lease,
    NavRound,
    ShareBalance,
    CreditPosition,
    GridEventRow,
    EnergyIncome,
    RetiredCertificate,
)


class UndoRecord(Base):
    """A projection row as it stood before one block's events changed it (`before` null: the block created it).
    A reorg back past that block restores it instead of replaying all history; kept for the newest blocks only
    (`index/journal.py`)."""

    __tablename__ = "undo_log"
    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    block_number: Mapped[int] = mapped_column(BigInteger, index=True)
    table: Mapped[str] = mapped_column(String(32))
    key: Mapped[list[Any]] = mapped_column(JSON)
    before: Mapped[dict[str, Any] | None]


# ------------------------------------------------------------ the gateway's own state (not from the chain)
class RelayedTransaction(Base):
    """A signed transaction the gateway passed to the node, and what became of it."""

    __tablename__ = "relayed_transactions"
    hash: Mapped[str] = mapped_column(String(66), primary_key=True)
    sender: Mapped[str] = mapped_column(String(42), index=True)
    to: Mapped[str] = mapped_column(String(42))
    contract: Mapped[str] = mapped_column(String(32))
    nonce: Mapped[int] = mapped_column(BigInteger)
    submitted_at: Mapped[int] = mapped_column(BigInteger)
    submitted_by: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # pending | confirmed | failed
    block_number: Mapped[int | None] = mapped_column(BigInteger)
    gas_used: Mapped[int | None] = mapped_column(BigInteger)


class IdempotencyRecord(Base):
    """The first answer to a POST carrying an Idempotency-Key, replayed for retries of the same request."""

    __tablename__ = "idempotency_records"
    principal: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)  # None while the first request runs
    body: Mapped[dict[str, Any] | None]
    created_at: Mapped[int] = mapped_column(BigInteger, index=True)


class SiweNonce(Base):
    __tablename__ = "siwe_nonces"
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    issued_at: Mapped[int] = mapped_column(BigInteger, index=True)
    used: Mapped[bool] = mapped_column(Boolean, default=False)


class AuthSession(Base):
    """A Sign-In with Ethereum session; only the token's SHA-256 is stored."""

    __tablename__ = "auth_sessions"
    __table_args__ = (Index("ix_auth_sessions_address_created", "address", "created_at"),)
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    address: Mapped[str] = mapped_column(String(42), index=True)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)
    created_at: Mapped[int] = mapped_column(BigInteger, server_default="0")


class ApiKey(Base):
    """An integrator's API key; only its SHA-256 is stored (keys are 256-bit random, so no slow hash)."""

    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(String(42), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    rate_per_minute: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[int] = mapped_column(BigInteger)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class WebhookSubscription(Base):
    __tablename__ = "webhook_subscriptions"
    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(String(42), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    events: Mapped[dict[str, Any]]  # {"types": [...]}
    secret: Mapped[str] = mapped_column(String(255))  # sealed (services/sealing.py): opened only to sign
    created_at: Mapped[int] = mapped_column(BigInteger)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class WebhookDelivery(Base):
    """One message to one subscription: its id (the `webhook-id` header) is unique, so a message is queued once
    however many processes enqueue."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("uq_webhook_deliveries_message", "message_id", unique=True),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_created", "created_at"),
    )
    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    subscription_id: Mapped[int] = mapped_column(BigInteger, index=True)
    message_id: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16), index=True)  # pending | delivered | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[float] = mapped_column(Float)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[int] = mapped_column(BigInteger)
    delivered_at: Mapped[int | None] = mapped_column(BigInteger)


class RateLimit(Base):
    """A rate limit shared by every API replica: the key's theoretical arrival time (GCRA), in unix seconds."""

    __tablename__ = "rate_limits"
    key: Mapped[str] = mapped_column(String(96), primary_key=True)
    tat: Mapped[float] = mapped_column(Float, index=True)
