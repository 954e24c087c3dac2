"""The decision REST routes over real HTTP: uvicorn on a loopback port serving api.app.create_app with
the decision router included, called with httpx."""
from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from decision_graph import ModelSpec, model_iri, write_models
from fastapi import FastAPI

from api.app import create_app
from api.server import serve_in_background
from api.settings import Settings
from decision.elicitation import PAPER_EXAMPLE_COMPARISONS
from decision.prediction import NO_PREDICTOR_MESSAGE
from kg.namespaces import SPARQL_PREFIXES
from kg.ontology import ontology_quads
from kg.store import Store, open_store

TOKEN = "s3cret-token"
FIG_8A = [dict(c) for c in PAPER_EXAMPLE_COMPARISONS]


def _without_predictor(store: Store, settings: Settings) -> FastAPI:
    """The app, answering as a server without a trained predictor does (api.predictor caches the reason
    on ``app.state``): these tests are about decision support, not the GNN, and need no torch."""
    app = create_app(store, settings)
    app.state.predictor_failure = "this test server has no prediction model"
    return app


@pytest.fixture(scope="module")
def api() -> Iterator[tuple[httpx.Client, httpx.Client, Store]]:
    """(client of a server with a token, client of a server without one, the shared store)."""
    store = open_store("oxigraph://")
    store.add(ontology_quads())
    write_models(store, [
        ModelSpec("Derm-ResNet", area="Medical", cost=12315, devices=10, accuracy=0.94, latency_ms=123),
        ModelSpec("Derm-Mobile", area="Medical", cost=9000, devices=10, accuracy=0.91, latency_ms=40),
        ModelSpec("Derm-Edge", area="Medical", cost=13000, devices=10, accuracy=0.92, latency_ms=200),
        ModelSpec("Derm-Luxury", area="Medical", cost=18000, devices=10, accuracy=0.97, latency_ms=20),
        ModelSpec("Factory", area="Industrial", cost=3000, devices=10, accuracy=0.99, latency_ms=5),
    ])
    with (serve_in_background(_without_predictor(store, Settings(update_token=TOKEN))) as url,
          serve_in_background(_without_predictor(store, Settings(update_token=None))) as url_off,
          httpx.Client(base_url=url, timeout=30) as c1, httpx.Client(base_url=url_off, timeout=30) as c2):
        yield c1, c2, store
    store.close()


def test_recommend_returns_ranked_explained_models(api) -> None:
    client, _, _ = api
    r = client.post("/api/recommend", params={"top_k": 2}, json={
        "project": {"business_focus": "Medical", "total_budget_usd": 14000, "number_of_devices": 10},
        "preferences": {"comparisons": FIG_8A}})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "ok" and body["candidates_considered"] == 3
    assert len(body["recommendations"]) == 2
    top = body["recommendations"][0]
    assert top["rank"] == 1 and abs(sum(o["contribution"] for o in top["objectives"]) - top["score"]) < 1e-9
    assert {o["source"] for o in top["objectives"]} <= {"rating", "derived", "effects", "missing"}
    assert any(q["field"] == "project.total_budget_usd" and q["status"] == "met" for q in top["requirements"])
    assert top["evidence"][0]["source_files"]
    assert abs(sum(body["weights"].values()) - 1) < 1e-9
    assert len(body["sensitivity"]) == 6 and body["pareto_front"]


def test_recommend_field_errors_are_422_not_500(api) -> None:
    client, _, _ = api
    r = client.post("/api/recommend", json={"performance": {"min_accuracy": 2}, "project": {"total_budget_usd": -1}})
    assert r.status_code == 422
    fields = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert fields["performance.min_accuracy"] == "must be in [0, 1]"
    assert "project.total_budget_usd" in fields
    r = client.post("/api/recommend", json={"preferences": {"comparisons": [
        {"more": "performance", "less": "cost", "level": "weak"}, {"more": "security", "less": "latency", "level": "weak"}]}})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "preferences.comparisons"
    r = client.post("/api/recommend", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and "errors" in r.json()
    assert client.post("/api/recommend", params={"top_k": 0}, json={}).json()["errors"][0]["field"] == "top_k"


def test_recommend_injection_and_no_match(api) -> None:
    client, _, store = api
    before = store.count()
    r = client.post("/api/recommend", json={"project": {"business_focus": '" } DROP ALL #'}})
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "no_match" and body["recommendations"] == [] and body["predictions"] == []
    assert body["message"] == NO_PREDICTOR_MESSAGE
    assert store.count() == before


def test_preferences_weights_and_consistency(api) -> None:
    client, _, _ = api
    r = client.post("/api/preferences", json={"comparisons": FIG_8A})
    assert r.status_code == 200, r.text
    body = r.json()
    assert abs(sum(body["weights"].values()) - 1) < 1e-9
    assert max(body["weights"], key=body["weights"].get) == "performance"
    assert body["consistency"]["missing_comparisons"] == 8 and body["consistency"]["consistent"]
    m = body["completed_matrix"]
    assert all(abs(m[i][j] * m[j][i] - 1) < 1e-9 for i in range(6) for j in range(6))
    cycle = [{"more": "performance", "less": "cost", "level": "absolute"},
             {"more": "cost", "less": "security", "level": "absolute"},
             {"more": "security", "less": "performance", "level": "absolute"},
             {"more": "performance", "less": "reliability", "level": "equal"},
             {"more": "performance", "less": "latency", "level": "equal"},
             {"more": "performance", "less": "complexity", "level": "equal"}]
    bad = client.post("/api/preferences", json={"comparisons": cycle}).json()
    assert not bad["consistency"]["consistent"] and bad["consistency"]["most_inconsistent"]
    r = client.post("/api/preferences", json={"comparisons": [{"more": "cost", "less": "cost", "level": "weak"}]})
    assert r.status_code == 422 and r.json()["errors"][0]["field"].startswith("comparisons.0")
    assert body["status"] == "complete" and body["unconnected_groups"] == []


def test_preferences_half_finished_is_200_incomplete(api) -> None:
    """Every intermediate answer of the table is a normal request: 200 with status incomplete, the groups
    not yet connected and the comparisons still needed; completing those gives weights."""
    client, _, _ = api
    two = FIG_8A[:2]
    r = client.post("/api/preferences", json={"comparisons": two})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "incomplete" and body["weights"] is None and body["consistency"] is None
    assert sorted(map(sorted, body["unconnected_groups"])) == sorted(
        [sorted(["performance", "cost"]), sorted(["security", "latency"]), ["reliability"], ["complexity"]])
    needed = [{"more": n["a"], "less": n["b"], "level": "equal"} for n in body["needed_comparisons"]]
    assert len(needed) == 3
    done = client.post("/api/preferences", json={"comparisons": two + needed}).json()
    assert done["status"] == "complete" and abs(sum(done["weights"].values()) - 1) < 1e-9


def test_ratings_need_the_token_and_are_stored(api) -> None:
    client, client_off, store = api
    iri = model_iri("Derm-Mobile").value
    body = {"model": iri, "rater": "alice", "ratings": {"cost": 5, "security": 3}}
    assert client.post("/api/ratings", json=body).status_code == 401
    assert client.post("/api/ratings", json=body, headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert client_off.post("/api/ratings", json=body, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 403
    r = client.post("/api/ratings", json=body, headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 201, r.text
    assert {s["objective"] for s in r.json()["stored"]} == {"cost", "security"}
    rows = store.select(SPARQL_PREFIXES + "SELECT ?who WHERE { ?m dlom:hasRating ?r . ?r dlom:raterName ?who }",
                        substitutions={"m": model_iri("Derm-Mobile")})
    assert [w.value for (w,) in rows.rows] == ["alice", "alice"]
    auth = {"Authorization": f"Bearer {TOKEN}"}
    r = client.post("/api/ratings", json=dict(body, ratings={"cost": 9}), headers=auth)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "ratings"
    r = client.post("/api/ratings", json=dict(body, model="https://example.org/nope"), headers=auth)
    assert r.status_code == 404 and r.json()["errors"][0]["field"] == "model"
    r = client.post("/api/ratings", json=dict(body, model="not an iri"), headers=auth)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "model"
    r = client.post("/api/ratings", json=dict(body, ratings={"speed": 3}), headers=auth)
    assert r.status_code == 422


def test_routes_are_in_the_openapi_document(api) -> None:
    client, _, _ = api
    spec = client.get("/openapi.json").json()
    for path in ("/api/recommend", "/api/preferences", "/api/ratings"):
        assert "post" in spec["paths"][path]
    assert "Requirements" in spec["components"]["schemas"]
    assert "RecommendResponse" in spec["components"]["schemas"]


def test_requirement_coverage_says_what_the_data_can_check(api) -> None:
    client, _, _ = api
    body = {"project": {"business_focus": "Medical", "purpose": "skin lesions", "number_of_devices": 10}}
    r = client.post("/api/requirements/coverage", json=body)
    assert r.status_code == 200, r.text
    got = {a["field"]: a for a in r.json()["requirements"]}
    assert got["project.business_focus"]["status"] == "applied" and got["project.business_focus"]["with_data"] == 5
    assert got["project.purpose"]["status"] == "not_applied" and got["project.purpose"]["with_data"] == 0
    assert "none of the 5 candidate(s) records a purpose" in got["project.purpose"]["reason"]
    # the recommendation applies the field, reports the purpose not applied, and still answers
    rec = client.post("/api/recommend", json={**body, "preferences": {"comparisons": FIG_8A}}).json()
    assert rec["status"] == "ok" and rec["candidates_considered"] == 4
    assert {a["field"]: a["status"] for a in rec["requirements_applied"]}["project.purpose"] == "not_applied"
    top = rec["recommendations"][0]
    assert {o["source_label"] for o in top["objectives"]} <= {"measured", "no data", "effect-derived (Table 1)"}
    assert "similar_count" in top
    bad = client.post("/api/requirements/coverage", json={"project": {"total_budget_usd": -1}})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "project.total_budget_usd"
