"""Shared building blocks: errors, units and energy arithmetic used by every deployable."""
