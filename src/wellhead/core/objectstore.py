"""Evidence files in object storage by the S3 API (AWS S3, MinIO, Ceph, R2, ...): agents upload, gateways read.

Files are content-addressed: the key is `<prefix><sha256 hex>.npz`, so an upload is idempotent and a reader
checks what it got against the name. Credentials come from boto3's usual chain (the AWS_* environment,
a shared credentials file and `profile`, an instance role), never from the config file. boto3 is the
`wellhead[s3]` extra, imported only when a bucket is configured.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from wellhead.core.errors import ConfigError, WellheadError


class ObjectStoreError(WellheadError, RuntimeError):
    """The object store refused or did not answer."""


class S3Location(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bucket: str = Field(min_length=3, max_length=63)
    prefix: str = "evidence/"
    endpoint_url: str | None = None  # MinIO or another S3-compatible server; AWS when unset
    region: str | None = None
    profile: str | None = None
    timeout: float = Field(default=10.0, gt=0)


class EvidenceBucket:
    def __init__(self, location: S3Location) -> None:
        try:
            import boto3
            from botocore.config import Config
        except ModuleNotFoundError:
            raise ConfigError("evidence upload needs boto3: pip install 'wellhead[s3]'") from None
        self.location = location
        session = boto3.session.Session(profile_name=location.profile, region_name=location.region)
        config = Config(
            connect_timeout=min(3.0, location.timeout),
            read_timeout=location.timeout,
            retries={"max_attempts": 2, "mode": "standard"},
        )
        self._client: Any = session.client("s3", endpoint_url=location.endpoint_url, config=config)

    def key(self, digest: str) -> str:
        return f"{self.location.prefix}{digest}.npz"

    def put(self, digest: str, data: bytes) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._client.put_object(
                Bucket=self.location.bucket,
                Key=self.key(digest),
                Body=data,
                ContentType="application/octet-stream",
                Metadata={"sha256": digest},
            )
        except (BotoCoreError, ClientError) as exc:
            raise ObjectStoreError(f"upload of evidence {digest[:12]}… failed: {_why(exc)}") from None

    def get(self, digest: str) -> bytes | None:
        """The object's bytes, or None if the bucket has no such key."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self._client.get_object(Bucket=self.location.bucket, Key=self.key(digest))
            data: bytes = response["Body"].read()
            return data
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise ObjectStoreError(f"reading evidence {digest[:12]}… failed: {_why(exc)}") from None
        except BotoCoreError as exc:
            raise ObjectStoreError(f"reading evidence {digest[:12]}… failed: {_why(exc)}") from None


def _why(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", type(exc).__name__))
    return type(exc).__name__
