"""RFC 9457 problem details: every error the API answers, with a stable machine `code` and the `field`."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi.responses import JSONResponse
from pydantic import BaseModel

from wellhead.core.errors import WellheadError

PROBLEM = "application/problem+json"
TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    409: "Conflict",
    413: "Content too large",
    422: "Invalid parameter",
    405: "Method not allowed",
    408: "Request timeout",
    429: "Too many requests",
    502: "Bad gateway",
    503: "Unavailable",
}


class Problem(WellheadError):
    """An error the API answers with: HTTP status, a stable machine code, a human detail, the field."""

    def __init__(
        self, status: int, code: str, detail: str, field: str | None = None, retry_after: int | None = None
    ) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.field, self.retry_after = status, code, detail, field, retry_after


class ProblemBody(BaseModel):
    type: str = "about:blank"
    title: str
    status: int
    code: str
    detail: str
    field: str | None = None


def problem_response(
    status: int,
    code: str,
    detail: str,
    field: str | None = None,
    retry_after: int | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = ProblemBody(title=TITLES.get(status, "Error"), status=status, code=code, detail=detail, field=field)
    out = dict(headers or {})
    if retry_after is not None:
        out["Retry-After"] = str(retry_after)
    if status == 401:  # RFC 9110 15.5.2: a 401 names the scheme that would do (API keys are the other one)
        out.setdefault("WWW-Authenticate", 'Bearer realm="wellhead"')
    return JSONResponse(body.model_dump(), status_code=status, media_type=PROBLEM, headers=out or None)
