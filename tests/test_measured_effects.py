"""Measured effects of precisions against float (decision.measured_effects), the `dlom effects` CLI and
GET /api/effects, on the real AI Hub Models 0.45.0 release imported into a store.

The expected distributions are recomputed here from the wheel's raw YAML (zipfile + yaml): pairs of a
precision and float on the same model, component, device and runtime, leaving out the rows that repeat
another device's job (a job runs on one device; in 0.45.0 the '(Proxy)' devices carry the copies).
"""
from __future__ import annotations

import json
import statistics
import zipfile
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api import effects_routes
from decision import facet_index as fi
from decision import measured_effects as me
from decision.measured_effects import Distribution, effect_filter_values, measured_effects
from kg.importers.qai_hub_models import import_qai_hub_models
from kg.ontology import ontology_quads
from kg.store import open_store

WHEEL = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "qai-hub-models" / \
    "qai_hub_models-0.45.0-py3-none-any.whl"

pytestmark = pytest.mark.skipif(not WHEEL.is_file(), reason="needs ../shared/data/qai-hub-models")

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def raw_pairs() -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """(latency ratios, top-1 changes in points) per precision, straight from the YAML."""
    z = zipfile.ZipFile(WHEEL)
    rows = []
    acc = defaultdict(dict)
    for name in z.namelist():
        parts = name.split("/")
        if len(parts) != 4 or parts[1] != "models" or parts[2].startswith("_"):
            continue
        doc = yaml.load(z.read(name), Loader=_LOADER) if parts[3] in ("perf.yaml", "numerics.yaml") else None
        if parts[3] == "perf.yaml":
            for prec, pd in ((doc or {}).get("precisions") or {}).items():
                for comp, cd in (pd.get("components") or {}).items():
                    for dev, dd in (cd.get("performance_metrics") or {}).items():
                        for rt, m in dd.items():
                            if "inference_time_milliseconds" in m:
                                rows.append((parts[2], comp, dev, rt, prec, m["job_id"], m["inference_time_milliseconds"]))
        elif parts[3] == "numerics.yaml":
            for metric in (doc or {}).get("metrics") or []:
                if metric.get("metric_unit") != "%":
                    continue
                for dev, pd in (metric.get("device_metric") or {}).items():
                    for prec, rd in pd.items():
                        for rt, v in rd.items():
                            acc[(parts[2], dev, rt, metric["metric_name"])][prec] = v["partial_metric"]
    shared = {j for j, n in Counter(r[5] for r in rows).items() if n > 1}
    measured = [r for r in rows if r[5] not in shared or not r[2].endswith("(Proxy)")]
    lat = defaultdict(dict)
    for model, comp, dev, rt, prec, _, t in measured:
        lat[(model, comp, dev, rt)][prec] = t
    ratios: dict[str, list[float]] = defaultdict(list)
    for by in lat.values():
        if "float" in by:
            for p, t in by.items():
                if p != "float":
                    ratios[p].append(t / by["float"])
    changes: dict[str, list[float]] = defaultdict(list)
    for by in acc.values():
        if "float" in by:
            for p, v in by.items():
                if p != "float":
                    changes[p].append(v - by["float"])
    return ratios, changes


@pytest.fixture(scope="module")
def store() -> Any:
    s = open_store("oxigraph://")
    s.add(ontology_quads())
    import_qai_hub_models(s, WHEEL)
    yield s
    s.close()


@pytest.fixture(scope="module")
def effects(store: Any) -> dict[str, Any]:
    return {e.precision: e for e in measured_effects(store)}


def test_distribution_summary() -> None:
    d = Distribution.of([4.0, 1.0, 3.0, 2.0, 5.0])
    assert (d.n, d.median, d.q1, d.q3, d.min, d.max) == (5, 3.0, 2.0, 4.0, 1.0, 5.0)
    assert Distribution.of([]).n == 0 and Distribution.of([]).median is None


def test_latency_ratios_agree_with_the_raw_pairs(effects: dict[str, Any]) -> None:
    ratios, _ = raw_pairs()
    assert set(effects) == set(ratios) and ratios["w8a8"]
    for p, values in ratios.items():
        got = effects[p].latency_ratio
        assert got.n == len(values)
        assert got.median == pytest.approx(statistics.median(values), rel=1e-5)


def test_accuracy_changes_agree_with_the_raw_pairs(effects: dict[str, Any]) -> None:
    _, changes = raw_pairs()
    for p, values in changes.items():
        got = effects[p].accuracy_change
        assert got.n == len(values) > 0
        assert got.median == pytest.approx(statistics.median(values), abs=1e-6)
    assert effects["w8a8"].accuracy_change_by_metric  # per metric too


def test_w8a8_is_faster_than_float_on_the_median(effects: dict[str, Any]) -> None:
    assert effects["w8a8"].latency_ratio.median < 1  # a measured fact of this release, not an assumption


def test_filters_restrict_the_pairs(store: Any, effects: dict[str, Any]) -> None:
    tflite = {e.precision: e for e in measured_effects(store, runtime="tflite")}
    assert 0 < tflite["w8a8"].latency_ratio.n < effects["w8a8"].latency_ratio.n
    iot = {e.precision: e for e in measured_effects(store, form_factor="IoT")}
    assert 0 < iot["w8a8"].latency_ratio.n < effects["w8a8"].latency_ratio.n
    assert measured_effects(store, form_factor="Nonexistent") == []


def test_filter_values_are_those_with_a_float_baseline(store: Any, effects: dict[str, Any]) -> None:
    values = effect_filter_values(store)
    assert "tflite" in values.runtime and "IoT" in values.form_factor and "float" not in values.precision
    assert set(effects) <= set(values.precision)
    # every runtime and form factor offered has pairs; one not offered has none and is named an error
    assert all(measured_effects(store, runtime=r) for r in values.runtime)
    assert all(measured_effects(store, form_factor=f) for f in values.form_factor)
    assert values.errors("tflite", "iot", ["w8a8"]) == []
    errors = values.errors("no-such-runtime", "Smartwatch", ["w8a8", "w3a3"])
    assert [e["field"] for e in errors] == ["runtime", "form_factor", "precision"]
    assert "tflite" in errors[0]["message"] and "'w3a3'" in errors[2]["message"]


def test_copies_are_not_counted_twice(store: Any, effects: dict[str, Any]) -> None:
    """The (Proxy) devices' copied rows pair with their own copied float rows; counting them would add
    pairs that repeat the reference device's evidence."""
    from kg.namespaces import SPARQL_PREFIXES

    result = store.select(SPARQL_PREFIXES + """SELECT (COUNT(*) AS ?n) WHERE { ?m dlom:precision 'w8a8' ;
        dlom:hasPerformance ?p . ?p a dlom:CopiedPerformance ; dlom:inferenceLatencyMs ?l }""")
    copies = int(next(iter(result.rows))[0].value)
    assert copies > 0
    ratios, _ = raw_pairs()  # built without the copies
    assert effects["w8a8"].latency_ratio.n == len(ratios["w8a8"])


EFFECT_FILTERS = [(None, None), ("tflite", None), ("qnn_dlc", None), (None, "phone"), ("onnx", "IoT"), ("no-such", None)]


def test_the_facet_index_gives_what_the_queries_give(store: Any, effects: dict[str, Any]) -> None:
    by_query = me._by_query(store)
    index = fi.facet_index(store)
    assert index is not None and not index.irregular and fi.current_index(store) is index
    from_index = me._from_index(index)
    assert [len(m.pair) for m in from_index] == [len(m.pair) for m in by_query]
    for runtime, form_factor in EFFECT_FILTERS:
        assert me._effects(*from_index, runtime, form_factor, None) == me._effects(*by_query, runtime, form_factor, None)
    # measured_effects reads the index now, and gives what it gave by query
    assert {e.precision: e for e in measured_effects(store)} == effects


def test_cli_answers_from_the_graph(store: Any, tmp_path: Path) -> None:
    from dlom.cli import app

    url = f"oxigraph://{tmp_path / 'store'}"
    s = open_store(url)
    try:
        s.add(ontology_quads())
        import_qai_hub_models(s, WHEEL)
    finally:
        s.close()
    result = CliRunner().invoke(app, ["effects", "--store", url, "--format", "json", "--precision", "w8a8"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    ratios, _ = raw_pairs()
    assert [e["precision"] for e in body] == ["w8a8"]
    assert body[0]["latency_ratio"]["n"] == len(ratios["w8a8"])
    table = CliRunner().invoke(app, ["effects", "--store", url, "--form-factor", "IoT"])
    assert table.exit_code == 0 and "w8a8" in table.stdout


def test_rest_endpoint_calls_the_same_function(store: Any, effects: dict[str, Any]) -> None:
    app = FastAPI()
    app.include_router(effects_routes.router)
    app.state.store = store
    client = TestClient(app)
    body = client.get("/api/effects").json()
    got = {e["precision"]: e for e in body["effects"]}
    assert got["w8a8"]["latency_ratio"]["median"] == effects["w8a8"].latency_ratio.median
    one = client.get("/api/effects", params={"runtime": "tflite", "precision": "w8a8"}).json()["effects"]
    assert [e["precision"] for e in one] == ["w8a8"]
    assert client.get("/api/effects/filters").json() == effect_filter_values(store).as_dict()
    refused = client.get("/api/effects", params={"runtime": "tflight"})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "runtime" and "tflite" in refused.json()["errors"][0]["message"]
