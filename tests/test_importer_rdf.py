"""The ``rdf`` importer: Turtle, N-Triples, N-Quads, JSON-LD; routing, SHACL, all-or-nothing."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import pyoxigraph as ox
from pyoxigraph import Literal, NamedNode, Triple

from kg.dump import export_nquads
from kg.errors import InputError
from kg.importers.rdf_files import import_rdf
from kg.namespaces import DLOM, XSD
from kg.repositories import Repository

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
EX = "https://example.org/t/"
PREFIXES = ("@prefix dlom: <https://w3id.org/dlom#> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
            f"@prefix ex: <{EX}> .\n")
DEVICE_TTL = PREFIXES + 'ex:d a dlom:EndDevice ; rdfs:label "Dev" ; dlom:memoryKB 256 .\n'
DEVICE_NT = (f'<{EX}d> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://w3id.org/dlom#EndDevice> .\n'
             f'<{EX}d> <http://www.w3.org/2000/01/rdf-schema#label> "Dev" .\n')
DEVICE_JSONLD = {"@context": {"dlom": "https://w3id.org/dlom#", "rdfs": "http://www.w3.org/2000/01/rdf-schema#"},
                 "@id": f"{EX}d", "@type": "dlom:EndDevice", "rdfs:label": "Dev"}


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def _graph_of(store, iri: str) -> set[str]:
    return {q.graph_name.value for q in store.quads() if q.subject == NamedNode(iri)}


@pytest.mark.parametrize(
    ("name", "text"),
    [("d.ttl", DEVICE_TTL), ("d.nt", DEVICE_NT), ("d.jsonld", json.dumps(DEVICE_JSONLD)),
     ("d.nq", DEVICE_NT.replace(" .\n", " <https://example.org/some-graph> .\n"))],
)
def test_each_syntax_is_imported_and_routed_by_class(store, tmp_path: Path, name: str, text: str) -> None:
    before = store.count()
    report = import_rdf(store, _write(tmp_path, name, text))
    assert report.triples >= 2 and store.count() == before + report.triples
    # Foreign graph names are ignored: an end device lands in the client-configurations repository.
    assert _graph_of(store, EX + "d") == {Repository.CLIENT_CONFIGURATIONS.value}


def test_example_file_and_reimport(store) -> None:
    report = import_rdf(store, EXAMPLES / "configuration.ttl")
    scratch = ox.Store()
    scratch.extend(ox.parse(path=str(EXAMPLES / "configuration.ttl"), format=ox.RdfFormat.TURTLE))
    assert report.triples == len(scratch)  # every statement of the file, none dropped
    stored = {q.triple for q in store.quads()}
    assert all(q.triple in stored for q in scratch)
    # "36.50" is written in canonical form and still counts as new on first import.
    assert Triple(NamedNode("https://example.org/dlom-example/arduino-nano-33"), DLOM.priceUsd,
                  Literal("36.5", datatype=XSD.decimal)) in stored
    before = store.count()
    assert import_rdf(store, EXAMPLES / "configuration.ttl").triples == 0
    assert store.count() == before
    assert _graph_of(store, "https://example.org/dlom-example/mobilenet-v1-025") == {Repository.DLN_PARAMETERS.value}
    assert _graph_of(store, "https://example.org/dlom-example/vww-perf") == {Repository.MODELS_AND_PERFORMANCE.value}


def test_a_dump_of_a_store_can_be_imported_into_another(store, tmp_path: Path) -> None:
    import_rdf(store, EXAMPLES / "configuration.ttl")
    dump = tmp_path / "dump.nq"
    export_nquads(store, dump)
    from kg.store import open_store
    from kg.ontology import ontology_quads

    other = open_store("oxigraph://")
    other.add(ontology_quads())
    import_rdf(other, dump)
    assert sorted(map(str, other.quads())) == sorted(map(str, store.quads()))


@pytest.mark.parametrize(
    ("name", "text", "line", "message"),
    [
        ("bad.ttl", PREFIXES + "ex:a ex:b ex:c .\nex:a ex:b \"unterminated .\n", 4, "malformed Turtle"),
        ("bad.nt", DEVICE_NT + "<http://a> <http://b> .\n", 3, "malformed N-Triples"),
        ("bad.nq", DEVICE_NT + "<http://a> <http://b> <http://c> <http://g> <http://h> .\n", 3, "malformed N-Quads"),
        ("bad.jsonld", '{\n "@id": "http://a",\n "http://b": [1,\n}', 4, "malformed JSON"),
    ],
)
def test_syntax_errors_name_file_and_line(store, tmp_path: Path, name: str, text: str, line: int, message: str) -> None:
    p = _write(tmp_path, name, text)
    before = store.count()
    with pytest.raises(InputError) as e:
        import_rdf(store, p)
    assert message in str(e.value) and e.value.line == line and e.value.file == str(p)
    assert store.count() == before


def test_shacl_violation_names_focus_and_property_and_writes_nothing(store, tmp_path: Path) -> None:
    text = DEVICE_TTL + 'ex:p a dlom:MeasuredPerformance ; rdfs:label "p" ; dlom:accuracy 1.7 .\n'
    before = store.count()
    with pytest.raises(InputError) as e:
        import_rdf(store, _write(tmp_path, "v.ttl", text))
    message = str(e.value)
    assert f"<{EX}p> dlom:accuracy" in message and "must be ≤ 1" in message
    assert f"<{EX}p> prov:wasGeneratedBy: needs at least 1" in message
    assert e.value.field_name in ("dlom:accuracy", "prov:wasGeneratedBy")
    assert store.count() == before


def test_unknown_extension_missing_file_and_read_only_ontology(store, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown RDF file extension"):
        import_rdf(store, _write(tmp_path, "x.rdfx", DEVICE_NT))
    with pytest.raises(InputError, match="file not found"):
        import_rdf(store, tmp_path / "none.ttl")
    before = store.count()
    with pytest.raises(InputError, match="ontology is read-only"):
        import_rdf(store, _write(tmp_path, "o.ttl", PREFIXES + 'dlom:Model rdfs:label "Something else" .\n'))
    assert store.count() == before


def test_quad_in_the_wrong_dlom_repository_is_refused(store, tmp_path: Path) -> None:
    wrong = DEVICE_NT.replace(" .\n", f" <{Repository.DLN_PARAMETERS.value}> .\n")
    before = store.count()
    with pytest.raises(InputError, match="dln-parameters graph"):
        import_rdf(store, _write(tmp_path, "w.nq", wrong))
    assert store.count() == before
    right = DEVICE_NT.replace(" .\n", f" <{Repository.CLIENT_CONFIGURATIONS.value}> .\n")
    assert import_rdf(store, _write(tmp_path, "r.nq", right)).triples == 2


def test_a_large_import_takes_the_bulk_path_whole_or_not_at_all(disk_store, tmp_path: Path) -> None:
    """An import above kg.writes.BULK_MIN_QUADS lands through the staged bulk path: every quad in its
    repository, nothing left beside the store; the same import with one invalid record writes nothing."""
    from benchmarks.generate_graph import generate_graph
    from kg.writes import BULK_MIN_QUADS

    quads = generate_graph(BULK_MIN_QUADS + 5_000)
    good = tmp_path / "big.nq"
    good.write_text("".join(f"{q} .\n" for q in quads))
    before = disk_store.count()
    import_rdf(disk_store, good)
    assert disk_store.count() == before + len(set(quads))
    assert {q.graph_name for q in disk_store.quads()} >= {q.graph_name for q in quads}
    assert len(quads) >= BULK_MIN_QUADS
    # Same size again, with one accuracy above 1 at the very end: refused, and the store is unchanged.
    bad = tmp_path / "bad.nq"
    bad.write_text(good.read_text().replace("synthetic/", "synthetic2/")
                   + f'<{EX}p> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://w3id.org/dlom#MeasuredPerformance> <{Repository.MODELS_AND_PERFORMANCE.value}> .\n'
                   + f'<{EX}p> <https://w3id.org/dlom#accuracy> "1.7"^^<{XSD.decimal.value}> <{Repository.MODELS_AND_PERFORMANCE.value}> .\n')
    after_good = disk_store.count()
    with pytest.raises(InputError):
        import_rdf(disk_store, bad)
    assert disk_store.count() == after_good
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("store")) == ["store", "store.lock"]
