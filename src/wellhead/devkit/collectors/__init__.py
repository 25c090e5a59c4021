"""Collectors that stand in for real hardware (the simulated site)."""
