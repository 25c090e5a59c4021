"""Deployment records: `deployments/<network>.json`, one per network."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from eth_typing import ChecksumAddress
from pydantic import BaseModel, Field, ValidationError
from web3 import Web3

from wellhead.core.errors import ChainMismatchError, ConfigError, DeploymentNotFoundError


class DeployedContract(BaseModel):
    address: str
    tx_hash: str
    block: int


class Deployment(BaseModel):
    """Where the protocol lives on one network, and how it got there."""

    network: str
    chain_id: int
    deployer: str
    git_commit: str
    block: int = Field(description="block of the first deployment transaction: where indexers start")
    deployed_at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    contracts: dict[str, DeployedContract]

    def address(self, name: str) -> ChecksumAddress:
        try:
            return Web3.to_checksum_address(self.contracts[name].address)
        except KeyError:
            raise ConfigError(f"deployment for {self.network} has no {name} contract") from None

    def save(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{self.network}.json"
        path.write_text(json.dumps(self.model_dump(), indent=2) + "\n")
        return path

    @classmethod
    def load(cls, path: Path) -> Deployment:
        if not path.exists():
            raise DeploymentNotFoundError(f"no deployment record at {path}; run `wellhead deploy` first")
        try:
            return cls.model_validate_json(path.read_text())
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"])
            raise ConfigError(f"deployment record {path} is invalid at {field}: {first['msg']}") from None

    def check_chain(self, w3: Web3) -> None:
        chain_id = w3.eth.chain_id
        if chain_id != self.chain_id:
            raise ChainMismatchError(
                f"the node serves chain {chain_id} but the {self.network} deployment is on chain {self.chain_id}"
            )
