"""Agent configuration: a YAML file, overridden by environment variables (`WELLHEAD_AGENT_<FIELD>`, nested
with `__`, e.g. `WELLHEAD_AGENT_LISTEN__PORT=9200`). A bad config fails at start with one line naming the
field."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from wellhead.core.errors import ConfigError
from wellhead.core.objectstore import S3Location

LABEL_NAME = r"^[a-zA-Z_][a-zA-Z0-9_]*$"  # a Prometheus label name: nothing else goes into a query


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SimulatedConfig(_Strict):
    type: Literal["simulated"]
    seed: int = 7
    fault_rate: float = Field(default=0.02, ge=0, le=1)
    dark_rate: float = Field(default=0.05, ge=0, le=1)
    pue: float = Field(default=1.25, ge=1, le=3)
    failed_gpus: list[int] = []
    hide_faults: bool = False
    noise_bps: int = Field(default=0, ge=0, le=1_000)
    mining_kw: float = Field(default=0, ge=0)  # a hybrid site's Bitcoin miners (their own feeder meter)
    solar_kw: float = Field(default=0, ge=0)  # peak of a contracted solar generator (its export meter)
    curtail_schedule: Path | None = None  # windows in which the site sheds load (written by curtail_command)


class DcgmConfig(_Strict):
    """DCGM exporters scraped directly: every node's exporter in one collector, read concurrently."""

    type: Literal["dcgm"]
    url: str | None = None  # one exporter (a URL, or host:port for http://host:port/metrics)
    targets: list[str] = []  # many
    targets_file: Path | None = None  # or a YAML list / Prometheus file_sd file of them
    hostname: str | None = None  # keep only this Hostname's series (an exporter serving several hosts)
    uuid_label: str = Field(default="UUID", pattern=LABEL_NAME)
    deadline: float = Field(default=5.0, gt=0)  # for the whole pass, below the sample interval
    max_in_flight: int = Field(default=256, ge=1, le=4_096)
    ca_file: Path | None = None  # for exporters served over TLS by a private CA

    @model_validator(mode="after")
    def _some_target(self) -> DcgmConfig:
        if not (self.url or self.targets or self.targets_file):
            raise ValueError("give url, targets or targets_file")
        return self


class BasicAuthConfig(_Strict):
    username: str = Field(min_length=1)
    password_file: Path


class PrometheusConfig(_Strict):
    """The site's Prometheus (or a PromQL-compatible store) that scrapes its DCGM exporters."""

    type: Literal["prometheus"]
    url: str  # base URL, e.g. https://prometheus.site:9090
    selector: str = ""  # extra label matchers for every query, e.g. cluster="dc1"
    uuid_label: str = Field(default="UUID", pattern=LABEL_NAME)
    max_age: float | None = Field(default=None, gt=0)  # older data is missing; default: the sample interval
    deadline: float = Field(default=5.0, gt=0)
    bearer_token_file: Path | None = None
    basic_auth: BasicAuthConfig | None = None
    ca_file: Path | None = None

    @model_validator(mode="after")
    def _checked(self) -> PrometheusConfig:
        if not self.url.startswith(("http://", "https://")):
            raise ValueError(f"url: {self.url!r} is not an http(s) URL")
        if self.bearer_token_file is not None and self.basic_auth is not None:
            raise ValueError("give bearer_token_file or basic_auth, not both")
        if "{" in self.selector or "}" in self.selector:
            raise ValueError('selector: label matchers only, without braces (e.g. cluster="dc1")')
        return self


class RedfishConfig(_Strict):
    type: Literal["redfish"]
    base_url: str
    chassis: list[str] = ["1"]
    username: str | None = None
    password_env: str | None = None
    verify: bool | str = True
    timeout: float = Field(default=5.0, gt=0)


class SunSpecConfig(_Strict):
    type: Literal["sunspec"]
    role: Literal["facility", "mining", "generator"] = "facility"
    host: str
    port: int = Field(default=502, gt=0, lt=65536)
    unit_id: int = Field(default=1, ge=0, le=247)
    timeout: float = Field(default=3.0, gt=0)


class NvmlConfig(_Strict):
    type: Literal["nvml"]
    slowdown_celsius: int = Field(default=87, gt=0)


CollectorConfig = Annotated[
    SimulatedConfig | DcgmConfig | PrometheusConfig | RedfishConfig | SunSpecConfig | NvmlConfig,
    Field(discriminator="type"),
]


class KeystoreConfig(_Strict):
    keystore: str
    password_file: str | None = None
    password_env: str | None = None

    @model_validator(mode="after")
    def _password_source(self) -> KeystoreConfig:
        if not (self.password_file or self.password_env):
            raise ValueError("give password_file or password_env")
        return self


class Pkcs11Config(_Strict):
    module: str = "/usr/lib/softhsm/libsofthsm2.so"
    token_label: str
    key_label: str
    pin_env: str = "WELLHEAD_PKCS11_PIN"


class SignerConfig(_Strict):
    keystore: KeystoreConfig | None = None
    pkcs11: Pkcs11Config | None = None

    @model_validator(mode="after")
    def _one_source(self) -> SignerConfig:
        if (self.keystore is None) == (self.pkcs11 is None):
            raise ValueError("give exactly one of keystore or pkcs11")
        return self


class ListenConfig(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(default=9108, ge=0, lt=65536)


class Tolerances(_Strict):
    uptime_bps: int = Field(default=100, ge=0, le=10_000)
    renewable_bps: int = Field(default=100, ge=0, le=10_000)  # a site may not claim more renewable share
    carbon_g_per_kwh: int = Field(default=10, ge=0)  # ... nor less carbon
    energy_pct: float = Field(default=5.0, ge=0)
    facility_pct: float = Field(default=5.0, ge=0)
    mining_revenue_pct: float = Field(default=1.0, ge=0)


class GreenConfig(_Strict):
    """Renewable share and carbon intensity (see wellhead.agent.green): a PPA share of a generator meter
    (a collector with `role: generator`), certificates retired on chain, a grid-intensity feed file; the
    static values apply only without any of them (renewable) or without a feed (carbon)."""

    renewable_bps: int = Field(default=0, ge=0, le=10_000)
    carbon_g_per_kwh: int = Field(default=0, ge=0, le=2_000)
    grid_feed: Path | None = None
    ppa_share_bps: int = Field(default=10_000, ge=0, le=10_000)
    certificates: bool = False


class MiningConfig(_Strict):
    """A hybrid site: its Bitcoin miners' feeder meter (a collector with `role: mining`) and the pool's
    earnings export."""

    earnings_file: Path | None = None


class OpenAdrConfig(_Strict):
    """The site's OpenADR 2.0b VEN: TLS with a client certificate, messages signed by the VTN's key."""

    vtn_url: str
    vtn_id: str
    vtn_fingerprint: str = Field(min_length=1)  # messages not signed with this certificate are refused
    ca_file: Path  # the VTN's TLS certificate authority
    ven_name: str
    ven_id: str
    resource_id: str | None = None  # this site, when the VTN targets resources
    cert: Path
    key: Path
    curtail_command: list[str] = []  # run on each accepted event (WELLHEAD_EVENT_* in its environment)
    curtail_power_cap_watts: int | None = Field(default=None, gt=0)  # NVML power limit inside each event


class GpuIdentityConfig(_Strict):
    uuid: str = Field(min_length=1)
    serial: str | None = None
    node: str | None = None


class EvidenceConfig(_Strict):
    """Evidence files kept locally (the newest `keep_epochs`, and any whose report may still be challenged)
    and, with `upload`, copied to object storage first."""

    keep_epochs: int = Field(default=720, ge=1)  # 30 days of hourly epochs
    upload: S3Location | None = None


class AgentKeeperConfig(_Strict):
    """The keeper's loop for this agent's own asset (site mode): settles each epoch as soon as it may be and
    records NAV rounds, paid by the submitter, so a site that runs only the agent still settles."""

    enabled: bool = True
    batch: int = Field(default=24, ge=1, le=500)
    gas_budget: int = Field(default=6_000_000, ge=100_000)
    nav: bool = True
    every: float = Field(default=10.0, ge=0, le=3_600)  # seconds between settling passes (each is a few RPC calls)


class AgentSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WELLHEAD_AGENT_", env_nested_delimiter="__", extra="forbid")
    yaml_path: ClassVar[Path | None] = None

    mode: Literal["site", "checker"] = "site"
    asset_id: int = Field(ge=1)
    deployment: Path
    rpc_urls: list[str] = Field(min_length=1)
    confirmations: int = Field(default=2, ge=0, le=64)
    clock: Literal["wall", "chain"] = "wall"
    sample_interval: int = Field(default=10, ge=1, le=3_600)
    poll_interval: float = Field(default=1.0, gt=0, le=60)
    first_epoch: int | None = Field(default=None, ge=0)
    data_dir: Path = Path("/var/lib/wellhead-agent")
    listen: ListenConfig = ListenConfig()
    signer: SignerConfig
    submitter: KeystoreConfig | None = None  # pays gas; defaults to the signer's keystore
    peers: list[str] = []
    site_peer: str | None = None  # checker mode: the site agent whose reports it checks
    submit_delay: float = Field(default=30.0, ge=0)
    # how long to wait for every attestor's observation before proposing a report of a quorum (2f + 1) of them
    aggregate_delay: float = Field(default=20.0, ge=0)
    tolerances: Tolerances = Tolerances()
    challenge_on_disagreement: bool = False
    # challenge an accepted report when one of its observations' uptime or curtailment is this far from ours
    # (well beyond honest instruments' spread: a frivolous challenge forfeits its bond)
    challenge_margin_bps: int = Field(default=1_000, ge=0, le=10_000)
    pue_band: tuple[float, float] = (1.0, 2.5)
    green: GreenConfig = GreenConfig()
    mining: MiningConfig = MiningConfig()
    openadr: OpenAdrConfig | None = None
    collectors: list[CollectorConfig] = Field(min_length=1)
    # the asset's GPUs in slot order, by UUID: inline, or a YAML file of the same list (see wellhead.agent.inventory)
    inventory: list[str | GpuIdentityConfig] | None = None
    inventory_file: Path | None = None
    evidence: EvidenceConfig = EvidenceConfig()
    keeper: AgentKeeperConfig = AgentKeeperConfig()

    @property
    def evidence_dir(self) -> Path:
        """Where each epoch's evidence file is written (and served from)."""
        return self.data_dir / "evidence"

    @model_validator(mode="after")
    def _consistent(self) -> AgentSettings:
        for url in self.rpc_urls:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"rpc_urls: {url!r} is not an http(s) URL")
        if self.mode == "checker" and not self.site_peer:
            raise ValueError("site_peer: a checker needs the site agent's URL")
        if self.submitter is None and self.signer.keystore is None:
            raise ValueError("submitter: an HSM signer needs a keystore that pays gas")
        if self.inventory is not None and self.inventory_file is not None:
            raise ValueError("inventory: give the GPUs inline or in inventory_file, not both")
        for c in self.collectors:
            if isinstance(c, PrometheusConfig) and c.max_age is None:
                c.max_age = float(self.sample_interval)
            deadline = getattr(c, "deadline", None)
            if deadline is not None and deadline >= self.sample_interval:
                raise ValueError(
                    f"collectors: a {c.type} deadline of {deadline} s must be below the sample interval "
                    f"({self.sample_interval} s)"
                )
        low, high = self.pue_band
        if not 1.0 <= low < high:
            raise ValueError(f"pue_band: ({low}, {high}) is not a band of at least 1.0, low to high")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (env_settings, _YamlSource(settings_cls, cls.yaml_path), init_settings)


def read_yaml(path: Path, what: str) -> Any:
    """A YAML file's content; an unreadable or invalid file is one ConfigError naming `what` and the path."""
    try:
        return yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{what} {path} is not valid YAML: {str(exc).splitlines()[0]}") from None


class _YamlSource(PydanticBaseSettingsSource):
    def __init__(self, settings_cls: type[BaseSettings], path: Path | None) -> None:
        super().__init__(settings_cls)
        self.data: dict[str, Any] = {}
        if path is not None:
            loaded = read_yaml(path, "config")
            if loaded is not None and not isinstance(loaded, dict):
                raise ConfigError(f"config {path} must be a mapping of settings")
            self.data = loaded or {}

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self.data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self.data)


def load_settings(path: Path) -> AgentSettings:
    AgentSettings.yaml_path = path
    try:
        return AgentSettings()  # type: ignore[call-arg]
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "config"
        raise ConfigError(f"config {path}: {where}: {first['msg']}") from None
    finally:
        AgentSettings.yaml_path = None
