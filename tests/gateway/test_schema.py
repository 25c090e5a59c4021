"""schemathesis against the OpenAPI spec, authenticated with an API key: whatever it generates (valid and
invalid), no answer is a 5xx, every answer matches the document (status, content type, schema), and every error
is an RFC 9457 problem with a stable code. `make test` runs 30 examples per operation; `make test-api-deep`
runs 150 (SCHEMATHESIS_EXAMPLES). A stateful run chains calls by the links schemathesis infers, signed in."""

from __future__ import annotations

import os
import uuid
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlalchemy.orm import Session, sessionmaker
from web3 import Web3

from tests.support.chain import Site
from tests.support.wallet import sign_in
from wellhead.chain.client import Protocol
from wellhead.chain.deployment import Deployment
from wellhead.devkit.scenario import Actors
from wellhead.devkit.scenario.actors import FIRM
from wellhead.gateway.app import create_app
from wellhead.gateway.index.indexer import Indexer
from wellhead.gateway.services import Services


@pytest.fixture
def api_schema(
    w3: Web3, protocol: Protocol, actors: Actors, deployment: Deployment, sessions: sessionmaker[Session]
) -> Any:
    site = Site(w3, protocol, actors)
    site.open_lease(actors.lessee_firm, 4, 2, FIRM)
    site.report_and_finalize(0, 9_000)
    Indexer(w3, deployment, sessions, confirmations=0).sync()
    services = Services.build(sessions, w3, deployment, domain="testserver", key_rate=10**6, session_rate=10**6)
    with sessions() as s:
        _, secret = services.auth.create_key(s, actors.investor_a.address, "schemathesis", 10**6)
        s.commit()
    app = create_app(services)
    TestClient(app)  # the app's startup is trivial; schemathesis calls it in process
    API_KEY["X-API-Key"] = secret
    return schemathesis.openapi.from_asgi("/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")
API_KEY: dict[str, str] = {}
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "30"))


def _fresh_key(case: Any) -> dict[str, str]:
    """A client draws a fresh Idempotency-Key per request (a key reused for another body is a 422, by design); a
    key generated to break the schema (empty, over 255 characters, unprintable) is left as it is."""
    drawn = (case.headers or {}).get("Idempotency-Key")
    return {"Idempotency-Key": str(uuid.uuid4())} if drawn and len(drawn) <= 255 and drawn.isprintable() else {}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_5xx_and_every_error_is_a_problem(case: Any) -> None:
    response = case.call(headers={**API_KEY, **_fresh_key(case)})
    # Every answer is checked against the document (status documented, content type, body schema), except
    # schemathesis's "schema-valid request rejected": the server refuses more than the document can say (an
    # opaque cursor it did not give out, EIP-4361's grammar, a write the chain refuses now, one of two amount
    # forms, a JSON body that is not an object); the note of issue 21 lists what that check still finds.
    case.validate_response(response, excluded_checks=[positive_data_acceptance])
    assert response.status_code < 500, (case.method, case.formatted_path, response.text)
    if response.status_code >= 400:
        assert response.headers["content-type"][0].startswith("application/problem+json"), response.text
        body = response.json()
        assert body["status"] == response.status_code and body["code"] and body["detail"], body


STEPS = int(os.environ.get("SCHEMATHESIS_STATEFUL_STEPS", "10"))
SCENARIOS = int(os.environ.get("SCHEMATHESIS_SCENARIOS", "15"))  # make test-api-deep: 150


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_stateful_sequences_signed_in(api_schema: Any, actors: Actors, sessions: sessionmaker[Session]) -> None:
    """Sequences of calls chained by the links schemathesis finds between operations (an id one answer gives,
    used by the next: keys, webhooks, assets, leases), signed in with a session (which alone manages keys and
    webhooks): no 5xx, every answer as documented and every error a problem."""
    app = api_schema.app
    bearer = sign_in(TestClient(app), actors.investor_b)
    machine = api_schema.as_state_machine()
    links = {link.full_name for found in machine._transitions.operations.values() for link in found.outgoing}
    for chained in (
        "POST /api/v1/api-keys -> [201] DeleteApiKey -> DELETE /api/v1/api-keys/{key_id}",
        "POST /api/v1/webhooks -> [201] GetWebhook -> GET /api/v1/webhooks/{webhook_id}/deliveries",
        "GET /api/v1/assets -> [200] GetAsset_0 -> GET /api/v1/assets/{asset_id}/epochs",
        "GET /api/v1/leases -> [200] GetLease -> GET /api/v1/leases/{lease_id}",
    ):
        assert chained in links, f"not chained: {chained}"

    class SignedIn(machine):  # type: ignore[misc, valid-type]
        def setup(self) -> None:
            """Each scenario from the same state: what an earlier one created (keys, webhooks: at most 20 each)
            would change which calls succeed, and Hypothesis replays scenarios expecting the same answers."""
            from sqlalchemy import delete

            from wellhead.gateway.db import ApiKey, WebhookSubscription

            with sessions.begin() as s:
                s.execute(delete(ApiKey).where(ApiKey.owner == actors.investor_b.address))
                s.execute(delete(WebhookSubscription).where(WebhookSubscription.owner == actors.investor_b.address))

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": {**bearer, **_fresh_key(case)}}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            case.validate_response(response, excluded_checks=[positive_data_acceptance])
            assert response.status_code < 500, (case.method, case.formatted_path, response.text)
            if response.status_code >= 400:
                assert response.headers["content-type"][0].startswith("application/problem+json")

    SignedIn.run(
        settings=settings(
            max_examples=SCENARIOS,
            stateful_step_count=STEPS,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
        )
    )
