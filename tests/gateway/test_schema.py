"""schemathesis against the OpenAPI spec: whatever it generates (valid and invalid), no answer is a 5xx,
and every error is an RFC 9457 problem with a stable code."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from sqlalchemy.orm import Session, sessionmaker
from web3 import Web3

from tests.support.chain import Site
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
    app = create_app(Services.build(sessions, w3, deployment, domain="testserver"))
    TestClient(app)  # the app's startup is trivial; schemathesis calls it in process
    return schemathesis.openapi.from_asgi("/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_5xx_and_every_error_is_a_problem(case: Any) -> None:
    response = case.call()
    assert response.status_code < 500, (case.method, case.formatted_path, response.text)
    if response.status_code >= 400:
        assert response.headers["content-type"][0].startswith("application/problem+json"), response.text
        body = response.json()
        assert body["status"] == response.status_code and body["code"] and body["detail"], body
