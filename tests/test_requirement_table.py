"""One table of requirements (decision.requirement_table): for every row, the SPARQL retrieval and the
Python check accept and reject the same candidates — text compared case-insensitively and without
surrounding blanks on both sides — and the model, the query, the checks and the CLI derive from it."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from decision_graph import ModelSpec, model_iri, model_triples
from pyoxigraph import Literal, Triple

from decision.checks import check_requirements, soft_met_counts
from decision.requirement_table import (REQUIREMENTS, Comparison, Requirement, normalized_name, normalized_text,
                                        sparql_normalized_name, sparql_normalized_text)
from decision.requirements import PREFERRABLE_FIELDS, SECTION_MODELS, parse_requirements
from decision.retrieval import build_query, load_candidates, retrieve
from kg.namespaces import DLOM, RDF, RDFS, SPARQL_PREFIXES, XSD, entity
from kg.results import Solutions
from kg.store import Store
from kg.terms import literal
from kg.writes import write_triples

# per requirement: the value required, and the values the candidates record (None: not recorded) —
# for text, variants in case and surrounding blanks that must match, and near misses that must not
CASES: dict[str, tuple[Any, list[Any]]] = {
    "project.business_focus": ("medical", ["Medical", "  MEDICAL ", "medical\t", "Medic", "Industrial", None]),
    "project.purpose": ("KEYWORD spotting", ["Keyword Spotting", "\n keyword spotting (KWS) ", "keyword", None]),
    "project.total_budget_usd": (150.0, [100.0, 150.0, 200.0, None]),
    "project.device_types": (["Raspberry Pi", "nucleo"], ["Raspberry Pi 4", "  RASPBERRY PI ", "board: STM32 Nucleo-64",
                                                          "Arduino Nano", "Raspberry"]),
    "network.network": ("ResNet-50", ["ResNet-50", " resnet_50 ", "RESNET 50", "ResNet-18", "ResNet-50 V2"]),
    "network.training_dataset": ("IMAGENET", ["ImageNet", " imagenet ", "ImageNet-21k", None]),
    "network.min_layers": (50, [51, 50, 10, None]),
    "cloud.server_hardware": ("NVIDIA", ["NVIDIA A100 GPU", "  nvidia gpu ", "Google TPU", None]),
    "cloud.shielded_execution": (True, [True, Literal("1", datatype=XSD.boolean), False, None]),
    "cloud.max_monthly_cost_usd": (50.0, [10.0, 50.0, 100.0, None]),
    "device.min_memory_kb": (300.0, [512.0, 300.0, 256.0, None]),
    "device.min_clock_mhz": (100.0, [1500.0, 100.0, 80.0, None]),
    "device.framework": ("TensorFlow Lite", ["TensorFlow Lite", " TENSORFLOW LITE Micro ", "PyTorch", None]),
    "device.form_factor": ("iot", ["IoT", " IOT ", "IoT board", "Phone", None]),
    "performance.min_accuracy": (0.9, [0.95, 0.9, 0.8, None]),
    "performance.max_accuracy_loss_points": (1.0, [0.4, 1.0, 2.5, None]),
    "performance.max_latency_ms": (50.0, [5.0, 50.0, 80.0, None]),
    "performance.max_energy_uj": (100.0, [50.0, 100.0, 500.0, None]),
    "performance.min_throughput_ips": (10.0, [100.0, 10.0, 1.0, None]),
    "performance.max_memory_mb": (64.0, [16.0, 64.0, 256.0, None]),
}
CONSTRAINTS = [r for r in REQUIREMENTS if r.constrains]


def _triples(row: Requirement, k: int, value: Any) -> list[Triple]:
    """Model ``k`` of ``row``'s case, recording ``value`` where the row's constraint looks for it."""
    name = f"{row.name}-{k}"
    spec = ModelSpec(name, dln=f"dln {name}", device=f"device {name}")
    triples = model_triples(spec)
    m = model_iri(name)
    dln = entity("dln", "decision-test", spec.dln)
    dev = entity("device", "decision-test", spec.device, name)
    perf = entity("performance", "decision-test", name)
    cloud = entity("cloud", "decision-test", name)
    triples += [Triple(m, DLOM.usesCloudConfiguration, cloud), Triple(cloud, RDF.type, DLOM.CloudConfiguration),
                Triple(cloud, RDFS.label, literal(f"cloud of {name}"))]
    if row.path == "network.network":  # the DLN's label is the value (or it has none)
        triples = [t for t in triples if not (t.subject == dln and t.predicate == RDFS.label)]
    if row.path == "project.device_types":  # the device's label, or its board (its label says nothing then)
        if value.startswith("board: "):
            return triples + [Triple(dev, DLOM.board, literal(value.removeprefix("board: ")))]
        triples = [t for t in triples if not (t.subject == dev and t.predicate == RDFS.label)]
        return triples + [Triple(dev, RDFS.label, literal(value))]
    if value is None:
        return triples
    if row.path == "device.framework":
        fw = entity("framework", "decision-test", name)
        return triples + [Triple(dev, DLOM.usesFramework, fw), Triple(fw, RDF.type, DLOM.Framework),
                          Triple(fw, RDFS.label, literal(value))]
    subject = {"m": m, "dln": dln, "dev": dev, "cloud": cloud, "perf": perf}[row.node]  # type: ignore[index]
    prefix, local = row.predicate.split(":")  # type: ignore[union-attr]
    predicate = RDFS[local] if prefix == "rdfs" else DLOM[local]
    return triples + [Triple(subject, predicate, value if isinstance(value, Literal) else literal(value))]


@pytest.fixture(scope="module")
def table_store() -> Store:
    from kg.ontology import ontology_quads
    from kg.store import open_store

    s = open_store("oxigraph://")
    s.add(ontology_quads())
    triples: list[Triple] = []
    for row in CONSTRAINTS:
        for k, value in enumerate(CASES[row.path][1]):
            triples += _triples(row, k, value)
    write_triples(s, list(dict.fromkeys(triples)), source="requirement table test")
    return s


def _data(row: Requirement, value: Any, **extra: Any) -> dict:
    return {row.section: {row.name: value}, **extra}


def test_every_constraint_has_cases() -> None:
    assert set(CASES) == {r.path for r in CONSTRAINTS}


@pytest.mark.parametrize("allow_unknown", [False, True], ids=["unknown-excluded", "unknown-allowed"])
@pytest.mark.parametrize("row", CONSTRAINTS, ids=lambda r: r.path)
def test_query_and_check_accept_the_same_candidates(table_store: Store, row: Requirement, allow_unknown: bool) -> None:
    required, recorded = CASES[row.path]
    names = {model_iri(f"{row.name}-{k}").value: k for k in range(len(recorded))}
    everyone = retrieve(table_store, parse_requirements({}))
    shown = load_candidates(table_store, everyone, [i for i, iri in enumerate(everyone.iris) if iri in names])
    req = parse_requirements(_data(row, required, allow_unknown=allow_unknown))
    by_check = set()
    for c in shown.values():
        [check] = check_requirements(c, req)
        if check.status == "met" or (allow_unknown and check.status == "unknown"):
            by_check.add(names[c.iri])
    by_query = {names[i] for i in retrieve(table_store, req).iris if i in names}
    assert by_query == by_check, f"{row.path}: the query keeps {sorted(by_query)}, the check {sorted(by_check)}"
    assert 0 < len(by_query) < len(recorded)  # the case tells something
    assert 0 in by_query and 1 in by_query  # the value itself and a variant (case, blanks, boundary) match


@pytest.mark.parametrize("row", [r for r in CONSTRAINTS if r.is_column], ids=lambda r: r.path)
def test_soft_counts_agree_with_the_check(table_store: Store, row: Requirement) -> None:
    required, recorded = CASES[row.path]
    req = parse_requirements(_data(row, required, preferred=[row.path]))
    found = retrieve(table_store, req)
    shown = load_candidates(table_store, found, list(range(len(found))))
    counts = soft_met_counts(found, req)
    for i, c in shown.items():
        [check] = check_requirements(c, req)
        assert counts[i] == (check.status == "met"), (row.path, c.label, check)


@pytest.mark.parametrize("text", ["Medical", "  MEDICAL ", "\tmédical\n", "ResNet-50", " Res_Net 50\r", "a  b", ""])
def test_the_sparql_normalization_is_the_python_one(store: Store, text: str) -> None:
    q = (SPARQL_PREFIXES + f"SELECT ({sparql_normalized_text('?t')} AS ?text) ({sparql_normalized_name('?t')} AS ?name) "
         "WHERE { }")
    result = store.query(q, substitutions={"t": literal(text)})
    assert isinstance(result, Solutions)
    [(got_text, got_name)] = result.rows
    assert (got_text.value, got_name.value) == (normalized_text(text), normalized_name(text))  # type: ignore[union-attr]


def test_values_reach_the_query_only_as_bound_terms() -> None:
    """Each value is a substitution, or a literal in a VALUES block (kg.binding): never query text."""
    for row in CONSTRAINTS:
        required = CASES[row.path][0]
        q = build_query(parse_requirements(_data(row, required)))
        assert f"?p_{row.var}" in q.text
        outside_values = re.sub(r"VALUES \([^)]*\) \{[^}]*\}", "", q.text)
        for text in ([required] if not isinstance(required, list) else required):
            if isinstance(text, str):
                assert text not in outside_values and normalized_text(text) not in outside_values


def test_the_model_and_the_preferred_fields_come_from_the_table() -> None:
    assert [(s, list(m.model_fields)) for s, m in SECTION_MODELS.items()] == \
        [(s, [r.name for r in REQUIREMENTS if r.section == s]) for s in SECTION_MODELS]
    assert PREFERRABLE_FIELDS == {r.path for r in CONSTRAINTS}
    for row in REQUIREMENTS:
        info = SECTION_MODELS[row.section].model_fields[row.name]
        assert info.description == row.description
    assert {r.path for r in REQUIREMENTS if r.comparison is Comparison.SCOPE} == \
        {"project.number_of_devices", "device.this_machine"}


def test_the_cli_options_come_from_the_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import typer
    from typer.testing import CliRunner

    import decision.recommend
    from dlom.recommend_command import recommend

    app = typer.Typer()
    app.command("recommend")(recommend)
    app.command("noop")(lambda: None)
    runner = CliRunner()
    out = runner.invoke(app, ["recommend", "--help"], env={"COLUMNS": "250"}).stdout
    options = [r for r in REQUIREMENTS if r.option is not None]
    for row in options:
        assert row.option.split("/")[0] in out and row.help in out  # type: ignore[union-attr]
    seen: list[dict] = []

    def spy(store: Store, data: dict, **kwargs: Any) -> Any:
        seen.append(data)
        raise typer.Exit(0)

    monkeypatch.setattr(decision.recommend, "recommend", spy)
    args = ["recommend", "--store", f"oxigraph://{tmp_path / 'store'}", "--network", " ResNet-50 ",
            "--device-type", "Raspberry Pi", "--device-type", "nucleo", "--max-latency-ms", "50", "--shielded",
            "--devices", "10"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert seen == [{"network": {"network": " ResNet-50 "}, "project": {"device_types": ["Raspberry Pi", "nucleo"],
                                                                         "number_of_devices": 10},
                     "performance": {"max_latency_ms": 50.0}, "cloud": {"shielded_execution": True}}]
