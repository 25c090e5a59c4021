from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.agent.env import AgentEnv, make_env


@pytest.fixture
def env(tmp_path: Path) -> Iterator[AgentEnv]:
    e = make_env(tmp_path, threshold=1)
    yield e
    e.close()


@pytest.fixture
def env2(tmp_path: Path) -> Iterator[AgentEnv]:
    """Threshold 2 of 3: the site and a checker must agree."""
    e = make_env(tmp_path, threshold=2)
    yield e
    e.close()
