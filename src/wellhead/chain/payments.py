"""EIP-712 typed data of the stablecoin's own signed payments: an EIP-2612 permit and an EIP-3009
ReceiveWithAuthorization (what the PaymentRouter collects). The domain is the token's."""

from __future__ import annotations

from typing import Any

from wellhead.chain.eip712 import EIP712_DOMAIN_FIELDS
from wellhead.chain.enums import PaymentKind

PERMIT_FIELDS = [
    {"name": "owner", "type": "address"},
    {"name": "spender", "type": "address"},
    {"name": "value", "type": "uint256"},
    {"name": "nonce", "type": "uint256"},
    {"name": "deadline", "type": "uint256"},
]
RECEIVE_WITH_AUTHORIZATION_FIELDS = [
    {"name": "from", "type": "address"},
    {"name": "to", "type": "address"},
    {"name": "value", "type": "uint256"},
    {"name": "validAfter", "type": "uint256"},
    {"name": "validBefore", "type": "uint256"},
    {"name": "nonce", "type": "bytes32"},
]
PERMIT = PaymentKind.PERMIT
AUTHORIZATION = PaymentKind.AUTHORIZATION


def typed_payment(primary: str, domain: dict[str, Any], message: dict[str, Any]) -> dict[str, Any]:
    """Full EIP-712 typed data (as `eth_signTypedData_v4` and eth-account take it) of a "Permit" or a
    "ReceiveWithAuthorization" in the token's `domain`."""
    fields = PERMIT_FIELDS if primary == "Permit" else RECEIVE_WITH_AUTHORIZATION_FIELDS
    return {
        "types": {"EIP712Domain": EIP712_DOMAIN_FIELDS, primary: fields},
        "primaryType": primary,
        "domain": domain,
        "message": message,
    }
