"""The `wellhead agent` command line: only argparse here, so that `wellhead --help` runs with any extra; the
commands themselves (`wellhead.agent.commands`) load the agent's dependencies when they run."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable


def lazy_command(module: str, name: str) -> Callable[[argparse.Namespace], int]:
    """`module.name(args)`, imported only when the command runs (so `--help` needs no extra)."""

    def run(args: argparse.Namespace) -> int:
        command: Callable[[argparse.Namespace], int] = getattr(importlib.import_module(module), name)
        return command(args)

    return run


def _command(name: str) -> Callable[[argparse.Namespace], int]:
    return lazy_command("wellhead.agent.commands", name)


def add_agent_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    agent = sub.add_parser("agent", help="the site oracle agent")
    agent_sub = agent.add_subparsers(dest="agent_command", required=True)
    run = agent_sub.add_parser("run", help="run the agent (site or checker, as the config says)")
    run.add_argument("--config", required=True, help="YAML config; WELLHEAD_AGENT_* variables override it")
    run.add_argument("--log-level", default="INFO")
    run.set_defaults(func=_command("cmd_run"))
    check = agent_sub.add_parser("check-config", help="validate a config and its keys, print a summary")
    check.add_argument("--config", required=True)
    check.add_argument(
        "--offline", action="store_true", help="skip the online checks (deployment, RPC chain id, asset, inventory)"
    )
    check.set_defaults(func=_command("cmd_check_config"))
    exporter = agent_sub.add_parser(
        "exporter", help="serve this host's GPUs (NVML) as a DCGM exporter page, for the site agent to scrape"
    )
    exporter.add_argument("--listen", default="0.0.0.0:9400", help="host:port (default 0.0.0.0:9400)")
    exporter.add_argument("--hostname", help="the Hostname label (default: this host's name)")
    exporter.set_defaults(func=_command("cmd_exporter"))
    ks = agent_sub.add_parser("keystore", help="create a v3 keystore for the agent")
    ks.add_argument("--out", required=True)
    ks.add_argument("--password-file", required=True)
    ks.add_argument("--key-env", help="import the private key in this variable instead of a new one")
    ks.set_defaults(func=_command("cmd_keystore"))
