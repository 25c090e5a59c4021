"""The outbox's ledger of evidence files: written, uploaded, removed (the `evidence` table)."""

from __future__ import annotations

import sqlite3
import time


class EvidenceLedger:
    db: sqlite3.Connection

    def record_evidence(self, digest: str, epoch: int, epoch_end: int) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO evidence (digest, epoch, epoch_end, created_at) VALUES (?, ?, ?, ?)",
            (digest, epoch, epoch_end, time.time()),
        )

    def evidence_not_uploaded(self, limit: int, exclude: set[str] | None = None) -> list[str]:
        """Newest first, leaving out `exclude` (files that just failed)."""
        rows = self.db.execute(
            "SELECT digest FROM evidence WHERE uploaded_at IS NULL AND removed_at IS NULL ORDER BY epoch DESC"
        )
        out: list[str] = []
        for (digest,) in rows:
            if len(out) == limit:
                break
            if not exclude or digest not in exclude:
                out.append(digest)
        return out

    def mark_evidence(self, digest: str, *, uploaded: bool = False, removed: bool = False) -> None:
        column = "uploaded_at" if uploaded else "removed_at"
        assert uploaded != removed, "mark one thing at a time"
        self.db.execute(f"UPDATE evidence SET {column} = ? WHERE digest = ?", (time.time(), digest))

    def evidence_past_retention(self, keep: int, closed_before: int, need_upload: bool) -> list[str]:
        """Local files beyond the newest `keep`, of epochs that ended before `closed_before` (no report of them
        can still be challenged), uploaded first where uploads are configured."""
        rows = self.db.execute(
            "SELECT digest FROM evidence WHERE removed_at IS NULL AND epoch_end < ?"
            " AND (? = 0 OR uploaded_at IS NOT NULL)"
            " AND digest NOT IN (SELECT digest FROM evidence WHERE removed_at IS NULL ORDER BY epoch DESC LIMIT ?)"
            " ORDER BY epoch",
            (closed_before, int(need_upload), keep),
        )
        return [r[0] for r in rows]
