"""Webhook subscriptions and their delivery log."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, model_validator

from wellhead.gateway.services.webhooks import EVENT_TYPES

EventType = Literal["lease.started", "lease.ended", "epoch.settled", "sla.breached", "report.challenged"]


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)  # JSON as the document types it: `true` is no integer
    url: AnyHttpUrl
    events: list[EventType] = Field(min_length=1, max_length=len(EVENT_TYPES))


class WebhookOut(BaseModel):
    id: int
    url: str
    events: list[str]
    active: bool
    created_at: int
    secret: str | None = Field(default=None, description="the signing secret: only in the answer that created it")


class WebhookList(BaseModel):
    items: list[WebhookOut]


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    message_id: str
    event_type: str
    status: str
    attempts: int
    last_outcome: Literal["delivered", "failed", "timed_out"] | None = Field(
        default=None,
        description="what the last attempt came to; never the receiver's answer itself (it may be an internal one)",
    )
    created_at: int
    delivered_at: int | None
    payload: dict[str, Any]

    @model_validator(mode="before")
    @classmethod
    def _outcome(cls, row: Any) -> Any:
        if isinstance(row, dict):
            return row
        error = getattr(row, "last_error", None) or ""
        outcome = None
        if row.status == "delivered":
            outcome = "delivered"
        elif "Timeout" in error.split(":")[0]:
            outcome = "timed_out"
        elif row.attempts > 0:
            outcome = "failed"
        fields = ("id", "message_id", "event_type", "status", "attempts", "created_at", "delivered_at", "payload")
        return {**{f: getattr(row, f) for f in fields}, "last_outcome": outcome}
