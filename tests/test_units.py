"""Stablecoin amounts are shown and parsed in the deployment's token's decimals, never an assumed six."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from wellhead.core.units import USDC_DECIMALS, fmt_units, parse_units, stablecoin_decimals, use_stablecoin_decimals
from wellhead.gateway.schemas.common import Amount, AmountIn


@pytest.fixture
def restore_decimals() -> Iterator[None]:
    yield
    use_stablecoin_decimals(USDC_DECIMALS)


@pytest.mark.parametrize(("decimals", "shown"), [(2, "123456.78"), (6, "12.345678"), (18, "0.000000000012345678")])
def test_amounts_follow_the_tokens_decimals(decimals: int, shown: str, restore_decimals: None) -> None:
    use_stablecoin_decimals(decimals)
    assert stablecoin_decimals() == decimals
    assert Amount.of(12_345_678) == Amount(base_units="12345678", decimal=shown)
    assert parse_units(shown) == 12_345_678
    assert AmountIn(decimal=shown).units(stablecoin_decimals(), "amount") == 12_345_678
    assert fmt_units(10**decimals) == "1." + "0" * decimals


@pytest.mark.parametrize("decimals", [0, 1, 19, 77])
def test_unsupported_decimals_are_refused(decimals: int, restore_decimals: None) -> None:
    with pytest.raises(ValueError, match="supports 2 to 18"):
        use_stablecoin_decimals(decimals)
    assert stablecoin_decimals() == USDC_DECIMALS, "unchanged"


def test_more_digits_than_the_token_has_is_an_error_never_rounded(restore_decimals: None) -> None:
    use_stablecoin_decimals(2)
    with pytest.raises(ValueError, match="has 3 decimals; the token has 2"):
        parse_units("1.005")
