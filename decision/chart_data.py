"""The UI's chart data read through the facet index (issue 18).

The two charts — inference latency against accuracy, and predicted against measured figures
(:func:`kg.exploration.latency_accuracy_points`, :func:`kg.exploration.predicted_vs_measured`) — read every
performance record of the graph: 5–6 s and 24–27 s by query on the shipped graph. The facet index
(:mod:`decision.facet_index`) holds each record's figures and kind, and each model's label, benchmark,
purpose, device (its label and processor), DLN and techniques, so the same answers come from its columns.
The query answers where the store has no current index, or the index cannot stand for every model and
record (a model without a DLN, :attr:`FacetIndex.unlisted`; a record with a figure recorded twice, or
both measured and predicted, :attr:`FacetIndex.unplotted`).
``tests/test_chart_data.py`` holds the two paths to the same answers.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from decision.encoded_column import row_codes
from decision.facet_index import FacetIndex, current_index
from kg import exploration
from kg.store import Store

# the compared metrics (kg.exploration.COMPARED_METRICS) → the index's record columns
_METRIC_COLUMNS = {"accuracy": "acc", "inferenceLatencyMs": "lat", "energyPerInferenceUj": "energy", "memoryMb": "memMb"}
assert set(_METRIC_COLUMNS) == set(exploration.COMPARED_METRICS)


def _usable_index(store: Store) -> FacetIndex | None:
    index = current_index(store)
    return index if index is not None and not index.unplotted and not index.unlisted else None


def latency_accuracy_points(store: Store) -> dict[str, Any]:
    """:func:`kg.exploration.latency_accuracy_points`, from the store's facet index where it can."""
    index = _usable_index(store)
    if index is None:
        return exploration.latency_accuracy_points(store)
    numbers, texts = index.perf_numbers, index.listing_texts
    records = np.flatnonzero(~np.isnan(numbers["acc"]) & ~np.isnan(numbers["lat"]))  # (model, record IRI) order
    rows = index.perf_model[records]
    # each column read for all the points at once (a point per record of tens of thousands)
    label, benchmark, purpose, device_label, processor = (texts[c].take(rows) for c in (
        "label", "benchmark", "purpose", "device_label", "processor"))
    device = texts["devices"].map(lambda devices: min(devices, default=None)).take(rows)
    energy = [None if np.isnan(e) else e for e in numbers["energy"][records].tolist()]
    points = [exploration.chart_point(*point) for point in zip(
        [index.iris[r] for r in rows.tolist()], label, numbers["acc"][records].tolist(), numbers["lat"][records].tolist(),
        energy, index.perf_predicted[records].tolist(), benchmark, purpose, device, device_label, processor)]
    return {"points": points, "models": len(index), "models_plotted": len({p["model"] for p in points})}


def _metric_values(index: FacetIndex) -> Iterator[exploration.MetricValue]:
    """The figures :func:`kg.exploration.pair_predictions` needs: every predicted one, and the measured
    ones of configurations with a prediction (the others pair with nothing and count for nothing)."""
    texts = index.listing_texts
    version = index.perf_texts["version"]
    configuration = row_codes([texts["dlns"].codes, texts["devices"].codes, texts["technique_iris"].codes])
    predicted = np.zeros(len(index), dtype=bool)
    predicted[index.perf_model[index.perf_predicted]] = True
    wanted = np.isin(configuration, configuration[predicted])[index.perf_model]
    for metric, column in _METRIC_COLUMNS.items():
        values = index.perf_numbers[column]
        for j in np.flatnonzero(~np.isnan(values) & wanted).tolist():
            r = int(index.perf_model[j])
            devices, techniques = tuple(sorted(texts["devices"][r])), tuple(sorted(texts["technique_iris"][r]))
            for dln in sorted(texts["dlns"][r]) or [""]:  # the query's row per DLN
                yield exploration.MetricValue(index.iris[r], bool(index.perf_predicted[j]), metric, float(values[j]),
                                              dln, devices, techniques, texts["label"][r] or "", version[j])


def predicted_vs_measured(store: Store) -> dict[str, Any]:
    """:func:`kg.exploration.predicted_vs_measured`, from the store's facet index where it can."""
    index = _usable_index(store)
    if index is None:
        return exploration.predicted_vs_measured(store)
    return exploration.pair_predictions(_metric_values(index))
