"""When no stored model matches: the hand-off to the prediction model (the GNN, §5.3).

:class:`CandidatePredictor` is the protocol the GNN implements later. Until one is available the DSS
says so plainly and invents nothing. A candidate the user chooses is saved as a dlom:Model whose
performance is a dlom:PredictedPerformance (never dlom:MeasuredPerformance) with its confidence,
predictor version and the prediction activity (prov:wasGeneratedBy), so it is always recognisably a
prediction.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from pyoxigraph import NamedNode, Triple

from kg.namespaces import DLOM, PROV, RDF, RDFS, entity
from kg.store import Store
from kg.terms import literal
from kg.writes import write_triples

if TYPE_CHECKING:  # annotations only: the torch-free scorer imports this module, pydantic costs 0.1 s
    from decision.requirements import Requirements

# ontology property local names a prediction may carry (all on dlom:Performance)
PREDICTABLE_METRICS = ("accuracy", "inferenceLatencyMs", "systemLatencyMs", "energyPerInferenceUj",
                       "throughputIps", "memoryMb", "averagePowerMw", "modelSizeKB")


@dataclass(frozen=True)
class PredictedCandidate:
    """A configuration the predictor proposes: existing DLN and end device (IRIs in the store), the
    optimization techniques to apply (IRIs in the store), and the predicted metrics."""

    label: str
    dln: str
    devices: tuple[str, ...]
    metrics: dict[str, float]
    confidence: float
    predictor_version: str
    techniques: tuple[str, ...] = ()
    application_area: str | None = None
    purpose: str | None = None
    notes: dict[str, str] = field(default_factory=dict)


Configuration = Callable[[str, str, tuple[str, ...]], bool]
"""A test of a configuration by its IRIs: DLN, device, techniques (e.g. whether the bench could build it)."""


@runtime_checkable
class CandidatePredictor(Protocol):
    """What the DSS needs from the prediction model."""

    version: str

    def predict(self, requirements: Requirements, limit: int = 5,
                only_devices: Collection[str] | None = None,
                keep: Configuration | None = None) -> Sequence[PredictedCandidate]:
        """Up to ``limit`` predicted configurations meeting ``requirements``, best first (may be empty);
        with ``only_devices`` (IRIs), only configurations on those devices; with ``keep``, only those
        for which ``keep(dln, device, techniques)`` (IRIs) is true — applied before ranking, so the
        ``limit`` best are of those kept."""
        ...


NO_PREDICTOR_MESSAGE = "no matching models; the prediction model is not available yet"


def predicted_model_triples(candidate: PredictedCandidate, at: dt.datetime) -> tuple[NamedNode, list[Triple]]:
    """The model, its PredictedPerformance and the prediction activity as triples."""
    if not 0.0 <= candidate.confidence <= 1.0:
        raise ValueError(f"prediction confidence must be in [0, 1], got {candidate.confidence}")
    unknown = set(candidate.metrics) - set(PREDICTABLE_METRICS)
    if unknown:
        raise ValueError(f"unknown predicted metric(s): {', '.join(sorted(unknown))}")
    stamp = at.astimezone(dt.timezone.utc).isoformat()
    model = entity("model", "predicted", candidate.predictor_version, candidate.label)
    perf = entity("performance", "predicted", candidate.predictor_version, candidate.label, stamp)
    activity = entity("prediction", candidate.predictor_version, candidate.label, stamp)
    t: list[Triple] = [
        Triple(model, RDF.type, DLOM.Model),
        Triple(model, RDFS.label, literal(f"{candidate.label} (predicted)")),
        Triple(model, RDFS.comment, literal(f"Predicted by {candidate.predictor_version}; not measured.")),
        Triple(model, DLOM.usesDLN, NamedNode(candidate.dln)),
        Triple(model, DLOM.hasPerformance, perf),
        Triple(perf, RDF.type, DLOM.PredictedPerformance),
        Triple(perf, RDFS.label, literal(f"predicted performance of {candidate.label}")),
        Triple(perf, DLOM.predictionConfidence, literal(float(candidate.confidence))),
        Triple(perf, DLOM.predictorVersion, literal(candidate.predictor_version)),
        Triple(perf, PROV.wasGeneratedBy, activity),
        Triple(activity, RDF.type, PROV.Activity),
        Triple(activity, RDFS.label, literal(f"prediction by {candidate.predictor_version}")),
        Triple(activity, PROV.endedAtTime, literal(at.astimezone(dt.timezone.utc))),
    ]
    t += [Triple(model, DLOM.deployedOn, NamedNode(d)) for d in candidate.devices]
    t += [Triple(model, DLOM.appliesOptimization, NamedNode(x)) for x in candidate.techniques]
    t += [Triple(perf, DLOM[name], literal(float(v))) for name, v in candidate.metrics.items()]
    if candidate.application_area:
        t.append(Triple(model, DLOM.applicationArea, literal(candidate.application_area)))
    if candidate.purpose:
        t.append(Triple(model, DLOM.purpose, literal(candidate.purpose)))
    return model, t


def save_predicted_candidate(store: Store, candidate: PredictedCandidate, at: dt.datetime | None = None) -> str:
    """Save the chosen prediction as a dlom:Model with dlom:PredictedPerformance (validated, atomic);
    returns the model IRI. Raises kg.errors.ValidationError if, e.g., the DLN or device is unknown."""
    model, triples = predicted_model_triples(candidate, at or dt.datetime.now(dt.timezone.utc))
    write_triples(store, triples, source=f"prediction {candidate.predictor_version}")
    return model.value
