"""The CLI fails with one clear line and a non-zero exit, never a traceback."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from eth_account import Account

from tests.support.chain import assert_one_line_error
from tests.support.chain import run_cli as run
from wellhead.chain.deployment import Deployment
from wellhead.devkit.anvil import Anvil, free_port


def test_deploy_unreachable_rpc(tmp_path: Path) -> None:
    key = Account.create().key.hex()
    proc = run(
        "deploy",
        "--rpc-url",
        f"http://127.0.0.1:{free_port()}",
        "--network",
        "x",
        "--deployments",
        str(tmp_path),
        env={"WELLHEAD_DEPLOYER_KEY": key},
    )
    assert_one_line_error(proc, "cannot reach the RPC node")


def test_deploy_without_key(tmp_path: Path) -> None:
    proc = run(
        "deploy",
        "--rpc-url",
        "http://127.0.0.1:1",
        "--network",
        "x",
        "--deployments",
        str(tmp_path),
        env={"WELLHEAD_DEPLOYER_KEY": ""},
    )
    assert_one_line_error(proc, "WELLHEAD_DEPLOYER_KEY")


def test_deploy_unfunded_deployer(anvil: Anvil, tmp_path: Path) -> None:
    proc = run(
        "deploy",
        "--rpc-url",
        anvil.url,
        "--network",
        "x",
        "--deployments",
        str(tmp_path),
        env={"WELLHEAD_DEPLOYER_KEY": Account.create().key.hex()},
    )
    assert_one_line_error(proc, "holds 0 wei")


def test_demo_missing_deployment_record(anvil: Anvil, tmp_path: Path) -> None:
    proc = run("demo", "--rpc-url", anvil.url, "--network", "nowhere", "--deployments", str(tmp_path))
    assert_one_line_error(proc, "no deployment record", "nowhere.json")


def test_chain_id_mismatch(anvil: Anvil, deployment: Deployment, tmp_path: Path) -> None:
    record = json.loads(deployment.model_dump_json())
    record["chain_id"] = 1
    (tmp_path / "devnet.json").write_text(json.dumps(record))
    proc = run("demo", "--rpc-url", anvil.url, "--deployments", str(tmp_path))
    assert_one_line_error(proc, "serves chain 31337", "on chain 1")


def test_deploy_writes_record(anvil: Anvil, tmp_path: Path) -> None:
    dev_key = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"  # anvil account 1

    def deploy() -> subprocess.CompletedProcess[str]:
        args = ("--rpc-url", anvil.url, "--network", "local", "--deployments", str(tmp_path))
        return run("deploy", *args, env={"WELLHEAD_DEPLOYER_KEY": dev_key})

    proc = deploy()
    assert proc.returncode == 0, proc.stderr
    record = Deployment.load(tmp_path / "local.json")
    assert record.chain_id == 31337
    assert set(record.contracts) >= {"CapacityRegistry", "LeaseMarket", "MetricsOracle", "Stablecoin"}
    assert_one_line_error(deploy(), "--force")


def test_deploy_refuses_btc_market_addresses_without_code(anvil: Anvil, deployment: Deployment, tmp_path: Path) -> None:
    dev_key = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a"  # anvil account 2
    usdc = deployment.address("Stablecoin")
    common = ("--rpc-url", anvil.url, "--network", "l2", "--deployments", str(tmp_path), "--stablecoin", usdc)
    env = {"WELLHEAD_DEPLOYER_KEY": dev_key}
    nowhere = "0x" + "de" * 20
    proc = run("deploy", *common, "--btc-collateral", nowhere, "--btc-feed", usdc, env=env)
    assert_one_line_error(proc, "--btc-collateral", "has no contract code")
    proc = run("deploy", *common, "--btc-collateral", usdc, env=env)
    assert_one_line_error(proc, "--btc-feed is missing")
    proc = run("deploy", *common, "--btc-collateral", "0x12", "--btc-feed", usdc, env=env)
    assert_one_line_error(proc, "--btc-collateral is not an address")
    assert not (tmp_path / "l2.json").exists(), "nothing deployed"


def test_deploy_devnet_includes_the_btc_market(anvil: Anvil, tmp_path: Path) -> None:
    dev_key = "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6"  # anvil account 3
    args = ("--rpc-url", anvil.url, "--network", "btc", "--deployments", str(tmp_path))
    proc = run("deploy", *args, env={"WELLHEAD_DEPLOYER_KEY": dev_key})
    assert proc.returncode == 0, proc.stderr
    record = Deployment.load(tmp_path / "btc.json")
    assert {"BtcCreditMarket", "WrappedBtc", "BtcUsdFeed"} <= set(record.contracts)
