"""Every command probed as a careless operator would: bad arguments, missing files, an unreachable RPC, unset
variables. Each answers one line `wellhead: error: ...` naming the problem and exits 1, never a traceback and
never a hang (the taken-port and wrong-chain probes live with their commands' tests)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.chain import assert_one_line_error, run_cli

DEAD_RPC = "http://127.0.0.1:9"
MISSING = "/nonexistent/wellhead.yaml"
PROBES: list[tuple[list[str], str]] = [
    (["gateway", "--deployment", "/nonexistent/d.json", "--rpc-url", DEAD_RPC], "/nonexistent/d.json"),
    (["gateway", "--port", "70000"], "port"),
    (["keeper", "run", "--config", MISSING], "cannot read config"),
    (["keeper", "check-config", "--config", MISSING], "cannot read config"),
    (["agent", "run", "--config", MISSING], "cannot read"),
    (["agent", "check-config", "--config", MISSING], "cannot read"),
    (["agent", "exporter", "--listen", "nowhere"], "host:port"),
    (["agent", "keystore", "--out", "{tmp}/k.json", "--password-file", "/nonexistent/pw"], "/nonexistent/pw"),
    (
        ["agent", "keystore", "--out", "{tmp}/k.json", "--password-file", "{tmp}/pw", "--key-env", "WELLHEAD_UNSET"],
        "not set",
    ),
    (
        ["deploy", "--rpc-url", DEAD_RPC, "--network", "x", "--deployments", "{tmp}", "--key-env", "DEPLOYER"],
        "cannot reach the RPC node",
    ),
    (
        ["deploy", "--rpc-url", DEAD_RPC, "--network", "x", "--deployments", "{tmp}", "--key-env", "WELLHEAD_UNSET"],
        "no deployer key",
    ),
    (["demo", "--rpc-url", DEAD_RPC, "--deployments", "{tmp}"], "no deployment record"),
]


@pytest.mark.parametrize(("args", "needle"), PROBES, ids=[" ".join(a[:2]) + f" [{n}]" for a, n in PROBES])
def test_each_command_fails_in_one_line(args: list[str], needle: str, tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("password")
    argv = [a.replace("{tmp}", str(tmp_path)) for a in args]
    key = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"  # anvil's first dev key
    assert_one_line_error(run_cli(*argv, env={"DEPLOYER": key}), needle)
