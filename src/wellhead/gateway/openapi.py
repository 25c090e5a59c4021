"""The API document as integrators' generators read it, and its docs pages served from this process.

FastAPI's document is corrected where clients generated from it (openapi-typescript, openapi-python-client)
would otherwise be wrong:
- every error response has one content type, `application/problem+json`, with the problem schema (clients then
  get typed errors);
- `securitySchemes` for bearer sessions and API keys; each operation that needs a caller says which
  (`security`: a session alone manages keys, webhooks and sessions), and the `Authorization` / `X-API-Key`
  headers it declared are left to the schemes;
- `Idempotency-Key` is required wherever the server requires it;
- `servers` names this gateway (relative, so the document is right behind any host or proxy).

`/docs` (Swagger UI) and `/redoc` load their assets from `/docs-assets`, files of the `fastapi-offline` wheel:
they work without the internet.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from importlib.resources import files
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.staticfiles import StaticFiles
from starlette.routing import BaseRoute

from wellhead.gateway.problems import PROBLEM

ASSETS = "/docs-assets"
SECURITY_SCHEMES = {
    "bearerSession": {
        "type": "http",
        "scheme": "bearer",
        "description": "a session token from POST /api/v1/auth/sessions (Sign-In with Ethereum)",
    },
    "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "an API key (wh_...)"},
}
CREDENTIAL_HEADERS = {"authorization", "x-api-key"}


def _needs(route: Any) -> str | None:
    """'session' (a signed-in session only), 'required' or 'optional' when the route identifies its caller;
    None when it does not."""
    names = set()
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        names.add(getattr(dep.call, "__name__", ""))
        stack.extend(dep.dependencies)
    if "_session_only" in names:
        return "session"
    if "_required" in names:
        return "required"
    return "optional" if "_caller" in names else None


def _api_routes(routes: Sequence[BaseRoute]) -> Iterator[Any]:
    """Every API route as the app serves it: with the prefixes and the dependencies of its routers (FastAPI's
    own route contexts, what its document is built from)."""
    for context in iter_route_contexts(routes):
        if isinstance(context.original_route, APIRoute) and context.dependant is not None:
            yield context


def build_document(app: FastAPI) -> dict[str, Any]:
    doc = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        servers=app.servers,
        license_info=app.license_info,
    )
    doc.setdefault("components", {}).setdefault("securitySchemes", {}).update(SECURITY_SCHEMES)
    needs = {route.operation_id: _needs(route) for route in _api_routes(app.routes)}
    for item in doc.get("paths", {}).values():
        for op in item.values():
            need = needs.get(op.get("operationId"))
            if need == "session":  # keys, webhooks and sessions are managed by a signed-in session alone
                op["security"] = [{"bearerSession": []}]
            elif need == "required":
                op["security"] = [{"bearerSession": []}, {"apiKey": []}]
            elif need == "optional":
                op["security"] = [{}, {"bearerSession": []}, {"apiKey": []}]
            params = [p for p in op.get("parameters", []) if not _is_credential(p, need)]
            for p in params:
                if p.get("in") == "header" and p.get("name", "").lower() == "idempotency-key":
                    p["required"] = True
                    p["schema"] = {"type": "string", "minLength": 1, "maxLength": 255}
            if "parameters" in op:
                op["parameters"] = params
            for status, response in op.get("responses", {}).items():
                if status[:1] in ("4", "5"):
                    response["content"] = {PROBLEM: {"schema": {"$ref": "#/components/schemas/ProblemBody"}}}
    return doc


def _is_credential(param: dict[str, Any], need: str | None) -> bool:
    return need is not None and param.get("in") == "header" and param.get("name", "").lower() in CREDENTIAL_HEADERS


def install(app: FastAPI) -> None:
    """The corrected document at /openapi.json, and the docs pages on local assets."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_document(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.mount(ASSETS, StaticFiles(directory=str(files("fastapi_offline") / "static")), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def swagger() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{app.title}: API",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon.png",
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url="/openapi.json",
            title=f"{app.title}: API reference",
            redoc_js_url=f"{ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS}/favicon.png",
            with_google_fonts=False,
        )


def allowed_methods(app: FastAPI, path: str) -> str | None:
    """The `Allow` header for `path`: every method the document lists for the path template it matches."""
    table: list[tuple[re.Pattern[str], list[str]]] | None = getattr(app.state, "allow_table", None)
    if table is None:
        table = [
            (re.compile("^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template)) + "$"), [m.upper() for m in item])
            for template, item in app.openapi().get("paths", {}).items()
        ]
        app.state.allow_table = table
    for pattern, methods in table:
        if pattern.match(path):
            return ", ".join(sorted(methods))
    return None
