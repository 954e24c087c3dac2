"""Schemathesis over the live app's OpenAPI document: every operation, zero failures.

A real uvicorn server (:func:`api.server.serve_in_background`) with an update token serves a small
graph written through the validated write path (three models on two devices, :mod:`decision_graph`).
Schemathesis loads ``/openapi.json`` from it over the socket and runs its engine — what
``schemathesis run`` runs — over every operation: the document's examples, the coverage phase
(boundary and invalid values of each parameter and body, other methods on each path) and generated
requests, valid and invalid (``mode: all``), all with the update token, so the writing operations are
exercised past authentication. Every answer goes through :data:`CHECKS`: no 5xx; the status code, the
content type and the body as the document says for that status; documented headers present; a
request the schema forbids refused with a 4xx; 405 with an ``Allow`` naming the path's methods. Any
failure or engine error fails the test with the curl command that reproduces it. The operations and
requests checked are printed (``-s`` shows them, with each operation's status codes; the README
quotes the counts).

Deterministic: ``generation.deterministic`` (Hypothesis derandomized, no example database), a fixed
seed for Schemathesis' own choices, no cache between runs; generated requests per operation bounded
(:data:`MAX_EXAMPLES`), about 20 s on the 2-core development machine.

The engine rather than Schemathesis' pytest plugin: the plugin's ``from_fixture`` path sets
``Function._nodeid``, which pytest 9.2 no longer has (an AttributeError before any request).

The tests after the run pin, as plain requests, what it found and what was fixed (the run finds each
again only as far as its bounded examples reach).
"""
from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from decision_graph import ModelSpec, write_models
from schemathesis.engine import Status, events
from schemathesis.engine import from_schema as engine_for
from schemathesis.engine.statistic import Statistic

from api.app import create_app
from api.server import serve_in_background
from api.settings import Settings
from kg.ontology import ontology_quads
from kg.store import open_store

TOKEN = "openapi-fuzz-token"
MAX_EXAMPLES = 50
"""Generated requests per operation in the fuzzing phase (examples and coverage cases come on top)."""
SEED = 21
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance", "response_schema_conformance",
          "response_headers_conformance", "negative_data_rejection", "missing_required_header", "unsupported_method",
          "allow_header_conformance")
"""Schemathesis' checks run on every answer: the four of the issue (no 5xx; documented status, content
type and body) and those of HTTP conformance (documented headers present; a request the schema
forbids refused with a 4xx; a method the path lacks answered 405 with ``Allow`` naming those it has)."""
EXCLUDED_CHECKS = {
    "positive_data_acceptance": "a request valid by the schema may still be a client mistake the schema cannot "
                                "express — a string that is not SPARQL, an IRI the graph does not hold, a model "
                                "that does not exist — and is rightly answered 4xx",
}
TEXT_BODIES = ("application/sparql-query", "application/sparql-update", "application/n-triples", "application/x-turtle")
"""Request media types whose body is text (SPARQL, RDF syntaxes): Schemathesis has no serializer of its
own for them, and without one it would leave those bodies out, so they are sent as text/plain is."""
schemathesis.serializer.alias(list(TEXT_BODIES), "text/plain")
EXCLUDED: dict[str, str] = {}
"""Operations left out, each with the reason (none: every operation is described by the document)."""


@pytest.fixture(scope="module")
def live_url() -> Iterator[str]:
    store = open_store("oxigraph://")
    store.add(ontology_quads())
    write_models(store, [
        ModelSpec("kws-small", area="keyword spotting", accuracy=0.91, latency_ms=12.0, energy_uj=300.0,
                  dln="DS-CNN", device="Arduino Nano 33 BLE", cost=40.0, techniques=1),
        ModelSpec("kws-large", area="keyword spotting", accuracy=0.95, latency_ms=48.0, dln="ResNet-8",
                  device="Raspberry Pi 4", cost=80.0, ratings={"performance": [4, 5]}),
        ModelSpec("vww", area="visual wake words", accuracy=0.86, latency_ms=90.0, dln="MobileNetV1",
                  device="Raspberry Pi 4", device_unit="shared-pi"),
    ])
    app = create_app(store, Settings(update_token=TOKEN, query_timeout_s=10, max_rows=200, max_body_bytes=1 << 16,
                                     federation_allowlist=(), query_workers=2, client_max_concurrent=6,
                                     client_budget_s=0))
    with serve_in_background(app) as url:
        yield url
    store.close()


def test_every_operation_conforms_to_the_openapi_document(live_url: str) -> None:
    config = schemathesis.Config.from_dict({
        "seed": SEED,
        "base-url": live_url,
        "headers": {"Authorization": f"Bearer {TOKEN}"},
        "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "deterministic": True},
        "phases": {"stateful": {"enabled": False}},
        "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},  # not EXCLUDED_CHECKS
        "continue-on-failure": True,  # every failure of an operation, not only its first
        "cache": {"enabled": False},  # no state carried between runs (and no .schemathesis/ in the tree)
        "request-timeout": 30,
    })
    schema = schemathesis.openapi.from_url(f"{live_url}/openapi.json", config=config)
    for label in EXCLUDED:
        method, path = label.split(" ", 1)
        schema = schema.exclude(method=method, path=path)
    started = time.monotonic()
    statistic = Statistic()
    cases: dict[str, int] = {}
    statuses: dict[str, Counter[int]] = {}
    errors: list[str] = []
    for event in engine_for(schema).execute():
        if isinstance(event, events.ScenarioFinished) and event.is_test_scenario:
            statistic.on_scenario_finished(event.recorder)
            for case_id, node in event.recorder.cases.items():
                label = node.value.operation.label
                cases[label] = cases.get(label, 0) + 1
                interaction = event.recorder.interactions.get(case_id)
                if interaction is not None and interaction.response is not None:
                    statuses.setdefault(label, Counter())[interaction.response.status_code] += 1
            if event.status == Status.ERROR:
                errors.append(f"{event.label}: scenario error")
        elif isinstance(event, events.NonFatalError):
            errors.append(f"{event.label}: {event.info.format()}")
        elif isinstance(event, events.FatalError):
            errors.append(f"fatal: {event.exception!r}")
    elapsed = time.monotonic() - started
    failures = [f"{label}:\n{group.format(index=None, curl=group.code_sample, config=config.output)}"
                for label, grouped in sorted(statistic.failures.items()) for group in grouped.values()]
    documented = {f"{m.upper()} {p}" for p, ops in schema.raw_schema["paths"].items() for m in ops}
    print(f"\nschemathesis {schemathesis.__version__} over /openapi.json: {len(cases)} of {len(documented)} operations, "
          f"{statistic.total_cases} requests checked ({', '.join(CHECKS)}), "
          f"{statistic.total_cases - statistic.cases_with_failures} pass, {len(failures)} failures, "
          f"{len(errors)} errors, in {elapsed:.0f} s")
    for label in sorted(cases):
        answered = ", ".join(f"{code}×{n}" for code, n in sorted(statuses.get(label, Counter()).items()))
        print(f"  {cases[label]:4d}  {label:40s} {answered}")
    assert not errors, "\n".join(errors)
    assert not failures, "\n\n".join(failures)
    assert set(cases) == documented - set(EXCLUDED), "every documented operation was exercised"


# What the run found (each was a 500 or an undocumented answer), pinned as plain requests.

def test_json_body_that_is_not_text_is_a_422_in_the_rest_shape(live_url: str) -> None:
    for path in ("/api/recommend", "/api/preferences", "/api/proposals", "/api/requirements/coverage"):
        r = httpx.post(live_url + path, content=b"\xff\xfeP", headers={"Content-Type": "application/json"})
        assert r.status_code == 422, (path, r.text)
        (error,) = r.json()["errors"]
        assert error["field"] == "(body)" and "not JSON" in error["message"]


@pytest.mark.parametrize("body", [b'"AAA"', b"7", b"null", b"\xff\xfe\x00"])
def test_graphql_body_that_is_not_an_object_is_a_400(live_url: str, body: bytes) -> None:
    r = httpx.post(live_url + "/graphql", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.text


def test_proposals_with_comparisons_that_leave_weights_open_are_a_422(live_url: str) -> None:
    r = httpx.post(live_url + "/api/proposals", json={"preferences": {"comparisons": [
        {"more": "performance", "less": "cost", "level": "weak"}, {"more": "security", "less": "latency", "level": "weak"}]}})
    if r.status_code == 501:
        pytest.skip("this install has no trained predictor")
    assert r.status_code == 422, r.text  # was a 500: the predictor's weighting raised PreferenceError
    assert r.json()["errors"][0]["field"] == "preferences.comparisons"


@pytest.mark.parametrize("method,path,allow", [("PATCH", "/sparql", "GET, POST"), ("OPTIONS", "/graphql", "GET, POST"),
                                               ("PATCH", "/rdf-graphs/service", "GET, POST, PUT, DELETE")])
def test_405_names_every_method_of_the_path(live_url: str, method: str, path: str, allow: str) -> None:
    r = httpx.request(method, live_url + path)
    assert r.status_code == 405 and r.headers["Allow"] == allow


def test_the_document_lists_the_middleware_answers(live_url: str) -> None:
    paths = httpx.get(live_url + "/openapi.json").json()["paths"]
    assert {"413", "429", "503"} <= set(paths["/api/recommend"]["post"]["responses"])
    health = paths["/api/health"]["get"]["responses"]
    assert {"429", "503"} <= set(health) and "413" not in health  # no request body
    assert "429" in paths["/sparql"]["get"]["responses"]
    assert "429" not in paths["/ontology"]["get"]["responses"]  # not an admitted path
    assert "404" in paths["/rdf-graphs/service"]["delete"]["responses"]
