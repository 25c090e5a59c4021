"""Sign-in with Ethereum and API keys."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class NonceOut(BaseModel):
    nonce: str
    domain: str
    chain_id: int


class SignInIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)  # JSON as the document types it: `true` is no integer
    message: str = Field(max_length=4_000, description="the EIP-4361 message, as signed")
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]{130}$")


class SessionOut(BaseModel):
    token: str
    address: str
    expires_at: int
    request_id: str | None = Field(default=None, description="the signed message's Request ID, carried back")
    resources: list[str] = Field(default_factory=list, description="the signed message's Resources, carried back")


class SessionInfo(BaseModel):
    id: str = Field(description="the session's id: its token hash's first 16 hex digits (never the token)")
    created_at: int
    expires_at: int
    current: bool = Field(description="whether this is the session the request was made with")


class SessionList(BaseModel):
    items: list[SessionInfo]


class ApiKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)  # JSON as the document types it: `true` is no integer
    name: str = Field(min_length=1, max_length=100)
    rate_per_minute: int | None = Field(default=None, ge=1, le=100_000)


class ApiKeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    prefix: str
    rate_per_minute: int
    created_at: int
    revoked: bool
    key: str | None = Field(default=None, description="the key itself: only in the answer that created it")


class ApiKeyList(BaseModel):
    items: list[ApiKeyOut]
