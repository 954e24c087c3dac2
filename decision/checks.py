"""Which stated requirements a candidate meets, and by how much (for explanations and soft ranking).

A check is 'met', 'missed', 'unknown' (the candidate records no value) or 'not_applied' (no candidate
records the data, so the requirement filtered nothing: :mod:`decision.applicability`). For numeric limits the
margin is how far inside the limit the candidate is, in the requirement's unit (positive = inside):
latency 12 ms against a 50 ms maximum has margin 38 ms; accuracy 0.92 against 0.90 minimum, 0.02.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from decision.requirement_table import BY_PATH, Requirement, metric_name
from decision.requirements import Requirements
from decision.retrieval import TESTED_COLUMNS, Candidate, CandidateSet

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


def _actual(row: Requirement, candidate: Candidate) -> Any:
    """The candidate's value for requirement ``row`` (None or empty: unknown)."""
    metric = metric_name(row)
    if metric is not None:
        return candidate.metric(metric)
    value = getattr(candidate, row.attribute)  # type: ignore[arg-type]
    return sorted(value) if isinstance(value, set) else value


def _shown(row: Requirement, candidate: Candidate, actual: Any) -> Any:
    """How an actual value is reported: several texts (devices, frameworks) as one."""
    if row.reported is not None:
        reported = getattr(candidate, row.reported)
        actual = list(reported.values()) if isinstance(reported, dict) else reported
    return ", ".join(actual) if isinstance(actual, list) else actual


def check_requirements(candidate: Candidate, req: Requirements) -> list[RequirementCheck]:
    """One check per stated requirement, by its row of :data:`decision.requirement_table.REQUIREMENTS`
    — the same comparison, on the same normalized text, as the retrieval query's filter."""
    out = []
    for path, value in req.stated().items():
        row = BY_PATH[path]
        actual = _actual(row, candidate)
        status, margin = row.check(actual, value)
        out.append(RequirementCheck(path, value, _shown(row, candidate, actual), status, margin, row.unit, req.mandatory(path)))
    return out


def soft_met_counts(found: CandidateSet, req: Requirements) -> np.ndarray:
    """Per candidate, how many preferred (soft) requirements it meets (used only to break score
    ties). Device types and framework are not counted: the candidate query does not fetch them."""
    met = np.zeros(len(found))
    for path, value in req.stated().items():
        if req.mandatory(path) or path not in TESTED_COLUMNS:
            continue
        row, var = BY_PATH[path], TESTED_COLUMNS[path]
        if var in found.numbers:
            with np.errstate(invalid="ignore"):
                met += row.matches_column(found.numbers[var], value)
        elif var in found.texts:
            met += np.array([t is not None and bool(row.matches(t, value)) for t in found.texts[var]])
    return met
