"""Fixtures: one anvil node and one deployed protocol per session; each test runs in a snapshot."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3

from tests.support.chain import Desk
from wellhead.chain.client import Protocol, send
from wellhead.chain.connection import connect, rpc
from wellhead.chain.deploy import deploy_protocol
from wellhead.chain.deployment import Deployment
from wellhead.chain.params import ProtocolParams
from wellhead.devkit.anvil import Anvil, dev_accounts
from wellhead.devkit.scenario import Actors
from wellhead.devkit.scenario.actors import SHARE


@pytest.fixture(scope="session")
def anvil() -> Iterator[Anvil]:
    with Anvil() as node:
        yield node


@pytest.fixture(scope="session")
def w3(anvil: Anvil) -> Web3:
    return connect(anvil.url)


@pytest.fixture(scope="session")
def dev_keys() -> list[LocalAccount]:
    return dev_accounts(12)


@pytest.fixture(scope="session")
def deployment(w3: Web3, dev_keys: list[LocalAccount], tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    d = deploy_protocol(w3, dev_keys[0], "test", ProtocolParams(treasury=dev_keys[0].address))
    d.save(Path(tmp_path_factory.mktemp("deployments")))
    return d


@pytest.fixture(scope="session")
def protocol(w3: Web3, deployment: Deployment) -> Protocol:
    return Protocol(w3, deployment)


@pytest.fixture(scope="session")
def actors(dev_keys: list[LocalAccount]) -> Actors:
    return Actors.from_dev_accounts(dev_keys)


@pytest.fixture(autouse=True)
def isolated_chain(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tests that touch the chain run inside an anvil snapshot, reverted afterwards."""
    if "w3" not in request.fixturenames:
        yield
        return
    chain: Web3 = request.getfixturevalue("w3")
    snapshot = rpc(chain, "evm_snapshot", [])
    yield
    rpc(chain, "evm_revert", [snapshot])


@pytest.fixture(scope="module")
def seasoned_desk(w3: Web3, protocol: Protocol, actors: Actors) -> Iterator[tuple[Desk, int]]:
    """The desk with a seasoned feed and 200,000 shares pledged, set up once for the module inside its own anvil
    snapshot (each test's snapshot is taken after it and reverted; the module's is reverted at the end)."""
    snapshot = rpc(w3, "evm_snapshot", [])
    d = Desk(w3, protocol, actors)
    d.epochs(4, 10_000)  # past two full 1-epoch windows: the feed is seasoned
    shares = protocol.shares(d.asset_id).functions
    send(w3, d.borrower, shares.approve(protocol.credit.address, 2**256 - 1))
    send(w3, d.borrower, d.credit.functions.depositCollateral(d.asset_id, 200_000 * SHARE, d.borrower.address))
    yield d, d.next_epoch
    rpc(w3, "evm_revert", [snapshot])


@pytest.fixture
def desk(seasoned_desk: tuple[Desk, int]) -> Desk:
    d, next_epoch = seasoned_desk
    d.next_epoch = next_epoch  # the chain is back at the module's state: so is the desk's epoch counter
    return d
