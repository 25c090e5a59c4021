"""A client's side of the gateway: sign in with Ethereum, sign what the gateway prepares, relay it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount
from fastapi.testclient import TestClient
from siwe import SiweMessage

DOMAIN = "testserver"


def siwe_message(
    account: LocalAccount,
    nonce: str,
    chain_id: int,
    domain: str = DOMAIN,
    expires_in: timedelta | None = timedelta(minutes=10),
    uri: str | None = None,
    issued_in: timedelta = timedelta(0),
    **extra: Any,
) -> str:
    now = datetime.now(UTC) + issued_in
    fields: dict[str, Any] = {
        "domain": domain,
        "address": account.address,
        "statement": "Sign in to the Wellhead gateway.",
        "uri": uri or f"http://{domain}/",
        "version": "1",
        "chain_id": chain_id,
        "nonce": nonce,
        "issued_at": now.isoformat().replace("+00:00", "Z"),
    }
    fields.update(extra)  # request_id, resources
    if expires_in is not None:
        fields["expiration_time"] = (now + expires_in).isoformat().replace("+00:00", "Z")
    return str(SiweMessage(**fields).prepare_message())


def sign_text(account: LocalAccount, text: str) -> str:
    return "0x" + account.sign_message(encode_defunct(text=text)).signature.hex().removeprefix("0x")


def sign_in(client: TestClient, account: LocalAccount, **message: Any) -> dict[str, str]:
    """Headers with a session token for `account`."""
    got = client.get("/api/v1/auth/nonce").json()
    text = siwe_message(account, got["nonce"], got["chain_id"], **message)
    response = client.post("/api/v1/auth/sessions", json={"message": text, "signature": sign_text(account, text)})
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


def prepare(client: TestClient, action: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"/api/v1/transactions/prepare/{action}", json=body, headers=key())
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def sign(account: LocalAccount, prepared: dict[str, Any], **override: Any) -> str:
    tx = {k: v for k, v in prepared["transaction"].items() if k != "from"}
    tx.update(override)
    signed = Account.sign_transaction(tx, account.key)
    return "0x" + bytes(signed.raw_transaction).hex()


def relay(client: TestClient, auth: dict[str, str], raw: str) -> Any:
    return client.post("/api/v1/transactions", json={"raw_transaction": raw}, headers={**auth, **key()})


def sign_and_relay(
    client: TestClient, auth: dict[str, str], account: LocalAccount, prepared: dict[str, Any]
) -> dict[str, Any]:
    response = relay(client, auth, sign(account, prepared))
    assert response.status_code == 202, response.text
    status = client.get(f"/api/v1/transactions/{response.json()['hash']}").json()
    assert status["status"] == "confirmed", status
    result: dict[str, Any] = status
    return result
