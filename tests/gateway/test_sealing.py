"""Webhook secrets at rest: sealed under the configured keys, rotated by putting a new key first, refused from a
key file others can read, and never left in clear by a gateway that starts on an older database."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from wellhead.core.errors import ConfigError
from wellhead.gateway import db
from wellhead.gateway.db import engine_for, migrate, session_factory
from wellhead.gateway.server import GatewaySettings, sealer_for
from wellhead.gateway.services.sealing import SecretSealer, UnsealableSecretError, reseal_secrets
from wellhead.gateway.services.webhooks import new_secret


def _key_file(path: Path, *keys: bytes, mode: int = 0o600) -> Path:
    path.write_bytes(b"\n".join(keys) + b"\n")
    path.chmod(mode)
    return path


def test_a_sealed_secret_opens_only_under_its_keys_and_survives_rotation(tmp_path: Path) -> None:
    old, new = Fernet.generate_key(), Fernet.generate_key()
    secret = new_secret()
    sealed = SecretSealer([old]).seal(secret)
    assert secret not in sealed and sealed.startswith("sealed:")
    rotated = SecretSealer.from_file(_key_file(tmp_path / "keys", new, old))
    assert rotated.open(sealed) == secret, "an older key still opens what it sealed"
    assert rotated.needs_resealing(sealed) and not rotated.needs_resealing(rotated.seal(secret))
    with pytest.raises(UnsealableSecretError):
        SecretSealer([new]).open(sealed)


def test_a_key_file_others_can_read_is_refused(tmp_path: Path) -> None:
    path = _key_file(tmp_path / "keys", Fernet.generate_key(), mode=0o640)
    with pytest.raises(ConfigError, match="readable by others"):
        SecretSealer.from_file(path)
    with pytest.raises(ConfigError, match="not a Fernet key"):
        SecretSealer.from_file(_key_file(tmp_path / "bad", b"hunter2"))


def test_postgres_needs_a_key_file_and_sqlite_gets_one_of_its_own(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="secrets-key-file"):
        sealer_for(GatewaySettings(database_url="postgresql+psycopg://u@127.0.0.1:1/x"))
    sqlite = tmp_path / "gateway.db"
    made = sealer_for(GatewaySettings(database_url=f"sqlite:///{sqlite}"))
    key = Path(f"{sqlite}.key")
    assert key.stat().st_mode & 0o777 == 0o600
    again = sealer_for(GatewaySettings(database_url=f"sqlite:///{sqlite}"))
    assert again.open(made.seal("whsec_x")) == "whsec_x", "a restart finds the same key"


def test_secrets_in_clear_or_under_a_retired_key_are_resealed_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'g.db'}"
    migrate(url)
    sessions = session_factory(engine_for(url))
    old, new = Fernet.generate_key(), Fernet.generate_key()
    clear, retired = new_secret(), new_secret()
    with sessions.begin() as s:
        for stored in (clear, SecretSealer([old]).seal(retired)):
            s.add(db.WebhookSubscription(owner="0x" + "1" * 40, url="https://hooks.example/x", events={"types": []},
                                         secret=stored, created_at=0, active=True))  # fmt: skip
    sealer = SecretSealer([new, old])
    assert reseal_secrets(sessions, sealer) == 2
    assert reseal_secrets(sessions, sealer) == 0, "nothing left to reseal"
    with sessions() as s:
        resealed = [r.secret for r in s.query(db.WebhookSubscription).order_by(db.WebhookSubscription.id)]
    assert [SecretSealer([new]).open(x) for x in resealed] == [clear, retired], "both now under the first key"
    assert os.stat(tmp_path / "g.db").st_mode & 0o077 == 0


def test_a_row_no_key_opens_is_left_and_the_rest_are_still_sealed(tmp_path: Path) -> None:
    """A key taken out of the file too early: that row waits for it; the start does not fail on it (it did) and
    the rows in clear are still sealed."""
    url = f"sqlite:///{tmp_path / 'g.db'}"
    migrate(url)
    sessions = session_factory(engine_for(url))
    lost, current = Fernet.generate_key(), Fernet.generate_key()
    clear = new_secret()
    with sessions.begin() as s:
        for stored in (SecretSealer([lost]).seal(new_secret()), clear):
            s.add(db.WebhookSubscription(owner="0x" + "1" * 40, url="https://hooks.example/x", events={"types": []},
                                         secret=stored, created_at=0, active=True))  # fmt: skip
    assert reseal_secrets(sessions, SecretSealer([current])) == 1
    with sessions() as s:
        rows = [r.secret for r in s.query(db.WebhookSubscription).order_by(db.WebhookSubscription.id)]
    assert SecretSealer([lost]).open(rows[0]) and SecretSealer([current]).open(rows[1]) == clear


def test_two_processes_making_the_key_file_at_once_share_one_whole_key(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    path = tmp_path / "gateway.db.key"
    with ThreadPoolExecutor(8) as pool:
        sealers = list(pool.map(lambda _: SecretSealer.from_file(path, create=True), range(8)))
    sealed = sealers[0].seal("whsec_x")
    assert all(s.open(sealed) == "whsec_x" for s in sealers), "every one holds the same key"
    assert len(path.read_bytes().split()) == 1 and path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["gateway.db.key"], "no draft left behind"
