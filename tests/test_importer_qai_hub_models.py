"""The AI Hub Models importer on the two real shared releases (../shared/data/qai-hub-models) and on
small broken copies of them.

Expected counts are recomputed here from the raw YAML of the wheels (zipfile + yaml), never taken from
the importer. The two releases are imported once for the module, one after the other (the second adds
to the first).
"""
from __future__ import annotations

import zipfile
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from kg.errors import InputError
from kg.importers import importers
from kg.importers.qai_hub_models import PACKAGE, SHARED_DLNS, import_qai_hub_models, precision_facts
from kg.namespaces import SPARQL_PREFIXES
from kg.ontology import ontology_quads
from kg.store import Store, open_store
from kg.terms import to_python

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "qai-hub-models"
WHEELS = {"0.45.0": DATA / "qai_hub_models-0.45.0-py3-none-any.whl",
          "0.55.0": DATA / "qai_hub_models-0.55.0-py3-none-any.whl"}

pytestmark = pytest.mark.skipif(not all(w.is_file() for w in WHEELS.values()), reason="needs ../shared/data/qai-hub-models")

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def raw_release(wheel: Path) -> dict[str, Any]:
    """The figures of one wheel, read straight from its YAML: latency rows, LLM rows, accuracy values,
    similar devices."""
    z = zipfile.ZipFile(wheel)
    rows, llm, acc, loss = [], [], [], []
    for name in z.namelist():
        parts = name.split("/")
        if len(parts) != 4 or parts[:2] != ["qai_hub_models", "models"] or parts[2].startswith("_"):
            continue
        if parts[3] == "perf.yaml":
            doc = yaml.load(z.read(name), Loader=_LOADER) or {}
            for prec, pd in (doc.get("precisions") or {}).items():
                for comp, cd in (pd.get("components") or {}).items():
                    for dev, dd in (cd.get("performance_metrics") or {}).items():
                        for rt, m in dd.items():
                            if "inference_time_milliseconds" in m:
                                rows.append((parts[2], prec, comp, dev, rt, m["job_id"],
                                             Decimal(str(m["inference_time_milliseconds"]))))
                            else:
                                llm.append((parts[2], prec, comp, dev, rt))
        elif parts[3] == "numerics.yaml":
            doc = yaml.load(z.read(name), Loader=_LOADER) or {}
            for metric in doc.get("metrics") or []:
                for dev, pd in (metric.get("device_metric") or {}).items():
                    for prec, rd in pd.items():
                        for rt, v in rd.items():
                            acc.append((parts[2], dev, prec, rt, Decimal(str(v["partial_metric"]))))
                            if metric.get("metric_unit") == "%" and metric.get("partial_torch_metric") is not None:
                                loss.append((parts[2], prec, rt, Decimal(str(metric["partial_torch_metric"]))
                                             - Decimal(str(v["partial_metric"]))))
    similar: set[str] = set()
    if "qai_hub_models/similar_devices.yaml" in z.namelist():
        similar = set((yaml.load(z.read("qai_hub_models/similar_devices.yaml"), Loader=_LOADER) or {})["devices"])
    return {"rows": rows, "llm": llm, "accuracy": acc, "loss": loss, "similar": similar}


@pytest.fixture(scope="module")
def raw() -> dict[str, dict[str, Any]]:
    return {v: raw_release(w) for v, w in WHEELS.items()}


@pytest.fixture(scope="module")
def imported() -> Any:
    """Both releases imported into one in-memory store, 0.45.0 first, then 0.55.0."""
    store = open_store("oxigraph://")
    store.add(ontology_quads())
    reports = {v: import_qai_hub_models(store, w) for v, w in WHEELS.items()}
    yield store, reports
    store.close()


def select(store: Store, query: str) -> list[list[Any]]:
    result = store.select(SPARQL_PREFIXES + query)
    return [[to_python(t) for t in row] for row in result.rows]


def test_the_raw_counts_are_those_the_shared_readme_states(raw: dict[str, dict[str, Any]]) -> None:
    assert len(raw["0.45.0"]["rows"]) == 6669 and len(raw["0.55.0"]["rows"]) == 12673
    assert len(raw["0.45.0"]["accuracy"]) == 459 and len(raw["0.55.0"]["accuracy"]) == 580
    assert len(raw["0.55.0"]["llm"]) == 129
    assert len({r[5] for r in raw["0.55.0"]["rows"]}) == 9051


def test_the_importer_is_registered() -> None:
    assert importers()["qai-hub-models"] is import_qai_hub_models


def test_every_latency_measurement_is_queryable_with_its_configuration(imported: Any, raw: dict[str, Any]) -> None:
    store, reports = imported
    got = select(store, """
        SELECT ?round ?prec ?comp ?dev ?rt ?job ?lat WHERE {
          ?m a dlom:Model ; dlom:benchmarkRound ?round ; dlom:precision ?prec ; dlom:component ?comp ;
             dlom:runtime ?rt ; dlom:deployedOn/dlom:publishedName ?dev ; dlom:usesDLN ?dln ; dlom:hasPerformance ?p .
          ?p dlom:inferenceLatencyMs ?lat ; prov:wasGeneratedBy/dlom:jobId ?job .
          ?p a ?kind . FILTER(?kind IN (dlom:MeasuredPerformance, dlom:CopiedPerformance))
        }""")
    for version, data in raw.items():
        expected = Counter((p, c, d, rt, j, float(lat)) for _, p, c, d, rt, j, lat in data["rows"])
        found = Counter((p, c, d, rt, j, lat) for r, p, c, d, rt, j, lat in got if r == version)
        missing = expected - found
        # >= 99 % required; every row that is not imported must be listed with its reason
        assert sum(missing.values()) <= 0.01 * len(data["rows"])
        assert sum(missing.values()) <= len(reports[version].skipped)
        assert found - expected == Counter()
    assert all(not r.skipped for r in reports.values())  # in fact every row of both releases is there


def test_each_model_uses_the_dln_of_its_model_id(imported: Any, raw: dict[str, Any]) -> None:
    store, _ = imported
    dlns = {r[0] for r in select(store, "SELECT DISTINCT ?dln WHERE { ?m dlom:precision ?x ; dlom:usesDLN ?dln }")}
    ids = {r[0] for data in raw.values() for r in data["rows"]}
    expected = {SHARED_DLNS[i].iri.value if i in SHARED_DLNS else f"https://w3id.org/dlom/id/dln/{PACKAGE}/{i.replace('_', '-')}"
                for i in ids}
    assert expected <= dlns


def test_every_device_accuracy_value_is_a_performance_of_its_configuration(imported: Any, raw: dict[str, Any]) -> None:
    store, _ = imported
    got = select(store, """
        SELECT ?round ?dev ?prec ?rt ?v WHERE {
          ?m dlom:benchmarkRound ?round ; dlom:precision ?prec ; dlom:runtime ?rt ;
             dlom:deployedOn/dlom:publishedName ?dev ; dlom:hasPerformance ?p .
          ?p a dlom:MeasuredPerformance ; dlom:metricValue ?v ; dlom:accuracyMetric ?metric }""")
    for version, data in raw.items():
        expected = Counter((d, p, rt, float(v)) for _, d, p, rt, v in data["accuracy"])
        found = Counter((d, p, rt, v) for r, d, p, rt, v in got if r == version)
        assert found == expected


def dln_iri(model_id: str) -> str:
    return SHARED_DLNS[model_id].iri.value if model_id in SHARED_DLNS else \
        f"https://w3id.org/dlom/id/dln/{PACKAGE}/{model_id.replace('_', '-')}"


def test_every_model_carries_the_accuracy_its_precision_and_runtime_lose(imported: Any, raw: dict[str, Any]) -> None:
    """dlom:accuracyLossPoints = float reference − on-device value of the % metric, the largest over the
    devices measured, on every model (each device's) of that network, precision, runtime and release."""
    store, _ = imported
    got = select(store, """
        SELECT ?round ?dln ?prec ?rt ?loss (COUNT(?p) AS ?records) (MAX(?ref - ?v) AS ?worst) WHERE {
          ?m dlom:benchmarkRound ?round ; dlom:usesDLN ?dln ; dlom:precision ?prec ; dlom:runtime ?rt ;
             dlom:accuracyLossPoints ?loss ; dlom:accuracyLossMeasuredBy ?p .
          ?p a dlom:MeasuredPerformance ; dlom:metricUnit "%" ; dlom:floatReferenceValue ?ref ; dlom:metricValue ?v }
        GROUP BY ?m ?round ?dln ?prec ?rt ?loss""")
    assert got and all(abs(loss - worst) < 1e-9 for *_, loss, _, worst in got)
    found: dict[tuple[str, str, str, str], set[float]] = defaultdict(set)
    for r, dln, p, rt, loss, _, _ in got:
        found[(r, dln, p, rt)].add(round(loss, 6))
    worst: dict[tuple[str, str, str, str], Decimal] = {}  # per AI Hub model id
    for version, data in raw.items():
        for model_id, prec, rt, lost in data["loss"]:
            key = (version, model_id, prec, rt)
            worst[key] = max(worst.get(key, lost), lost)
    expected: dict[tuple[str, str, str, str], set[float]] = defaultdict(set)
    for (version, model_id, prec, rt), lost in worst.items():
        expected[(version, dln_iri(model_id), prec, rt)].add(round(float(lost), 6))
    assert found == expected
    # no model of such a configuration is left without it (on every device, not only the one measured)
    models = select(store, """
        SELECT ?round ?dln ?prec ?rt ?loss WHERE {
          ?m dlom:benchmarkRound ?round ; dlom:usesDLN ?dln ; dlom:precision ?prec ; dlom:runtime ?rt .
          OPTIONAL { ?m dlom:accuracyLossPoints ?loss } }""")
    without = [row for row in models if tuple(row[:4]) in expected and row[4] is None]
    assert without == [] and sum(1 for row in models if row[4] is not None) == len(got)


def test_copied_numbers_are_marked_and_linked_to_the_measurement_they_copy(imported: Any, raw: dict[str, Any]) -> None:
    store, _ = imported
    copies = select(store, """
        SELECT ?round ?dev ?srcdev ?job ?srcjob ?lat ?srclat WHERE {
          ?c a dlom:CopiedPerformance ; dlom:copiedFrom ?src ; dlom:inferenceLatencyMs ?lat ;
             prov:wasGeneratedBy/dlom:jobId ?job .
          ?src a dlom:MeasuredPerformance ; dlom:inferenceLatencyMs ?srclat ; prov:wasGeneratedBy/dlom:jobId ?srcjob .
          ?m dlom:hasPerformance ?c ; dlom:benchmarkRound ?round ; dlom:deployedOn/dlom:publishedName ?dev .
          ?sm dlom:hasPerformance ?src ; dlom:deployedOn/dlom:publishedName ?srcdev }""")
    for version, data in raw.items():
        # a job runs on one device: every row beyond the first of a job id is a copy
        expected = len(data["rows"]) - len({r[5] for r in data["rows"]})
        mine = [c for c in copies if c[0] == version]
        assert len(mine) == expected > 0
        assert all(job == srcjob and lat == srclat and dev != srcdev for _, dev, srcdev, job, srcjob, lat, srclat in mine)
        if data["similar"]:  # 0.55.0: exactly the devices similar_devices.yaml lists are the copies
            assert {c[1] for c in mine} <= data["similar"] and not {c[2] for c in mine} & data["similar"]
        else:  # 0.45.0 has no similar_devices.yaml: the "(Proxy)" devices carry the copies
            assert {c[1] for c in mine} == {"QCS8275 (Proxy)", "QCS9075 (Proxy)"}
    # no copied figure is counted as a measurement
    both = select(store, "SELECT (COUNT(*) AS ?n) WHERE { ?p a dlom:CopiedPerformance , dlom:MeasuredPerformance }")
    assert both == [[0]]
    linked = select(store, "SELECT DISTINCT ?d ?r WHERE { ?x dlom:numbersCopiedFrom ?y . ?x dlom:publishedName ?d . ?y dlom:publishedName ?r }")
    assert ["Dragonwing IQ-8275 EVK", "SA7255P ADP"] in linked


def test_llm_throughput_with_context_length(imported: Any, raw: dict[str, Any]) -> None:
    store, _ = imported
    n = select(store, """SELECT ?round (COUNT(?p) AS ?n) WHERE { ?m dlom:benchmarkRound ?round ; dlom:hasPerformance ?p .
                          ?p dlom:tokensPerSecond ?tps ; dlom:contextLength ?ctx ; dlom:timeToFirstTokenMaxMs ?t } GROUP BY ?round""")
    counts = dict((r, c) for r, c in n)
    assert counts["0.55.0"] >= len(raw["0.55.0"]["llm"]) and counts["0.45.0"] >= len(raw["0.45.0"]["llm"])


def test_precisions_are_quantizations_with_bit_widths(imported: Any) -> None:
    store, _ = imported
    rows = dict((p, (w, a)) for p, w, a in select(store, """SELECT ?p ?w ?a WHERE { ?q a dlom:Quantization ; dlom:precision ?p .
                 OPTIONAL { ?q dlom:weightBitWidth ?w } OPTIONAL { ?q dlom:activationBitWidth ?a } }"""))
    assert rows["w8a16"] == (8, 16) and rows["w8a8"] == (8, 8) and rows["w4a16"] == (4, 16)
    assert rows["mixed"] == (None, None) and "float" not in rows
    assert precision_facts("w8a16_mixed_int16") == (8, 16, "int16")
    assert select(store, "SELECT ?m WHERE { ?q dlom:precision 'w8a16_mixed_fp16' ; dlom:mixedPrecision ?m }") == [["fp16"]]


def test_devices_are_on_hardware_entities_with_form_factor_and_htp(imported: Any) -> None:
    store, _ = imported
    rows = select(store, """SELECT ?name ?ff ?kind ?htp ?soc WHERE { ?d dlom:publishedName ?name ; dlom:formFactor ?ff ;
                 dlom:hardware/dlom:hardwareKind ?kind ; dlom:socHardware/rdfs:label ?soc . OPTIONAL { ?d dlom:htpVersion ?htp } }""")
    by = {r[0]: r for r in rows}
    assert by["Dragonwing RB3 Gen 2 Vision Kit"][1:3] == ["IoT", "board"]
    assert by["Samsung Galaxy S25"][1:3] == ["Phone", "phone"]
    assert by["SA8775P ADP"][1:3] == ["Auto", "vehicle-platform"]
    assert by["Snapdragon X Elite CRD"][2] == "laptop"
    # one hardware entity for the same phone in both releases
    hw = select(store, "SELECT (COUNT(DISTINCT ?d) AS ?n) (COUNT(DISTINCT ?h) AS ?k) WHERE { ?d dlom:publishedName 'Samsung Galaxy S25' ; dlom:hardware ?h }")
    assert hw == [[2, 1]]


def test_provenance_to_release_file_and_job(imported: Any) -> None:
    store, _ = imported
    rows = select(store, """SELECT ?job ?path ?version WHERE {
        ?p a dlom:MeasuredPerformance ; prov:wasGeneratedBy/dlom:jobId ?job ; prov:wasDerivedFrom ?f .
        ?f dlom:sourcePath ?path ; <http://purl.org/dc/terms/isPartOf>/dlom:releaseVersion ?version } LIMIT 5""")
    assert rows and all(path.endswith("/perf.yaml") and version in WHEELS for _, path, version in rows)


def test_the_same_network_from_the_bench_registry_is_one_entity(imported: Any) -> None:
    from bench.networks import get_network

    store, _ = imported
    for model_id, shared in SHARED_DLNS.items():
        assert get_network(shared.iri.value.rsplit("/", 1)[1]).dln_iri == shared.iri
    rows = select(store, f"""SELECT (COUNT(DISTINCT ?m) AS ?n) WHERE {{ ?m dlom:usesDLN <{SHARED_DLNS['mobilenet_v2'].iri.value}> ;
                  dlom:deployedOn/dlom:formFactor ?ff }}""")
    assert rows[0][0] > 100


def test_a_bench_dln_written_first_keeps_its_label_and_facts() -> None:
    """The bench writes its MobileNetV2 first; the AI Hub import joins it and adds no conflicting fact."""
    from bench.graph import network_triples
    from bench.networks import get_network
    from bench.profile import profile_network
    from kg.writes import write_triples

    spec = get_network("mobilenetv2")
    store = open_store("oxigraph://")
    try:
        store.add(ontology_quads())
        write_triples(store, network_triples(spec, profile_network(spec.build(1.0), spec.input_shape)))
        import_qai_hub_models(store, WHEELS["0.45.0"])
        labels = select(store, f"SELECT ?l WHERE {{ <{spec.dln_iri.value}> rdfs:label ?l }}")
        assert labels == [[spec.label]]
        cards = select(store, f"SELECT ?r WHERE {{ <{spec.dln_iri.value}> dlom:hasModelCard/dlom:inputResolution ?r }}")
        assert cards == [["224x224"]]
    finally:
        store.close()


def test_reimport_is_idempotent(imported: Any) -> None:
    store, _ = imported
    before = store.count()
    import_qai_hub_models(store, WHEELS["0.45.0"])
    assert store.count() == before


def test_the_second_release_adds_and_keeps_both(imported: Any) -> None:
    store, reports = imported
    rounds = dict(select(store, "SELECT ?r (COUNT(?m) AS ?n) WHERE { ?m a dlom:Model ; dlom:benchmarkRound ?r } GROUP BY ?r"))
    assert rounds["0.45.0"] == reports["0.45.0"].counts["models"] and rounds["0.55.0"] == reports["0.55.0"].counts["models"]


# ---------------------------------------------------------------------------------------------------
# Bad input: a small extracted release built from the real 0.45.0 files, one file broken at a time
# ---------------------------------------------------------------------------------------------------

MODEL = "mobilenet_v2"


def small_release(tmp_path: Path, perf: bytes | None = None) -> Path:
    z = zipfile.ZipFile(WHEELS["0.45.0"])
    root = tmp_path / "release"
    for member in ("qai_hub_models/devices_and_chipsets.yaml", f"qai_hub_models/models/{MODEL}/info.yaml",
                   f"qai_hub_models/models/{MODEL}/perf.yaml", "qai_hub_models-0.45.0.dist-info/METADATA"):
        target = root / member
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(z.read(member))
    if perf is not None:
        (root / f"qai_hub_models/models/{MODEL}/perf.yaml").write_bytes(perf)
    return root


def perf_lines() -> list[str]:
    return zipfile.ZipFile(WHEELS["0.45.0"]).read(f"qai_hub_models/models/{MODEL}/perf.yaml").decode().splitlines(True)


def refused(store: Store, path: Path) -> InputError:
    before = store.count()
    with pytest.raises(InputError) as info:
        import_qai_hub_models(store, path)
    assert store.count() == before  # nothing written
    return info.value


@pytest.fixture
def empty_store() -> Any:
    store = open_store("oxigraph://")
    store.add(ontology_quads())
    yield store
    store.close()


def test_a_small_extracted_release_imports(empty_store: Store, tmp_path: Path) -> None:
    report = import_qai_hub_models(empty_store, small_release(tmp_path))
    expected = sum(1 for r in raw_release(WHEELS["0.45.0"])["rows"] if r[0] == MODEL)
    assert report.counts["latency_rows"] == expected > 0


def test_malformed_yaml_names_file_and_line(empty_store: Store, tmp_path: Path) -> None:
    lines = perf_lines()
    lines.insert(10, "  bad: [unclosed\n")
    e = refused(empty_store, small_release(tmp_path, "".join(lines).encode()))
    assert e.file.endswith(f"{MODEL}/perf.yaml") and e.line is not None and 10 <= e.line <= 13
    assert "malformed YAML" in e.reason


def test_a_measurement_without_a_time_is_refused_with_its_line(empty_store: Store, tmp_path: Path) -> None:
    lines = perf_lines()
    i = next(n for n, line in enumerate(lines) if "inference_time_milliseconds" in line)
    del lines[i]
    e = refused(empty_store, small_release(tmp_path, "".join(lines).encode()))
    assert "no inference_time_milliseconds" in e.reason and e.line is not None and i - 4 <= e.line <= i
    assert e.file.endswith("perf.yaml")


def test_an_unknown_device_is_refused_with_its_line(empty_store: Store, tmp_path: Path) -> None:
    lines = perf_lines()
    i = next(n for n, line in enumerate(lines) if line.strip() == "performance_metrics:") + 1  # its first device
    lines[i] = "          Nokia 3310:\n"
    e = refused(empty_store, small_release(tmp_path, "".join(lines).encode()))
    assert "unknown device 'Nokia 3310'" in e.reason and e.line == i + 1


def test_a_path_that_is_no_release_is_refused(empty_store: Store, tmp_path: Path) -> None:
    e = refused(empty_store, tmp_path)
    assert "not a qai-hub-models release" in e.reason
