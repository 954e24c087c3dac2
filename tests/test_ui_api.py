"""The UI's JSON endpoints and static files (api/ui.py over kg/exploration.py), against a real HTTP
server over the shipped MLPerf Tiny graph; no browser needed (tests/test_ui_browser.py drives one)."""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest

from api import ui
from api.app import create_app
from api.server import serve_in_background
from kg import exploration
from kg.bootstrap import ensure_initialized, shipped_quads
from kg.namespaces import DLOM, RDF, SPARQL_PREFIXES
from kg.store import Store, open_store

DEVICE = "https://w3id.org/dlom/id/device/v1-2/closed/syntiant/syntiant-9120-1v1-98mhz"
MODEL = "https://w3id.org/dlom/id/model/v1-2/closed/syntiant/syntiant-9120-1v1-98mhz/kws"


@pytest.fixture(scope="module")
def client(shipped: Store) -> Iterator[httpx.Client]:
    app = create_app(shipped)
    if "/api/search" not in {getattr(r, "path", None) for r in app.routes}:
        app.include_router(ui.router)
    with serve_in_background(app) as url, httpx.Client(base_url=url, timeout=30) as c:
        yield c


def test_index_and_static_assets_are_served(client: httpx.Client) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert '<script type="module" src="/ui/js/app.js">' in page.text
    js = client.get("/ui/js/app.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert client.get("/ui/css/dlom.css").headers["content-type"].startswith("text/css")


def test_the_wizard_fields_come_from_the_requirement_table(client: httpx.Client) -> None:
    """/ui/js/requirement-table.js is the table as an ES module; the wizard's presentation (FIELD_UI)
    names exactly the table's fields, so a new requirement shows up in its step."""
    from decision.requirement_table import REQUIREMENTS

    r = client.get("/ui/js/requirement-table.js")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    prefix = "export const REQUIREMENTS = "
    body = r.text.split(prefix, 1)[1].rstrip().removesuffix(";")
    assert json.loads(body) == [row.to_dict() for row in REQUIREMENTS]
    wizard = (ui.STATIC_DIR / "js" / "wizard.js").read_text(encoding="utf-8")
    assert 'import { REQUIREMENTS } from "./requirement-table.js";' in wizard
    presented = re.findall(r'^  "([a-z]+\.[a-z_]+)": ', wizard, flags=re.M)
    assert presented == [row.path for row in REQUIREMENTS]


@pytest.mark.parametrize("path", ["/ui/../ui.py", "/ui/%2e%2e/ui.py", "/ui/..%2fapp.py", "/ui/nothing.js", "/ui/js"])
def test_static_route_never_leaves_the_static_folder(client: httpx.Client, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 404
    assert "APIRouter" not in r.text


def test_search_finds_entities_by_label_and_class(client: httpx.Client) -> None:
    r = client.get("/api/search", params={"q": "ndp9120", "class": "https://w3id.org/dlom#EndDevice"})
    assert r.status_code == 200
    results = r.json()["results"]
    assert results and all("dlom:EndDevice" in x["classes"] for x in results)
    assert all("ndp9120" in x["label"].lower() for x in results)
    assert DEVICE in {x["iri"] for x in results}


def test_search_ranks_described_things_before_provenance_records(shipped: Store) -> None:
    found = exploration.search_entities(shipped, "nucleo", limit=5)
    assert found and "dlom:SourceFile" not in found[0].classes


@pytest.mark.parametrize("params, field", [({"q": "a"}, "q"), ({"q": "x" * 201}, "q"), ({"q": "ab", "class": "not an iri"}, "class")])
def test_search_input_errors_name_the_field(client: httpx.Client, params: dict[str, str], field: str) -> None:
    r = client.get("/api/search", params=params)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == field


def test_search_text_is_data_not_query(client: httpx.Client) -> None:
    r = client.get("/api/search", params={"q": '" } } DROP ALL ; SELECT * WHERE { ?s ?p ?o } #'})
    assert r.status_code == 200 and r.json()["results"] == []
    assert client.get("/api/health").json()["quads"] > 9000


def test_neighbourhood_links_both_directions_without_type_edges(client: httpx.Client) -> None:
    r = client.get("/api/neighbourhood", params={"iri": DEVICE})
    assert r.status_code == 200
    n = r.json()
    assert n["center"]["iri"] == DEVICE and "dlom:EndDevice" in n["center"]["classes"]
    incoming = [e for e in n["edges"] if e["target"] == DEVICE and e["label"] == "deployedOn"]
    assert MODEL in {e["source"] for e in incoming}
    assert all(e["predicate"] != "http://www.w3.org/1999/02/22-rdf-syntax-ns#type" for e in n["edges"])
    node_iris = {x["iri"] for x in n["nodes"]}
    assert all((e["source"] if e["target"] == DEVICE else e["target"]) in node_iris for e in n["edges"])
    assert any(lit["predicate"] == "dlom:processor" and lit["value"] == "HiFi3 + M0" for lit in n["literals"])


def test_neighbourhood_limit_truncates(client: httpx.Client) -> None:
    n = client.get("/api/neighbourhood", params={"iri": "https://w3id.org/dlom#Model", "limit": 3}).json()
    assert len(n["edges"]) <= 3 and n["truncated"] is True


def test_neighbourhood_errors(client: httpx.Client) -> None:
    assert client.get("/api/neighbourhood", params={"iri": "no iri"}).status_code == 422
    missing = client.get("/api/neighbourhood", params={"iri": "https://example.org/nothing"})
    assert missing.status_code == 404 and missing.json()["errors"][0]["field"] == "iri"
    assert client.get("/api/neighbourhood", params={"iri": DEVICE, "limit": 0}).status_code == 422


def test_model_card_has_fig8b_fields_and_marks_unknowns(client: httpx.Client) -> None:
    r = client.get(f"/api/model-card?iri={quote(MODEL, safe='')}")
    assert r.status_code == 200
    c = r.json()
    assert [f["key"] for f in c["fields"]] == [k for k, _ in exploration.MODEL_CARD_FIELDS]
    assert c["purpose"] == "keyword spotting" and c["year_created"] == 2024
    assert c["accuracy"] == {"value": 0.911, "kind": "measured", "confidence": None}
    assert c["total_cost_usd"] is None and c["cloud"] is None and c["stability"] is None  # not in MLPerf Tiny
    assert c["devices"][0]["iri"] == DEVICE and c["devices"][0]["processor"] == "HiFi3 + M0"
    assert {t["family"] for t in c["techniques"]} == {"Quantization", "Hardware/compiler optimization"}
    assert client.get("/api/model-card", params={"iri": DEVICE}).status_code == 404


def test_wizard_options_come_from_the_graph(client: httpx.Client) -> None:
    o = client.get("/api/wizard-options").json()
    assert "keyword spotting" in o["purposes"]
    assert "ResNet-8 (MLPerf Tiny image classification reference)" in o["networks"]
    assert "CIFAR-10" in o["training_datasets"]
    # one name per framework family, and frameworks of none without the source references submitters
    # appended (URLs, commit ids)
    assert o["frameworks"] and not [f for f in o["frameworks"] if "http" in f or "='" in f or "commit" in f.lower()]
    assert {"TensorFlow Lite for Microcontrollers", "TensorFlow Lite", "Apache TVM", "OpenVINO"} <= set(o["frameworks"])
    assert not [f for f in o["frameworks"] if "micro" in f.lower() and "tvm" not in f.lower()
                and f != "TensorFlow Lite for Microcontrollers"], "a second spelling of TFLite Micro is offered"
    assert len(o["frameworks"]) == len({f.lower() for f in o["frameworks"]})


def test_each_offered_framework_is_a_family_or_the_start_of_a_label(shipped: Store, client: httpx.Client) -> None:
    """What the wizard offers, the framework requirement finds: a family the graph records, or the start of
    the label of a framework of no family."""
    rows = shipped.select("PREFIX dlom: <https://w3id.org/dlom#> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
                          "SELECT ?l ?family WHERE { ?f a dlom:Framework ; rdfs:label ?l "
                          "OPTIONAL { ?f dlom:frameworkFamily ?family } }").dicts()
    assert len(rows) > 100
    families = {r["family"].value for r in rows if "family" in r}
    unfamiliar = [r["l"].value for r in rows if "family" not in r]
    for name in client.get("/api/wizard-options").json()["frameworks"]:
        assert name in families or any(label.strip().startswith(name) for label in unfamiliar), name


def test_latency_accuracy_points(client: httpx.Client) -> None:
    d = client.get("/api/charts/latency-accuracy").json()
    shipped_models = sum(1 for q in shipped_quads() if q.predicate == RDF.type and q.object == DLOM.Model)
    assert shipped_models >= 255  # every MLPerf Tiny model, plus the shipped bench sweep
    assert d["models"] == shipped_models and 0 < d["models_plotted"] <= d["models"]
    p = next(x for x in d["points"] if x["model"] == MODEL)
    assert p["accuracy"] == 0.911 and p["kind"] == "measured" and p["family"] == "Cadence HiFi DSP"


@pytest.mark.parametrize("processor, family", [
    ("32-bit Arm® Cortex®-M4 (DSP + FPU)", "Arm Cortex-M4"), ("ARM Cortex-M33 CPU with FPU", "Arm Cortex-M33"),
    ("32-bit Arm® Cortex®-M0+", "Arm Cortex-M0+"), ("GAP9 Risc-v", "RISC-V"), (None, "unknown"), ("Microblaze", "Microblaze")])
def test_device_family(processor: str | None, family: str) -> None:
    assert exploration.device_family(processor) == family


def test_predicted_vs_measured_empty_then_paired(shipped: Store) -> None:
    assert exploration.predicted_vs_measured(shipped)["pairs"] == []
    # a predicted performance for an already-measured configuration pairs with the measurement
    s = open_store("oxigraph://")
    ensure_initialized(s)
    from pyoxigraph import Literal, NamedNode, Quad

    from kg.namespaces import DLOM, RDF
    from kg.repositories import Repository
    perf = NamedNode("https://w3id.org/dlom/id/performance/predicted/test")
    g = Repository.MODELS_AND_PERFORMANCE.graph
    s.add([Quad(NamedNode(MODEL), DLOM.hasPerformance, perf, g), Quad(perf, RDF.type, DLOM.PredictedPerformance, g),
           Quad(perf, DLOM.accuracy, Literal("0.9", datatype=NamedNode("http://www.w3.org/2001/XMLSchema#decimal")), g)])
    result = exploration.predicted_vs_measured(s)
    pair = next(p for p in result["pairs"] if p["metric"] == "accuracy")
    assert pair["predicted"] == 0.9 and pair["measured"] == 0.911 and result["predicted_models"] == 1
    s.close()


def test_every_example_query_runs_on_the_shipped_graph(shipped: Store) -> None:
    examples = json.loads((ui.STATIC_DIR / "sparql-examples.json").read_text())
    assert len(examples) >= 6
    for ex in examples:
        assert ex["title"] and ex["description"]
        rows = list(shipped.query(ex["query"]).rows)
        if "Predicted" not in ex["title"]:
            assert rows, ex["title"]


# -- issue 19: boards first, counts and paging; clusters; one node per physical board; labels and units --

DLN_RESNET50 = "https://w3id.org/dlom/id/dln/resnet-50"
BOARD = "https://w3id.org/dlom/id/hardware/board/nucleo-l4r5zi"
BOARD_MODEL = "https://w3id.org/dlom/id/model/v1-1/closed/stmicroelectronics/nucleo-l4r5zi/ic"
BOARD_DEVICE = "https://w3id.org/dlom/id/device/v1-1/closed/stmicroelectronics/nucleo-l4r5zi"
DLOM_NS = "https://w3id.org/dlom#"


def _count(store: Store, sparql: str) -> int:
    rows = store.select(SPARQL_PREFIXES + sparql).dicts()
    return int(rows[0]["n"].value)


def test_search_ranks_boards_first_with_counts_and_pages(client: httpx.Client, shipped: Store) -> None:
    """"Nucleo" finds the boards (dlom:Hardware) first, then devices and other described things, then
    models, then provenance records; the total counts every match and pages continue the same order."""
    first = client.get("/api/search", params={"q": "Nucleo", "limit": 25}).json()
    ranks = [("dlom:Hardware" in r["classes"], "dlom:Model" in r["classes"]) for r in first["results"]]
    boards = _count(shipped, """SELECT (COUNT(DISTINCT ?h) AS ?n) WHERE { ?h a dlom:Hardware ; rdfs:label ?l
                                FILTER(CONTAINS(LCASE(STR(?l)), "nucleo")) }""")
    assert boards >= 4 and all(is_board for is_board, _ in ranks[:boards]) and not any(b for b, _ in ranks[boards:])
    assert first["by_rank"]["hardware"] == boards and first["total"] == sum(first["by_rank"].values())
    assert list(first["by_rank"]) == [k for k in exploration.SEARCH_RANKS if k in first["by_rank"]]
    assert first["total"] > 100 and first["has_more"] and first["offset"] == 0
    # a board says how many per-source configurations it has; a configuration names its board
    board = next(r for r in first["results"] if r["iri"] == BOARD)
    assert board["hardware"] == {"kind": "board", "configurations": _count(
        shipped, f"SELECT (COUNT(?d) AS ?n) WHERE {{ <{BOARD}> dlom:hasConfiguration ?d }}")}
    device = next(r for r in first["results"] if "dlom:EndDevice" in r["classes"])
    assert device["hardware"]["board"]["label"].upper().startswith("NUCLEO")
    second = client.get("/api/search", params={"q": "Nucleo", "limit": 25, "offset": 25}).json()
    assert second["offset"] == 25 and len(second["results"]) == 25 and second["total"] == first["total"]
    assert not {r["iri"] for r in first["results"]} & {r["iri"] for r in second["results"]}
    # the models come after every non-model entity: at the boundary the page holds the last other entity, then a model
    boundary = first["by_rank"]["hardware"] + first["by_rank"]["entity"]
    edge = client.get("/api/search", params={"q": "Nucleo", "limit": 2, "offset": boundary - 1}).json()["results"]
    assert ["dlom:Model" in r["classes"] for r in edge] == [False, True]


@pytest.mark.parametrize("params, field", [({"q": "nucleo", "offset": -1}, "offset"), ({"q": "nucleo", "offset": "x"}, "offset"),
                                           ({"q": "nucleo", "offset": 10_001}, "offset"), ({"q": "nucleo", "limit": 51}, "limit")])
def test_search_paging_errors_name_the_field(client: httpx.Client, params: dict[str, object], field: str) -> None:
    r = client.get("/api/search", params=params)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == field


def test_neighbourhood_clusters_large_groups_with_readable_labels(client: httpx.Client, shipped: Store) -> None:
    n = client.get("/api/neighbourhood", params={"iri": DLN_RESNET50}).json()
    models = _count(shipped, f"SELECT (COUNT(DISTINCT ?m) AS ?n) WHERE {{ ?m dlom:usesDLN <{DLN_RESNET50}> }}")
    cluster = next(c for c in n["clusters"] if c["predicate"] == DLOM_NS + "usesDLN")
    assert cluster["direction"] == "in" and cluster["class_iri"] == DLOM_NS + "Model" and cluster["count"] == models > 100
    assert cluster["label"] == f"{models:,} Models via usesDLN"
    assert n["truncated"] is True and len(n["edges"]) <= 60
    assert n["links"] == len(n["edges"]) + sum(c["count"] for c in n["clusters"])
    assert all(e["predicate"] != DLOM_NS + "usesDLN" for e in n["edges"])
    # the cluster pages through its members, by label, without overlap, to the last one
    seen: list[str] = []
    for offset in range(0, models, 100):
        page = client.get("/api/neighbourhood/cluster", params={"iri": DLN_RESNET50, "predicate": cluster["predicate"], "direction": "in",
                                                                 "class": cluster["class_iri"], "offset": offset, "limit": 100}).json()
        assert page["total"] == models and page["cluster"]["label"] == cluster["label"]
        assert all("dlom:Model" in m["classes"] for m in page["members"])
        seen += [m["iri"] for m in page["members"]]
    assert len(seen) == len(set(seen)) == models and page["has_more"] is False
    # a small threshold clusters small groups too; every link is still an edge or in a cluster
    small = client.get("/api/neighbourhood", params={"iri": BOARD_MODEL, "cluster_at": 1, "limit": 200}).json()
    assert small["links"] == len(small["edges"]) + sum(c["count"] for c in small["clusters"])


@pytest.mark.parametrize("params, status, field", [
    ({"iri": DLN_RESNET50, "predicate": DLOM_NS + "usesDLN", "direction": "sideways"}, 422, "direction"),
    ({"iri": DLN_RESNET50, "predicate": "not an iri", "direction": "in"}, 422, "predicate"),
    ({"iri": DLN_RESNET50, "predicate": DLOM_NS + "usesDLN", "direction": "in", "class": "x y"}, 422, "class"),
    ({"iri": DLN_RESNET50, "predicate": DLOM_NS + "usesDLN", "direction": "in", "limit": 0}, 422, "limit"),
    ({"iri": DLN_RESNET50, "predicate": DLOM_NS + "usesDLN", "direction": "in", "offset": -3}, 422, "offset"),
    ({"iri": DLN_RESNET50, "predicate": DLOM_NS + "usesDLN"}, 422, "direction"),
    ({"iri": "https://example.org/nothing", "predicate": DLOM_NS + "usesDLN", "direction": "in"}, 404, "iri"),
])
def test_cluster_errors_name_the_field(client: httpx.Client, params: dict[str, object], status: int, field: str) -> None:
    r = client.get("/api/neighbourhood/cluster", params=params)
    assert r.status_code == status and r.json()["errors"][0]["field"] == field


def test_one_node_per_physical_board(client: httpx.Client, shipped: Store) -> None:
    """A model's device is drawn as its physical board (the dlom:Hardware entity), through the
    per-source configuration; the board's neighbourhood reaches every configuration and every model
    deployed on any of them, and lists the board–configuration link once."""
    n = client.get("/api/neighbourhood", params={"iri": BOARD_MODEL}).json()
    deployed = [e for e in n["edges"] if e["label"] == "deployedOn"]
    assert [(e["target"], e["via"]) for e in deployed] == [(BOARD, [BOARD_DEVICE])]
    assert all("dlom:EndDevice" not in x["classes"] for x in n["nodes"])
    board = client.get("/api/neighbourhood", params={"iri": BOARD, "cluster_at": 200, "limit": 200}).json()
    configurations = _count(shipped, f"SELECT (COUNT(DISTINCT ?d) AS ?n) WHERE {{ <{BOARD}> dlom:hasConfiguration ?d }}")
    models = _count(shipped, f"SELECT (COUNT(DISTINCT ?m) AS ?n) WHERE {{ <{BOARD}> dlom:hasConfiguration ?d . ?m dlom:deployedOn ?d }}")
    listed = [e for e in board["edges"] if e["label"] == "hasConfiguration"]
    assert len(listed) == configurations > 5 and all(e["source"] == BOARD for e in listed)
    assert not [e for e in board["edges"] if e["label"] == "hardware"]  # the inverse link is not drawn twice
    on_board = {e["source"] for e in board["edges"] if e["label"] == "deployedOn"}
    assert len(on_board) == models and BOARD_MODEL in on_board
    assert all(e["via"] for e in board["edges"] if e["label"] == "deployedOn")
    clustered = client.get("/api/neighbourhood", params={"iri": BOARD}).json()
    assert any(c["label"] == f"{models} Models via deployedOn" for c in clustered["clusters"])


def test_labels_and_units_of_result_iris(client: httpx.Client) -> None:
    r = client.post("/api/labels", json={"iris": [DLOM_NS + "memoryKB", DLOM_NS + "inferenceLatencyMs", DLOM_NS + "accuracy",
                                                  BOARD, "https://example.org/unknown", BOARD]})
    assert r.status_code == 200
    body = r.json()
    assert body["units"] == {DLOM_NS + "memoryKB": "KB", DLOM_NS + "inferenceLatencyMs": "ms"}  # accuracy is a ratio
    assert body["labels"][BOARD] == "NUCLEO-L4R5ZI" and body["labels"][DLOM_NS + "memoryKB"] == "memory (KB)"
    assert "https://example.org/unknown" not in body["labels"]


@pytest.mark.parametrize("body, field", [({"iris": [BOARD, "not an iri"]}, "iris.1"), ({"iris": [BOARD] * 501}, "iris"),
                                         ({}, "iris"), ({"iris": "x"}, "iris"), ({"iris": [3]}, "iris.0")])
def test_labels_errors_name_the_field(client: httpx.Client, body: dict[str, object], field: str) -> None:
    r = client.post("/api/labels", json=body)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == field
