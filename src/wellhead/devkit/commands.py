"""The devkit's commands: `wellhead devnet` (anvil, a deployment, the demo with real agents, a gateway) and
`wellhead demo` (the scripted story against a deployed dev chain)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wellhead.cli import DEFAULT_DEPLOYMENTS
from wellhead.core.errors import ConfigError

if TYPE_CHECKING:
    from wellhead.gateway.server import Gateway


def add_devkit_parsers(sub: Any) -> None:
    devnet = sub.add_parser("devnet", help="start anvil, deploy, run the demo and print the settlement")
    devnet.add_argument("--port", type=int, default=0, help="anvil port (default: a free one)")
    devnet.add_argument("--deployments", default=str(DEFAULT_DEPLOYMENTS))
    devnet.add_argument(
        "--keep-running",
        action="store_true",
        help="after the demo, keep anvil, the agents (the site's settling its epochs), the VTN and the gateway running",
    )
    devnet.add_argument(
        "--speed", type=int, default=60, help="kept running: chain seconds per wall second (default 60)"
    )
    devnet.add_argument("--scripted", action="store_true", help="the script signs reports instead of agents")
    devnet.set_defaults(func=cmd_devnet)

    demo = sub.add_parser("demo", help="run the scripted demo against a deployed dev chain")
    demo.add_argument("--rpc-url", required=True)
    demo.add_argument("--network", default="devnet")
    demo.add_argument("--deployments", default=str(DEFAULT_DEPLOYMENTS))
    demo.set_defaults(func=cmd_demo)


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
    import signal

    from wellhead.chain.client import Protocol
    from wellhead.chain.connection import connect
    from wellhead.chain.deploy import deploy_protocol
    from wellhead.chain.params import ProtocolParams
    from wellhead.devkit.anvil import Anvil, dev_accounts
    from wellhead.devkit.scenario import Actors, Demo, render

    def interrupted(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # SIGTERM unwinds like Ctrl-C: every process started here is stopped

    signal.signal(signal.SIGTERM, interrupted)
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
        gateway = start_demo_gateway(anvil.url, path, Path(args.deployments), evidence_dirs, args.keep_running)
        if args.keep_running:
            keep_running(w3, anvil.url, path, result.asset_id, actors, agents_dir, gateway, args.speed)
        gateway.stop()
    return 0


def keep_running(w3: Any, rpc_url: str, record: Path, asset_id: int, actors: Any, workdir: Path, gateway: Gateway,
                 speed: int) -> None:  # fmt: skip
    """The live devnet until SIGINT or SIGTERM; then everything stops, anvil included (the caller's context)."""
    import signal
    import threading

    from wellhead.devkit.live import LiveDevnet

    if speed < 1:
        raise ConfigError("--speed: at least 1 chain second per wall second")
    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    live = LiveDevnet(w3, rpc_url, record, asset_id, actors.attestors, workdir, speed).start()
    lines = [
        "",
        "devnet running (SIGINT or SIGTERM stops all of it, anvil included):",
        f"  anvil          {rpc_url}  (chain {w3.eth.chain_id}; dev accounts: anvil's mnemonic)",
        f"  gateway        {gateway.url}/  (API {gateway.url}/api/v1, docs {gateway.url}/docs,"
        f" metrics {gateway.url}/metrics)",
        "  webhooks       loopback and private addresses allowed on this devnet (webhook_allow_private_hosts)",
        *live.describe(),
    ]
    print("\n".join(lines), flush=True)
    try:
        live.run(stopped)
    finally:
        print("devnet stopping", flush=True)
        live.stop()


def start_demo_gateway(
    rpc_url: str, record: Path, directory: Path, evidence_dirs: list[Path], private_webhooks: bool = False
) -> Gateway:
    """Starts the gateway over the devnet (its own SQLite file) and prints a live read from it."""
    import requests

    from wellhead.core.errors import RpcUnavailableError
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
        webhook_allow_private_hosts=private_webhooks,  # the live devnet: receivers on loopback are the point
    )
    gateway = Gateway(settings)
    gateway.start()
    if not gateway.indexed.wait(timeout=120):
        raise RpcUnavailableError("the devnet's gateway did not index the chain within 2 minutes")
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
