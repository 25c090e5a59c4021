"""Each deployable installs only what it runs: the agent starts without the gateway's dependencies and the
gateway without the agent's, and a missing extra is named in one line."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from importlib.metadata import entry_points, packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from wellhead.cli import EXTRA_MODULES

ROOT = Path(__file__).resolve().parent.parent
ONLY_EXTRA = Path(__file__).parent / "support" / "only_extra.py"
DEPLOYABLES = {
    "agent": (
        "wellhead.agent.runtime,wellhead.agent.commands,wellhead.agent.collectors.dcgm,"
        "wellhead.agent.collectors.redfish,wellhead.agent.collectors.sunspec,wellhead.agent.collectors.nvml",
        ["agent", "--help"],
    ),
    "gateway": ("wellhead.gateway.app,wellhead.gateway.server,wellhead.gateway.index.indexer", ["gateway", "--help"]),
}


def _project() -> dict[str, list[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras: dict[str, list[str]] = dict(project["optional-dependencies"])
    return {"": list(project["dependencies"]), **extras}


def _modules(requirements: list[str]) -> set[str]:
    """The top-level modules the distributions named in `requirements` install."""
    names = {Requirement(r).name.lower().replace("_", "-") for r in requirements}
    return {
        module
        for module, dists in packages_distributions().items()
        if any(d.lower().replace("_", "-") in names for d in dists) and not module.startswith("_")
    }


def _blocked_for(extra: str) -> set[str]:
    spec = _project()
    others = {name for name in ("agent", "gateway") if name != extra}
    allowed = _modules(spec[""] + spec[extra])
    return set().union(*(_modules(spec[o]) for o in others)) - allowed


def _run(blocked: set[str], imports: str, argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ONLY_EXTRA), ",".join(sorted(blocked)), imports, *argv],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


def test_the_extras_split_the_dependencies() -> None:
    spec = _project()
    assert {"agent", "gateway", "devnet"} <= spec.keys()
    assert {"fastapi", "sqlalchemy"} <= _modules(spec["gateway"]) and not {"fastapi", "sqlalchemy"} & _modules(
        spec[""] + spec["agent"]
    )
    assert {"pymodbus", "numpy"} <= _modules(spec["agent"]) and not {"pymodbus", "numpy"} & _modules(
        spec[""] + spec["gateway"]
    )
    assert spec["devnet"] == ["wellhead[agent,gateway]"]


@pytest.mark.parametrize("extra", sorted(DEPLOYABLES))
def test_the_cli_names_every_module_of_each_extra(extra: str) -> None:
    spec = _project()
    brought = _modules(spec[extra]) - _modules(spec[""]) - {"example"}  # pysunspec2 ships a stray `example`
    assert brought <= set(EXTRA_MODULES[extra]), "a missing module of this extra would not be named in one line"


@pytest.mark.parametrize("extra", sorted(DEPLOYABLES))
def test_each_deployable_starts_with_only_its_own_extra(extra: str) -> None:
    blocked = _blocked_for(extra)
    imports, argv = DEPLOYABLES[extra]
    done = _run(blocked, imports, argv)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "usage: wellhead" in done.stdout
    # the refusal is real: the other deployable cannot even be imported
    other = next(o for o in DEPLOYABLES if o != extra)
    refused = _run(blocked, DEPLOYABLES[other][0], [])
    assert refused.returncode != 0 and "not in this extra" in refused.stderr


def test_a_missing_extra_is_named_in_one_line(tmp_path: Path) -> None:
    done = _run(_blocked_for("agent"), "", ["gateway", "--rpc-url", "http://127.0.0.1:9"])
    assert done.returncode == 1
    assert (
        done.stderr.strip().splitlines() == [done.stderr.strip().splitlines()[0]]
        and "pip install 'wellhead[gateway]'" in done.stderr
    ), done.stderr


def test_the_product_never_imports_the_devkit() -> None:
    """core, chain, agent, gateway and the CLI reach the devkit only through entry points (by name)."""
    product = [ROOT / "src/wellhead" / d for d in ("core", "chain", "agent", "gateway")]
    offenders = []
    for path in [p for d in product for p in d.rglob("*.py")] + [ROOT / "src/wellhead/cli.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.relative_to(ROOT)}: {n}" for n in names if n.startswith("wellhead.devkit")]
    assert offenders == []


def test_the_devkit_plugs_in_by_entry_point() -> None:
    collectors = {ep.name: ep.value for ep in entry_points(group="wellhead.collectors")}
    assert collectors == {"simulated": "wellhead.devkit.collectors.simulated"}
    from wellhead.agent.collectors import collector_factory
    from wellhead.devkit.collectors.simulated import from_config

    assert collector_factory("simulated") is from_config
    commands = [ep.value for ep in entry_points(group="wellhead.commands")]
    assert commands == ["wellhead.devkit.commands:add_devkit_parsers"]
