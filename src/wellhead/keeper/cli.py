"""The `wellhead keeper` command line (argparse only; the service loads its dependencies when it runs)."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from wellhead.agent.cli import lazy_command


def _command(name: str) -> Callable[[argparse.Namespace], int]:
    return lazy_command("wellhead.keeper.commands", name)


def add_keeper_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    keeper = sub.add_parser("keeper", help="settle epochs and record NAV rounds for any assets (permissionless)")
    keeper_sub = keeper.add_subparsers(dest="keeper_command", required=True)
    run = keeper_sub.add_parser("run", help="run the keeper until SIGTERM or SIGINT")
    run.add_argument("--config", required=True, help="YAML config (see packaging/keeper.example.yaml)")
    run.add_argument("--log-level", default="INFO")
    run.set_defaults(func=_command("cmd_run"))
    check = keeper_sub.add_parser("check-config", help="validate the config, its key and the chain; print a summary")
    check.add_argument("--config", required=True)
    check.set_defaults(func=_command("cmd_check_config"))
