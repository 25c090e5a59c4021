"""Deploying the protocol to any JSON-RPC network (the shared `plan`, executed with web3 and a local key) and
writing its deployment record."""

from __future__ import annotations

import subprocess
from pathlib import Path

from eth_account.signers.local import LocalAccount
from web3 import Web3

from wellhead.chain.artifacts import abi
from wellhead.chain.client import deploy_contract, send
from wellhead.chain.deployment import DeployedContract, Deployment
from wellhead.chain.params import BtcParams, CreditParams, ProtocolParams
from wellhead.chain.plan import DeployBackend, execute, protocol_plan
from wellhead.chain.stablecoin import StablecoinInfo, inspect_stablecoin
from wellhead.core.errors import InsufficientFundsError

MIN_DEPLOYER_WEI = 10**16  # enough for the 12 contracts at devnet/L2 gas prices


class Web3Backend(DeployBackend):
    """Deploys with web3.py from a local account."""

    def __init__(self, w3: Web3, deployer: LocalAccount, blocklist_signature: str | None) -> None:
        self.w3 = w3
        self.deployer = deployer
        self.blocklist_signature = blocklist_signature

    def deploy(self, artifact: str, args: tuple[object, ...]) -> DeployedContract:
        contract, receipt = deploy_contract(self.w3, self.deployer, artifact, *args)
        return DeployedContract(
            address=contract.address,
            tx_hash="0x" + bytes(receipt["transactionHash"]).hex(),
            block=receipt["blockNumber"],
        )

    def call(self, artifact: str, address: str, function: str, args: tuple[object, ...]) -> None:
        contract = self.w3.eth.contract(address=Web3.to_checksum_address(address), abi=abi(artifact))
        send(self.w3, self.deployer, contract.functions[function](*args))

    def inspect(self, address: str) -> StablecoinInfo:
        return inspect_stablecoin(self.w3, address, self.blocklist_signature)


def git_commit(root: Path | None = None) -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() or "unknown"


def deploy_protocol(
    w3: Web3,
    deployer: LocalAccount,
    network: str,
    params: ProtocolParams,
    stablecoin: str | None = None,
    credit: CreditParams | None = None,
    btc: BtcParams | None = None,
    blocklist_signature: str | None = "detect",
) -> Deployment:
    """Deploys stablecoin (devnets only, when none is given), shares factory, registry, grid ledger, oracle, market,
    the NAV feed factory, the credit market and the BTC market (with a test WBTC and BTC / USD feed on a
    devnet; on another network only when `btc` names the collateral and the feed).

    A given stablecoin must have code and 2 to 18 decimals (ConfigError otherwise); every default amount is
    in whole coins at its decimals. The issuer's blocklist is found among the known signatures
    (`blocklist_signature="detect"`), named, or left out (None).

    The deployer becomes the registry's admin, governor, arbiter and pauser; hand those roles to a
    multisig with AccessControl's grantRole/renounceRole once the deployment is checked.
    """
    balance = w3.eth.get_balance(deployer.address)
    if balance < MIN_DEPLOYER_WEI:
        raise InsufficientFundsError(
            f"deployer {deployer.address} holds {balance} wei on chain {w3.eth.chain_id}; "
            f"it needs at least {MIN_DEPLOYER_WEI} wei to deploy"
        )
    plan = protocol_plan(params, credit or CreditParams(), btc or BtcParams(), devnet=stablecoin is None)
    records = execute(plan, Web3Backend(w3, deployer, blocklist_signature), deployer.address, stablecoin)
    return Deployment(
        network=network,
        chain_id=w3.eth.chain_id,
        deployer=deployer.address,
        git_commit=git_commit(),
        block=min(r.block for r in records.values() if r.block),
        contracts=records,
    )
