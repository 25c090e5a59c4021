"""`Idempotency-Key` on POSTs: the first answer is stored and replayed for a retry of the same request.

Keys are scoped to the caller (its session or API key; its client address without one). A key reused for a
different request is a 422; a retry while the first request still runs is a 409. Errors are not stored:
nothing happened, so the same key may be retried once the request is fixed.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from wellhead.gateway import db
from wellhead.gateway.problems import Problem

HEADER = "Idempotency-Key"
MAX_KEY = 255


def fingerprint(method: str, path: str, body: BaseModel | None) -> str:
    payload = body.model_dump(mode="json", by_alias=True) if body is not None else None
    text = json.dumps([method, path, payload], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def run_once(
    s: Session,
    scope: str,
    key: str | None,
    request_hash: str,
    run: Callable[[], tuple[int, BaseModel]],
    secret_fields: tuple[str, ...] = (),
) -> JSONResponse:
    """`secret_fields` are answered the first time and stored as null, so a replay answers them as null."""
    if key is None or not key.strip():
        raise Problem(400, "idempotency_key_required", f"every POST needs an {HEADER} header", HEADER)
    if len(key) > MAX_KEY or not key.isprintable():
        raise Problem(400, "invalid_idempotency_key", f"at most {MAX_KEY} printable characters", HEADER)
    record = s.get(db.IdempotencyRecord, (scope, key))
    if record is None:
        record = db.IdempotencyRecord(
            principal=scope,
            key=key,
            request_hash=request_hash,
            status_code=None,
            body=None,
            created_at=int(time.time()),
        )
        s.add(record)
        try:
            s.commit()
        except IntegrityError:  # a concurrent first request with the same key won the insert
            s.rollback()
            raise Problem(409, "idempotency_in_progress", "a request with this key is still running", HEADER) from None
    else:
        if record.request_hash != request_hash:
            raise Problem(422, "idempotency_key_reused", "this key was used for a different request", HEADER)
        if record.status_code is None:
            raise Problem(409, "idempotency_in_progress", "a request with this key is still running", HEADER)
        return JSONResponse(record.body, status_code=record.status_code, headers={"Idempotent-Replayed": "true"})
    try:
        status, model = run()
    except BaseException:
        s.rollback()
        s.delete(record)
        s.commit()
        raise
    body: dict[str, Any] = model.model_dump(mode="json", by_alias=True)
    record.status_code, record.body = status, {**body, **dict.fromkeys(secret_fields)}
    s.commit()
    return JSONResponse(body, status_code=status)
