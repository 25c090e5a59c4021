"""What attestors sign and the oracle settles on: an `Observation` of an epoch, the `ObservationClaim` that binds
it to the asset, epoch and grid event, the co-signed `Report` of several, and the median `Aggregate` the contract
takes; with the calldata packing (`ObservationsLib`) and JSON forms. Hashing and signing: `wellhead.chain.eip712`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from wellhead.core.constants import BPS, UINT32_MAX, UINT64_MAX

SIGNATURE_LENGTH = 65
ZERO32 = b"\x00" * 32

OBSERVATION_FIELDS: list[dict[str, str]] = [
    {"name": "observer", "type": "uint8"},
    {"name": "uptimeBps", "type": "uint32"},
    {"name": "curtailedBps", "type": "uint32"},
    {"name": "gpuEnergyWh", "type": "uint64"},
    {"name": "facilityEnergyWh", "type": "uint64"},
    {"name": "miningEnergyWh", "type": "uint64"},
    {"name": "miningRevenue", "type": "uint64"},
    {"name": "renewableBps", "type": "uint32"},
    {"name": "carbonGramsPerKwh", "type": "uint32"},
    {"name": "evidenceHash", "type": "bytes32"},
]

# How a report carries each observation in calldata (ObservationsLib): the fields big-endian, in order, in
# these widths (bytes); 73 bytes an observation.
PACKED_WIDTHS: list[tuple[str, int]] = [
    ("observer", 1),
    ("uptimeBps", 2),
    ("curtailedBps", 2),
    ("gpuEnergyWh", 8),
    ("facilityEnergyWh", 8),
    ("miningEnergyWh", 8),
    ("miningRevenue", 8),
    ("renewableBps", 2),
    ("carbonGramsPerKwh", 2),
    ("evidenceHash", 32),
]
PACKED_SIZE = sum(w for _, w in PACKED_WIDTHS)


class Observation(BaseModel):
    """What one attestor measured of an asset's epoch (`observer`: its 1-based index in the attestor set)."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    observer: int = Field(ge=1, le=32)
    uptime_bps: int = Field(alias="uptimeBps", ge=0, le=BPS)
    curtailed_bps: int = Field(default=0, alias="curtailedBps", ge=0, le=BPS)
    gpu_energy_wh: int = Field(alias="gpuEnergyWh", ge=0, le=UINT64_MAX)
    facility_energy_wh: int = Field(alias="facilityEnergyWh", ge=0, le=UINT64_MAX)
    # hybrid sites: the Bitcoin miners' energy and the pool's earnings (stablecoin base units) in the epoch
    mining_energy_wh: int = Field(default=0, alias="miningEnergyWh", ge=0, le=UINT64_MAX)
    mining_revenue: int = Field(default=0, alias="miningRevenue", ge=0, le=UINT64_MAX)
    renewable_bps: int = Field(default=0, alias="renewableBps", ge=0, le=BPS)
    carbon_grams_per_kwh: int = Field(default=0, alias="carbonGramsPerKwh", ge=0, le=UINT32_MAX)
    evidence_hash: bytes = Field(alias="evidenceHash", min_length=32, max_length=32)

    def message(self) -> dict[str, Any]:
        """The EIP-712 struct (field names as in Solidity)."""
        return self.model_dump(by_alias=True)

    def as_tuple(self) -> tuple[Any, ...]:
        m = self.message()
        return tuple(m[f["name"]] for f in OBSERVATION_FIELDS)

    def packed(self) -> bytes:
        """The 73 bytes a report carries (`ObservationsLib` layout). Values the contract accepts always fit;
        a carbon intensity of 65,536 g/kWh or more does not, and is refused here as it would be on chain."""
        m = self.message()
        out = b""
        for name, width in PACKED_WIDTHS:
            v = m[name]
            if isinstance(v, bytes):
                out += v
                continue
            if v >= 1 << (8 * width):
                raise ValueError(f"{name} = {v} does not fit a report's {8 * width}-bit field")
            out += v.to_bytes(width, "big")
        return out

    @classmethod
    def unpacked(cls, data: bytes) -> Observation:
        values: dict[str, Any] = {}
        at = 0
        for name, width in PACKED_WIDTHS:
            chunk = data[at : at + width]
            values[name] = chunk if name == "evidenceHash" else int.from_bytes(chunk, "big")
            at += width
        return cls.model_validate(values)


class ObservationClaim(BaseModel):
    """An observation with what it is about: the asset, the epoch and the grid event (the signed message)."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    asset_id: int = Field(alias="assetId", ge=0)
    epoch: int = Field(ge=0, le=UINT64_MAX)
    grid_event_id: bytes = Field(default=ZERO32, alias="gridEventId", min_length=32, max_length=32)
    observation: Observation

    def message(self) -> dict[str, Any]:
        return {
            "assetId": self.asset_id,
            "epoch": self.epoch,
            "gridEventId": self.grid_event_id,
            "observation": self.observation.message(),
        }


class Report(BaseModel):
    """One epoch's report: observations (ascending observers) with their signatures, to be co-signed."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    asset_id: int = Field(alias="assetId", ge=0)
    epoch: int = Field(ge=0, le=UINT64_MAX)
    grid_event_id: bytes = Field(default=ZERO32, alias="gridEventId", min_length=32, max_length=32)
    observations: tuple[Observation, ...]
    observation_signatures: bytes = Field(alias="observationSignatures")

    @model_validator(mode="after")
    def _shape(self) -> Report:
        observers = [o.observer for o in self.observations]
        if observers != sorted(set(observers)):
            raise ValueError(f"observers must be distinct and ascending, got {observers}")
        if len(self.observation_signatures) != SIGNATURE_LENGTH * len(self.observations):
            raise ValueError(
                f"{len(self.observations)} observations need {SIGNATURE_LENGTH * len(self.observations)} bytes of "
                f"signatures, got {len(self.observation_signatures)}"
            )
        return self

    def message(self) -> dict[str, Any]:
        return {
            "assetId": self.asset_id,
            "epoch": self.epoch,
            "gridEventId": self.grid_event_id,
            "observations": [o.message() for o in self.observations],
            "observationSignatures": self.observation_signatures,
        }

    def as_tuple(self) -> tuple[Any, ...]:
        """The ABI tuple for `submitReport` (observations packed, 73 bytes each)."""
        return (
            self.asset_id,
            self.epoch,
            self.grid_event_id,
            b"".join(o.packed() for o in self.observations),
            self.observation_signatures,
        )

    @classmethod
    def from_tuple(cls, value: tuple[Any, ...] | list[Any] | dict[str, Any]) -> Report:
        """A report decoded from `submitReport` calldata (what an indexer reads from the transaction): the ABI
        tuple, or web3's dict of it by field name."""
        if isinstance(value, dict):
            value = [value[f] for f in ("assetId", "epoch", "gridEventId", "observations", "observationSignatures")]
        asset_id, epoch, grid_event_id, packed, signatures = value
        packed = bytes(packed)
        if len(packed) % PACKED_SIZE:
            raise ValueError(f"packed observations of {len(packed)} bytes are not whole {PACKED_SIZE}-byte records")
        observations = tuple(
            Observation.unpacked(packed[i : i + PACKED_SIZE]) for i in range(0, len(packed), PACKED_SIZE)
        )
        return cls(
            assetId=int(asset_id),
            epoch=int(epoch),
            gridEventId=bytes(grid_event_id),
            observations=observations,
            observationSignatures=bytes(signatures),
        )

    def observation_signature(self, i: int) -> bytes:
        return self.observation_signatures[SIGNATURE_LENGTH * i : SIGNATURE_LENGTH * (i + 1)]

    def claims(self) -> list[ObservationClaim]:
        return [
            ObservationClaim(assetId=self.asset_id, epoch=self.epoch, gridEventId=self.grid_event_id, observation=o)
            for o in self.observations
        ]


class Aggregate(BaseModel):
    """The values the contract accepts: the lower median of each field."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    uptime_bps: int = Field(alias="uptimeBps")
    curtailed_bps: int = Field(alias="curtailedBps")
    grid_event_id: bytes = Field(alias="gridEventId")
    gpu_energy_wh: int = Field(alias="gpuEnergyWh")
    facility_energy_wh: int = Field(alias="facilityEnergyWh")
    mining_energy_wh: int = Field(alias="miningEnergyWh")
    mining_revenue: int = Field(alias="miningRevenue")
    renewable_bps: int = Field(alias="renewableBps")
    carbon_grams_per_kwh: int = Field(alias="carbonGramsPerKwh")
    evidence_hash: bytes = Field(alias="evidenceHash")

    @field_validator("grid_event_id", "evidence_hash", mode="before")
    @classmethod
    def _bytes(cls, v: object) -> object:
        return bytes(v) if isinstance(v, bytes | bytearray) else v


MAX_CARBON_G_PER_KWH = 2_000  # ObservationsLib.MAX_CARBON_G_PER_KWH


def observation_problems(o: Observation, max_gpu_energy_wh: int) -> list[str]:
    """What the contract refuses in an observation (`ObservationsLib.check`): a report carrying it would revert,
    so agents keep such observations out of every report they build or co-sign."""
    problems = []
    for name, value, limit in (
        ("uptimeBps", o.uptime_bps, BPS),
        ("curtailedBps", o.curtailed_bps, BPS),
        ("renewableBps", o.renewable_bps, BPS),
        ("carbonGramsPerKwh", o.carbon_grams_per_kwh, MAX_CARBON_G_PER_KWH),
        ("gpuEnergyWh", o.gpu_energy_wh, max_gpu_energy_wh),
    ):
        if value > limit:
            problems.append(f"{name} {value} above {limit}")
    if o.facility_energy_wh < o.gpu_energy_wh + o.mining_energy_wh:
        problems.append(f"facilityEnergyWh {o.facility_energy_wh} below the GPUs' and miners' load")
    return problems


MEDIAN_FIELDS = (
    "curtailed_bps",
    "gpu_energy_wh",
    "facility_energy_wh",
    "mining_energy_wh",
    "mining_revenue",
    "renewable_bps",
    "carbon_grams_per_kwh",
)


def lower_median(values: list[int]) -> int:
    """Element (n - 1) // 2 of the sorted values, as `Median.compute`."""
    return sorted(values)[(len(values) - 1) // 2]


def aggregate(observations: tuple[Observation, ...] | list[Observation], grid_event_id: bytes = ZERO32) -> Aggregate:
    """The contract's aggregation (`AttestationLib.aggregate`): the lower median of each field; the evidence of
    the observation whose uptime is the median (ties: the lower position)."""
    if not observations:
        raise ValueError("no observations to aggregate")
    ranked = sorted(range(len(observations)), key=lambda i: (observations[i].uptime_bps, i))
    median_at = ranked[(len(ranked) - 1) // 2]
    values: dict[str, Any] = {f: lower_median([getattr(o, f) for o in observations]) for f in MEDIAN_FIELDS}
    return Aggregate(
        uptimeBps=observations[median_at].uptime_bps,
        gridEventId=grid_event_id,
        evidenceHash=observations[median_at].evidence_hash,
        **{Observation.model_fields[f].alias or f: v for f, v in values.items()},
    )


def build_report(asset_id: int, epoch: int, grid_event_id: bytes, signed: list[tuple[Observation, bytes]]) -> Report:
    """A report of signed observations, put in ascending observer order."""
    ordered = sorted(signed, key=lambda s: s[0].observer)
    return Report(
        assetId=asset_id,
        epoch=epoch,
        gridEventId=grid_event_id,
        observations=tuple(o for o, _ in ordered),
        observationSignatures=b"".join(sig for _, sig in ordered),
    )


def _json(v: Any) -> Any:
    if isinstance(v, bytes):
        return "0x" + v.hex()
    if isinstance(v, dict):
        return {k: _json(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_json(x) for x in v]
    return v


def _unjson(v: Any) -> Any:
    if isinstance(v, str) and v.startswith("0x"):
        return bytes.fromhex(v[2:])
    if isinstance(v, dict):
        return {k: _unjson(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_unjson(x) for x in v]
    return v


def to_json(model: Observation | ObservationClaim | Report) -> dict[str, Any]:
    """JSON-safe values (bytes as 0x-hex), Solidity field names."""
    out: dict[str, Any] = _json(model.message())
    return out


def observation_from_json(data: dict[str, Any]) -> Observation:
    return Observation.model_validate(_unjson(data))


def claim_from_json(data: dict[str, Any]) -> ObservationClaim:
    return ObservationClaim.model_validate(_unjson(data))


def report_from_json(data: dict[str, Any]) -> Report:
    return Report.model_validate(_unjson(data))
