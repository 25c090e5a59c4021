"""Webhook signing secrets sealed at rest. Standard Webhooks signs with HMAC, so the gateway needs each secret in
clear at delivery time and cannot keep only a verifier: it keeps the secret encrypted (Fernet: AES-128-CBC with
HMAC-SHA256) under keys from its configuration, so a database dump or backup alone reveals no secret.

The key file holds one Fernet key per line: the first seals, every one opens (rotation: put a new key on top,
restart every replica; a webhooks worker's start re-seals old rows under it; drop the old key after that)."""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import tempfile
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from wellhead.core.errors import ConfigError, WellheadError

SEALED_PREFIX = "sealed:"
log = logging.getLogger("wellhead.gateway")


class UnsealableSecretError(WellheadError):
    """A stored secret that none of the configured keys opens (a key removed too early, or another gateway's)."""


class SecretSealer:
    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise ConfigError("the secrets key file holds no key")
        try:
            self._fernets = [Fernet(k) for k in keys]
        except ValueError:
            raise ConfigError("a line of the secrets key file is not a Fernet key (32 url-safe base64 bytes)") from None
        self._box = MultiFernet(self._fernets)

    @classmethod
    def ephemeral(cls) -> SecretSealer:
        """A key for this process only (tests; an in-memory database dies with it anyway)."""
        return cls([Fernet.generate_key()])

    @classmethod
    def from_file(cls, path: Path, create: bool = False) -> SecretSealer:
        """Keys from `path`, which only its owner may read; `create` writes a new one-key file (0600) if none
        is there (a single machine's gateway keeps it beside its SQLite database)."""
        if create and not path.exists():
            _write_new_key(path)
        try:
            mode = path.stat().st_mode
            text = path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"cannot read the secrets key file {path}: {exc.strerror}") from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigError(f"the secrets key file {path} is readable by others: chmod 600 it")
        return cls([line.strip() for line in text.splitlines() if line.strip()])

    def seal(self, secret: str) -> str:
        return SEALED_PREFIX + self._fernets[0].encrypt(secret.encode()).decode()

    def open(self, stored: str) -> str:
        """The secret in clear; a row written before sealing existed is still in clear and opens as itself."""
        if not stored.startswith(SEALED_PREFIX):
            return stored
        try:
            return self._box.decrypt(stored.removeprefix(SEALED_PREFIX).encode()).decode()
        except InvalidToken:
            raise UnsealableSecretError("no configured key opens this webhook's secret") from None

    def needs_resealing(self, stored: str) -> bool:
        """In clear, or sealed under a key that is no longer the first."""
        if not stored.startswith(SEALED_PREFIX):
            return True
        try:
            self._fernets[0].decrypt(stored.removeprefix(SEALED_PREFIX).encode())
        except InvalidToken:
            return True
        return False


def _write_new_key(path: Path) -> None:
    """A new one-key file at `path`, whole or not at all: written beside it, then linked into place (a second
    process starting at once finds the first one's file, complete, and keeps it)."""
    fd, draft = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # created 0600
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(Fernet.generate_key() + b"\n")
        with contextlib.suppress(FileExistsError):
            os.link(draft, path)
    finally:
        os.unlink(draft)


def reseal_secrets(sessions: sessionmaker[Session], sealer: SecretSealer) -> int:
    """Seals every secret still in clear (or under an older key) under the first key; how many it re-sealed.
    Safe beside other replicas: each row is rewritten only if it still holds what was read. A row no key opens
    is left as it is (its deliveries wait for the key to come back) and logged; the others are still sealed."""
    from wellhead.gateway import db

    done = 0
    with sessions() as s:
        for row_id, stored in s.execute(select(db.WebhookSubscription.id, db.WebhookSubscription.secret)).all():
            if not sealer.needs_resealing(stored):
                continue
            try:
                sealed = sealer.seal(sealer.open(stored))
            except UnsealableSecretError:
                log.error("webhooks: no configured key opens a subscription's secret", extra={"webhook": row_id})
                continue
            hit = s.execute(
                update(db.WebhookSubscription)
                .where(db.WebhookSubscription.id == row_id, db.WebhookSubscription.secret == stored)
                .values(secret=sealed)
            )
            done += hit.rowcount  # type: ignore[attr-defined]  # 0: another replica sealed it first
        s.commit()
    return done
