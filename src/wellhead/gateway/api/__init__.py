"""The REST API: one router per resource, all under /api/v1."""

from fastapi import APIRouter, Depends

from wellhead.gateway.api.routes import assets, auth, credit, investors, leases, reports, transactions, webhooks
from wellhead.gateway.deps import limit_anonymous

api_router = APIRouter(prefix="/api/v1", dependencies=[Depends(limit_anonymous)])
for module in (assets, leases, reports, investors, credit, auth, webhooks, transactions):
    api_router.include_router(module.router)
