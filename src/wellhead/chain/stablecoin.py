"""Admitting a stablecoin: code, decimals, and where its issuer's blocklist is read.

The contracts refuse a token without code or with unsupported decimals themselves
(`StablecoinUnsupported`); checking here first turns a failed deployment transaction into one clear line.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_utils.abi import function_signature_to_4byte_selector
from web3 import Web3
from web3.exceptions import ContractLogicError, Web3Exception

from wellhead.core.errors import ConfigError

MIN_DECIMALS = 2  # the protocol's minimums are a hundredth of a coin at least (StablecoinLib.MIN_DECIMALS)
MAX_DECIMALS = 18

#: How issuers expose their blocklist, in the order they are tried: USDC and EURC (FiatToken), USDT, PYUSD.
KNOWN_BLOCKLISTS = ("isBlacklisted(address)", "isBlackListed(address)", "isFrozen(address)")

ZERO_ADDRESS = "0x" + "00" * 20


@dataclass(frozen=True)
class Blocklist:
    """Where the protocol reads the issuer's freeze: `signature` on `target` (none: the token has no blocklist)."""

    target: str
    signature: str | None

    def as_tuple(self) -> tuple[str, bytes]:
        """ICapacityRegistry's Blocklist struct: (target, selector)."""
        if self.signature is None:
            return (ZERO_ADDRESS, b"\x00" * 4)
        return (self.target, function_signature_to_4byte_selector(self.signature))


@dataclass(frozen=True)
class StablecoinInfo:
    address: str
    decimals: int
    blocklist: Blocklist

    @property
    def unit(self) -> int:
        """One whole coin in base units."""
        return int(10**self.decimals)


def _call(w3: Web3, to: str, data: bytes) -> bytes | None:
    try:
        return bytes(w3.eth.call({"to": Web3.to_checksum_address(to), "data": data}))
    except (ContractLogicError, Web3Exception, ValueError):
        return None


def detect_blocklist(w3: Web3, token: str) -> Blocklist:
    """The first known blocklist signature the token answers with a boolean, or none."""
    for signature in KNOWN_BLOCKLISTS:
        data = function_signature_to_4byte_selector(signature) + b"\x00" * 32
        answer = _call(w3, token, data)
        if answer is not None and len(answer) == 32 and int.from_bytes(answer, "big") in (0, 1):
            return Blocklist(target=token, signature=signature)
    return Blocklist(target=token, signature=None)


def inspect_stablecoin(w3: Web3, address: str, blocklist_signature: str | None = "detect") -> StablecoinInfo:
    """Checks that `address` is a token the protocol can carry and reads its decimals and blocklist.

    `blocklist_signature`: "detect" tries the known ones; None deploys without a blocklist; any other
    value is the signature to call on the token.
    """
    if not Web3.is_address(address):
        raise ConfigError(f"--stablecoin is not an address: {address!r}")
    token = Web3.to_checksum_address(address)
    if not w3.eth.get_code(token):
        raise ConfigError(f"--stablecoin {token} has no contract code on chain {w3.eth.chain_id}")
    raw = _call(w3, token, function_signature_to_4byte_selector("decimals()"))
    if raw is None or len(raw) != 32:
        raise ConfigError(f"--stablecoin {token} does not answer decimals(): not an ERC-20 token")
    decimals = int.from_bytes(raw, "big")
    if not MIN_DECIMALS <= decimals <= MAX_DECIMALS:
        raise ConfigError(
            f"--stablecoin {token} has {decimals} decimals; the protocol supports {MIN_DECIMALS} to {MAX_DECIMALS}"
        )
    if blocklist_signature == "detect":
        blocklist = detect_blocklist(w3, token)
    else:
        blocklist = Blocklist(target=token, signature=blocklist_signature)
    return StablecoinInfo(address=token, decimals=decimals, blocklist=blocklist)
