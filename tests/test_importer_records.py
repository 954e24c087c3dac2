"""The ``records`` importer: CSV/JSON measured configurations, field-level errors, all-or-nothing."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from pyoxigraph import Literal, NamedNode, Triple

from kg.errors import InputError
from kg.importers.records import import_records
from kg.namespaces import DLOM, RDF, RDFS, XSD, entity
from kg.writes import write_triples

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
HEADER = "model,dln,device,device_memory,optimizations,latency_ms,accuracy,energy_uj,submitter,date\n"


def _csv(tmp_path: Path, *rows: str, header: str = HEADER) -> Path:
    p = tmp_path / "records.csv"
    p.write_text(header + "".join(r + "\n" for r in rows))
    return p


def _value(store, subject: NamedNode, prop: NamedNode):
    result = store.select("SELECT ?o WHERE { ?s ?p ?o }", substitutions={"s": subject, "p": prop})
    return [row[0] for row in result.rows]


def test_example_files_import_and_reimport_is_idempotent(store) -> None:
    before = store.count()
    report = import_records(store, EXAMPLES / "records.csv")
    assert report.triples > 0 and store.count() == before + report.triples
    assert report.counts["models"] == 3
    json_report = import_records(store, EXAMPLES / "records.json")
    assert json_report.counts["models"] == 2
    after = store.count()
    assert import_records(store, EXAMPLES / "records.csv").triples == 0
    assert store.count() == after


def test_values_are_normalized_to_canonical_units(store, tmp_path: Path) -> None:
    p = _csv(tmp_path, 'm1,MobileNetV2,Pi 4,4 GB,"quantization(bits=8, scheme=static); pruning(sparsity=0.5)",0.04 s,0.7,3.3 mJ,Lab A,2026-01-02')
    import_records(store, p)
    model = entity("model", "submitted", "Lab A", "m1")
    perf = entity("performance", "submitted", "Lab A", "m1", "2026-01-02")
    device = entity("device", "Pi 4")
    assert _value(store, perf, DLOM.inferenceLatencyMs)[0].value == "40"
    assert _value(store, perf, DLOM.energyPerInferenceUj)[0].value == "3300"
    assert _value(store, device, DLOM.memoryKB)[0].value == str(4 * 1024 * 1024)
    techniques = _value(store, model, DLOM.appliesOptimization)
    assert len(techniques) == 2
    kinds = {t.value for n in techniques for t in _value(store, n, RDF.type)}
    assert {DLOM.Quantization.value, DLOM.Pruning.value} <= kinds


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("m,N,D,1 MB,,5,1.7,,L,2026-01-01", "records.csv:2 [accuracy]: 1.7 is not in [0, 1]"),
        ("m,N,D,1 parsecs,,5,0.5,,L,2026-01-01", "records.csv:2 [device_memory]: unknown memory unit 'parsecs'"),
        ("m,N,D,1 MB,,5 fortnights,0.5,,L,2026-01-01", "[latency_ms]: unknown time unit"),
        ("m,N,D,1 MB,,-3,0.5,,L,2026-01-01", "[latency_ms]: -3 must be > 0"),
        (",N,D,1 MB,,5,0.5,,L,2026-01-01", "[model]: required field is missing"),
        ("m,N,D,1 MB,,5,0.5,,L,01/02/2026", "[date]: '01/02/2026' is not a date"),
        ("m,N,D,1 MB,,,,,L,2026-01-01", "needs at least one metric"),
        ("m,N,D,1 MB,warp(speed=9),5,0.5,,L,2026-01-01", "[optimizations]: unknown technique 'warp'"),
        ("m,N,D,1 MB,quantization(bits=99),5,0.5,,L,2026-01-01", "[optimizations.quantization.bits]: 99 is not in [1, 64]"),
        ("m,N,D,1 MB,pruning(bits=8),5,0.5,,L,2026-01-01", "unknown parameter 'bits' for pruning"),
    ],
)
def test_bad_fields_are_reported_with_line_and_field_and_nothing_is_written(store, tmp_path: Path, row: str, expected: str) -> None:
    good = "ok,N,D,1 MB,,5,0.5,,L,2026-01-01"
    p = _csv(tmp_path, row, good)
    before = store.count()
    with pytest.raises(InputError) as e:
        import_records(store, p)
    assert expected in str(e.value)
    assert str(p) in str(e.value)
    assert store.count() == before


def test_a_bad_record_later_in_the_file_names_its_own_line(store, tmp_path: Path) -> None:
    p = _csv(tmp_path, *(f"m{i},N,D,1 MB,,5,0.5,,L,2026-01-01" for i in range(5)), "m9,N,D,1 MB,,5,1.7,,L,2026-01-01")
    with pytest.raises(InputError) as e:
        import_records(store, p)
    assert e.value.line == 7 and e.value.field_name == "accuracy"
    assert str(e.value).startswith(f"{p}:7 [accuracy]: 1.7 is not in [0, 1]")


def test_unknown_column_and_malformed_json_and_missing_file(store, tmp_path: Path) -> None:
    before = store.count()
    p = _csv(tmp_path, "m,N,D,1 MB,,5,0.5,,L,2026-01-01", header=HEADER.replace("accuracy", "acuracy"))
    with pytest.raises(InputError, match=r"unknown column 'acuracy'"):
        import_records(store, p)
    j = tmp_path / "r.json"
    j.write_text('[\n  {"model": "m",\n   "dln": "N"\n   "device": "D"}\n]')
    with pytest.raises(InputError) as e:
        import_records(store, j)
    assert e.value.line == 4 and "malformed JSON" in str(e.value)
    with pytest.raises(InputError, match="file not found"):
        import_records(store, tmp_path / "nope.csv")
    assert store.count() == before


def test_json_record_errors_name_the_line_the_record_starts_on(store, tmp_path: Path) -> None:
    records = [{"model": "a", "dln": "N", "device": "D", "latency_ms": 3, "submitter": "L", "date": "2026-01-01"},
               {"model": "b", "dln": "N", "device": "D", "latency_ms": 3, "accuracy": 2, "submitter": "L", "date": "2026-01-01"}]
    j = tmp_path / "r.json"
    j.write_text(json.dumps(records, indent=2))
    with pytest.raises(InputError) as e:
        import_records(store, j)
    starts = [i + 1 for i, line in enumerate(json.dumps(records, indent=2).splitlines()) if line == "  {"]
    assert e.value.line == starts[1]
    assert e.value.field_name == "accuracy"


def test_existing_dln_and_device_are_reused_by_label_and_by_iri(store, tmp_path: Path) -> None:
    dln, dev = NamedNode("https://example.org/dln/rn50"), NamedNode("https://example.org/dev/jetson")
    write_triples(store, [Triple(*t) for t in [
        (dln, RDF.type, DLOM.DLN), (dln, RDFS.label, Literal("ResNet-50")),
        (dev, RDF.type, DLOM.EndDevice), (dev, RDFS.label, Literal("Jetson Nano")),
        (dev, DLOM.memoryKB, Literal("4194304", datatype=XSD.decimal))]])
    p = _csv(tmp_path, "a,ResNet-50,Jetson Nano,,,5,0.5,,L,2026-01-01",
             f"b,{dln.value},{dev.value},4 GB,,6,0.5,,L,2026-01-01")
    import_records(store, p)
    for label in ("a", "b"):
        model = entity("model", "submitted", "L", label)
        assert _value(store, model, DLOM.usesDLN) == [dln]
        assert _value(store, model, DLOM.deployedOn) == [dev]
    # No duplicate DLN or device was created for the labels.
    assert _value(store, entity("dln", "ResNet-50"), RDF.type) == []
    # A conflicting spec for the existing device is a SHACL maxCount violation, located at its line.
    q = _csv(tmp_path, "c,ResNet-50,Jetson Nano,8 GB,,6,0.5,,L,2026-01-01")
    before = store.count()
    with pytest.raises(InputError) as e:
        import_records(store, q)
    assert "dlom:memoryKB" in str(e.value) and e.value.line == 2 and e.value.field_name == "device_memory"
    assert store.count() == before


def test_unknown_iri_reference_is_an_error(store, tmp_path: Path) -> None:
    p = _csv(tmp_path, "a,https://example.org/no-such-dln,D,,,5,0.5,,L,2026-01-01")
    with pytest.raises(InputError, match=r"\[dln\]: <https://example.org/no-such-dln> is not a dlom:DLN"):
        import_records(store, p)
