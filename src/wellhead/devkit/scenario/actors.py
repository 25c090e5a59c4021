"""Who acts in a scenario (the devnet's funded accounts) and the units the story is told in."""

from __future__ import annotations

from dataclasses import dataclass

from eth_account.signers.local import LocalAccount

from wellhead.chain.enums import LeaseClass

USDC = 10**6
SHARE = 10**18
BTC = 10**8  # satoshi per bitcoin
DEMAND_RESPONSE_CREDIT = 1_250 * USDC  # what the curtailment earned from the grid operator
ATTESTOR_STAKE = 1_000 * USDC  # the operator funds each attestor's stake
FIRM, INTERRUPTIBLE = LeaseClass.FIRM, LeaseClass.INTERRUPTIBLE


@dataclass
class Actors:
    admin: LocalAccount
    operator: LocalAccount
    investor_a: LocalAccount
    investor_b: LocalAccount
    lessee_firm: LocalAccount
    lessee_interruptible: LocalAccount
    attestors: list[LocalAccount]
    lender: LocalAccount
    liquidator: LocalAccount

    @classmethod
    def from_dev_accounts(cls, accounts: list[LocalAccount]) -> Actors:
        """Needs the 12 accounts the devnet's anvil funds: the site agent and three checkers attest (f = 1)."""
        a = accounts
        return cls(a[0], a[1], a[2], a[3], a[4], a[5], [a[6], a[7], a[8], a[11]], a[9], a[10])
