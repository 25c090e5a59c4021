"""Report signers: a v3 keystore, or a secp256k1 key held in an HSM through PKCS#11.

Both sign the 32-byte EIP-712 digest and return r || s || v (65 bytes, low-s, v in {27, 28}), which is what
MetricsOracle recovers. The HSM key never leaves the token; the agent derives its address from the
token's public key and finds v by recovery.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Protocol

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_keys.datatypes import Signature
from eth_utils.crypto import keccak

from wellhead.core.errors import ConfigError

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
SECP256K1_OID = "1.3.132.0.10"


class ReportSigner(Protocol):
    address: str

    def sign_digest(self, digest: bytes) -> bytes: ...


def read_secret(file: str | None, env: str | None, what: str) -> str:
    if file:
        try:
            return Path(file).read_text().rstrip("\n")
        except OSError as exc:
            raise ConfigError(f"cannot read the {what} file {file}: {exc.strerror}") from None
    if env:
        value = os.environ.get(env)
        if value is None:
            raise ConfigError(f"the {what} is expected in ${env}, which is not set")
        return value
    raise ConfigError(f"no {what}: give a file or an environment variable")


def load_keystore(path: str, password: str) -> LocalAccount:
    try:
        keystore = Path(path).read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read keystore {path}: {exc.strerror}") from None
    try:
        key = Account.decrypt(keystore, password)
    except ValueError:
        raise ConfigError(f"cannot decrypt keystore {path}: wrong password or not a v3 keystore") from None
    account: LocalAccount = Account.from_key(key)
    return account


class KeystoreSigner:
    def __init__(self, account: LocalAccount) -> None:
        self.account = account
        self.address: str = account.address

    def sign_digest(self, digest: bytes) -> bytes:
        return bytes(Account.unsafe_sign_hash(digest, self.account.key).signature)


def _low_s_signature(digest: bytes, r: int, s: int, address: str) -> bytes:
    if s > SECP256K1_N // 2:
        s = SECP256K1_N - s
    for recovery in (0, 1):
        signature = Signature(vrs=(recovery, r, s))
        if signature.recover_public_key_from_msg_hash(digest).to_checksum_address() == address:
            return r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([27 + recovery])
    raise ConfigError("the HSM signature does not recover to the token's key")


class Pkcs11Signer:
    """A secp256k1 key in a PKCS#11 token (SoftHSM2 in tests, a real HSM in production)."""

    def __init__(self, module: str, token_label: str, key_label: str, pin: str) -> None:
        import pkcs11
        from pkcs11 import Attribute, KeyType, ObjectClass

        try:
            lib = pkcs11.lib(module)
            token = lib.get_token(token_label=token_label)
            self._session = token.open(user_pin=pin)
            self._key: Any = self._session.get_key(
                object_class=ObjectClass.PRIVATE_KEY, key_type=KeyType.EC, label=key_label
            )
            public: Any = self._session.get_key(
                object_class=ObjectClass.PUBLIC_KEY, key_type=KeyType.EC, label=key_label
            )
        except (pkcs11.PKCS11Error, RuntimeError, OSError) as exc:
            raise ConfigError(f"PKCS#11 key {key_label!r} on token {token_label!r}: {type(exc).__name__}") from None
        point = bytes(public[Attribute.EC_POINT])
        # DER OCTET STRING (0x04 len) wrapping the uncompressed point 0x04 || X || Y
        raw = point[2:] if point[0] == 0x04 and len(point) == 67 else point
        if len(raw) != 65 or raw[0] != 0x04:
            raise ConfigError("the PKCS#11 key is not an uncompressed secp256k1 point")
        from eth_utils.address import to_checksum_address

        self.address: str = to_checksum_address(keccak(raw[1:])[-20:])

    def sign_digest(self, digest: bytes) -> bytes:
        from pkcs11 import Mechanism

        raw = self._key.sign(digest, mechanism=Mechanism.ECDSA)
        r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
        return _low_s_signature(digest, r, s, self.address)

    def close(self) -> None:
        self._session.close()


def generate_pkcs11_key(module: str, token_label: str, key_label: str, pin: str) -> str:
    """Creates a secp256k1 key pair on the token (the private key is not extractable); returns its address."""
    import pkcs11
    from pkcs11 import Attribute, KeyType
    from pkcs11.util.ec import encode_named_curve_parameters

    token = pkcs11.lib(module).get_token(token_label=token_label)
    with token.open(user_pin=pin, rw=True) as session:
        params = encode_named_curve_parameters(SECP256K1_OID)
        session.generate_keypair(
            KeyType.EC,
            store=True,
            label=key_label,
            public_template={Attribute.EC_PARAMS: params},
            private_template={Attribute.EXTRACTABLE: False, Attribute.SENSITIVE: True},
        )
    signer = Pkcs11Signer(module, token_label, key_label, pin)
    address = signer.address
    signer.close()
    return address
