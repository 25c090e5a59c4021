"""Webhook subscriptions (signed with Standard Webhooks) and their delivery log."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wellhead.gateway import db
from wellhead.gateway.api.paging import Cursor, Limit, paginate
from wellhead.gateway.deps import IdempotencyKey, S, SessionOnly, Signed, Svc, once
from wellhead.gateway.problems import Problem
from wellhead.gateway.schemas.common import Page
from wellhead.gateway.schemas.webhooks import DeliveryOut, WebhookIn, WebhookList, WebhookOut
from wellhead.gateway.services.auth import Principal
from wellhead.gateway.services.webhooks import new_secret, public_host_problem

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
MAX_WEBHOOKS = 20  # active subscriptions per address


def _hook_out(row: db.WebhookSubscription, secret: str | None = None) -> WebhookOut:
    return WebhookOut(
        id=row.id,
        url=row.url,
        events=list(row.events.get("types", [])),
        active=row.active,
        created_at=row.created_at,
        secret=secret,
    )


def _own_hook(s: Session, caller: Principal, hook_id: int) -> db.WebhookSubscription:
    row = s.get(db.WebhookSubscription, hook_id) if 0 < hook_id < 2**63 else None
    if row is None or row.owner != caller.address or not row.active:
        raise Problem(404, "webhook_not_found", f"no webhook {hook_id} of yours", "webhook_id")
    return row


@router.post("", operation_id="createWebhook", response_model=WebhookOut, status_code=201)
def create_hook(
    request: Request, s: S, svc: Svc, caller: SessionOnly, body: WebhookIn, key: IdempotencyKey = None
) -> Any:
    if not svc.webhook_private_hosts and (why := public_host_problem(str(body.url))) is not None:
        raise Problem(422, "webhook_url_not_public", why, "url")

    def run() -> WebhookOut:
        mine = db.WebhookSubscription.owner == caller.address
        active = s.scalar(select(func.count()).where(mine, db.WebhookSubscription.active))
        if (active or 0) >= MAX_WEBHOOKS:
            raise Problem(409, "too_many_webhooks", f"at most {MAX_WEBHOOKS} webhooks per address", "url")
        secret = new_secret()
        row = db.WebhookSubscription(
            owner=caller.address,
            url=str(body.url),
            events={"types": sorted(set(body.events))},
            secret=svc.sealer.seal(secret),
            created_at=int(time.time()),
            active=True,
        )
        s.add(row)
        s.flush()
        return _hook_out(row, secret)

    # the secret is answered once and never stored with the idempotency record: a retry gets `secret: null`
    return once(request, s, caller, key, body, run, 201, secret_fields=("secret",))


@router.get("", operation_id="listWebhooks", response_model=WebhookList)
def list_hooks(s: S, caller: Signed) -> WebhookList:
    q = select(db.WebhookSubscription).where(
        db.WebhookSubscription.owner == caller.address, db.WebhookSubscription.active
    )
    return WebhookList(items=[_hook_out(r) for r in s.scalars(q.order_by(db.WebhookSubscription.id))])


@router.delete("/{webhook_id}", operation_id="deleteWebhook", status_code=204)
def delete_hook(s: S, caller: SessionOnly, webhook_id: int) -> Response:
    _own_hook(s, caller, webhook_id).active = False
    s.commit()
    return Response(status_code=204)


@router.get("/{webhook_id}/deliveries", operation_id="listWebhookDeliveries", response_model=Page[DeliveryOut])
def list_deliveries(s: S, caller: Signed, webhook_id: int, limit: Limit = 100, cursor: Cursor = None) -> Response:
    _own_hook(s, caller, webhook_id)
    q = select(db.WebhookDelivery).where(db.WebhookDelivery.subscription_id == webhook_id)
    return paginate(
        s, q, db.WebhookDelivery.id, limit, cursor, lambda rows: [DeliveryOut.model_validate(r) for r in rows]
    )
