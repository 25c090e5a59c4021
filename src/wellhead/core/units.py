"""Money as integers in base units; decimals only to show them."""

from __future__ import annotations

USDC_DECIMALS = 6  # the devnet's test stablecoin, and USDC's
MIN_STABLECOIN_DECIMALS = 2
MAX_STABLECOIN_DECIMALS = 18

_stablecoin_decimals = USDC_DECIMALS


def stablecoin_decimals() -> int:
    """The decimals of the deployment's stablecoin this process serves (read from the token at start)."""
    return _stablecoin_decimals


def use_stablecoin_decimals(decimals: int) -> None:
    """Sets what every stablecoin amount is shown and parsed in; the gateway calls it with `decimals()`."""
    global _stablecoin_decimals
    if not MIN_STABLECOIN_DECIMALS <= decimals <= MAX_STABLECOIN_DECIMALS:
        raise ValueError(
            f"a stablecoin with {decimals} decimals: the protocol supports "
            f"{MIN_STABLECOIN_DECIMALS} to {MAX_STABLECOIN_DECIMALS}"
        )
    _stablecoin_decimals = decimals


def fmt_units(amount: int, decimals: int | None = None) -> str:
    """12345678 -> '12.345678' (exact: no float on the way); the stablecoin's decimals unless given."""
    if decimals is None:
        decimals = _stablecoin_decimals
    sign = "-" if amount < 0 else ""
    whole, frac = divmod(abs(amount), 10**decimals)
    return f"{sign}{whole:,}.{frac:0{decimals}d}" if decimals else f"{sign}{whole:,}"


def parse_units(text: str, decimals: int | None = None) -> int:
    """'12.5' -> 12500000; more fractional digits than the token has is an error, never rounded."""
    if decimals is None:
        decimals = _stablecoin_decimals
    text = text.strip()
    if not text or text.count(".") > 1 or text.startswith(("+", "-")):
        raise ValueError(f"not a non-negative decimal amount: {text!r}")
    whole, _, frac = text.partition(".")
    ascii_digits = "0123456789"
    if not (whole or frac) or any(c not in ascii_digits for c in whole + frac):  # not str.isdigit: '²' is a digit
        raise ValueError(f"not a non-negative decimal amount: {text!r}")
    if len(frac) > decimals:
        raise ValueError(f"{text!r} has {len(frac)} decimals; the token has {decimals}")
    scale: int = 10**decimals
    return int(whole or "0") * scale + int(frac.ljust(decimals, "0") or "0")
