"""Reports signed by scripted attestors: the same EIP-712 observations and co-signatures the agents produce."""

from __future__ import annotations

from collections.abc import Sequence

from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak

from wellhead.chain.client import Protocol
from wellhead.chain.eip712 import report_digest, sign_digest, sign_observation
from wellhead.chain.observations import ZERO32, Observation, ObservationClaim, Report, build_report


def signed_observation(
    p: Protocol, asset_id: int, epoch: int, observation: Observation, signer: LocalAccount, grid_event: bytes = ZERO32
) -> tuple[Observation, bytes]:
    """`observation` of the epoch signed by `signer` (the attestor at `observation.observer`)."""
    claim = ObservationClaim(assetId=asset_id, epoch=epoch, gridEventId=grid_event, observation=observation)
    return observation, sign_observation(claim, p.chain_id, p.oracle.address, signer)


def cosign(p: Protocol, report: Report, signers: Sequence[LocalAccount]) -> bytes:
    """The co-signatures of `signers` over `report`, concatenated as `submitReport` takes them."""
    digest = report_digest(report, p.chain_id, p.oracle.address)
    return b"".join(sign_digest(digest, s) for s in signers)


def uniform_report(
    p: Protocol,
    asset_id: int,
    epoch: int,
    attestors: Sequence[LocalAccount],
    uptime_bps: int,
    energy_wh: int = 10_000,
    observers: int = 3,
    grid_event: bytes = ZERO32,
) -> Report:
    """Attestors 1..observers (`attestors` in the asset's order) observe the same values, each signing its own."""
    signed = []
    for i, attestor in enumerate(attestors[:observers]):
        observation = Observation(
            observer=i + 1,
            uptimeBps=uptime_bps,
            gpuEnergyWh=energy_wh,
            facilityEnergyWh=energy_wh * 6 // 5,
            evidenceHash=keccak(text=f"evidence:{asset_id}:{epoch}:{i}"),
        )
        signed.append(signed_observation(p, asset_id, epoch, observation, attestor, grid_event))
    return build_report(asset_id, epoch, grid_event, signed)
