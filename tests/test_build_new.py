"""Decision support's 'Build new' path over real HTTP (uvicorn on loopback): proposals from the shipped
GNN predictor, a chosen proposal stored as a predicted model and measured on this host by the benchmark
module in a background job, and the honest answers (no token, unknown job, a device this host is not).

The store is in memory, initialized with the shipped graph (which holds DLOM's bench sweep, measured on
another machine: the reference host of the shipped sweep). The server describes the machine it runs
on at start (:func:`measure.host.register_host`), so its proposals for "this machine" are this host's,
whatever host runs the tests (``tests/test_measure_this_host.py`` runs the same flow on a simulated
host). Measurements use short training / timing settings (``app.state.measurement_overrides``) so a
job takes seconds; the run records the settings it used.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from pyoxigraph import NamedNode

from api.app import create_app
from api.server import serve_in_background
from api.settings import Settings
from kg.bootstrap import ensure_initialized
from kg.binding import bind
from kg.namespaces import SPARQL_PREFIXES
from kg.store import Store, open_store
from measure.host import host_devices, reference_device
from measure.plan import MeasurementPlanner

TOKEN = "build-new-test-token"
FAST_MEASUREMENT = {"seeds": [0], "training": {"epochs": 1},
                    "measure": {"warmup": 3, "repetitions": 20, "min_time_s": 0.05, "batch_sizes": [1]}}
# This host's reference setting (one thread on core 0) is labelled a "constrained setting", as are the
# shipped sweep's devices (of another machine): measurable_only keeps this host's. Benchmark hosts are
# proposed only for "this machine" (device.this_machine), as retrieval offers models on them.
AD_REFERENCE_DLN = "https://w3id.org/dlom/id/dln/mlperf-tiny/ad"  # a network the bench can build
AD_REFERENCE = "FC autoencoder (MLPerf Tiny anomaly detection reference)"  # its label: a network's full name
RUNNABLE_REQUIREMENTS = {"network": {"network": AD_REFERENCE}, "project": {"device_types": ["constrained setting"]},
                         "device": {"this_machine": True}}


def http(method: str, url: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


PREDICTOR_WARM_UP_S = 600.0  # generous: loading rebuilds the scorer for this graph, on a busy CI machine


def build_new_server() -> Iterator[tuple[str, Store]]:
    """A server over the shipped graph in memory, with the update token and quick measurements, that
    loads its prediction model after start-up (as ``dlom serve`` does); yielded once it has, so that no
    test's first request waits for the load under the request time limit."""
    store = open_store("oxigraph://")
    ensure_initialized(store)
    app = create_app(store, Settings(update_token=TOKEN, warm_predictor=True))
    app.state.measurement_overrides = FAST_MEASUREMENT
    with serve_in_background(app) as url:
        wait_for_predictor(app)
        yield url, store
    store.close()


def wait_for_predictor(app: FastAPI) -> None:
    """Return once the started ``app`` (``Settings.warm_predictor``) has loaded its prediction model."""
    deadline = time.monotonic() + PREDICTOR_WARM_UP_S
    while getattr(app.state, "predictor", None) is None and time.monotonic() < deadline:
        assert not getattr(app.state, "predictor_failure", None), app.state.predictor_failure
        time.sleep(0.5)
    assert app.state.predictor is not None, "the server did not load its prediction model after start-up"


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, Store]]:
    yield from build_new_server()


def wait_for_job(url: str, status_url: str, timeout_s: float = 240.0) -> tuple[dict[str, Any], list[float]]:
    seen: list[float] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        code, job = http("GET", url + status_url)
        assert code == 200, job
        seen.append(job["progress"])
        if job["status"] in ("succeeded", "failed"):
            return job, seen
        assert job["status"] in ("queued", "running")
        time.sleep(0.3)
    raise AssertionError(f"job {status_url} did not finish in {timeout_s} s")


def performance_types(store: Store, model: str) -> set[str]:
    res = store.select(bind(SPARQL_PREFIXES + "SELECT ?t WHERE { ?m dlom:hasPerformance ?p . ?p a ?t }",
                            {"m": NamedNode(model)}))
    return {t.value.rsplit("#", 1)[-1] for (t,) in res.rows}


def test_proposals_have_predicted_metrics_and_confidence(server: tuple[str, Store]) -> None:
    url, _ = server
    code, body = http("POST", url + "/api/proposals?limit=3", {})
    assert code == 200, body
    assert body["predictor_version"] and len(body["proposals"]) == 3
    for p in body["proposals"]:
        assert p["predicted"] is True and 0.0 <= p["confidence"] <= 1.0
        assert p["predictor_version"] == body["predictor_version"]
        assert p["metrics"]["inferenceLatencyMs"] > 0 and 0.0 <= p["metrics"]["accuracy"] <= 1.0
        assert p["dln"].startswith("https://") and len(p["devices"]) == 1
    code, body = http("POST", url + "/api/proposals", {"performance": {"min_accuracy": 7}})
    assert code == 422 and body["errors"][0]["field"].startswith("performance")


def test_recommend_without_matches_asks_the_prediction_model(server: tuple[str, Store]) -> None:
    url, _ = server
    code, body = http("POST", url + "/api/recommend", {"project": {"purpose": "keyword spotting"},
                                                        "performance": {"max_latency_ms": 0.001}})
    assert code == 200 and body["status"] in ("no_match", "predicted"), body
    assert "not available" not in body["message"] and "prediction model (dlom-gnn-" in body["message"]
    for p in body.get("predictions") or []:  # proposals must meet the requirement they were asked for
        assert p["predicted"] is True and p["metrics"]["inferenceLatencyMs"] <= 0.001
        # and say, as /api/proposals does, whether this server can measure them
        assert p["measurable_here"] is (p["not_measurable_because"] is None)


def test_proposals_follow_the_requirement_table_and_the_bench(server: tuple[str, Store]) -> None:
    """A network is named in full, as decision retrieval compares it (the requirement table's row); benchmark
    hosts only for this machine, and only with what the bench can build; labels for every IRI; variants grouped."""
    url, store = server
    hosts = {d.value for (d,) in store.select(SPARQL_PREFIXES + "SELECT ?d WHERE { ?d a dlom:BenchmarkHost }").rows}
    code, body = http("POST", url + "/api/proposals?limit=5", {"network": {"network": "FC autoencoder"}})
    assert code == 200 and body["proposals"] == [] and "no unseen configuration" in body["message"]  # a part is not the name
    code, body = http("POST", url + "/api/proposals?limit=5", {"network": {"network": " fc-Autoencoder (MLPerf Tiny "
                                                                           "anomaly detection reference)"}})
    assert code == 200 and body["proposals"], body
    assert {p["dln"] for p in body["proposals"]} == {AD_REFERENCE_DLN}
    for p in body["proposals"]:
        assert p["dln_label"] == AD_REFERENCE and not set(p["devices"]) & hosts  # an IoT device, not a host
        assert len(p["device_labels"]) == len(p["devices"]) and not any(x.startswith("https://") for x in p["device_labels"])
        assert len(p["technique_labels"]) == len(p["techniques"])
    code, body = http("POST", url + "/api/proposals?limit=5", {"device": {"this_machine": True}})
    assert code == 200 and body["proposals"], body
    for p in body["proposals"]:  # on a host, and something the bench can build there (or measure here)
        assert set(p["devices"]) <= hosts
        assert MeasurementPlanner(store).buildable_why_not(p["dln"], p["techniques"]) is None
    # near-identical variants (same DLN family, hardware, technique families) are grouped under the best
    shown = {(p["dln"], p["devices"][0], tuple(sorted(p["techniques"]))) for p in body["proposals"]}
    assert len(shown) == len(body["proposals"]) and sum(p["similar_count"] for p in body["proposals"]) > 0
    for p in body["proposals"]:
        assert p["similar_count"] == len(p["similar"])
        assert all(s["confidence"] >= 0 and s["dln"] for s in p["similar"])
    code, body = http("POST", url + "/api/proposals?limit=0", {})
    assert code == 422 and body["errors"][0]["field"].endswith("limit")


def test_measurement_needs_the_token(server: tuple[str, Store]) -> None:
    url, _ = server
    _, body = http("POST", url + "/api/proposals?limit=1", {})
    proposal = body["proposals"][0]
    code, body = http("POST", url + "/api/measurements", {"proposal": proposal})
    assert code == 401 and body["errors"][0]["field"] == "Authorization"
    code, _ = http("POST", url + "/api/measurements", {"proposal": proposal}, token="wrong")
    assert code == 403


def test_unknown_job_is_404_and_bad_proposal_is_422(server: tuple[str, Store]) -> None:
    url, _ = server
    code, body = http("GET", url + "/api/jobs/no-such-job")
    assert code == 404 and "no job" in body["errors"][0]["message"]
    code, body = http("POST", url + "/api/measurements",
                      {"proposal": {"dln": "https://example.org/not-a-dln", "devices": ["https://example.org/d"]}}, token=TOKEN)
    assert code == 422 and body["errors"][0]["field"] == "proposal.dln"


def test_runnable_proposal_is_stored_predicted_then_measured(server: tuple[str, Store]) -> None:
    url, store = server
    code, body = http("POST", url + "/api/proposals?limit=50&measurable_only=true", RUNNABLE_REQUIREMENTS)
    assert code == 200 and body["proposals"], body
    assert all(p["measurable_here"] is True and p["not_measurable_because"] is None for p in body["proposals"])
    # a quick one to build: no fine-tuning, distillation or pruning (which train), dynamic int8 if offered
    quick = [p for p in body["proposals"]
             if not any(slow in p["label"] for slow in ("Fine-tuning", "distillation", "pruning"))]
    proposal = next((p for p in quick if "Dynamic int8" in p["label"]), quick[0])
    proposal = {**proposal, "metrics": {"accuracy": 0.999, "inferenceLatencyMs": 0.001}}  # a client's made-up figures
    code, accepted = http("POST", url + "/api/measurements", {"proposal": proposal}, token=TOKEN)
    assert code == 202, accepted
    assert accepted["status_url"] == f"/api/jobs/{accepted['job']}"
    predicted_model = accepted["predicted_model"]
    # stored at once as a prediction, with the server's own figures, not the client's
    assert performance_types(store, predicted_model) == {"PredictedPerformance"}
    assert accepted["predicted"]["metrics"]["accuracy"] != 0.999
    job, seen = wait_for_job(url, accepted["status_url"])
    assert job["status"] == "succeeded", job
    assert job["progress"] == 1.0 and seen == sorted(seen)
    result = job["result"]
    assert result["predicted_model"] == predicted_model and result["predicted"] == accepted["predicted"]["metrics"]
    assert result["metrics"]["inferenceLatencyMs"] > 0 and "accuracy" in result["metrics"]
    assert performance_types(store, result["model"]) == {"MeasuredPerformance"}
    res = store.select(bind(SPARQL_PREFIXES + "SELECT ?d WHERE { ?m dlom:deployedOn ?d }",
                            {"m": NamedNode(result["model"])}))
    assert [d.value for (d,) in res.rows] == proposal["devices"]  # measured on the proposed device
    assert proposal["devices"][0] in host_devices()  # which is this host's


def test_this_host_is_described_at_start(server: tuple[str, Store]) -> None:
    _, store = server
    res = store.select(SPARQL_PREFIXES + "SELECT ?d WHERE { ?d a dlom:BenchmarkHost ; a dlom:EndDevice }")
    assert set(host_devices()) <= {d.value for (d,) in res.rows}


def test_proposal_for_another_device_ends_with_an_honest_message(server: tuple[str, Store]) -> None:
    """The reference autoencoder (which the bench can build) on a microcontroller: never this machine."""
    url, store = server
    res = store.select(SPARQL_PREFIXES + """SELECT ?d WHERE { ?m dlom:deployedOn ?d ; dlom:usesDLN ?dln .
                                                ?d rdfs:label ?l FILTER(CONTAINS(?l, "NUCLEO")) } ORDER BY ?d LIMIT 1""")
    (mcu,), = res.rows
    proposal = {"dln": AD_REFERENCE_DLN, "devices": [mcu.value], "techniques": []}
    code, accepted = http("POST", url + "/api/measurements", {"proposal": proposal}, token=TOKEN)
    assert code == 202, accepted
    job, _ = wait_for_job(url, accepted["status_url"], timeout_s=60)
    assert job["status"] == "failed"
    assert job["message"].startswith("not measured: its device is not this machine (this server measures on Host ")
    assert job["result"]["model"] is None and job["result"]["metrics"] == {}
    assert performance_types(store, accepted["predicted_model"]) == {"PredictedPerformance"}
    # the same configuration can be measured on this machine instead
    code, accepted = http("POST", url + "/api/measurements", {"proposal": proposal, "on_this_machine": True}, token=TOKEN)
    assert code == 202 and accepted["predicted"]["devices"][0] in host_devices(), accepted
    job, _ = wait_for_job(url, accepted["status_url"])
    assert job["status"] == "succeeded", job


def test_network_the_bench_cannot_build_ends_with_an_honest_message(server: tuple[str, Store]) -> None:
    """An open-division MLPerf Tiny network (a submitter's own): the bench cannot rebuild it, on any device."""
    url, _ = server
    _, body = http("POST", url + "/api/proposals?limit=50", {"project": {"device_types": ["GAP9"]}})
    proposal = next(p for p in body["proposals"] if "/dln/mlperf-tiny-open/" in p["dln"])
    assert proposal["measurable_here"] is False and proposal["on_this_machine"] is None
    assert "is not a network the bench can build" in proposal["not_measurable_because"]
    code, accepted = http("POST", url + "/api/measurements", {"proposal": proposal}, token=TOKEN)
    assert code == 202, accepted
    job, _ = wait_for_job(url, accepted["status_url"], timeout_s=60)
    assert job["status"] == "failed" and job["message"] == f"not measured: {proposal['not_measurable_because']}"


def test_variant_the_bench_derived_is_rebuilt_from_its_recipe() -> None:
    """A variant DLN the bench derived (pruned, decomposed, distilled) is rebuilt as its base network
    with the steps that derived it, then the proposed techniques."""
    store = open_store("oxigraph://")
    ensure_initialized(store)
    planner = MeasurementPlanner(store)
    res = store.select(SPARQL_PREFIXES + """SELECT ?dln ?r WHERE { ?dln dlom:derivedFromDLN ?b . ?m dlom:usesDLN ?dln ;
                                                dlom:sourceRecord ?r } ORDER BY ?dln LIMIT 1""")
    (dln, record), = res.rows
    recipe = json.loads(record.value)["bench_spec"]
    plan = planner.plan(dln.value, reference_device().iri, [])
    assert plan.spec.network.name == recipe["network"]
    assert [t.name for t in plan.spec.techniques] == [t["name"] for t in recipe["techniques"]]
    store.close()


def test_measurement_is_refused_where_the_server_has_no_token() -> None:
    store = open_store("oxigraph://")
    ensure_initialized(store, with_shipped_graph=False)
    with serve_in_background(create_app(store, Settings(update_token=None))) as url:
        code, body = http("POST", url + "/api/measurements",
                          {"proposal": {"dln": "https://w3id.org/dlom/id/dln/mlperf-tiny/ad", "devices": ["x"]}}, token="any")
    store.close()
    assert code == 403 and "DLOM_UPDATE_TOKEN" in body["errors"][0]["message"]


def test_serving_does_not_import_torch_at_start_up() -> None:
    code = ("import sys; from api.app import create_app; from api.server import run; "
            "from kg.store import open_store; create_app(open_store('oxigraph://')); "
            "print(any(m == 'torch' or m.startswith('torch.') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.strip() == "False"
