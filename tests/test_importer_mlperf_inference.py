"""The MLPerf Inference importer against the seven real archives (../shared) and small bad trees.

Expected counts are computed here from the raw tar members (tarfile and a regex over each summary),
not from the importer. The archives are imported once for the module (about a minute and a half).
"""
from __future__ import annotations

import re
import tarfile
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import pytest
from pyoxigraph import Literal

from kg.binding import bind
from kg.errors import InputError
from kg.importers import ImportReport, importers
from kg.importers.mlperf_inference import _base_system_name, import_mlperf_inference
from kg.importers.mlperf_tiny import import_mlperf_tiny
from kg.namespaces import SPARQL_PREFIXES
from kg.ontology import ontology_quads
from kg.stats import graph_stats
from kg.store import Store, open_store

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
ARCHIVES = SHARED / "mlperf-inference"
MLPERF_TINY = SHARED / "mlperf-tiny"

pytestmark = pytest.mark.skipif(not ARCHIVES.is_dir(), reason="needs ../shared/data/mlperf-inference")

SUMMARY = re.compile(r"^[^/]+/(closed|open|network)/[^/]+/results/[^/]+/[^/]+/[^/]+/performance/run_1/"
                     r"mlperf_log_summary\.txt$")


@lru_cache(maxsize=1)
def _raw() -> tuple[dict[str, str], list[str]]:
    """What the tests count in the archives, read in one pass (reading them takes tens of seconds): every
    performance summary (member path → its ``Scenario :`` value, spaces removed) and every system
    description's ``system_type``."""
    summaries: dict[str, str] = {}
    system_types: list[str] = []
    for archive in sorted(ARCHIVES.glob("*.tar.gz")):
        with tarfile.open(archive, "r|gz") as tar:
            for member in tar:
                if not member.isfile():
                    continue
                if SUMMARY.match(member.name):
                    text = tar.extractfile(member).read().decode("utf-8", "replace")  # type: ignore[union-attr]
                    m = re.search(r"^Scenario\s*:\s*(.+?)\s*$", text.replace("\x00", "").replace("\r", ""), re.M)
                    summaries[member.name] = m.group(1).replace(" ", "") if m else ""
                elif re.match(r"^[^/]+/[^/]+/[^/]+/systems/[^/]+\.json$", member.name):
                    text = tar.extractfile(member).read().decode("utf-8-sig")  # type: ignore[union-attr]
                    found = re.search(r'"system_type"\s*:\s*"([^"]*)"', text)
                    system_types.append(found.group(1) if found else "")
    return summaries, system_types


def raw_summaries() -> dict[str, str]:
    """Every performance summary of the archives: member path → its ``Scenario :`` value (spaces removed)."""
    return _raw()[0]


def rows(store: Store, sparql: str, **values: str) -> list[list[str]]:
    result = store.select(SPARQL_PREFIXES + bind(sparql, {k: Literal(v) for k, v in values.items()}))
    return [[None if v is None else v.value for v in row] for row in result.rows]


def scalar(store: Store, sparql: str, **values: str) -> str:
    (row,) = rows(store, sparql, **values)
    return row[0]


def new_store() -> Store:
    s = open_store("oxigraph://")
    s.add(ontology_quads())
    return s


@pytest.fixture(scope="module")
def imported() -> Iterator[tuple[Store, ImportReport]]:
    """MLPerf Tiny (every round) and MLPerf Inference (every archive) in one store, once per module."""
    s = new_store()
    if MLPERF_TINY.is_dir():
        import_mlperf_tiny(s, MLPERF_TINY)
    report = import_mlperf_inference(s, ARCHIVES)
    yield s, report
    s.close()


METRIC = """SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE {
  ?p a dlom:MeasuredPerformance ; dlom:scenario ?scenario ; prov:wasDerivedFrom/dlom:sourcePath ?path .
  FILTER(STRENDS(?path, "mlperf_log_summary.txt"))
  { ?p dlom:latencyP90Ms ?v } UNION { ?p dlom:latencyP99Ms ?v } UNION { ?p dlom:samplesPerQuery ?v }
  UNION { ?p dlom:samplesPerSecond ?v } UNION { ?p dlom:scheduledSamplesPerSecond ?v } }"""


def test_raw_archives_hold_the_published_count() -> None:
    per_round = Counter(path.split("/")[0] for path in raw_summaries())
    assert sum(per_round.values()) == 22_168
    assert per_round["inference_results_v0.5"] == 589 and per_round["inference_results_v3.0"] == 7_269


def test_at_least_95_percent_of_summaries_are_performance_records_with_their_metric(
        imported: tuple[Store, ImportReport]) -> None:
    store, report = imported
    raw = raw_summaries()
    queryable = int(scalar(store, METRIC))
    assert queryable >= 0.95 * len(raw)
    # every summary not imported is listed with its reason
    imported_paths = {r[0] for r in rows(store, """SELECT DISTINCT ?path WHERE { ?p a dlom:MeasuredPerformance ;
        prov:wasDerivedFrom/dlom:sourcePath ?path . FILTER(STRENDS(?path, "mlperf_log_summary.txt")) }""")}
    skipped = {file for file, reason in report.skipped if reason}
    assert set(raw) - imported_paths <= skipped
    assert len(imported_paths) == queryable
    assert report.counts["summaries"] == len(raw)


def test_scenario_comes_from_the_summary_not_the_folder(imported: tuple[Store, ImportReport]) -> None:
    store, _ = imported
    got = Counter(dict((s, int(n)) for s, n in rows(store, """SELECT ?s (COUNT(?p) AS ?n) WHERE {
        ?p dlom:scenario ?s ; prov:wasDerivedFrom/dlom:sourcePath ?path .
        FILTER(STRENDS(?path, "mlperf_log_summary.txt")) } GROUP BY ?s""")))
    raw = Counter(raw_summaries().values())
    for scenario in ("SingleStream", "MultiStream", "Offline", "Server"):
        assert raw[scenario] * 0.95 <= got[scenario] <= raw[scenario]
    # an open-division folder named for another scenario keeps its summary's scenario
    mismatched = [p for p, s in raw_summaries().items() if p.split("/")[6].lower() != s.lower()]
    if mismatched:
        path = mismatched[0]
        assert scalar(store, "SELECT ?s WHERE { ?p dlom:scenario ?s ; prov:wasDerivedFrom/dlom:sourcePath ?path }",
                      path=path) == raw_summaries()[path]


def test_figures_match_their_summary(imported: tuple[Store, ImportReport]) -> None:
    store, _ = imported
    path = ("inference_results_v3.0/closed/Dell/results/R750xa_H100_PCIe_80GBx4_TRT/resnet50/Server/performance/"
            "run_1/mlperf_log_summary.txt")
    with tarfile.open(ARCHIVES / "inference_results_v3.0.tar.gz", "r|gz") as tar:
        text = next(tar.extractfile(m).read().decode() for m in tar if m.name == path)  # type: ignore[union-attr]
    scheduled = re.search(r"Scheduled samples per second : ([\d.]+)", text).group(1)  # type: ignore[union-attr]
    bound_ns = re.search(r"target_latency \(ns\): (\d+)", text).group(1)  # type: ignore[union-attr]
    [[sps, bound, valid, cloud]] = rows(store, """SELECT ?sps ?bound ?valid ?cloud WHERE {
        ?p prov:wasDerivedFrom/dlom:sourcePath ?path ; dlom:scheduledSamplesPerSecond ?sps ; dlom:latencyBoundMs ?bound ;
           dlom:resultValid ?valid . ?m dlom:hasPerformance ?p ; dlom:usesCloudConfiguration ?cloud }""", path=path)
    assert Decimal(sps) == Decimal(scheduled)
    assert Decimal(bound) == Decimal(bound_ns) / 1_000_000
    assert valid == "true"


def test_single_stream_p90_and_early_stopping_estimate(imported: tuple[Store, ImportReport]) -> None:
    store, _ = imported
    [[p90, estimate, acc, metric]] = rows(store, """SELECT ?p90 ?est ?acc ?metric WHERE {
        ?p prov:wasDerivedFrom/dlom:sourcePath ?path ; dlom:latencyP90Ms ?p90 ; dlom:earlyStoppingLatencyMs ?est ;
           dlom:accuracy ?acc ; dlom:accuracyMetric ?metric }""",
        path="inference_results_v2.0/open/Krai/results/xavier-power.0-fan.cool-tflite-v2.7.1-ruy/"
             "mobilenet-v2-0.5-96-non-quantized/singlestream/performance/run_1/mlperf_log_summary.txt")
    assert Decimal(p90) == Decimal("2.382571") and Decimal(estimate) == Decimal("2.385419")
    assert metric == "top-1 accuracy" and 0 < float(acc) < 1


def test_edge_datacenter_and_both(imported: tuple[Store, ImportReport]) -> None:
    store, report = imported
    both = int(scalar(store, "SELECT (COUNT(?s) AS ?n) WHERE { ?s a dlom:EndDevice, dlom:CloudConfiguration ; "
                             "dlom:sourceRecord ?r }"))
    raw_both = sum(1 for m in _system_types() if "edge" in m and "datacenter" in m)
    assert both == raw_both == 27
    # a datacenter-only result uses its cloud configuration and no end device
    assert int(scalar(store, """SELECT (COUNT(?m) AS ?n) WHERE { ?m dlom:usesCloudConfiguration ?c .
        FILTER NOT EXISTS { ?m dlom:deployedOn ?d } }""")) > 1000
    assert report.counts["systems"] == len(_system_types()) == 1026


def _system_types() -> list[str]:
    """The ``system_type`` of every system description in the archives."""
    return _raw()[1]


def test_same_board_across_rounds_is_one_hardware_entity(imported: tuple[Store, ImportReport]) -> None:
    store, _ = imported
    rpi = rows(store, """SELECT DISTINCT ?hw ?round WHERE { ?hw a dlom:Hardware ; rdfs:label "Raspberry Pi 4 Model B" ;
        dlom:hasConfiguration ?c . ?m dlom:deployedOn ?c ; dlom:benchmarkRound ?round }""")
    assert len({hw for hw, _ in rpi}) == 1
    assert {"v0.5", "v0.7", "v1.0", "v1.1"} <= {r for _, r in rpi}
    # TFLite and ArmNN configurations of the same board
    frameworks = {r[0] for r in rows(store, """SELECT DISTINCT ?fw WHERE { ?hw rdfs:label "Raspberry Pi 4 Model B" ;
        dlom:hasConfiguration/dlom:usesFramework/rdfs:label ?fw }""")}
    assert any("tflite" in f.lower() or "tensorflow" in f.lower() for f in frameworks)
    assert any("armnn" in f.lower().replace(" ", "") for f in frameworks)
    xavier = rows(store, """SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { ?hw rdfs:label "NVIDIA Jetson AGX Xavier" ;
        dlom:hasConfiguration ?c }""")
    assert int(xavier[0][0]) >= 10
    # the MLPerf Tiny Raspberry Pi 4B is the same board
    if MLPERF_TINY.is_dir():
        assert int(scalar(store, """SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { ?hw rdfs:label "Raspberry Pi 4 Model B" ;
            dlom:hasConfiguration ?c . FILTER(STRSTARTS(STR(?c), "https://w3id.org/dlom/id/device/")) }""")) >= 1
    # unsure rules link, never merge
    assert rows(store, """SELECT ?a WHERE { ?a rdfs:label "NVIDIA Orin (module not named)" ;
        dlom:possiblySameHardwareAs/rdfs:label "NVIDIA Jetson AGX Orin" }""")


def test_techniques_from_measurements(imported: tuple[Store, ImportReport]) -> None:
    store, _ = imported
    bits = {r[0]: r[1] for r in rows(store, """SELECT ?scheme ?bits WHERE { ?q a dlom:Quantization ;
        dlom:quantizationScheme ?scheme . OPTIONAL { ?q dlom:bitWidth ?bits } FILTER(STRSTARTS(STR(?q),
        "https://w3id.org/dlom/id/quantization/mlperf-inference")) }""")}
    assert bits["int8"] == "8" and bits["fp16"] == "16" and bits["int4"] == "4"
    assert any(s.startswith("mixed precision") for s in bits)
    assert rows(store, "SELECT ?m WHERE { ?m dlom:appliesOptimization [ a dlom:FineTuning ] } LIMIT 1")
    sparsities = {Decimal(r[0]) for r in rows(store, "SELECT DISTINCT ?s WHERE { ?p a dlom:Pruning ; dlom:sparsity ?s }")}
    assert Decimal("0.95") in sparsities
    assert rows(store, """SELECT ?m WHERE { ?m dlom:appliesOptimization/dlom:toolName "TensorRT" } LIMIT 1""")
    assert scalar(store, """SELECT ?t WHERE { ?m dlom:benchmark "bert-99.9" ; dlom:accuracyTarget ?t } LIMIT 1""") == "0.999"


def test_all_four_repositories_are_non_empty(imported: tuple[Store, ImportReport]) -> None:
    store, _ = imported
    repos = graph_stats(store).repositories
    for name in ("dln-parameters", "client-configurations", "server-configurations", "models-and-performance"):
        assert repos[name] > 0, name


@pytest.mark.parametrize("published, base", [
    ("NVIDIA DGX A100 (1x A100-SXM-80GB, TensorRT)", "NVIDIA DGX A100"),
    ("Gigabyte R282-Z93 (2x QAIC100 Pro)", "Gigabyte R282-Z93"),
    ("AWS cloud instance inf1.2xlarge (Amazon Linux on CPU)", "AWS cloud instance inf1.2xlarge"),
    ("NVIDIA A100-SXM-80GB (1x1g.10gb MIG)", "NVIDIA A100-SXM-80GB"),
    # an instance type and a product variant name the product: kept
    ("Amazon EC2 (c6gd.xlarge)", "Amazon EC2 (c6gd.xlarge)"),
    ("Foxconn Gloria (Entry)", "Foxconn Gloria (Entry)"),
])
def test_configuration_notes_leave_the_product_name(published: str, base: str) -> None:
    assert _base_system_name(published) == base


def test_different_instance_types_are_different_hardware(imported: tuple[Store, ImportReport]) -> None:
    store, _ = imported
    labels = {r[0] for r in rows(store, """SELECT DISTINCT ?l WHERE { ?h a dlom:Hardware ; rdfs:label ?l ;
        dlom:hasConfiguration/dlom:sourceRecord ?r . FILTER(CONTAINS(?l, "Amazon EC2")) }""")}
    assert len(labels) >= 2 and "Amazon EC2" not in labels


def test_registered_for_the_cli() -> None:
    assert importers()["mlperf-inference"] is import_mlperf_inference


# --- bad input ----------------------------------------------------------------------------------------

GOOD_SUMMARY = """================================================
MLPerf Results Summary
================================================
SUT name : SUT
Scenario : Offline
Mode     : PerformanceOnly
Samples per second: 123.5
Result is : VALID
"""
SYSTEM = '{"system_name": "Raspberry Pi 4 (rpi4)", "system_type": "edge", "framework": "TFLite v2.2",\n' \
         '"host_processor_model_name": "Arm Cortex-A72 MP4", "host_memory_capacity": "4 GB"}\n'


def tree(tmp: Path, name: str = "inference_results_v9.9", summary: str = GOOD_SUMMARY, system: str = SYSTEM,
         readme: str | None = None) -> Path:
    root = tmp / name
    sub = root / "closed" / "Acme"
    (sub / "systems").mkdir(parents=True)
    (sub / "systems" / "rpi4.json").write_text(system)
    perf = sub / "results" / "rpi4" / "resnet50" / "Offline" / "performance" / "run_1"
    perf.mkdir(parents=True)
    (perf / "mlperf_log_summary.txt").write_text(summary)
    acc = sub / "results" / "rpi4" / "resnet50" / "Offline" / "accuracy"
    acc.mkdir(parents=True)
    (acc / "accuracy.txt").write_text("accuracy=76.1%, good=38050, total=50000\n")
    if readme is not None:
        (root / "README.md").write_text(readme)
    return root


def test_small_round_imports_and_round_comes_from_the_folder(tmp_path: Path) -> None:
    store = new_store()
    report = import_mlperf_inference(store, tree(tmp_path))
    assert report.counts["performances"] == 1
    assert scalar(store, "SELECT DISTINCT ?r WHERE { ?m dlom:benchmarkRound ?r }") == "v9.9"
    assert Decimal(scalar(store, "SELECT ?a WHERE { ?p dlom:accuracy ?a }")) == Decimal("0.761")


def test_a_folder_not_named_for_a_round_is_refused_unless_told(tmp_path: Path) -> None:
    root = tree(tmp_path, name="my-results")
    store = new_store()
    with pytest.raises(InputError, match="cannot tell the round"):
        import_mlperf_inference(store, root)
    assert store.count() == len(list(ontology_quads()))
    import_mlperf_inference(store, root, round_name="v2.1")
    assert scalar(store, "SELECT DISTINCT ?r WHERE { ?m dlom:benchmarkRound ?r }") == "v2.1"


def test_readme_names_the_round(tmp_path: Path) -> None:
    root = tree(tmp_path, name="clone", readme="# MLPerf™ Inference v4.0 results\n")
    store = new_store()
    import_mlperf_inference(store, root)
    assert scalar(store, "SELECT DISTINCT ?r WHERE { ?m dlom:benchmarkRound ?r }") == "v4.0"


def test_tar_gz_of_a_round(tmp_path: Path) -> None:
    root = tree(tmp_path / "src")
    archive = tmp_path / "round.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(root, arcname=root.name)
    store = new_store()
    report = import_mlperf_inference(store, archive)
    assert report.counts["performances"] == 1
    assert scalar(store, "SELECT ?f WHERE { ?p a dlom:MeasuredPerformance ; prov:wasDerivedFrom/dlom:sourcePath ?f . "
                         "FILTER(STRENDS(?f, 'summary.txt')) }") == \
        "inference_results_v9.9/closed/Acme/results/rpi4/resnet50/Offline/performance/run_1/mlperf_log_summary.txt"


@pytest.mark.parametrize("summary, reason", [
    (GOOD_SUMMARY.split("Result is")[0], "truncated summary"),
    (GOOD_SUMMARY.replace("Scenario : Offline", "Scenario : Batch"), "unknown scenario 'Batch'"),
    (GOOD_SUMMARY.replace("Samples per second: 123.5", "Samples per second: 0"), "without a positive"),
])
def test_bad_summaries_are_skipped_with_file_and_reason(tmp_path: Path, summary: str, reason: str) -> None:
    store = new_store()
    report = import_mlperf_inference(store, tree(tmp_path, summary=summary))
    assert report.counts["performances"] == 0
    [(file, why)] = [(f, r) for f, r in report.skipped if f.endswith("mlperf_log_summary.txt")]
    assert file.endswith("closed/Acme/results/rpi4/resnet50/Offline/performance/run_1/mlperf_log_summary.txt")
    assert reason in why


def test_malformed_system_json_names_file_and_line_and_writes_nothing(tmp_path: Path) -> None:
    store = new_store()
    before = store.count()
    with pytest.raises(InputError) as e:
        import_mlperf_inference(store, tree(tmp_path, system='{"system_name": "x",\n "system_type" "edge"\n}'))
    assert "systems/rpi4.json" in e.value.file and e.value.line == 2
    assert store.count() == before
