"""`ape run deploy --network <ecosystem:network:provider>`: deploy Wellhead with any ape account.

Uses ape's account management (keyfiles, hardware wallets) for the deployer; on a local network the first
test account deploys. Writes the same `deployments/<network>.json` record as `wellhead deploy`.
Fails with one line and exit 1 for an unreachable node, an unfunded deployer or an existing record of
another chain.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from ape.cli import ConnectedProviderCommand, network_option

from ape import accounts, chain, networks, project
from wellhead.chain.deploy import MIN_DEPLOYER_WEI, git_commit
from wellhead.chain.deployment import DeployedContract, Deployment
from wellhead.chain.params import BtcParams, CreditParams, ProtocolParams
from wellhead.chain.plan import execute, protocol_plan
from wellhead.chain.stablecoin import StablecoinInfo, inspect_stablecoin
from wellhead.core.errors import ChainMismatchError, InsufficientFundsError, WellheadError


def _fail(message: str) -> None:
    click.echo(f"deploy: error: {message}", err=True)
    sys.exit(1)


class ApeBackend:
    """Executes the shared deployment plan (`wellhead.chain.plan`) with an ape account."""

    def __init__(self, deployer) -> None:  # type: ignore[no-untyped-def]
        self.deployer = deployer

    def deploy(self, artifact: str, args: tuple[object, ...]) -> DeployedContract:
        instance = getattr(project, artifact).deploy(*args, sender=self.deployer)
        receipt = instance.creation_metadata.receipt
        return DeployedContract(address=instance.address, tx_hash=receipt.txn_hash, block=receipt.block_number)

    def call(self, artifact: str, address: str, function: str, args: tuple[object, ...]) -> None:
        getattr(project, artifact).at(address).invoke_transaction(function, *args, sender=self.deployer)

    def inspect(self, address: str) -> StablecoinInfo:
        # the same admission as `wellhead deploy`: code, 2 to 18 decimals, the issuer's blocklist (one-line errors)
        return inspect_stablecoin(networks.provider.web3, address)


def deploy(deployer, network_name: str, out: Path, stablecoin: str | None) -> Deployment:  # type: ignore[no-untyped-def]
    chain_id = chain.chain_id
    record = out / f"{network_name}.json"
    if record.exists():
        existing = Deployment.load(record)
        if existing.chain_id != chain_id:
            raise ChainMismatchError(f"{record} is for chain {existing.chain_id} but the node serves chain {chain_id}")
    if deployer.balance < MIN_DEPLOYER_WEI:
        raise InsufficientFundsError(f"deployer {deployer.address} holds {deployer.balance} wei on chain {chain_id}")
    plan = protocol_plan(
        ProtocolParams(treasury=deployer.address), CreditParams(), BtcParams(), devnet=stablecoin is None
    )
    contracts = execute(plan, ApeBackend(deployer), deployer.address, stablecoin)
    deployment = Deployment(
        network=network_name,
        chain_id=chain_id,
        deployer=deployer.address,
        git_commit=git_commit(),
        block=min(c.block for c in contracts.values() if c.block),
        contracts=contracts,
    )
    deployment.save(out)
    return deployment


@click.command(cls=ConnectedProviderCommand)
@network_option()
@click.option("--account", "alias", default=None, help="ape account alias (default: test account 0 locally)")
@click.option("--name", "network_name", default=None, help="record name (default: the ape network name)")
@click.option("--out", default="deployments", type=click.Path(path_type=Path))
@click.option("--stablecoin", default=None, help="the chain's USDC; omitted: deploy a test stablecoin")
def cli(alias: str | None, network_name: str | None, out: Path, stablecoin: str | None) -> None:
    name = network_name or networks.provider.network.name
    deployer = accounts.load(alias) if alias else accounts.test_accounts[0]
    try:
        deployment = deploy(deployer, name, out, stablecoin)
    except WellheadError as exc:
        _fail(str(exc))
    click.echo(f"deployed to chain {deployment.chain_id}; record at {out / (name + '.json')}")
    for contract, c in deployment.contracts.items():
        click.echo(f"  {contract:<22} {c.address}")
