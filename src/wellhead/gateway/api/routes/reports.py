"""Reports: the evidence file behind a report's evidence hash."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Response
from fastapi import Path as PathParam
from sqlalchemy import select

from wellhead.core.objectstore import ObjectStoreError
from wellhead.gateway import db
from wellhead.gateway.deps import S, Svc
from wellhead.gateway.problems import Problem
from wellhead.gateway.schemas.common import HASH32

router = APIRouter(tags=["reports"])


@router.get(
    "/evidence/{evidence_hash}",
    operation_id="getEvidence",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "the evidence file"}},
)
def get_evidence(
    s: S,
    svc: Svc,
    evidence_hash: Annotated[str, PathParam(json_schema_extra={"pattern": r"^(0x)?[0-9a-fA-F]{64}$"})],
) -> Response:
    """The evidence file behind a report's evidence hash, from this gateway's evidence folders or the
    evidence bucket agents upload to, served only if its SHA-256 is that hash."""
    if not HASH32.match(evidence_hash):
        raise Problem(422, "invalid_hash", "a 32-byte hex hash", "evidence_hash")
    digest = evidence_hash.lower().removeprefix("0x")
    known = s.scalar(
        select(db.ReportObservation.asset_id).where(db.ReportObservation.evidence_hash == "0x" + digest).limit(1)
    )
    if known is None:
        raise Problem(404, "evidence_unknown", "no accepted report carries this evidence hash", "evidence_hash")
    copies = _local(svc.evidence_dirs, digest)
    data = next((c for c in copies if hashlib.sha256(c).hexdigest() == digest), None)
    if data is None and svc.evidence_bucket is not None:
        try:
            stored = svc.evidence_bucket.get(digest)  # a bad local copy does not hide a good one in the bucket
        except ObjectStoreError:
            raise Problem(
                503, "evidence_store_unavailable", "the evidence store did not answer; try again", "evidence_hash"
            ) from None
        if stored is not None:
            copies.append(stored)
            data = stored if hashlib.sha256(stored).hexdigest() == digest else None
    if data is None and copies:
        raise Problem(502, "evidence_corrupt", "the stored file does not match its hash: not served", "evidence_hash")
    if data is None:
        raise Problem(
            404, "evidence_not_available", "the report is known but its file is not on this gateway", "evidence_hash"
        )
    return Response(
        data,
        media_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{digest}.npz"', "X-Evidence-SHA256": digest},
    )


def _local(directories: tuple[Path, ...], digest: str) -> list[bytes]:
    """Every local copy, in the configured order."""
    return [path.read_bytes() for d in directories if (path := Path(d) / f"{digest}.npz").is_file()]
