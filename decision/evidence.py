"""The evidence behind a recommendation: its performance records and where they came from (PROV-O).

For each performance record: its kind (measured / predicted), the activity that generated it
(prov:wasGeneratedBy, e.g. an MLPerf Tiny dlom:BenchmarkRun), the benchmark round, the submitter
(prov:wasAssociatedWith), and the source files it was derived from (prov:wasDerivedFrom → dlom:sourcePath).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from pyoxigraph import NamedNode

from kg.binding import values_rows
from kg.namespaces import SPARQL_PREFIXES
from kg.store import Store

_QUERY = SPARQL_PREFIXES + """SELECT ?perf ?kind ?run ?runLabel ?round ?submitter ?path ?confidence ?predictor WHERE {
  %s
  OPTIONAL { ?perf a ?kind . FILTER(?kind IN (dlom:MeasuredPerformance, dlom:PredictedPerformance)) }
  OPTIONAL { ?perf prov:wasGeneratedBy ?run .
             OPTIONAL { ?run rdfs:label ?runLabel }
             OPTIONAL { ?run dlom:benchmarkRound ?round }
             OPTIONAL { ?run prov:wasAssociatedWith ?sub . ?sub rdfs:label ?submitter } }
  OPTIONAL { ?perf prov:wasDerivedFrom ?file . ?file dlom:sourcePath ?path }
  OPTIONAL { ?perf dlom:predictionConfidence ?confidence }
  OPTIONAL { ?perf dlom:predictorVersion ?predictor }
}"""


@dataclass
class Evidence:
    """Provenance of one performance record."""

    record: str
    kind: str | None = None
    activity: str | None = None
    activity_label: str | None = None
    round: str | None = None
    submitters: list[str] = field(default_factory=list)
    source_files: list[str] = field(default_factory=list)
    prediction_confidence: float | None = None
    predictor_version: str | None = None


def evidence_for(store: Store, records: Iterable[str]) -> dict[str, Evidence]:
    """Provenance of each performance record IRI (one query for all of them)."""
    iris = sorted(set(records))
    if not iris:
        return {}
    result = store.select(_QUERY % values_rows(["perf"], [(NamedNode(i),) for i in iris]))
    out: dict[str, Evidence] = {i: Evidence(i) for i in iris}
    for perf, kind, run, run_label, round_, submitter, path, confidence, predictor in result.rows:
        e = out[perf.value]  # type: ignore[union-attr]
        if kind is not None:
            e.kind = "predicted" if kind.value.endswith("PredictedPerformance") else "measured"
        if run is not None:
            e.activity = run.value
        if run_label is not None:
            e.activity_label = run_label.value
        if round_ is not None:
            e.round = round_.value
        if submitter is not None and submitter.value not in e.submitters:
            e.submitters.append(submitter.value)
        if path is not None and path.value not in e.source_files:
            e.source_files.append(path.value)
        if confidence is not None:
            e.prediction_confidence = float(confidence.value)
        if predictor is not None:
            e.predictor_version = predictor.value
    for e in out.values():
        # Sorted: SPARQL leaves row order unspecified, and a submitter may carry several labels.
        e.source_files.sort()
        e.submitters.sort()
    return out
