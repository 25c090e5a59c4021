"""Wellhead: GPU capacity metered at the source, as on-chain real-world assets."""

__version__ = "0.1.0"
