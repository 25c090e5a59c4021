"""What `wellhead agent ...` does (the parser is `wellhead.agent.cli`'s, importable without the agent extra)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
from pathlib import Path
from types import FrameType

from eth_account import Account
from eth_account.signers.local import LocalAccount

from wellhead.agent.config import AgentSettings, load_settings
from wellhead.agent.green import open_sources
from wellhead.agent.logs import setup_json_logging
from wellhead.agent.signer import KeystoreSigner, Pkcs11Signer, ReportSigner, load_keystore, read_secret
from wellhead.core.errors import ConfigError


def build_signers(settings: AgentSettings) -> tuple[ReportSigner, LocalAccount]:
    submitter_cfg = settings.submitter or settings.signer.keystore
    assert submitter_cfg is not None  # validated by AgentSettings
    submitter = load_keystore(
        submitter_cfg.keystore,
        read_secret(submitter_cfg.password_file, submitter_cfg.password_env, "keystore password"),
    )
    if settings.signer.pkcs11 is not None:
        p = settings.signer.pkcs11
        pin = read_secret(None, p.pin_env, "PKCS#11 PIN")
        return Pkcs11Signer(p.module, p.token_label, p.key_label, pin), submitter
    ks = settings.signer.keystore
    assert ks is not None
    if ks.keystore == submitter_cfg.keystore:
        return KeystoreSigner(submitter), submitter
    return KeystoreSigner(
        load_keystore(ks.keystore, read_secret(ks.password_file, ks.password_env, "password"))
    ), submitter


def cmd_run(args: argparse.Namespace) -> int:
    from wellhead.agent.runtime import Agent

    settings = load_settings(Path(args.config))
    setup_json_logging(args.log_level, rpc_urls=settings.rpc_urls)
    signer, submitter = build_signers(settings)
    agent = Agent(settings, signer, submitter)

    def stop(signum: int, frame: FrameType | None) -> None:
        agent.stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    agent.run()
    return 0


def cmd_check_config(args: argparse.Namespace) -> int:
    settings = load_settings(Path(args.config))
    open_sources(settings.green.grid_feed, settings.mining.earnings_file)
    signer, submitter = build_signers(settings)
    summary: dict[str, object] = {
        "mode": settings.mode,
        "asset_id": settings.asset_id,
        "signer": signer.address,
        "submitter": submitter.address,
        "collectors": [c.type for c in settings.collectors],
    }
    if not args.offline:
        from wellhead.agent.preflight import check_online

        logging.getLogger("wellhead").setLevel(logging.ERROR)  # the failover's warnings: the error line says it

        online = check_online(settings)
        if signer.address not in online.pop("attestor_addresses"):
            raise ConfigError(f"the signer {signer.address} is not an attestor of asset {settings.asset_id}")
        summary.update(online)
    print(json.dumps(summary))
    return 0


def cmd_exporter(args: argparse.Namespace) -> int:
    """Serves NVML readings on --listen until SIGTERM or SIGINT."""
    import threading

    from wellhead.agent.collectors.nvml import NvmlCollector
    from wellhead.agent.exporter import serve

    host, _, port = str(args.listen).rpartition(":")
    if not host or not port.isdigit() or not 0 <= int(port) < 65_536:
        raise ConfigError(f"--listen {args.listen!r}: give host:port")
    nvml = NvmlCollector()
    nvml.collect(0)  # NVML must answer at start: a host without a driver is a clear error, not an empty page
    try:
        server, bound = serve(nvml, host, int(port), args.hostname)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {args.listen}: {exc.strerror}") from None
    print(json.dumps({"listening": f"{host}:{bound}", "gpus": len(nvml.identities)}), flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    stopped.wait()
    server.shutdown()  # type: ignore[attr-defined]
    nvml.close()
    return 0


def cmd_keystore(args: argparse.Namespace) -> int:
    """Writes a v3 keystore (scrypt) for a new key, or for the key in --key-env."""
    password = read_secret(args.password_file, None, "password")
    raw = ""
    if args.key_env:
        raw = os.environ.get(args.key_env, "")
        if not raw:
            raise ConfigError(f"--key-env {args.key_env}: the variable is not set (no key was written)")
    try:
        account = Account.from_key(raw) if raw else Account.create()
    except (ValueError, TypeError):
        raise ConfigError(f"--key-env {args.key_env}: not a 32-byte hex private key") from None
    out = Path(args.out)
    if out.exists():
        raise ConfigError(f"{out} exists; refusing to overwrite a keystore")
    out.write_text(json.dumps(Account.encrypt(account.key, password)))
    out.chmod(0o600)
    print(account.address)
    return 0
