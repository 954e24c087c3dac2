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

from decision.requirements import Requirements
from decision.retrieval import CONSTRAINT_VARS, CandidateSet, retrieve
from kg.store import Store

APPLIED = "applied"
NOT_APPLIED = "not_applied"

_ADD_DATA = ("add it to the records with `dlom import records` or `dlom import tags` (docs/record-format.md), "
             "or a validated SPARQL update")
_ADD_PRICES = ("add prices via `dlom import records` (device_price, total_cost, cost_per_device) or "
               "`dlom import tags` (Price, Total_Cost, Cost_per_Device), or a validated SPARQL update of "
               "dlom:priceUsd / dlom:totalCostUsd")

# field → (what a candidate must record, how to add it)
_NEEDS: dict[str, tuple[str, str]] = {
    "project.business_focus": ("an application area (field)", _ADD_DATA),
    "project.purpose": ("a purpose", _ADD_DATA),
    "project.total_budget_usd": ("a price (a total cost, or a price of its device)", _ADD_PRICES),
    "network.network": ("a DLN name", _ADD_DATA),
    "network.training_dataset": ("a training dataset", _ADD_DATA),
    "network.min_layers": ("a number of layers", _ADD_DATA),
    "cloud.server_hardware": ("a cloud server's hardware", _ADD_DATA),
    "cloud.shielded_execution": ("whether its cloud uses shielded execution", _ADD_DATA),
    "cloud.max_monthly_cost_usd": ("a monthly cloud cost", _ADD_PRICES),
    "device.min_memory_kb": ("its device's memory", _ADD_DATA),
    "device.min_clock_mhz": ("its device's clock frequency", _ADD_DATA),
    "performance.min_accuracy": ("a measured accuracy", "measure it (`dlom bench run`) or import measurements"),
    "performance.max_latency_ms": ("a measured latency", "measure it (`dlom bench run`) or import measurements"),
    "performance.max_energy_uj": ("a measured energy per inference", "measure it where the host exposes energy, or import measurements"),
    "performance.min_throughput_ips": ("a measured throughput", "measure it (`dlom bench run`) or import measurements"),
    "performance.max_memory_mb": ("a measured runtime memory", "measure it (`dlom bench run`) or import measurements"),
}
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
            if p in CONSTRAINT_VARS and req.mandatory(p) and not (p == "cloud.shielded_execution" and v is False)]


def loose_requirements(req: Requirements) -> Requirements:
    """``req`` with its checkable requirements ranking only (in ``preferred``): the candidates a
    requirement is judged on (see the module docstring)."""
    extra = [p for p in checkable_fields(req) if p not in req.preferred]
    return req.model_copy(update={"preferred": list(req.preferred) + extra}) if extra else req


def _known(found: CandidateSet, path: str) -> np.ndarray:
    var = "projCost" if path == "project.total_budget_usd" else CONSTRAINT_VARS[path]
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
        needs, how = _NEEDS.get(path, ("a value", _ADD_DATA))
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
                      f"records a cost per device or a device price; {_ADD_PRICES}")
            out.append(Applicability(DEVICE_COUNT, k, NOT_APPLIED, 0, n, reason))
    return out


def requirement_coverage(store: Store, req: Requirements, timeout_s: float | None = 30.0) -> list[Applicability]:
    """Which of ``req``'s stated requirements the data can check for the candidates (see the module
    docstring). One retrieval (:func:`loose_requirements`), kept until the store changes. Read-only."""
    if not checkable_fields(req) and req.project.number_of_devices is None:
        return []
    return assess_coverage(retrieve(store, loose_requirements(req), timeout_s=timeout_s), req)
