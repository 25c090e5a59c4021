"""What `wellhead keeper ...` does."""

from __future__ import annotations

import argparse
import json
import logging
import signal
from pathlib import Path
from types import FrameType

from wellhead.agent.logs import setup_json_logging
from wellhead.agent.signer import load_keystore, read_secret
from wellhead.keeper.service import Keeper, load_keeper_settings


def _keeper(config: str) -> Keeper:
    settings = load_keeper_settings(Path(config))
    account = load_keystore(str(settings.keystore), read_secret(str(settings.password_file), None, "keystore password"))
    return Keeper(settings, account)


def cmd_check_config(args: argparse.Namespace) -> int:
    logging.getLogger("wellhead").setLevel(logging.ERROR)  # the failover's warnings: the error line says it
    keeper = _keeper(args.config)
    summary = {"sender": keeper.settler.sender.address, **keeper.check()}
    keeper.close()
    print(json.dumps(summary))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    setup_json_logging(args.log_level, rpc_urls=load_keeper_settings(Path(args.config)).rpc_urls)
    keeper = _keeper(args.config)
    port = keeper.serve()
    logging.getLogger("wellhead.keeper").info("keeper started", extra={"port": port})

    def stop(signum: int, frame: FrameType | None) -> None:
        keeper.stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    keeper.run()
    return 0
