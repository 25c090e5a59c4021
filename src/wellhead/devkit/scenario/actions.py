"""The scenario's stable actions, the one API tests, the gas snapshot and the benchmarks drive the chain with."""

from __future__ import annotations

from wellhead.devkit.scenario.credit import CreditActions
from wellhead.devkit.scenario.market import MarketActions


class Scenario(MarketActions, CreditActions):
    """Every action of the demo's story on one asset: fund, register, lease, settle, lend, liquidate."""
