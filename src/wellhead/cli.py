"""`wellhead` command line: devnet, deploy, demo, agent.

Every deliberate failure prints one line `wellhead: error: ...` on stderr and exits 1; usage errors exit 2.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eth_account import Account
from eth_account.signers.local import LocalAccount

from wellhead.core.errors import ConfigError, WellheadError

if TYPE_CHECKING:
    from wellhead.gateway.server import Gateway

DEFAULT_DEPLOYMENTS = Path("deployments")


def _load_key(args: argparse.Namespace) -> LocalAccount:
    if args.keystore:
        if not args.password_file:
            raise ConfigError("--keystore needs --password-file")
        try:
            keystore = Path(args.keystore).read_text()
            password = Path(args.password_file).read_text().strip()
        except OSError as exc:
            raise ConfigError(f"cannot read key material: {exc}") from None
        try:
            key = Account.decrypt(keystore, password)
        except ValueError as exc:
            raise ConfigError(f"cannot decrypt keystore {args.keystore}: {exc}") from None
        account: LocalAccount = Account.from_key(key)
        return account
    raw = os.environ.get(args.key_env, "")
    if not raw:
        raise ConfigError(f"no deployer key: set ${args.key_env} or pass --keystore and --password-file")
    try:
        account = Account.from_key(raw)
    except (ValueError, TypeError):
        raise ConfigError(f"${args.key_env} is not a valid private key") from None
    return account


def cmd_deploy(args: argparse.Namespace) -> int:
    from web3 import Web3

    from wellhead.chain.connection import connect
    from wellhead.chain.deploy import deploy_protocol
    from wellhead.chain.deployment import Deployment
    from wellhead.chain.params import BtcParams, ProtocolParams

    deployer = _load_key(args)
    w3 = connect(args.rpc_url)
    record_path = Path(args.deployments) / f"{args.network}.json"
    if record_path.exists() and not args.force:
        existing = Deployment.load(record_path)
        existing.check_chain(w3)
        raise ConfigError(f"{record_path} exists for chain {existing.chain_id}; pass --force to redeploy")
    if args.treasury and not Web3.is_address(args.treasury):
        raise ConfigError(f"--treasury is not an address: {args.treasury!r}")
    params = ProtocolParams(treasury=args.treasury or deployer.address)
    btc_addresses = {"--btc-collateral": args.btc_collateral, "--btc-feed": args.btc_feed}
    given = [flag for flag, value in btc_addresses.items() if value]
    if args.stablecoin and len(given) == 1:
        missing = next(flag for flag in btc_addresses if flag not in given)
        raise ConfigError(f"the BTC market needs both --btc-collateral and --btc-feed; {missing} is missing")
    for flag, value in {**btc_addresses, "--sequencer-feed": args.sequencer_feed}.items():
        if value:
            _require_contract(w3, flag, value)
    btc = BtcParams(collateral=args.btc_collateral, price_feed=args.btc_feed, sequencer_feed=args.sequencer_feed)
    blocklist = None if args.blocklist == "none" else args.blocklist
    deployment = deploy_protocol(
        w3, deployer, args.network, params, stablecoin=args.stablecoin, btc=btc, blocklist_signature=blocklist
    )
    path = deployment.save(Path(args.deployments))
    print(f"deployed to chain {deployment.chain_id}; record written to {path}")
    for name, c in deployment.contracts.items():
        print(f"  {name:<22} {c.address}")
    return 0


def _require_contract(w3: Any, flag: str, value: str) -> None:
    """A deployment refuses an address that is malformed or holds no code (a typo would lock funds)."""
    from web3 import Web3

    if not Web3.is_address(value):
        raise ConfigError(f"{flag} is not an address: {value!r}")
    if not w3.eth.get_code(Web3.to_checksum_address(value)):
        raise ConfigError(f"{flag} {value} has no contract code on chain {w3.eth.chain_id}")


def cmd_demo(args: argparse.Namespace) -> int:
    from wellhead.chain.client import Protocol
    from wellhead.chain.connection import connect
    from wellhead.chain.deployment import Deployment
    from wellhead.devkit.anvil import dev_accounts
    from wellhead.devkit.scenario import Actors, Demo, render

    deployment = Deployment.load(Path(args.deployments) / f"{args.network}.json")
    w3 = connect(args.rpc_url)
    deployment.check_chain(w3)
    result = Demo(w3, Protocol(w3, deployment), Actors.from_dev_accounts(dev_accounts())).run()
    print(render(result))
    return 0


def cmd_devnet(args: argparse.Namespace) -> int:
    from wellhead.chain.client import Protocol
    from wellhead.chain.connection import connect
    from wellhead.chain.deploy import deploy_protocol
    from wellhead.chain.params import ProtocolParams
    from wellhead.devkit.anvil import Anvil, dev_accounts
    from wellhead.devkit.scenario import Actors, Demo, render

    anvil = Anvil(port=args.port) if args.port else Anvil()
    with anvil:
        print(f"anvil listening at {anvil.url}")
        w3 = connect(anvil.url)
        accounts = dev_accounts()
        deployment = deploy_protocol(w3, accounts[0], "devnet", ProtocolParams(treasury=accounts[0].address))
        path = deployment.save(Path(args.deployments))
        print(f"protocol deployed on chain {deployment.chain_id}; record at {path}")
        for name, c in deployment.contracts.items():
            print(f"  {name:<22} {c.address}")
        print()
        actors = Actors.from_dev_accounts(accounts)
        agents_dir = Path(args.deployments) / "devnet-agents"
        evidence_dirs: list[Path] = []
        if args.scripted:
            fleet_factory = None
        else:
            from wellhead.devkit.fleet import AgentFleet

            print(
                "site agent + 3 checkers (simulated 64-GPU site, tolerating one faulty attestor) measure, sign and"
                " post each epoch"
            )

            import shutil

            shutil.rmtree(agents_dir, ignore_errors=True)
            evidence_dirs = [agents_dir / f"agent{i}" / "evidence" for i in range(len(actors.attestors))]

            def fleet_factory(asset_id: int) -> AgentFleet:
                return AgentFleet(
                    w3, anvil.url, path, asset_id, actors.attestors, gpus=64, max_watts=700, workdir=agents_dir
                )

        result = Demo(w3, Protocol(w3, deployment), actors, fleet_factory).run()
        print(render(result))
        gateway = start_demo_gateway(anvil.url, path, Path(args.deployments), evidence_dirs)
        if args.keep_running:
            print(f"\ndevnet running at {anvil.url}, gateway at {gateway.url}; Ctrl-C to stop")
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
    return 0


def start_demo_gateway(rpc_url: str, record: Path, directory: Path, evidence_dirs: list[Path]) -> Gateway:
    """Starts the gateway over the devnet (its own SQLite file) and prints a live read from it."""
    import requests

    from wellhead.devkit.anvil import free_port
    from wellhead.gateway.server import Gateway, GatewaySettings

    db = directory / "devnet-gateway.db"
    db.unlink(missing_ok=True)
    settings = GatewaySettings(
        rpc_url=rpc_url,
        deployment=record,
        database_url=f"sqlite:///{db}",
        port=free_port(),
        confirmations=0,
        evidence_dirs=evidence_dirs,
    )
    gateway = Gateway(settings)
    gateway.start()
    assets = requests.get(f"{gateway.url}/api/v1/assets", timeout=10).json()["items"]
    first = assets[0]["id"]
    epochs = requests.get(f"{gateway.url}/api/v1/assets/{first}/epochs", timeout=10).json()["items"]
    evidence = next((e["evidence_hash"] for e in epochs if e["evidence_hash"]), None)
    print(
        f"\ngateway {gateway.url} indexed {len(assets)} asset(s) and {len(epochs)} epochs of asset {first}:\n"
        f"  dashboard  {gateway.url}/\n"
        f"  API docs   {gateway.url}/docs\n"
        f"  curl {gateway.url}/api/v1/assets/{first}/epochs"
    )
    if evidence and evidence_dirs:
        print(f"  curl -o evidence.npz {gateway.url}/api/v1/evidence/{evidence}   (checked against its hash)")
    return gateway


def cmd_gateway(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from wellhead.gateway.server import GatewaySettings, serve

    flags = {k: v for k, v in vars(args).items() if k in GatewaySettings.model_fields and v is not None}
    try:
        settings = GatewaySettings(**flags)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(f"gateway setting {first['loc'][0]}: {first['msg']}") from None
    serve(settings)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wellhead", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    devnet = sub.add_parser("devnet", help="start anvil, deploy, run the demo and print the settlement")
    devnet.add_argument("--port", type=int, default=0, help="anvil port (default: a free one)")
    devnet.add_argument("--deployments", default=str(DEFAULT_DEPLOYMENTS))
    devnet.add_argument("--keep-running", action="store_true", help="keep anvil up after the demo")
    devnet.add_argument("--scripted", action="store_true", help="the script signs reports instead of agents")
    devnet.set_defaults(func=cmd_devnet)

    deploy = sub.add_parser("deploy", help="deploy the protocol to a JSON-RPC network")
    deploy.add_argument("--rpc-url", required=True)
    deploy.add_argument("--network", required=True, help="name of the deployment record")
    deploy.add_argument("--deployments", default=str(DEFAULT_DEPLOYMENTS))
    deploy.add_argument("--key-env", default="WELLHEAD_DEPLOYER_KEY", help="env var holding the deployer key")
    deploy.add_argument("--keystore", help="v3 keystore of the deployer (instead of --key-env)")
    deploy.add_argument("--password-file", help="file holding the keystore password")
    deploy.add_argument("--stablecoin", help="the chain's USDC; omitted: deploy a test stablecoin")
    deploy.add_argument("--treasury", help="protocol fee recipient (default: the deployer)")
    deploy.add_argument(
        "--blocklist",
        default="detect",
        help="the issuer's blocklist on the stablecoin: a signature such as 'isBlacklisted(address)', "
        "'none', or 'detect' (default: USDC's, USDT's or PYUSD's, whichever the token answers)",
    )
    deploy.add_argument("--btc-collateral", help="wrapped BTC (WBTC, cbBTC, tBTC) for the BTC market")
    deploy.add_argument("--btc-feed", help="the Chainlink BTC / USD feed for the BTC market")
    deploy.add_argument("--sequencer-feed", help="on an L2: Chainlink's sequencer uptime feed")
    deploy.add_argument("--force", action="store_true", help="overwrite an existing record")
    deploy.set_defaults(func=cmd_deploy)

    demo = sub.add_parser("demo", help="run the scripted demo against a deployed dev chain")
    demo.add_argument("--rpc-url", required=True)
    demo.add_argument("--network", default="devnet")
    demo.add_argument("--deployments", default=str(DEFAULT_DEPLOYMENTS))
    demo.set_defaults(func=cmd_demo)

    gateway = sub.add_parser("gateway", help="index the chain into a database and serve the REST API")
    gateway.add_argument("--rpc-url", help="JSON-RPC endpoint (env WELLHEAD_RPC_URL)")
    gateway.add_argument("--deployment", help="deployment record (env WELLHEAD_DEPLOYMENT)")
    gateway.add_argument("--database-url", help="SQLAlchemy URL, SQLite or PostgreSQL (env WELLHEAD_DATABASE_URL)")
    gateway.add_argument("--host")
    gateway.add_argument("--port", type=int)
    gateway.add_argument("--confirmations", type=int, help="blocks below the head to index up to")
    gateway.set_defaults(func=cmd_gateway)

    from wellhead.agent.main import add_agent_parser

    add_agent_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        result: int = args.func(args)
        return result
    except WellheadError as exc:
        print(f"wellhead: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("wellhead: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
