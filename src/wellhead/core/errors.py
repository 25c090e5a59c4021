"""One exception root for everything Wellhead raises on purpose.

Each subclass also subclasses the builtin it resembles, so callers can catch either family.
The CLI prints any `WellheadError` as one line and exits non-zero; anything else is a bug.
"""

from __future__ import annotations


class WellheadError(Exception):
    """Root of every error Wellhead raises deliberately."""


class ConfigError(WellheadError, ValueError):
    """A setting, argument or file is missing or invalid."""


class RpcUnavailableError(WellheadError, ConnectionError):
    """The JSON-RPC endpoint cannot be reached or does not answer like a node."""


class ChainMismatchError(WellheadError, ValueError):
    """The node serves another chain than the deployment record names."""


class DeploymentNotFoundError(WellheadError, FileNotFoundError):
    """No deployment record for the requested network."""


class InsufficientFundsError(WellheadError, ValueError):
    """An account cannot pay for what it was asked to do."""


class ContractRevertError(WellheadError, RuntimeError):
    """A contract call reverted; `error` is the decoded custom error, e.g. `MarketCapacityExceeded`."""

    def __init__(self, error: str, args: dict[str, object] | None = None, raw: str = "") -> None:
        self.error = error
        self.error_args = args or {}
        self.raw = raw
        rendered = ", ".join(f"{k}={v}" for k, v in self.error_args.items())
        super().__init__(f"reverted with {error}({rendered})")


class ReportDecodeError(WellheadError, ValueError):
    """The transaction behind a ReportAccepted event is not a direct `submitReport` call of that report."""


class IndexMovedError(WellheadError, RuntimeError):
    """The gateway's index position is not where this writer read it: another indexer wrote first. The
    writer's transaction is rolled back; it reads the position afresh (or stands down)."""
