"""The user's requirements: the six steps of the DLOM modeling-request wizard (§6, Figs. 7-8).

Every field is optional and ``None`` means the paper's 'Any': no constraint, and a model lacking that
attribute is not excluded. A stated constraint is *mandatory* (it filters) unless its field path is
listed in ``preferred`` — then it only informs the explanation (met / missed / unknown) and breaks
ties between equal Eq. 1 scores.

Unknown values: a model whose value for a stated, mandatory constraint is unknown (e.g. a budget is
stated but the model records no cost — true of every MLPerf Tiny model) is excluded, because nothing
shows it meets the constraint, unless ``allow_unknown`` is true; then it is kept and the explanation
marks that requirement 'unknown'. A requirement that *no* candidate records the data for is not
applied at all (it would exclude everything for no reason): :mod:`decision.applicability` reports it.

Invalid input raises :class:`RequirementsError` with one ``{"field", "message"}`` per problem, the
field written as a dotted path (e.g. ``performance.min_accuracy``).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from decision.objectives import Objective
from kg.errors import DlomError

ImportanceLevel = Literal["equal", "weak", "stronger", "absolute"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ProjectRequirements(_Strict):
    """Step 1 — the project (Fig. 7a)."""

    business_focus: str | None = Field(None, min_length=1, max_length=200,
                                       description="Application area, e.g. 'Medical' (matched case-insensitively against dlom:applicationArea).")
    purpose: str | None = Field(None, min_length=1, max_length=200,
                                description="The task, e.g. 'keyword spotting' (case-insensitive substring of dlom:purpose).")
    total_budget_usd: float | None = Field(None, ge=0, description="The most the deployment may cost in total, USD.")
    number_of_devices: int | None = Field(None, ge=1, description="How many IoT devices the deployment needs.")
    device_types: list[str] | None = Field(None, description="Acceptable IoT device types, e.g. ['Raspberry Pi']; a model matches if its device's name, board, processor or accelerator contains one (case-insensitive).")


class NetworkRequirements(_Strict):
    """Step 2 — the main DLN (Fig. 7b)."""

    network: str | None = Field(None, min_length=1, max_length=200, description="DLN name, e.g. 'ResNet-50' (case-insensitive; '-', '_' and spaces ignored).")
    training_dataset: str | None = Field(None, min_length=1, max_length=200, description="Training dataset (case-insensitive).")
    min_layers: int | None = Field(None, ge=1, description="At least this many layers with weights.")


class CloudRequirements(_Strict):
    """Step 3 — the cloud server."""

    server_hardware: str | None = Field(None, min_length=1, max_length=200, description="Server hardware (case-insensitive substring).")
    shielded_execution: bool | None = Field(None, description="True: the model's cloud configuration must use shielded execution.")
    max_monthly_cost_usd: float | None = Field(None, ge=0, description="Highest acceptable monthly cloud cost, USD.")


class DeviceRequirements(_Strict):
    """Step 4 — the end-device specifications."""

    min_memory_kb: float | None = Field(None, gt=0, description="Device memory of at least this many KB.")
    min_clock_mhz: float | None = Field(None, gt=0, description="Processor clock of at least this many MHz.")
    framework: str | None = Field(None, min_length=1, max_length=200, description="Inference framework (case-insensitive substring of its name).")
    this_machine: bool = Field(False, description="True: deploy on 'this machine' — only models measured on a "
                               "dlom:BenchmarkHost (a machine DLOM itself measures on). False (the default): "
                               "benchmark hosts are not IoT devices and their models are not offered.")


class PerformanceRequirements(_Strict):
    """Step 5 — the minimum accepted performance (measured, not predicted)."""

    min_accuracy: float | None = Field(None, description="Accuracy as a fraction in [0, 1].")
    max_latency_ms: float | None = Field(None, gt=0, description="Highest acceptable inference latency, ms.")
    max_energy_uj: float | None = Field(None, gt=0, description="Highest acceptable energy per inference, µJ.")
    min_throughput_ips: float | None = Field(None, gt=0, description="Lowest acceptable throughput, inferences/s.")
    max_memory_mb: float | None = Field(None, gt=0, description="Highest acceptable runtime memory, MB.")

    @field_validator("min_accuracy")
    @classmethod
    def _fraction(cls, v: float | None) -> float | None:
        if v is not None and not 0.0 <= v <= 1.0:
            raise ValueError("must be in [0, 1]")
        return v


class PairwiseComparison(_Strict):
    """One pairwise comparison of step 6 (Fig. 8a): ``more`` is at least as important as ``less``.

    'Latency has weak importance compared with security' is ``{"more": "security", "less":
    "latency", "level": "weak"}``. With level 'equal' the order does not matter.
    """

    more: Objective
    less: Objective
    level: ImportanceLevel

    @model_validator(mode="after")
    def _distinct(self) -> PairwiseComparison:
        if self.more == self.less:
            raise ValueError("an objective cannot be compared with itself")
        return self


class Preferences(_Strict):
    """Step 6 — preference elicitation: pairwise comparisons (AHP), or explicit weights."""

    comparisons: list[PairwiseComparison] = Field(default_factory=list)
    weights: dict[Objective, float] | None = Field(None, description="Explicit weights instead of comparisons (normalized to sum 1; unlisted objectives get 0).")

    @model_validator(mode="after")
    def _consistent_input(self) -> Preferences:
        if self.weights is not None:
            if self.comparisons:
                raise ValueError("give either comparisons or weights, not both")
            if any(w < 0 for w in self.weights.values()):
                raise ValueError("weights must be ≥ 0")
            if sum(self.weights.values()) <= 0:
                raise ValueError("at least one weight must be positive")
        seen: dict[frozenset[Objective], int] = {}
        for k, c in enumerate(self.comparisons):
            pair = frozenset((c.more, c.less))
            if pair in seen:
                raise ValueError(f"comparisons {seen[pair]} and {k} both compare {c.more.value} and {c.less.value}")
            seen[pair] = k
        return self


# Fields that shape the search rather than constrain a model's attribute: never in stated().
# number_of_devices projects costs (decision.retrieval); this_machine picks IoT devices or benchmark hosts.
_SCOPE_FIELDS: frozenset[str] = frozenset({"project.number_of_devices", "device.this_machine"})

PREFERRABLE_FIELDS: frozenset[str] = frozenset({
    "project.business_focus", "project.purpose", "project.total_budget_usd", "project.device_types",
    "network.network", "network.training_dataset", "network.min_layers",
    "cloud.server_hardware", "cloud.shielded_execution", "cloud.max_monthly_cost_usd",
    "device.min_memory_kb", "device.min_clock_mhz", "device.framework",
    "performance.min_accuracy", "performance.max_latency_ms", "performance.max_energy_uj",
    "performance.min_throughput_ips", "performance.max_memory_mb",
})


class Requirements(_Strict):
    """A whole modeling request. ``None`` / omitted everywhere = 'Any'."""

    project: ProjectRequirements = Field(default_factory=ProjectRequirements)
    network: NetworkRequirements = Field(default_factory=NetworkRequirements)
    cloud: CloudRequirements = Field(default_factory=CloudRequirements)
    device: DeviceRequirements = Field(default_factory=DeviceRequirements)
    performance: PerformanceRequirements = Field(default_factory=PerformanceRequirements)
    preferences: Preferences = Field(default_factory=Preferences)
    preferred: list[str] = Field(default_factory=list, description="Field paths (e.g. 'performance.max_latency_ms') that rank instead of filter.")
    allow_unknown: bool = Field(False, description="Keep models whose value for a stated constraint is unknown (marked 'unknown').")
    include_predicted: bool = Field(False, description="Also consider models whose performance is only predicted (marked predicted).")

    @field_validator("preferred")
    @classmethod
    def _known_fields(cls, v: list[str]) -> list[str]:
        bad = [f for f in v if f not in PREFERRABLE_FIELDS]
        if bad:
            raise ValueError(f"unknown requirement field(s) {', '.join(bad)}; known: {', '.join(sorted(PREFERRABLE_FIELDS))}")
        return v

    def stated(self) -> dict[str, Any]:
        """Every stated constraint as ``{"section.field": value}`` (preferences, the number of devices and
        the 'this machine' flag excluded: they shape the search, they are not attribute constraints)."""
        out: dict[str, Any] = {}
        for section in ("project", "network", "cloud", "device", "performance"):
            for name, value in getattr(self, section).model_dump().items():
                if value is not None and f"{section}.{name}" not in _SCOPE_FIELDS:
                    out[f"{section}.{name}"] = value
        return out

    def mandatory(self, path: str) -> bool:
        return path not in self.preferred


class FieldError(BaseModel):
    """One problem with the input: where (dotted path) and why."""

    field: str
    message: str


class RequirementsError(DlomError):
    """Invalid requirements; ``errors`` lists each field and reason."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))


def field_errors(error: ValidationError, prefix: str = "") -> list[FieldError]:
    """Pydantic's errors as dotted field paths and plain messages."""
    out = []
    for e in error.errors():
        path = ".".join(str(p) for p in e["loc"])
        msg = e["msg"]
        for noise in ("Value error, ", "Assertion failed, "):
            msg = msg.removeprefix(noise)
        out.append(FieldError(field=(prefix + path) or "(root)", message=msg))
    return out


def parse_requirements(data: Mapping[str, Any] | None) -> Requirements:
    """Validated :class:`Requirements` from plain data (JSON/YAML), or :class:`RequirementsError`."""
    if data is not None and not isinstance(data, Mapping):
        raise RequirementsError([FieldError(field="(root)", message="requirements must be a mapping")])
    try:
        return Requirements.model_validate(dict(data or {}))
    except ValidationError as e:
        raise RequirementsError(field_errors(e)) from None
