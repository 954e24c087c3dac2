"""Which stated requirements the data can check for the candidates — and, honestly, which it cannot.

A stated, mandatory requirement is *applied* when at least one candidate records what it needs (a
budget needs a projected cost: a recorded total cost, or a device price; a field needs the model's
application area; ...). Then it filters as :mod:`decision.requirements` says (unknowns excluded unless
``allow_unknown``). When *no* candidate records it, the requirement is **not applied**: it cannot
exclude anything for a reason, so instead of answering "nothing matches" (or silently keeping every
model) the result says so, with the reason and how to add the data. Nothing is invented to fill the
gap.

"The candidates" a requirement is judged on are the models retrieved with every checkable requirement
ranking only, not filtering (:func:`loose_requirements`): the models the requirements filter, whether
their value passes or not — a model whose recorded field is 'Industrial' does record a field.

The number of devices is no filter (see :mod:`decision.retrieval`); it is *applied* where it projects
a candidate's cost (a recorded total with cost per device and number of devices, or a device price),
and not applied otherwise.

One owner: :func:`requirement_coverage` is what the wizard's step check (``POST
/api/requirements/coverage``) and :func:`decision.recommend.recommend` both report.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from decision.requirement_table import ADD_PRICES, BY_PATH
from decision.requirements import Requirements
from decision.retrieval import TESTED_COLUMNS, CandidateSet, retrieve
from kg.store import Store

APPLIED = "applied"
NOT_APPLIED = "not_applied"

DEVICE_COUNT = "project.number_of_devices"


@dataclass(frozen=True)
class Applicability:
    """Whether one stated requirement is applied to the candidates, on how many of them the data
    checks it, and why (in words a user reads at the wizard step and in the result)."""

    field: str
    required: Any
    status: str  # APPLIED | NOT_APPLIED
    with_data: int
    candidates: int
    reason: str

    @property
    def applied(self) -> bool:
        return self.status == APPLIED

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def checkable_fields(req: Requirements) -> list[str]:
    """The stated, mandatory requirements whose data a candidate may or may not record ('shielded
    execution: not required' is no constraint)."""
    return [p for p, v in req.stated().items()
            if p in TESTED_COLUMNS and req.mandatory(p) and BY_PATH[p].states_constraint(v)]


def loose_requirements(req: Requirements) -> Requirements:
    """``req`` with its checkable requirements ranking only (in ``preferred``): the candidates a
    requirement is judged on (see the module docstring)."""
    extra = [p for p in checkable_fields(req) if p not in req.preferred]
    return req.model_copy(update={"preferred": list(req.preferred) + extra}) if extra else req


def _known(found: CandidateSet, path: str) -> np.ndarray:
    var = TESTED_COLUMNS[path]
    if var in found.numbers:
        return ~np.isnan(found.numbers[var])
    if var in found.texts:
        return np.array([t is not None for t in found.texts[var]], dtype=bool)
    return np.zeros(len(found), dtype=bool)


def _device_count_use(found: CandidateSet) -> np.ndarray:
    """Per candidate: whether its projected cost depends on the wanted number of devices."""
    nan = np.full(len(found), np.nan)
    cost, cpd, ndev, price = (found.numbers.get(v, nan) for v in ("cost", "cpd", "ndev", "price"))
    adjusted = ~np.isnan(cost) & ~np.isnan(cpd) & ~np.isnan(ndev)
    return adjusted | (np.isnan(cost) & ~np.isnan(price))


def assess_coverage(found: CandidateSet, req: Requirements) -> list[Applicability]:
    """Per checkable requirement (and the number of devices, when stated): applied or not over the
    candidate set ``found`` (retrieved with :func:`loose_requirements`; or the final set, where every
    requirement it records data for is applied)."""
    n = len(found)
    out = []
    stated = req.stated()
    for path in checkable_fields(req):
        with_data = int(_known(found, path).sum())
        needs, how = BY_PATH[path].needs, BY_PATH[path].how
        if with_data:
            reason = (f"checked on the {with_data} of {n} candidate(s) that record {needs}"
                      + ("" if with_data == n else ("; the others are kept, marked unknown" if req.allow_unknown
                                                    else "; the others are excluded")))
            out.append(Applicability(path, stated[path], APPLIED, with_data, n, reason))
        else:
            reason = (f"not applied: none of the {n} candidate(s) records {needs}, so the data cannot check "
                      f"this requirement; {how}")
            out.append(Applicability(path, stated[path], NOT_APPLIED, 0, n, reason))
    if req.project.number_of_devices is not None:
        k = req.project.number_of_devices
        with_data = int(_device_count_use(found).sum())
        if with_data:
            reason = (f"projects the deployment cost to {k} device(s) for the {with_data} of {n} candidate(s) that "
                      "record a cost per device and number of devices, or a device price")
            out.append(Applicability(DEVICE_COUNT, k, APPLIED, with_data, n, reason))
        else:
            reason = (f"not applied: the number of devices only projects a cost, and none of the {n} candidate(s) "
                      f"records a cost per device or a device price; {ADD_PRICES}")
            out.append(Applicability(DEVICE_COUNT, k, NOT_APPLIED, 0, n, reason))
    return out


def requirement_coverage(store: Store, req: Requirements, timeout_s: float | None = 30.0) -> list[Applicability]:
    """Which of ``req``'s stated requirements the data can check for the candidates (see the module
    docstring). One retrieval (:func:`loose_requirements`), kept until the store changes. Read-only."""
    if not checkable_fields(req) and req.project.number_of_devices is None:
        return []
    return assess_coverage(retrieve(store, loose_requirements(req), timeout_s=timeout_s), req)
