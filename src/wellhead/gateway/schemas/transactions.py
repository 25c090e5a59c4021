"""Transactions prepared for the client to sign (leases, claims, shares, approvals, permits, EIP-3009
authorizations), relayed once signed, and their status."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from wellhead.gateway.schemas.common import MAX_SAFE_INTEGER, Address, Amount, AmountIn


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, strict=True)
    from_: Address = Field(alias="from", description="the account that will sign and send")


class OpenLeaseIn(_Request):
    asset_id: int = Field(ge=1, le=MAX_SAFE_INTEGER)
    gpus: int = Field(ge=1, le=2**32 - 1)
    epochs: int = Field(ge=1, le=MAX_SAFE_INTEGER)
    lease_class: Literal["firm", "interruptible"] = "firm"
    max_price_per_gpu_hour: AmountIn | None = Field(default=None, description="slippage guard; default: the quote")


class ExtendLeaseIn(_Request):
    lease_id: int = Field(ge=1, le=MAX_SAFE_INTEGER)
    epochs: int = Field(ge=1, le=MAX_SAFE_INTEGER)


class LeaseIn(_Request):
    lease_id: int = Field(ge=1, le=MAX_SAFE_INTEGER)


class ClaimRefundIn(LeaseIn):
    to: Address | None = Field(default=None, description="default: the sender")


class SettleIn(_Request):
    asset_id: int = Field(ge=1, le=MAX_SAFE_INTEGER)
    epochs: int = Field(default=24, ge=1, le=500, description="settle up to this many epochs, in order")


class NavUpdateIn(_Request):
    asset_id: int = Field(ge=1, le=MAX_SAFE_INTEGER)


class ClaimRevenueIn(_Request):
    asset_id: int = Field(ge=1, le=MAX_SAFE_INTEGER)
    to: Address | None = Field(default=None, description="default: the sender")


class BuySharesIn(_Request):
    asset_id: int = Field(ge=1, le=MAX_SAFE_INTEGER)
    shares: AmountIn = Field(description="shares to buy (18 decimals)")
    max_price_per_share: AmountIn | None = Field(default=None, description="default: the sale's price")


class TransferSharesIn(_Request):
    asset_id: int = Field(ge=1, le=MAX_SAFE_INTEGER)
    to: Address
    shares: AmountIn


class ApproveIn(_Request):
    token: str = Field(description="'stablecoin' or 'shares:<asset id>'", max_length=40, examples=["stablecoin"])
    spender: str = Field(description="an address, or LeaseMarket / CreditMarket / shares:<asset id>", max_length=64)
    amount: AmountIn


class PermitIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)  # JSON as the document types it: `true` is no integer
    owner: Address
    token: str = Field(max_length=40, examples=["stablecoin"])
    spender: str = Field(max_length=64, examples=["LeaseMarket"])
    amount: AmountIn
    deadline: int = Field(ge=0, le=2**64 - 1, description="unix seconds")


class AuthorizationIn(BaseModel):
    """An EIP-3009 `receiveWithAuthorization` of the stablecoin to the payment router (or another receiver)."""

    model_config = ConfigDict(extra="forbid", strict=True)  # JSON as the document types it: `true` is no integer
    owner: Address
    to: str = Field(default="PaymentRouter", max_length=64, examples=["PaymentRouter"])
    amount: AmountIn
    valid_after: int = Field(default=0, ge=0, le=2**64 - 1, description="unix seconds; valid strictly after it")
    valid_before: int = Field(ge=0, le=2**64 - 1, description="unix seconds; valid strictly before it")
    nonce: str | None = Field(
        default=None, pattern=r"^0x[0-9a-fA-F]{64}$", description="32 random bytes; left out: the gateway draws one"
    )


class RelayIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)  # JSON as the document types it: `true` is no integer
    raw_transaction: str = Field(
        pattern=r"^0x02([0-9a-fA-F]{2})+$", max_length=262_146, description="the signed EIP-1559 (type 2) bytes"
    )


class UnsignedTransaction(BaseModel):
    """Fields as JSON-RPC and eth-account take them (quantities in 0x-hex)."""

    model_config = ConfigDict(populate_by_name=True)
    chainId: int
    from_: str = Field(alias="from")
    to: str
    data: str
    value: str
    nonce: int
    gas: str
    maxFeePerGas: str
    maxPriorityFeePerGas: str
    type: str = "0x2"


class PreparedTransaction(BaseModel):
    contract: str
    function: str
    summary: str
    amounts: dict[str, Amount]
    transaction: UnsignedTransaction


class PreparedPermit(BaseModel):
    summary: str
    typed_data: dict[str, Any] = Field(description="EIP-712 typed data; sign with eth_signTypedData_v4")
    amount: Amount


class PreparedAuthorization(BaseModel):
    summary: str
    typed_data: dict[str, Any] = Field(description="EIP-712 typed data; sign with eth_signTypedData_v4")
    amount: Amount
    nonce: str


class TransactionStatus(BaseModel):
    hash: str
    sender: str
    to: str
    contract: str
    nonce: int
    status: Literal["pending", "confirmed", "failed"]
    block_number: int | None
    confirmations: int
    gas_used: int | None
    submitted_at: int
