"""The demo as a scenario library: actors, a plan, stable actions on the chain, report sources, and rendering.

`Scenario` is the API tests, the gas snapshot and the benchmarks drive the chain with; `Demo` tells the story
`make demo` prints, with its reports from a `ReportSource` (scripted attestors or real site agents).
"""

from wellhead.devkit.scenario.actions import Scenario
from wellhead.devkit.scenario.actors import (
    ATTESTOR_STAKE,
    BTC,
    DEMAND_RESPONSE_CREDIT,
    FIRM,
    INTERRUPTIBLE,
    SHARE,
    USDC,
    Actors,
)
from wellhead.devkit.scenario.demo import Demo
from wellhead.devkit.scenario.render import render
from wellhead.devkit.scenario.results import BtcOutcome, CreditOutcome, DemoResult

__all__ = [
    "ATTESTOR_STAKE",
    "BTC",
    "DEMAND_RESPONSE_CREDIT",
    "FIRM",
    "INTERRUPTIBLE",
    "SHARE",
    "USDC",
    "Actors",
    "BtcOutcome",
    "CreditOutcome",
    "Demo",
    "DemoResult",
    "Scenario",
    "render",
]
