from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.agent_env import AgentEnv, make_env


@pytest.fixture
def env(tmp_path: Path) -> Iterator[AgentEnv]:
    e = make_env(tmp_path, fault_tolerance=0)
    yield e
    e.close()


@pytest.fixture
def env2(tmp_path: Path) -> Iterator[AgentEnv]:
    """The site agent and three checkers, tolerating one faulty attestor: a report needs three observations
    and two co-signers."""
    e = make_env(tmp_path, fault_tolerance=1, attestors=4)
    yield e
    e.close()
