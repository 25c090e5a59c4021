"""Evidence files: copied to object storage (optional) off the loop, and removed locally past retention.

Uploads run on their own thread, so a slow or unreachable bucket never delays sampling; the loop hands it
the files not yet uploaded and records what it confirms. A local file is removed only when it is beyond
the newest `keep_epochs`, its epoch's report can no longer be challenged or be under arbitration (the epoch
ended more than the report deadline, the challenge window and the dispute deadline ago), and, where uploads
are configured, after its upload. Uploads go newest first, and a file that failed waits RETRY_AFTER before
its next try, so files that can never be uploaded (lost or corrupt locally) hold up no others.
"""

from __future__ import annotations

import hashlib
import queue
import threading
import time
from pathlib import Path

from wellhead.agent.phases import AgentContext
from wellhead.core.objectstore import EvidenceBucket, ObjectStoreError

RETRY_AFTER = 30.0  # seconds before a failed upload is tried again


class Uploader:
    """One background thread that uploads the files it is handed, and reports back."""

    def __init__(self, bucket: EvidenceBucket, directory: Path) -> None:
        self.bucket = bucket
        self.directory = directory
        self.todo: queue.Queue[str | None] = queue.Queue()
        self.done: queue.Queue[tuple[str, str | None]] = queue.Queue()  # (digest, error or None)
        self._thread = threading.Thread(target=self._work, name="wellhead-evidence-upload", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        while (digest := self.todo.get()) is not None:
            try:
                data = (self.directory / f"{digest}.npz").read_bytes()
                if hashlib.sha256(data).hexdigest() != digest:
                    raise ObjectStoreError(f"local evidence {digest[:12]}… does not match its hash: not uploaded")
                self.bucket.put(digest, data)
                self.done.put((digest, None))
            except (OSError, ObjectStoreError) as exc:
                self.done.put((digest, str(exc)))

    def close(self) -> None:
        self.todo.put(None)
        self._thread.join(timeout=5)


class EvidenceKeeper:
    name = "evidence"
    failures = 0  # it isolates no failures of its own: a failing pass raises

    def __init__(self, ctx: AgentContext, uploader: Uploader | None) -> None:
        self.ctx = ctx
        self.uploader = uploader
        self._in_flight: set[str] = set()
        self._failed_at: dict[str, float] = {}

    def run(self, now: float) -> None:
        if self.uploader is not None:
            self._collect_uploads()
            self._hand_out()
        self._remove_past_retention(now)

    def _collect_uploads(self) -> None:
        assert self.uploader is not None
        metrics = self.ctx.metrics
        while True:
            try:
                digest, error = self.uploader.done.get_nowait()
            except queue.Empty:
                return
            self._in_flight.discard(digest)
            if error is None:
                self.ctx.store.mark_evidence(digest, uploaded=True)
                metrics.evidence_uploads.inc()
                self._failed_at.pop(digest, None)
            else:
                metrics.evidence_upload_failures.inc()
                self._failed_at[digest] = time.monotonic()
                self.ctx.warn("evidence-upload", "evidence upload failed; will retry", error=error)

    def _hand_out(self) -> None:
        assert self.uploader is not None
        pending = self.ctx.store.evidence_not_uploaded(limit=100, exclude=self._recently_failed())
        self.ctx.metrics.evidence_pending.set(len(pending))
        for digest in pending:
            if digest not in self._in_flight:
                self._in_flight.add(digest)
                self.uploader.todo.put(digest)

    def _recently_failed(self) -> set[str]:
        now = time.monotonic()
        return {digest for digest, at in self._failed_at.items() if now - at < RETRY_AFTER}

    def _remove_past_retention(self, now: float) -> None:
        ctx = self.ctx
        closed_before = int(now) - ctx.terms.evidence_needed_for
        keep = ctx.settings.evidence.keep_epochs
        for digest in ctx.store.evidence_past_retention(keep, closed_before, need_upload=self.uploader is not None):
            (ctx.settings.evidence_dir / f"{digest}.npz").unlink(missing_ok=True)
            ctx.store.mark_evidence(digest, removed=True)
            ctx.metrics.evidence_removed.inc()

    def close(self) -> None:
        if self.uploader is not None:
            self.uploader.close()
