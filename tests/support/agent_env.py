"""A chain for agent tests: anvil, the protocol, an 8-GPU asset with 60 s epochs, attestor keystores."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.logs import DISCARD

from wellhead.agent.config import AgentSettings, load_settings
from wellhead.agent.runtime import Agent
from wellhead.agent.signer import KeystoreSigner
from wellhead.chain.client import Protocol, send
from wellhead.chain.connection import connect, rpc
from wellhead.chain.deploy import deploy_protocol
from wellhead.chain.params import ProtocolParams
from wellhead.chain.reports import AcceptedReport, StoredReport, accepted_report
from wellhead.chain.structs import struct_arg
from wellhead.devkit.anvil import Anvil, dev_accounts

USDC = 10**6
EPOCH = 60
GPUS = 8
PASSWORD = "agent-test-password"


@dataclass
class AgentEnv:
    anvil: Anvil
    w3: Web3
    protocol: Protocol
    deployment_path: Path
    tmp: Path
    asset_id: int
    attestors: list[LocalAccount]
    keystores: list[Path]
    admin: LocalAccount
    agents: list[Agent] = field(default_factory=list)

    # ------------------------------------------------------------ chain time
    def now(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def epoch_end(self, epoch: int) -> int:
        result: int = self.protocol.registry.functions.epochEnd(self.asset_id, epoch).call()
        return result

    def warp_to(self, ts: int) -> None:
        if ts > self.now():
            rpc(self.w3, "evm_setNextBlockTimestamp", [ts])
        rpc(self.w3, "evm_mine", [])

    def mine(self, blocks: int = 1) -> None:
        for _ in range(blocks):
            rpc(self.w3, "evm_mine", [])

    def report_on_chain(self, epoch: int) -> StoredReport:
        return StoredReport.read(self.protocol.oracle, self.asset_id, epoch)

    def accepted_events(self) -> list[dict[str, Any]]:
        logs = self.protocol.oracle.events.ReportAccepted().get_logs(from_block=0)
        return [dict(e["args"]) for e in logs]

    def accepted(self) -> list[AcceptedReport]:
        """Every accepted report with the observations its transaction carried."""
        logs = self.protocol.oracle.events.ReportAccepted().get_logs(from_block=0)
        return [accepted_report(self.w3, self.protocol.oracle, log) for log in logs]

    def cosigners(self, accepted: AcceptedReport) -> list[str]:
        return [self.attestors[i].address for i in range(len(self.attestors)) if accepted.cosigners >> i & 1]

    def run_until(self, agents: list[Agent], done: Callable[[], bool], steps: int = 300) -> None:
        """Steps every agent, mining a block between passes, until `done()`."""
        for _ in range(steps):
            for a in agents:
                a.step()
            if done():
                return
            self.mine()
        raise AssertionError("condition not reached")

    # ------------------------------------------------------------ agents
    def config(self, index: int, **overrides: Any) -> Path:
        data: dict[str, Any] = {
            "mode": "site" if index == 0 else "checker",
            "asset_id": self.asset_id,
            "deployment": str(self.deployment_path),
            "rpc_urls": [self.anvil.url],
            "confirmations": 2,
            "clock": "chain",
            "sample_interval": 10,
            "poll_interval": 0.05,
            "first_epoch": 0,
            "data_dir": str(self.tmp / f"agent{index}"),
            "listen": {"host": "127.0.0.1", "port": 0},
            "signer": {"keystore": {"keystore": str(self.keystores[index]), "password_env": "AGENT_TEST_PASSWORD"}},
            "submit_delay": 0,
            "aggregate_delay": 0,
            "collectors": [{"type": "simulated", "seed": 11, "fault_rate": 0.2, "dark_rate": 0.0}],
            "keeper": {"enabled": False},  # tests of settlement turn the agent's keeper loop on
        }
        if index > 0:
            data["site_peer"] = "http://127.0.0.1:1"  # replaced by tests that run a site
        data.update(overrides)
        path = self.tmp / f"agent{index}.yaml"
        path.write_text(yaml.safe_dump(data))
        return path

    def agent(self, index: int, **overrides: Any) -> Agent:
        settings = self.settings(index, **overrides)
        account = self.attestors[index]
        agent = Agent(settings, KeystoreSigner(account), account)
        self.agents.append(agent)
        return agent

    def settings(self, index: int, **overrides: Any) -> AgentSettings:
        import os

        os.environ["AGENT_TEST_PASSWORD"] = PASSWORD
        return load_settings(self.config(index, **overrides))

    def close(self) -> None:
        for a in self.agents:
            with contextlib.suppress(Exception):  # best-effort teardown
                a.close()
        self.anvil.stop()


def make_env(
    tmp: Path,
    fault_tolerance: int = 0,
    attestors: int = 3,
    state_file: Path | None = None,
    signer0: str | None = None,
    unstaked: tuple[int, ...] = (),
    gpus: int = GPUS,
) -> AgentEnv:
    """An asset of `attestors` staked attestors tolerating `fault_tolerance` faulty ones. `state_file`: anvil
    keeps its state there across restarts; `signer0`: attestor 0's address when its key lives elsewhere (an
    HSM); the generated account 0 then only pays gas. `unstaked`: 0-based attestors the operator does not stake."""
    anvil = Anvil(extra_args=("--state", str(state_file)) if state_file else ()).start()
    w3 = connect(anvil.url)
    keys = dev_accounts(12)
    admin, operator = keys[0], keys[1]
    params = ProtocolParams(treasury=admin.address, challenge_window=EPOCH, report_deadline=6 * 3600)
    deployment = deploy_protocol(w3, admin, "agenttest", params)
    path = deployment.save(tmp / "deployments")
    protocol = Protocol(w3, deployment)
    signers = [Account.create() for _ in range(attestors)]
    keystores = []
    for i, acct in enumerate(signers):
        rpc(w3, "anvil_setBalance", [acct.address, hex(10**20)])
        ks = tmp / f"attestor{i}.json"
        ks.write_text(json.dumps(Account.encrypt(acct.key, PASSWORD, iterations=2**10)))
        keystores.append(ks)
    coin = protocol.stablecoin.functions
    send(w3, admin, coin.mint(operator.address, 10**6 * USDC))
    send(w3, operator, coin.approve(protocol.registry.address, 2**256 - 1))
    for acct in signers:
        send(w3, admin, coin.mint(acct.address, 10_000 * USDC))
    asset = struct_arg(
        "CapacityRegistry",
        "registerAsset",
        "AssetParams",
        {
            "siteId": b"TEST-SITE".ljust(32, b"\0"),
            "gpuClass": b"H100-SXM".ljust(32, b"\0"),
            "gpuCount": gpus,
            "maxWattsPerGpu": 700,
            "epochLength": EPOCH,
            "operatorFeeBps": 1_000,
            "slaTargetBps": 9_900,
            "faultTolerance": fault_tolerance,
            "attestors": [signer0 or signers[0].address] + [a.address for a in signers[1:]],
            "curve": {
                "basePricePerGpuHour": 2 * USDC,
                "kinkBps": 8_000,
                "slope1Bps": 2_000,
                "slope2Bps": 20_000,
                "interruptibleDiscountBps": 3_000,
            },
            "bond": 5_000 * USDC,
            "sharesName": "Agent test",
            "sharesSymbol": "whAT",
            "totalShares": 1_000 * 10**18,
            "investors": [],
            "investorShares": [],
            "restrictedTransfers": False,
            "curtailmentCapHours": 24,  # hours per 30 days
        },
    )
    receipt = send(w3, operator, protocol.registry.functions.registerAsset(asset))
    asset_id = int(
        protocol.registry.events.AssetRegistered().process_receipt(receipt, errors=DISCARD)[0]["args"]["assetId"]
    )
    send(w3, operator, coin.approve(protocol.oracle.address, 2**256 - 1))
    min_stake = int(protocol.registry.functions.protocolParams().call().minAttestorStake)
    for i, attestor in enumerate(protocol.oracle.functions.attestors(asset_id).call()):
        if i not in unstaked:
            send(w3, operator, protocol.oracle.functions.depositStake(asset_id, attestor, min_stake))
    return AgentEnv(anvil, w3, protocol, path, tmp, asset_id, signers, keystores, admin)
