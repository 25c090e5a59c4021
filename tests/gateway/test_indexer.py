"""The indexer against anvil and a real database: the demo's life cycle, a restart, a reorg."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from eth_typing import HexStr
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from web3 import Web3

from tests.gateway.conftest import rows
from tests.support.chain import Site
from wellhead.chain.client import Protocol, send
from wellhead.chain.connection import rpc
from wellhead.chain.deployment import Deployment
from wellhead.chain.observations import ZERO32, build_report
from wellhead.chain.reports import StoredReport
from wellhead.core.errors import IndexMovedError
from wellhead.devkit.scenario import Actors, Demo
from wellhead.devkit.scenario.actors import FIRM
from wellhead.gateway.db import Asset, Base, ChainEvent, Epoch, IndexerState, Lease, NavRound, ReportObservation
from wellhead.gateway.index.indexer import NEXT_BLOCK, Indexer


def test_indexes_the_demo_life_cycle(
    w3: Web3, protocol: Protocol, actors: Actors, deployment: Deployment, sessions: sessionmaker[Session]
) -> None:
    result = Demo(w3, protocol, actors).run()
    indexer = Indexer(w3, deployment, sessions, confirmations=0, batch_blocks=50)
    synced = indexer.sync()
    assert synced.events > 0 and synced.rolled_back_to is None

    # every read model agrees with the chain's own views
    (asset,) = [a for a in rows(sessions, Asset) if a.id == result.asset_id]
    terms = protocol.registry.functions.terms(asset.id).call()
    assert (asset.operator, asset.shares, asset.gpu_count, asset.genesis) == (
        terms.operator,
        terms.shares,
        terms.gpuCount,
        terms.genesis,
    )
    assert asset.nav_feed == protocol.nav(asset.id).address
    epochs = {e.epoch: e for e in rows(sessions, Epoch) if e.asset_id == asset.id}
    assert sorted(epochs) == [r.epoch for r in result.epochs]
    for row in result.epochs:
        e = epochs[row.epoch]
        assert (e.settled, e.proven, e.uptime_bps, e.delivered, e.holders_revenue, e.service_credit) == (
            True,
            row.proven,
            row.uptime_bps,
            row.delivered,
            row.holders,
            row.credit,
        )
        assert e.reported == row.proven  # the unreported epoch has no report
    leases = [lease for lease in rows(sessions, Lease) if lease.asset_id == asset.id]
    assert len(leases) == 2
    for lease in leases:
        on_chain = protocol.market.functions.leaseOf(lease.id).call()
        assert (lease.gpus, lease.start_epoch, lease.end_epoch, lease.rate_per_epoch) == (
            on_chain.gpus,
            on_chain.startEpoch,
            on_chain.endEpoch,
            on_chain.ratePerEpoch,
        )
        assert lease.refunded == on_chain.refundPaid and lease.credited == on_chain.creditPaid
        assert lease.owner == protocol.market.functions.ownerOf(lease.id).call()
    navs = [n for n in rows(sessions, NavRound) if n.asset_id == asset.id]
    assert [n.price_per_share for n in sorted(navs, key=lambda n: n.round_id)] == [
        p for _, p in sorted(result.credit.nav.items())
    ]


def test_an_expired_dispute_and_a_forged_observation_reach_the_index(
    w3: Web3, protocol: Protocol, actors: Actors, deployment: Deployment, sessions: sessionmaker[Session]
) -> None:
    """Epoch 0: challenged, the arbiter never rules, anyone expires the dispute: the report stands (upheld) and
    the challenger's bond is back. Epoch 1: observation 3 carries attestor 1's signature; anyone proves it and
    the whole report is voided (uptime 0), observation 3 marked invalid."""
    site = Site(w3, protocol, actors)
    oracle = protocol.oracle.functions
    site.warp_to(site.epoch_end(0))
    site.submit(site.report(0, 9_000))
    challenger = actors.lender
    send(w3, challenger, protocol.stablecoin.functions.approve(protocol.oracle.address, 2**256 - 1))
    send(w3, challenger, oracle.challenge(site.asset_id, 0))
    site.warp_to(site.epoch_end(1))
    own = [site.signed(1, site.observation(i)) for i in (1, 2)]
    _, forged = site.signed(1, site.observation(1, 0))
    report = build_report(site.asset_id, 1, ZERO32, [*own, (site.observation(3, 0), forged)])
    site.submit(report)
    send(w3, challenger, oracle.proveObservationFault(report.as_tuple()))
    resolve_by = StoredReport.read(protocol.oracle, site.asset_id, 0).challenge_ends_at
    site.warp_to(resolve_by)
    send(w3, challenger, oracle.expireChallenge(site.asset_id, 0))
    Indexer(w3, deployment, sessions, confirmations=0).sync()

    epochs = {e.epoch: e for e in rows(sessions, Epoch) if e.asset_id == site.asset_id}
    expired, forged_epoch = epochs[0], epochs[1]
    assert (expired.report_status, expired.uptime_bps) == ("upheld", 9_000)
    assert expired.attestation["verdict"]["expired"] is True
    assert expired.attestation["verdict"]["challenger_refunded"] == str(100 * 10**6)
    assert (forged_epoch.report_status, forged_epoch.uptime_bps, forged_epoch.curtailed_bps) == ("voided", 0, 0)
    assert forged_epoch.attestation["fault_proof"]["invalid_observers"] == [3]
    observed = [o for o in rows(sessions, ReportObservation) if (o.asset_id, o.epoch) == (site.asset_id, 1)]
    assert {o.observer: o.valid for o in observed} == {1: True, 2: True, 3: False}


def test_restart_resumes_without_duplicates(
    w3: Web3, protocol: Protocol, actors: Actors, deployment: Deployment, sessions: sessionmaker[Session]
) -> None:
    site = Site(w3, protocol, actors)
    Indexer(w3, deployment, sessions, confirmations=0).sync()
    before = len(rows(sessions, ChainEvent))
    site.open_lease(actors.lessee_firm, 4, 2, FIRM)
    restarted = Indexer(w3, deployment, sessions, confirmations=0)  # a new process, the same database
    assert restarted.sync().events > 0
    assert restarted.sync().events == 0, "nothing twice"
    events = rows(sessions, ChainEvent)
    assert len(events) > before
    assert len({(e.tx_hash, e.log_index) for e in events}) == len(events)
    assert any(lease.asset_id == site.asset_id for lease in rows(sessions, Lease))


def test_reorg_rolls_back_the_orphaned_blocks(
    w3: Web3, protocol: Protocol, actors: Actors, deployment: Deployment, sessions: sessionmaker[Session]
) -> None:
    site = Site(w3, protocol, actors)
    indexer = Indexer(w3, deployment, sessions, confirmations=0)
    indexer.sync()
    fork = rpc(w3, "evm_snapshot", [])
    orphan = site.open_lease(actors.lessee_firm, 8, 3, FIRM)
    indexer.sync()
    assert orphan in {lease.id for lease in rows(sessions, Lease)}

    rpc(w3, "evm_revert", [fork])  # the chain forgets the lease ...
    for _ in range(3):
        rpc(w3, "evm_mine", [])  # ... and grows past it on another branch
    kept = site.open_lease(actors.lessee_interruptible, 2, 1, 1)
    result = indexer.sync()
    assert result.rolled_back_to is not None
    leases = {lease.id: lease for lease in rows(sessions, Lease)}
    assert kept == orphan, "the same id on the new branch"
    assert leases[kept].lessee == actors.lessee_interruptible.address and leases[kept].gpus == 2
    with sessions() as s:
        hashes = {e.block_hash for e in s.scalars(select(ChainEvent))}
    for h in hashes:
        assert w3.eth.get_block(HexStr(h))["hash"].hex().removeprefix("0x") == h.removeprefix("0x")


def test_confirmation_depth_holds_back_recent_blocks(
    w3: Web3, protocol: Protocol, actors: Actors, deployment: Deployment, sessions: sessionmaker[Session]
) -> None:
    Site(w3, protocol, actors)
    send(w3, actors.admin, protocol.stablecoin.functions.mint(actors.lender.address, 1))
    indexer = Indexer(w3, deployment, sessions, confirmations=3)
    indexer.sync()
    with sessions() as s:
        newest = max(e.block_number for e in s.scalars(select(ChainEvent)))
    assert newest <= w3.eth.block_number - 3


def test_migrations_match_the_models(database_url: str) -> None:
    """alembic's newest revision builds exactly the schema the models describe (on both databases)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from wellhead.gateway.db import Base, engine_for, migrate

    migrate(database_url)
    with engine_for(database_url).connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_a_stale_writer_cannot_move_the_index_position(
    w3: Web3, protocol: Protocol, actors: Actors, deployment: Deployment, sessions: sessionmaker[Session]
) -> None:
    """A writer that read the position before another indexer moved it (a standby that believes it leads, a
    paused process waking up) must roll back, never write its older position over the newer one: that froze an
    index for good (`next_block` behind rows already indexed, every later batch failing)."""
    Site(w3, protocol, actors)
    leader = Indexer(w3, deployment, sessions, confirmations=0)
    stale = Indexer(w3, deployment, sessions, confirmations=0)
    read_before = stale._next_block()
    leader.sync()
    with sessions() as s:
        moved = s.get(IndexerState, NEXT_BLOCK)
        assert moved is not None and moved.value > read_before
        position = moved.value
    rpc(w3, "evm_mine", [])
    with pytest.raises(IndexMovedError):
        stale._index_range(read_before, read_before)  # a block with no events: only the position would move
    with pytest.raises(IndexMovedError):
        stale._index_range(read_before, position - 1)  # the leader's range: its events and block hashes are stored
    with sessions() as s:
        after = s.get(IndexerState, NEXT_BLOCK)
        assert after is not None and after.value == position, "the newer position stands"
    assert leader.sync().blocks >= 1, "and the index goes on from it"


def _key(model: type[Base]) -> list[Any]:
    from sqlalchemy import inspect

    return list(inspect(model).primary_key)


def _projections(sessions: sessionmaker[Session]) -> dict[str, list[dict[str, object]]]:
    """Every read model's rows, in key order, as column values."""
    from wellhead.gateway.db import PROJECTIONS
    from wellhead.gateway.index.journal import image

    with sessions() as s:
        return {
            model.__tablename__: [image(r) for r in s.scalars(select(model).order_by(*_key(model)))]
            for model in PROJECTIONS
        }


def _fork_and_reorg(w3: Web3, protocol: Protocol, actors: Actors, site: Site, indexer: Indexer) -> None:
    """Indexed blocks that change rows older than them (share balances, an epoch reported and settled, a new
    lease), then orphaned by a branch that changes some of the same rows differently."""
    from tests.support.chain import mine

    shares = site.shares.functions
    fork = rpc(w3, "evm_snapshot", [])
    send(w3, actors.investor_a, shares.transfer(actors.investor_b.address, 5 * 10**18))
    site.report_and_finalize(1, 10_000)
    site.open_lease(actors.lessee_interruptible, 2, 1, 1)
    indexer.sync()
    rpc(w3, "evm_revert", [fork])
    send(w3, actors.investor_a, shares.transfer(actors.lender.address, 3 * 10**18))
    site.skip_and_finalize(1)
    for _ in range(4):
        mine(w3)


@pytest.mark.parametrize(
    ("database_url", "depth"),
    [("sqlite", 256), ("postgresql", 256), ("sqlite", 1)],  # a deeper reorg replays: the older reorg test, both
    ids=["sqlite-within-the-journal", "postgresql-within-the-journal", "sqlite-deeper-than-the-journal"],
    indirect=["database_url"],
)
def test_a_reorg_leaves_what_indexing_the_new_branch_from_scratch_gives(
    w3: Web3,
    protocol: Protocol,
    actors: Actors,
    deployment: Deployment,
    sessions: sessionmaker[Session],
    tmp_path: Path,
    depth: int,
) -> None:
    """Within the journal's depth a reorg restores only the rows the orphaned blocks changed (no replay of all
    history); deeper, it replays everything. Either way the read models are exactly a fresh index's."""
    from wellhead.gateway.db import engine_for, migrate, session_factory

    site = Site(w3, protocol, actors)
    site.open_lease(actors.lessee_firm, 4, 2, FIRM)
    site.report_and_finalize(0, 9_000)
    indexer = Indexer(w3, deployment, sessions, confirmations=0, journal_depth=depth)
    indexer.sync()
    _fork_and_reorg(w3, protocol, actors, site, indexer)
    result = indexer.sync()
    assert result.rolled_back_to is not None
    if depth > 1:
        assert result.restored_rows is not None and result.restored_rows > 0, "undone from the journal"
    else:
        assert result.restored_rows is None, "the journal does not reach: everything replayed"
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    migrate(url)
    fresh = session_factory(engine_for(url))
    Indexer(w3, deployment, fresh, confirmations=0).sync()
    assert _projections(sessions) == _projections(fresh)
