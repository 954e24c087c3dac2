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
from decision.requirement_table import BY_PATH, REQUIREMENTS, SECTIONS
from kg.errors import DlomError, FieldError

ImportanceLevel = Literal["equal", "weak", "stronger", "absolute"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _field(path: str) -> Any:
    """The pydantic field of requirement ``path``: default, description and bounds from its row of
    :data:`decision.requirement_table.REQUIREMENTS`."""
    row = BY_PATH[path]
    # Strict for numbers and flags: "5" or "yes" is not the number or boolean the schema documents (an
    # int is still a float); text is stripped by the model's config.
    return Field(row.default, description=row.description, strict=row.type in (float, int, bool), **row.bounds)


class ProjectRequirements(_Strict):
    """Step 1 — the project (Fig. 7a)."""

    business_focus: str | None = _field("project.business_focus")
    purpose: str | None = _field("project.purpose")
    total_budget_usd: float | None = _field("project.total_budget_usd")
    number_of_devices: int | None = _field("project.number_of_devices")
    device_types: list[str] | None = _field("project.device_types")


class NetworkRequirements(_Strict):
    """Step 2 — the main DLN (Fig. 7b)."""

    network: str | None = _field("network.network")
    training_dataset: str | None = _field("network.training_dataset")
    min_layers: int | None = _field("network.min_layers")


class CloudRequirements(_Strict):
    """Step 3 — the cloud server."""

    server_hardware: str | None = _field("cloud.server_hardware")
    shielded_execution: bool | None = _field("cloud.shielded_execution")
    max_monthly_cost_usd: float | None = _field("cloud.max_monthly_cost_usd")


class DeviceRequirements(_Strict):
    """Step 4 — the end-device specifications."""

    min_memory_kb: float | None = _field("device.min_memory_kb")
    min_clock_mhz: float | None = _field("device.min_clock_mhz")
    framework: str | None = _field("device.framework")
    form_factor: str | None = _field("device.form_factor")
    this_machine: bool = _field("device.this_machine")


class PerformanceRequirements(_Strict):
    """Step 5 — the minimum accepted performance (measured, not predicted)."""

    min_accuracy: float | None = _field("performance.min_accuracy")
    max_accuracy_loss_points: float | None = _field("performance.max_accuracy_loss_points")
    max_latency_ms: float | None = _field("performance.max_latency_ms")
    max_energy_uj: float | None = _field("performance.max_energy_uj")
    min_throughput_ips: float | None = _field("performance.min_throughput_ips")
    max_memory_mb: float | None = _field("performance.max_memory_mb")

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
_SCOPE_FIELDS: frozenset[str] = frozenset(r.path for r in REQUIREMENTS if not r.constrains)

PREFERRABLE_FIELDS: frozenset[str] = frozenset(r.path for r in REQUIREMENTS if r.constrains)


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
        for section in SECTIONS:
            for name, value in getattr(self, section).model_dump().items():
                if value is not None and f"{section}.{name}" not in _SCOPE_FIELDS:
                    out[f"{section}.{name}"] = value
        return out

    def mandatory(self, path: str) -> bool:
        return path not in self.preferred


SECTION_MODELS: dict[str, type[_Strict]] = {
    "project": ProjectRequirements, "network": NetworkRequirements, "cloud": CloudRequirements,
    "device": DeviceRequirements, "performance": PerformanceRequirements,
}


def _check_against_table() -> None:
    """The section models declare exactly the table's fields, with its types (run on import)."""
    for section, model in SECTION_MODELS.items():
        rows = {r.name: r for r in REQUIREMENTS if r.section == section}
        if list(model.model_fields) != list(rows):
            raise RuntimeError(f"{model.__name__} fields {list(model.model_fields)} != table {list(rows)}")
        for name, info in model.model_fields.items():
            row = rows[name]
            if info.annotation not in (row.type, row.type | None):
                raise RuntimeError(f"{section}.{name}: {info.annotation} in the model, {row.type} in the table")


_check_against_table()


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
