"""Money as integers in base units; decimals only to show them."""

from __future__ import annotations

USDC_DECIMALS = 6


def fmt_units(amount: int, decimals: int = USDC_DECIMALS) -> str:
    """12345678 -> '12.345678' (exact: no float on the way)."""
    sign = "-" if amount < 0 else ""
    whole, frac = divmod(abs(amount), 10**decimals)
    return f"{sign}{whole:,}.{frac:0{decimals}d}" if decimals else f"{sign}{whole:,}"


def parse_units(text: str, decimals: int = USDC_DECIMALS) -> int:
    """'12.5' -> 12500000; more fractional digits than the token has is an error, never rounded."""
    text = text.strip()
    if not text or text.count(".") > 1 or text.startswith(("+", "-")):
        raise ValueError(f"not a non-negative decimal amount: {text!r}")
    whole, _, frac = text.partition(".")
    if not (whole or frac) or not (whole or "0").isdigit() or (frac and not frac.isdigit()):
        raise ValueError(f"not a non-negative decimal amount: {text!r}")
    if len(frac) > decimals:
        raise ValueError(f"{text!r} has {len(frac)} decimals; the token has {decimals}")
    scale: int = 10**decimals
    return int(whole or "0") * scale + int(frac.ljust(decimals, "0") or "0")
