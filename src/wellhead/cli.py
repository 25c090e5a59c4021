"""`wellhead` command line: deploy, gateway, agent (and the devkit's devnet and demo).

Every deliberate failure prints one line `wellhead: error: ...` on stderr and exits 1; usage errors exit 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount

from wellhead.core.errors import ConfigError, WellheadError

DEFAULT_DEPLOYMENTS = Path("deployments")  # also the devkit's


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


def cmd_gateway(args: argparse.Namespace) -> int:
    from pydantic import ValidationError
    from sqlalchemy.exc import SQLAlchemyError

    from wellhead.gateway.server import ROLES, GatewaySettings, serve

    flags = {k: v for k, v in vars(args).items() if k in GatewaySettings.model_fields and v is not None}
    try:
        settings = GatewaySettings(**flags)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(f"gateway setting {first['loc'][0]}: {first['msg']}") from None
    if args.role == "migrate":
        from wellhead.gateway.db import migrate

        try:
            migrate(settings.database_url)
        except SQLAlchemyError as exc:
            raise ConfigError(f"cannot migrate {settings.database_url!r}: {type(exc).__name__}") from None
        print("gateway: the database schema is current", flush=True)
        return 0
    serve(settings, ROLES if args.role == "all" else (args.role,))
    return 0


# the top-level modules each deployable's extra brings (pyproject.toml's optional dependencies)
EXTRA_MODULES = {
    "agent": ("yaml", "numpy", "prometheus_client", "pymodbus", "sunspec2", "pynvml", "openleadr"),
    "gateway": (
        "sqlalchemy",
        "alembic",
        "psycopg",
        "fastapi",
        "uvicorn",
        "starlette",
        "siwe",
        "abnf",
        "standardwebhooks",
        "plotly",
        "prometheus_client",
        "fastapi_offline",
    ),
}


def missing_extra(module: str) -> str | None:
    """The extra that installs `module`, if it is one of theirs."""
    top = module.split(".")[0]
    return next((extra for extra, modules in EXTRA_MODULES.items() if top in modules), None)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wellhead", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

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

    gateway = sub.add_parser("gateway", help="index the chain into a database and serve the REST API")
    gateway.add_argument(
        "role",
        nargs="?",
        default="all",
        choices=("all", "api", "indexer", "webhooks", "migrate"),
        help="all (default: one process, migrates first); or one role of a scaled-out gateway on PostgreSQL: "
        "api (any number of replicas), indexer (one active, standbys take over), webhooks (any number), "
        "migrate (a one-shot job, safe to run concurrently)",
    )
    gateway.add_argument("--rpc-url", help="JSON-RPC endpoint (env WELLHEAD_RPC_URL)")
    gateway.add_argument("--deployment", help="deployment record (env WELLHEAD_DEPLOYMENT)")
    gateway.add_argument("--database-url", help="SQLAlchemy URL, SQLite or PostgreSQL (env WELLHEAD_DATABASE_URL)")
    gateway.add_argument("--host")
    gateway.add_argument("--port", type=int)
    gateway.add_argument("--confirmations", type=int, help="blocks below the head to index up to")
    gateway.add_argument(
        "--secrets-key-file",
        help="Fernet keys sealing webhook secrets, one per line, the first sealing (env WELLHEAD_SECRETS_KEY_FILE; "
        "required on PostgreSQL, the same file for every replica; beside a SQLite database it is made if missing)",
    )
    gateway.add_argument(
        "--trusted-proxies",
        help="comma-separated proxy networks whose X-Forwarded-For is believed (env WELLHEAD_TRUSTED_PROXIES)",
    )
    gateway.set_defaults(func=cmd_gateway)

    from wellhead.agent.cli import add_agent_parser
    from wellhead.keeper.cli import add_keeper_parser

    add_agent_parser(sub)
    add_keeper_parser(sub)
    for plugin in entry_points(group="wellhead.commands"):  # the devkit's devnet and demo
        plugin.load()(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        result: int = args.func(args)
        return result
    except WellheadError as exc:
        print(f"wellhead: error: {exc}", file=sys.stderr)
        return 1
    except ModuleNotFoundError as exc:
        extra = missing_extra(exc.name or "")
        if extra is None:
            raise
        print(
            f"wellhead: error: `wellhead {args.command}` needs the {extra!r} extra ({exc.name} is not installed):"
            f" pip install 'wellhead[{extra}]'",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        print("wellhead: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
