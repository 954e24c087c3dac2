"""Which stated requirements a candidate meets, and by how much (for explanations and soft ranking).

A check is 'met', 'missed', 'unknown' (the candidate records no value) or 'not_applied' (no candidate
records the data, so the requirement filtered nothing: :mod:`decision.applicability`). For numeric limits the
margin is how far inside the limit the candidate is, in the requirement's unit (positive = inside):
latency 12 ms against a 50 ms maximum has margin 38 ms; accuracy 0.92 against 0.90 minimum, 0.02.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from decision.requirements import Requirements
import numpy as np

from decision.retrieval import CONSTRAINT_VARS, Candidate, CandidateSet, normalized_name

Status = Literal["met", "missed", "unknown", "not_applied"]


@dataclass(frozen=True)
class RequirementCheck:
    field: str
    required: Any
    actual: Any
    status: Status
    margin: float | None
    unit: str
    mandatory: bool

    def describe(self) -> str:
        """E.g. 'performance.max_latency_ms: 12 ms vs required 50 ms → margin +38 ms'."""
        required, actual = _show(self.required), _show(self.actual)
        if self.status == "not_applied":
            return f"{self.field}: required {required}{self.unit}, not applied (no candidate records the data to check it)"
        if self.status == "unknown":
            return f"{self.field}: required {required}{self.unit}, value unknown"
        text = f"{self.field}: {actual}{self.unit} vs required {required}{self.unit}"
        if self.margin is not None:
            text += f" → margin {self.margin:+.6g}{self.unit}"
        return text + ("" if self.status == "met" else " (MISSED)")


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


def _lower_bound(actual: float | None, required: float) -> tuple[Status, float | None]:
    if actual is None:
        return "unknown", None
    return ("met" if actual >= required else "missed"), actual - required


def _upper_bound(actual: float | None, required: float) -> tuple[Status, float | None]:
    if actual is None:
        return "unknown", None
    return ("met" if actual <= required else "missed"), required - actual


def _text_equal(actual: str | None, required: str) -> tuple[Status, None]:
    if actual is None:
        return "unknown", None
    return ("met" if actual.strip().lower() == required.lower() else "missed"), None


def _text_contains(actual: str | None, required: str) -> tuple[Status, None]:
    if actual is None:
        return "unknown", None
    return ("met" if required.lower() in actual.lower() else "missed"), None


# path → (candidate value, comparison, unit)
_CHECKS: dict[str, tuple[Callable[[Candidate], Any], Callable[[Any, Any], tuple[Status, float | None]], str]] = {
    "project.business_focus": (lambda c: c.application_area, _text_equal, ""),
    "project.purpose": (lambda c: c.purpose, _text_contains, ""),
    "project.total_budget_usd": (lambda c: c.projected_cost_usd, _upper_bound, " USD"),
    "network.network": (lambda c: c.dln_label,
                        lambda a, r: ("unknown", None) if a is None else
                        (("met" if normalized_name(a) == normalized_name(r) else "missed"), None), ""),
    "network.training_dataset": (lambda c: c.training_dataset, _text_equal, ""),
    "network.min_layers": (lambda c: c.layers, _lower_bound, " layers"),
    "cloud.server_hardware": (lambda c: c.server_hardware, _text_contains, ""),
    "cloud.shielded_execution": (lambda c: c.shielded_execution,
                                 lambda a, r: ("unknown", None) if a is None else (("met" if a or not r else "missed"), None), ""),
    "cloud.max_monthly_cost_usd": (lambda c: c.monthly_cost_usd, _upper_bound, " USD"),
    "device.min_memory_kb": (lambda c: c.memory_kb, _lower_bound, " KB"),
    "device.min_clock_mhz": (lambda c: c.clock_mhz, _lower_bound, " MHz"),
    "performance.min_accuracy": (lambda c: c.metric("accuracy"), _lower_bound, ""),
    "performance.max_latency_ms": (lambda c: c.metric("inferenceLatencyMs"), _upper_bound, " ms"),
    "performance.max_energy_uj": (lambda c: c.metric("energyPerInferenceUj"), _upper_bound, " uJ"),
    "performance.min_throughput_ips": (lambda c: c.metric("throughputIps"), _lower_bound, " inferences/s"),
    "performance.max_memory_mb": (lambda c: c.metric("memoryMb"), _upper_bound, " MB"),
}


def check_requirements(candidate: Candidate, req: Requirements) -> list[RequirementCheck]:
    """One check per stated requirement (device types and framework are matched by the query and
    reported as met when mandatory, since the candidate passed the query's filter)."""
    out = []
    for path, value in req.stated().items():
        mandatory = req.mandatory(path)
        spec = _CHECKS.get(path)
        if spec is None:
            # device types / framework: verified by the query's EXISTS filter when mandatory
            actual = (", ".join(candidate.devices.values()) if path == "project.device_types"
                      else "matched by the retrieval query")
            out.append(RequirementCheck(path, value, actual if mandatory else None,
                                        "met" if mandatory else "unknown", None, "", mandatory))
            continue
        get, compare, unit = spec
        actual = get(candidate)
        status, margin = compare(actual, value)
        out.append(RequirementCheck(path, value, actual, status, margin, unit, mandatory))
    return out


_LOWER_BOUNDS = {"network.min_layers", "device.min_memory_kb", "device.min_clock_mhz", "performance.min_accuracy",
                 "performance.min_throughput_ips"}
_UPPER_BOUNDS = {"project.total_budget_usd", "cloud.max_monthly_cost_usd", "performance.max_latency_ms",
                 "performance.max_energy_uj", "performance.max_memory_mb"}


def soft_met_counts(found: CandidateSet, req: Requirements) -> np.ndarray:
    """Per candidate, how many preferred (soft) requirements it meets (used only to break score
    ties). Device types and framework are not counted: the candidate query does not fetch them."""
    met = np.zeros(len(found))
    for path, value in req.stated().items():
        if req.mandatory(path) or path not in CONSTRAINT_VARS:
            continue
        var = "projCost" if path == "project.total_budget_usd" else CONSTRAINT_VARS[path]
        if var in found.numbers:
            x = found.numbers[var]
            with np.errstate(invalid="ignore"):
                if path in _LOWER_BOUNDS:
                    met += x >= float(value)
                elif path in _UPPER_BOUNDS:
                    met += x <= float(value)
                elif path == "cloud.shielded_execution":
                    met += (x == 1.0) | (not value)
        elif var in found.texts:
            texts = found.texts[var]
            want = str(value).lower()
            if path == "network.network":
                met += np.array([t is not None and normalized_name(t) == normalized_name(want) for t in texts])
            elif path in ("project.purpose", "cloud.server_hardware"):
                met += np.array([t is not None and want in t.lower() for t in texts])
            else:
                met += np.array([t is not None and t.strip().lower() == want for t in texts])
    return met
