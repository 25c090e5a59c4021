"""Read models from events: each handler applies one event to the rows it changes (see `batch` for how a
batch of events is applied at once); this module maps each (contract, event) to its handler."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from wellhead.gateway.index.assets import (
    asset_registered,
    asset_status_changed,
    certificate_retired,
    energy_income_deposited,
    grid_event_declared,
    lending_price_updated,
    nav_oracle_created,
    nav_updated,
)
from wellhead.gateway.index.batch import Batch
from wellhead.gateway.index.decoding import LogEvent
from wellhead.gateway.index.holdings import (
    borrowed,
    collateral_deposited,
    collateral_withdrawn,
    lease_closed,
    lease_extended,
    lease_opened,
    lease_refunded,
    lease_transferred,
    liquidated,
    repaid,
    revenue_applied,
    shares_transferred,
)
from wellhead.gateway.index.journal import Journal, write
from wellhead.gateway.index.reports import (
    attestors_set,
    challenge_expired,
    challenge_resolved,
    epoch_settled,
    equivocation_proven,
    observation_fault_proven,
    report_accepted,
    report_challenged,
)

HANDLERS: dict[tuple[str, str], Callable[[Batch, LogEvent], None]] = {
    ("CapacityRegistry", "AssetRegistered"): asset_registered,
    ("CapacityRegistry", "AssetStatusChanged"): asset_status_changed,
    ("CapacityRegistry", "AttestorsSet"): attestors_set,
    ("NavOracleFactory", "NavOracleCreated"): nav_oracle_created,
    ("MetricsOracle", "ReportAccepted"): report_accepted,
    ("MetricsOracle", "ReportChallenged"): report_challenged,
    ("MetricsOracle", "ChallengeResolved"): challenge_resolved,
    ("MetricsOracle", "ChallengeExpired"): challenge_expired,
    ("MetricsOracle", "ObservationFaultProven"): observation_fault_proven,
    ("MetricsOracle", "EquivocationProven"): equivocation_proven,
    ("LeaseMarket", "EpochSettled"): epoch_settled,
    ("LeaseMarket", "LeaseOpened"): lease_opened,
    ("LeaseMarket", "LeaseClosed"): lease_closed,
    ("LeaseMarket", "LeaseExtended"): lease_extended,
    ("LeaseMarket", "LeaseRefunded"): lease_refunded,
    ("LeaseMarket", "Transfer"): lease_transferred,
    ("NavOracle", "NavUpdated"): nav_updated,
    ("NavOracle", "LendingPriceUpdated"): lending_price_updated,
    ("CapacityShares", "Transfer"): shares_transferred,
    ("CreditMarket", "CollateralDeposited"): collateral_deposited,
    ("CreditMarket", "CollateralWithdrawn"): collateral_withdrawn,
    ("CreditMarket", "Borrowed"): borrowed,
    ("CreditMarket", "Repaid"): repaid,
    ("CreditMarket", "RevenueApplied"): revenue_applied,
    ("CreditMarket", "Liquidated"): liquidated,
    ("GridLedger", "GridEventDeclared"): grid_event_declared,
    ("LeaseMarket", "EnergyIncomeDeposited"): energy_income_deposited,
    ("GridLedger", "CertificateRetired"): certificate_retired,
}


def apply_events(s: Session, events: list[LogEvent], journal_from: int | None = None) -> None:
    """Applies `events` (in chain order) to the read models, journaling what blocks from `journal_from` on
    changed (None: nothing); the caller's transaction writes them."""
    batch = Batch(s, Journal(journal_from))
    batch.prefetch(events)
    for event in events:
        handler = HANDLERS.get((event.contract, event.name))
        if handler is not None:
            batch.journal.block = event.block_number
            handler(batch, event)
    write(s, batch.journal.records(batch.rows))
