"""The protocol's fixed scales, as the contracts' `Constants` library declares them: one place on this side."""

BPS = 10_000  # basis points: 100 %
WAD = 10**18  # 1.0 in fixed point (health factors, share prices per whole share)
SHARE_DECIMALS = 18  # capacity shares are 18-decimal ERC-20s
BTC_DECIMALS = 8  # wrapped bitcoin (WBTC, cbBTC, tBTC): satoshi
UINT32_MAX = 2**32 - 1
UINT64_MAX = 2**64 - 1
UINT256_MAX = 2**256 - 1
