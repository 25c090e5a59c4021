"""Webhooks: what happened on chain, pushed to subscribers, signed per the Standard Webhooks spec.

Event types, from confirmed (indexed) events only:
- `lease.started`: a lease was opened (its prepayment is in escrow; `starts_at` is when service begins);
- `lease.ended`: a lease's last epoch settled, or it was cancelled before it started;
- `epoch.settled`: an asset's epoch settled (delivered value, fees, holders' revenue, credits);
- `sla.breached`: a settled epoch paid service credits or had no proof of delivery;
- `report.challenged`: a checker challenged an accepted report.

Each delivery is a POST of `{"type", "timestamp", "data"}` with `webhook-id`, `webhook-timestamp` and
`webhook-signature` headers (HMAC-SHA256 with the subscription's `whsec_` secret, by the `standardwebhooks`
library). A non-2xx answer or no answer is retried with exponential backoff (`retry_base` * 6^n: by
default 5 s, 30 s, 3 min, 18 min, 1.8 h, 10.8 h); after the last attempt the delivery is marked failed.
Every attempt's outcome is in the delivery log.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import logging
import secrets
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from standardwebhooks.webhooks import Webhook

from wellhead.gateway import db
from wellhead.gateway.services.sealing import SecretSealer, UnsealableSecretError

log = logging.getLogger("wellhead.gateway.services.webhooks")
EVENT_TYPES = ("lease.started", "lease.ended", "epoch.settled", "sla.breached", "report.challenged")
CURSOR = "webhooks_after_event"
CLAIM_BATCH = 16  # deliveries one worker claims (and sends at once) at a time
PER_OWNER = 2  # of them, at most this many per owner: the others' are claimed first
ENQUEUE_BATCH = 2_000  # indexed events turned into deliveries per transaction


def _advance_cursor(s: Session, expected: int, new: int) -> bool:
    """Moves the enqueue cursor from `expected` (compare-and-set); False when another process moved it."""
    moved = s.execute(
        update(db.IndexerState)
        .where(db.IndexerState.key == CURSOR, db.IndexerState.value == expected)
        .values(value=new)
    )
    if moved.rowcount == 1:  # type: ignore[attr-defined]
        return True
    if expected == 0 and s.get(db.IndexerState, CURSOR) is None:
        s.add(db.IndexerState(key=CURSOR, value=new))  # the first batch: a racing first insert fails unique
        return True
    return False


NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
V4_COMPATIBLE = ipaddress.ip_network("::/96")


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, Teredo, NAT64, IPv4-compatible), if any: a filter
    that looks only at the IPv6 form lets `::ffff:127.0.0.1` and `64:ff9b::a00:1` through."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if any(address in net for net in NAT64) or (address in V4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)
    return None


def public_address(host: str) -> tuple[str | None, str | None]:
    """(address, None) with the first address `host` resolves to, once every address it resolves to is global
    (embedded IPv4 included); (None, why) otherwise. The caller connects to that address and no other, so a
    DNS answer that changes between the check and the connection (rebinding) cannot point it inside."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError:
        return None, f"{host} does not resolve"
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    for address in addresses:
        inner = embedded_ipv4(address) if isinstance(address, ipaddress.IPv6Address) else None
        if not address.is_global or (inner is not None and not inner.is_global):
            return None, f"{host} resolves to {address}, which is not a public address"
    return (str(addresses[0]), None) if addresses else (None, f"{host} does not resolve")


def public_host_problem(url: str) -> str | None:
    """Why `url` is not a public endpoint (None if it is): a subscriber must not make the gateway call its
    own network (server-side request forgery), so every address the host resolves to must be global."""
    host = urlsplit(url).hostname
    if not host:
        return "the URL has no host"
    return public_address(host)[1]


def pinned(url: str, address: str) -> tuple[str, dict[str, str], dict[str, Any]]:
    """The URL with its host replaced by `address`, the Host header and, for TLS, the name to verify."""
    parts = urlsplit(url)
    literal = f"[{address}]" if ":" in address else address
    netloc = literal if parts.port is None else f"{literal}:{parts.port}"
    extensions: dict[str, Any] = {"sni_hostname": parts.hostname} if parts.scheme == "https" else {}
    return parts._replace(netloc=netloc).geturl(), {"host": parts.netloc.rpartition("@")[2]}, extensions


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def _events_of(s: Session, e: db.ChainEvent) -> list[tuple[str, dict[str, Any]]]:
    """The webhook events one chain event stands for."""
    a = e.args
    chain = {"block_number": e.block_number, "tx_hash": e.tx_hash, "log_index": e.log_index}
    if e.contract == "LeaseMarket" and e.name == "LeaseOpened":
        asset = s.get(db.Asset, a["assetId"])
        starts_at = asset.genesis + a["startEpoch"] * asset.epoch_length if asset else None
        data = {
            "lease_id": a["leaseId"],
            "asset_id": a["assetId"],
            "lessee": a["lessee"],
            "gpus": a["gpus"],
            "start_epoch": a["startEpoch"],
            "end_epoch": a["endEpoch"],
            "starts_at": starts_at,
            "prepaid": str(a["prepaid"]),
        }
        return [("lease.started", {**data, **chain})]
    if e.contract == "LeaseMarket" and e.name == "LeaseClosed" and a["newEndEpoch"] <= _start_of(s, a["leaseId"]):
        return [("lease.ended", {"lease_id": a["leaseId"], "reason": "cancelled", **chain})]
    if e.contract == "LeaseMarket" and e.name == "EpochSettled":
        settled = {
            "asset_id": a["assetId"],
            "epoch": a["epoch"],
            "proven": a["proven"],
            "uptime_bps": a["uptimeBps"],
            "delivered": str(a["delivered"]),
            "holders_revenue": str(a["holdersRevenue"]),
            "service_credit": str(a["serviceCredit"]),
            **chain,
        }
        out = [("epoch.settled", settled)]
        if a["serviceCredit"] > 0 or not a["proven"]:
            out.append(("sla.breached", settled))
        ended = s.scalars(
            select(db.Lease).where(
                db.Lease.asset_id == a["assetId"],
                db.Lease.end_epoch == a["epoch"] + 1,
                db.Lease.start_epoch < db.Lease.end_epoch,
            )
        )
        out += [("lease.ended", {"lease_id": x.id, "reason": "expired", "epoch": a["epoch"], **chain}) for x in ended]
        return out
    if e.contract == "MetricsOracle" and e.name == "ReportChallenged":
        data = {"asset_id": a["assetId"], "epoch": a["epoch"], "challenger": a["challenger"], "bond": str(a["bond"])}
        return [("report.challenged", {**data, **chain})]
    return []


def _start_of(s: Session, lease_id: int) -> int:
    lease = s.get(db.Lease, lease_id)
    return lease.start_epoch if lease is not None else 0


class Dispatcher:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        sealer: SecretSealer,
        retry_base: float = 5.0,
        max_attempts: int = 7,
        timeout: float = 5.0,
        allow_private_hosts: bool = False,
    ) -> None:
        """`sealer` opens the subscriptions' sealed signing secrets (the API's replicas seal with the same keys)."""
        self.sessions = sessions
        self.sealer = sealer
        self.retry_base = retry_base
        self.max_attempts = max_attempts
        self.allow_private_hosts = allow_private_hosts
        self.timeout = timeout
        self.client = httpx.Client(timeout=timeout, follow_redirects=False, limits=httpx.Limits(max_connections=64))
        self._pool = ThreadPoolExecutor(max_workers=CLAIM_BATCH, thread_name_prefix="webhook")

    def enqueue(self) -> int:
        """Turns indexed events not yet seen into deliveries for the matching subscriptions."""
        created = 0
        with self.sessions() as s:
            state = s.get(db.IndexerState, CURSOR)
            after = state.value if state is not None else 0
            newer = select(db.ChainEvent).where(db.ChainEvent.id > after).order_by(db.ChainEvent.id)
            events = list(s.scalars(newer.limit(ENQUEUE_BATCH)))
            if not events:
                return 0
            subscriptions = list(s.scalars(select(db.WebhookSubscription).where(db.WebhookSubscription.active)))
            now = int(time.time())
            for e in events:
                for index, (kind, data) in enumerate(_events_of(s, e)):
                    for sub in subscriptions:
                        if kind not in sub.events.get("types", []):
                            continue
                        stamp = datetime.fromtimestamp(e.timestamp, UTC).isoformat().replace("+00:00", "Z")
                        s.add(
                            db.WebhookDelivery(
                                subscription_id=sub.id,
                                message_id=f"msg_{e.tx_hash[2:18]}_{e.log_index}_{index}_{sub.id}",
                                event_type=kind,
                                payload={"type": kind, "timestamp": stamp, "data": data},
                                status="pending",
                                attempts=0,
                                next_attempt_at=time.time(),
                                created_at=now,
                            )
                        )
                        created += 1
            if not _advance_cursor(s, after, events[-1].id):
                s.rollback()  # another process queued these events first: its rows stand, these are dropped
                return 0
            try:
                s.commit()
            except IntegrityError:  # the same race, lost at the unique message id or the cursor's first row
                s.rollback()
                return 0
        return created

    def deliver_due(self) -> int:
        """Claims the deliveries whose time has come and attempts them at once; answers how many it attempted.

        Fair between owners: a claim takes at most PER_OWNER due deliveries of each owner (oldest first), and
        the claimed ones are sent concurrently, so one owner's slow or stalling endpoints hold only their own
        attempts, never another owner's. A claim (`FOR UPDATE SKIP LOCKED`, then `next_attempt_at` moved past
        the attempts' timeouts) is committed before anything is sent, so another worker neither waits for these
        rows nor takes them. A worker that dies between the POST and recording it leaves the claim to lapse: the
        message is sent again with the same `webhook-id`, by which the receiver recognises it (Standard
        Webhooks)."""
        claimed = self._claim()
        if claimed:
            list(self._pool.map(self._deliver_one, claimed))
        return len(claimed)

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self.client.close()

    def _deliver_one(self, delivery_id: int) -> None:
        with self.sessions() as s:
            d = s.get(db.WebhookDelivery, delivery_id)
            if d is None or d.status != "pending":
                return
            sub = s.get(db.WebhookSubscription, d.subscription_id)
            if sub is None or not sub.active:
                d.status, d.last_error = "failed", "subscription deleted"
            else:
                self._attempt(sub, d)
            s.commit()

    def _claim(self) -> list[int]:
        now = time.time()
        due = (db.WebhookDelivery.status == "pending", db.WebhookDelivery.next_attempt_at <= now)
        rank = (
            func.row_number()
            .over(partition_by=db.WebhookSubscription.owner, order_by=db.WebhookDelivery.id)
            .label("rank")
        )
        ranked = (
            select(db.WebhookDelivery.id, rank)
            .join(db.WebhookSubscription, db.WebhookSubscription.id == db.WebhookDelivery.subscription_id)
            .where(*due)
            .subquery()
        )
        with self.sessions.begin() as s:
            fair = select(ranked.c.id).where(ranked.c.rank <= PER_OWNER).order_by(ranked.c.id).limit(CLAIM_BATCH)
            candidates = list(s.scalars(fair))
            if not candidates:
                return []
            rows = list(
                s.scalars(
                    select(db.WebhookDelivery)
                    .where(db.WebhookDelivery.id.in_(candidates), *due)
                    .with_for_update(skip_locked=True)
                )
            )
            lapse = now + self.timeout + 60  # longer than an attempt can take (they run at once)
            for d in rows:
                d.next_attempt_at = lapse
            return [d.id for d in rows]

    def _attempt(self, sub: db.WebhookSubscription, d: db.WebhookDelivery) -> None:
        body = json.dumps(d.payload, separators=(",", ":"))
        sent_at = datetime.now(UTC)
        try:
            signature = Webhook(self.sealer.open(sub.secret)).sign(d.message_id, sent_at, body)
        except UnsealableSecretError as exc:  # a key taken out of the file too early: retried once it is back
            d.last_status_code, d.last_error = None, str(exc)
            d.next_attempt_at = time.time() + self.retry_base
            return
        headers = {
            "content-type": "application/json",
            "webhook-id": d.message_id,
            "webhook-timestamp": str(int(sent_at.timestamp())),
            "webhook-signature": signature,
        }
        d.attempts += 1
        target: str = sub.url
        extensions: dict[str, Any] = {}
        try:
            if not self.allow_private_hosts:  # resolved once, checked, and that address is the one connected to
                address, refused = public_address(urlsplit(sub.url).hostname or "")
                if address is None:
                    raise httpx.InvalidURL(refused or "no address")
                target, host, extensions = pinned(sub.url, address)
                headers.update(host)
            response = self.client.post(target, content=body, headers=headers, extensions=extensions)
            d.last_status_code, d.last_error = response.status_code, None
            ok = 200 <= response.status_code < 300
        except httpx.HTTPError as exc:
            d.last_status_code, d.last_error = None, f"{type(exc).__name__}: {exc}"[:500]
            ok = False
        if ok:
            d.status, d.delivered_at = "delivered", int(time.time())
        elif d.attempts >= self.max_attempts:
            d.status = "failed"
        else:
            d.next_attempt_at = time.time() + self.retry_base * 6 ** (d.attempts - 1)
