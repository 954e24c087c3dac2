"""The MLPerf Tiny importer against the real published rounds (../shared) and small messy trees.

Expected counts are computed here from the raw files (globbing and grepping), not from the importer.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from pyoxigraph import Literal, NamedNode

from kg.binding import bind
from kg.errors import InputError
from kg.importers import ImportReport, importers
from kg.importers.mlperf_tiny import import_mlperf_tiny
from kg.namespaces import SPARQL_PREFIXES
from kg.ontology import ontology_quads
from kg.store import Store, open_store
from recording_progress import RecordingProgress

# the same path tests/conftest.py names MLPERF_TINY
MLPERF_TINY = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "mlperf-tiny"

pytestmark = pytest.mark.skipif(not MLPERF_TINY.is_dir(), reason="needs ../shared/data/mlperf-tiny")

KINDS = ("performance", "accuracy", "energy")


_INTEGER = "http://www.w3.org/2001/XMLSchema#integer"
_DECIMALS = {"http://www.w3.org/2001/XMLSchema#decimal", "http://www.w3.org/2001/XMLSchema#double"}


def python_value(term: object) -> object:
    """Numbers as int/float, everything else as its lexical value (None for an unbound variable)."""
    if term is None:
        return None
    if isinstance(term, Literal):
        if term.datatype.value == _INTEGER:
            return int(term.value)
        if term.datatype.value in _DECIMALS:
            return float(term.value)
    return term.value  # type: ignore[attr-defined]


def rows(store: Store, sparql: str, **values: str) -> list[list[object]]:
    """The rows of a SELECT, with ``values`` bound as string literals (kg.binding, never formatted in)."""
    result = store.select(SPARQL_PREFIXES + bind(sparql, {k: Literal(v) for k, v in values.items()}))
    return [[python_value(v) for v in row] for row in result.rows]


def scalar(store: Store, sparql: str, **values: str) -> object:
    (row,) = rows(store, sparql, **values)
    return row[0]


def new_store() -> Store:
    s = open_store("oxigraph://")
    s.add(ontology_quads())
    return s


@pytest.fixture(scope="module")
def imported() -> Iterator[tuple[Store, ImportReport]]:
    """All rounds imported once for the module."""
    s = new_store()
    report = import_mlperf_tiny(s, MLPERF_TINY)
    yield s, report
    s.close()


# --- what the raw tree holds, computed independently of the importer ------------------------------


def raw_system_jsons() -> list[Path]:
    return [p for p in MLPERF_TINY.glob("*/*/*/systems/*.json") if not p.name.startswith(".")]


def raw_result_files() -> list[Path]:
    return [p for p in MLPERF_TINY.glob("*/*/*/results/**/results.txt") if p.parent.name in KINDS]


def submission_of(path: Path) -> Path:
    return MLPERF_TINY.joinpath(*path.relative_to(MLPERF_TINY).parts[:3])


def has_systems(submission: Path) -> bool:
    return any(p for p in (submission / "systems").glob("*.json") if not p.name.startswith("."))


def rel(path: Path) -> str:
    return path.relative_to(MLPERF_TINY).as_posix()


def raw_name_only_systems() -> set[Path]:
    """The results/<system> folders of submissions that publish no system description JSON."""
    return {submission_of(f) / "results" / f.relative_to(submission_of(f) / "results").parts[0]
            for f in raw_result_files() if not has_systems(submission_of(f))}


def raw_non_result_files() -> set[str]:
    """Files of the submissions that are neither a results summary nor a system description JSON."""
    files = {p for p in MLPERF_TINY.glob("*/*/*/**/*") if p.is_file()}
    return {rel(p) for p in files - set(raw_result_files()) - set(raw_system_jsons())}


# --- counts ---------------------------------------------------------------------------------------


def test_one_device_per_system_json_and_per_undescribed_system_folder(imported: tuple[Store, ImportReport]) -> None:
    store, report = imported
    described, name_only = len(raw_system_jsons()), len(raw_name_only_systems())
    assert described > 80
    assert name_only > 0  # v0.7/v1.0 STMicroelectronics and syntiant publish no systems/
    expected = described + name_only
    assert scalar(store, "SELECT (COUNT(?d) AS ?n) WHERE { ?d a dlom:EndDevice }") == expected
    assert report.counts["devices"] == expected
    assert report.counts["name_only_devices"] == name_only
    assert scalar(store, "SELECT (COUNT(?d) AS ?n) WHERE { ?d a dlom:EndDevice ; dlom:describedOnlyByName true }") \
        == name_only


def test_one_model_and_one_performance_per_result_folder(imported: tuple[Store, ImportReport]) -> None:
    store, report = imported
    # a result group is the folder holding performance/, accuracy/, energy/; every one is imported,
    # whether or not its submission publishes system descriptions
    groups = {f.parent.parent for f in raw_result_files()}
    assert len(groups) > 200
    assert scalar(store, "SELECT (COUNT(?m) AS ?n) WHERE { ?m a dlom:Model }") == len(groups)
    assert scalar(store, "SELECT (COUNT(?p) AS ?n) WHERE { ?p a dlom:MeasuredPerformance }") == len(groups)
    assert report.counts["models"] == report.counts["performances"] == len(groups)
    # each model has exactly one performance and one DLN, and runs on a device
    assert rows(store, "SELECT ?m WHERE { ?m a dlom:Model . FILTER NOT EXISTS { ?m dlom:hasPerformance ?p } }") == []
    assert rows(store, "SELECT ?m WHERE { ?m dlom:hasPerformance ?a, ?b FILTER (?a != ?b) }") == []
    assert rows(store, "SELECT ?m WHERE { ?m a dlom:Model . FILTER NOT EXISTS { ?m dlom:deployedOn ?d . "
                       "?d a dlom:EndDevice } }") == []


@pytest.mark.parametrize(("kind", "pattern", "prop"), [
    ("performance", r"Median throughput is \S+ inf\./sec", "throughputIps"),
    ("energy", r"Median energy cost is \S+ uJ/inf", "energyPerInferenceUj"),
    ("accuracy", r"Top-1: \S+%|AUC: \S+", "accuracy"),
])
def test_each_figure_comes_from_its_file(imported: tuple[Store, ImportReport], kind: str, pattern: str,
                                         prop: str) -> None:
    store, _ = imported
    files = [f for f in raw_result_files() if f.parent.name == kind
             and re.search(pattern, f.read_text(errors="replace"))]
    n = scalar(store, f"SELECT (COUNT(?p) AS ?n) WHERE {{ ?p a dlom:MeasuredPerformance ; dlom:{prop} ?v }}")
    assert n == len(files) > 0


def test_every_result_file_is_used_or_skipped_with_a_reason(imported: tuple[Store, ImportReport]) -> None:
    store, report = imported
    used = {r[0] for r in rows(store, "SELECT DISTINCT ?path WHERE { ?p a dlom:MeasuredPerformance ; "
                                      "prov:wasDerivedFrom ?f . ?f dlom:sourcePath ?path }")}
    skipped = {f: why for f, why in report.skipped}
    all_results = {rel(f) for f in raw_result_files()}
    assert all_results <= used  # the published results all hold their figure
    assert not (used & skipped.keys())
    assert all(why for why in skipped.values())
    # what is skipped is exactly what is not a result nor a system description
    assert skipped.keys() == raw_non_result_files()
    # the results of submissions without system descriptions are used, not skipped
    without_systems = {rel(f) for f in raw_result_files() if not has_systems(submission_of(f))}
    assert len(without_systems) > 50 and without_systems <= used
    # the macOS resource fork next to a real system JSON is reported, not parsed
    assert any(f.endswith("/._Snapdragon_8_Gen_3_Mobile_Platform_MTP.json") and "AppleDouble" in why
               for f, why in skipped.items())


# --- sample values, checked against the files -----------------------------------------------------


REFERENCE_KWS = "https://w3id.org/dlom/id/performance/v0-5/closed/reference/nucleo-l4r5zi/kws"


def test_reference_kws_sample_values(imported: tuple[Store, ImportReport]) -> None:
    store, _ = imported
    base = MLPERF_TINY / "v0.5/closed/reference/results/Nucleo-L4R5ZI/kws"
    assert "Median throughput is 5.497 inf./sec." in (base / "performance/results.txt").read_text()
    assert "Median energy cost is 7373.704 uJ/inf." in (base / "energy/results.txt").read_text()
    assert "Top-1: 90.1%" in (base / "accuracy/results.txt").read_text()
    [[t, lat, e, acc, metric]] = rows(store, f"""SELECT ?t ?l ?e ?a ?m WHERE {{
        <{REFERENCE_KWS}> dlom:throughputIps ?t ; dlom:inferenceLatencyMs ?l ; dlom:energyPerInferenceUj ?e ;
                         dlom:accuracy ?a ; dlom:accuracyMetric ?m }}""")
    assert t == pytest.approx(5.497)
    assert lat == pytest.approx(1000 / 5.497, rel=1e-9)
    assert lat == pytest.approx(181.917, abs=1e-3)
    assert e == pytest.approx(7373.704)
    assert acc == pytest.approx(0.901)
    assert metric == "top-1 accuracy"


def test_anomaly_detection_uses_auc_and_missing_files_leave_figures_out(imported: tuple[Store, ImportReport]) -> None:
    store, _ = imported
    # v0.5 reference ad publishes performance and energy, no accuracy
    base = MLPERF_TINY / "v0.5/closed/reference/results/Nucleo-L4R5ZI/ad"
    assert not (base / "accuracy").exists()
    perf = "https://w3id.org/dlom/id/performance/v0-5/closed/reference/nucleo-l4r5zi/ad"
    assert rows(store, f"SELECT ?a WHERE {{ <{perf}> dlom:accuracy ?a }}") == []
    assert scalar(store, f"SELECT ?t WHERE {{ <{perf}> dlom:throughputIps ?t }}") == pytest.approx(99.487)
    assert scalar(store, f"SELECT ?e WHERE {{ <{perf}> dlom:energyPerInferenceUj ?e }}") == pytest.approx(416.312)
    # every ad accuracy is an AUC equal to the file's AUC line
    ad_files = [f for f in raw_result_files() if f.parent.name == "accuracy" and "/ad/" in rel(f)]
    assert ad_files
    for f in ad_files[:10]:
        auc = Decimal(re.search(r"AUC: (\S+)", f.read_text()).group(1))
        got = rows(store, """SELECT ?a ?m WHERE { ?p dlom:accuracy ?a ; dlom:accuracyMetric ?m ;
                             prov:wasDerivedFrom [ dlom:sourcePath ?path ] }""", path=rel(f))
        assert got == [[pytest.approx(float(auc)), "AUC"]]


def test_reference_device_normalized_beside_the_original_record(imported: tuple[Store, ImportReport]) -> None:
    store, _ = imported
    [[clock, mem, storage, board, soc, os_name, record]] = rows(store, """SELECT ?c ?m ?s ?b ?soc ?os ?r WHERE {
        ?d a dlom:EndDevice ; dlom:clockFrequencyMHz ?c ; dlom:memoryKB ?m ; dlom:storageKB ?s ; dlom:board ?b ;
           dlom:soc ?soc ; dlom:operatingSystem ?os ; dlom:sourceRecord ?r ;
           prov:wasDerivedFrom [ dlom:sourcePath ?path ] }""",
        path="v0.5/closed/reference/systems/Nucleo_L4R5ZI_System_Description.json")
    assert (clock, mem, storage) == (120, 640, 2048)  # "120 MHz", "640KB", "2MB"
    assert (board, soc, os_name) == ("Nucleo-L4R5ZI", "STM32L4R5ZIT6", "mbed-os bare-metal")
    original = json.loads(record)
    assert original["Processor(s) Frequencies"] == "120 MHz"
    assert original["SoC storage capacity"] == "2MB"
    assert "Operating System " in original  # the published key, trailing space kept


NAME_ONLY_SYSTEM = "v0.7/closed/STMicroelectronics/results/NUCLEO_L4R5ZI"
# what a name-only device may state: nothing beyond its name and why it is only a name
NAME_ONLY_PROPERTIES = {
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#type", "http://www.w3.org/2000/01/rdf-schema#label",
    "http://www.w3.org/2000/01/rdf-schema#comment", "https://w3id.org/dlom#publishedName",
    "https://w3id.org/dlom#describedOnlyByName",
}


def test_devices_of_undescribed_submissions_are_names_only(imported: tuple[Store, ImportReport]) -> None:
    store, _ = imported
    devices = rows(store, "SELECT ?d ?name ?label ?comment WHERE { ?d a dlom:EndDevice ; "
                          "dlom:describedOnlyByName true ; dlom:publishedName ?name ; rdfs:label ?label ; "
                          "rdfs:comment ?comment }")
    folders = raw_name_only_systems()
    assert sorted(r[1] for r in devices) == sorted(f.name for f in folders)  # the folder names, as published
    for iri, name, label, comment in devices:
        assert label.startswith(f"{name} (") and "name only" in label
        assert "no system description" in comment and "/results/" + name in comment
        stated = {r[0] for r in rows(store, f"SELECT DISTINCT ?p WHERE {{ <{iri}> ?p ?o }}")}
        assert stated == NAME_ONLY_PROPERTIES  # no board, clock, memory, framework or record invented
    # the same folder name in two rounds is two devices, and neither borrows a later round's description
    # (v1.1 STMicroelectronics publishes systems/NUCLEO_L4R5ZI.json)
    assert (MLPERF_TINY / "v1.1/closed/STMicroelectronics/systems/NUCLEO_L4R5ZI.json").is_file()
    assert len([r for r in devices if r[1] == "NUCLEO_L4R5ZI"]) == 2


def test_name_only_device_results_keep_their_figures_and_provenance(imported: tuple[Store, ImportReport]) -> None:
    store, _ = imported
    base = MLPERF_TINY / NAME_ONLY_SYSTEM / "kws"
    throughput = re.search(r"Median throughput is (\S+) inf\./sec", (base / "performance/results.txt").read_text())
    energy = re.search(r"Median energy cost is (\S+) uJ/inf", (base / "energy/results.txt").read_text())
    top1 = re.search(r"Top-1: (\S+)%", (base / "accuracy/results.txt").read_text())
    assert throughput and energy and top1
    performances = rows(store, """SELECT ?p ?t ?e ?a ?m ?name ?dln WHERE {
        ?p prov:wasDerivedFrom [ dlom:sourcePath ?path ] ; dlom:throughputIps ?t ; dlom:energyPerInferenceUj ?e ;
           dlom:accuracy ?a .
        ?m dlom:hasPerformance ?p ; dlom:usesDLN ?dln ; dlom:deployedOn [ dlom:publishedName ?name ] }""",
        path=f"{NAME_ONLY_SYSTEM}/kws/performance/results.txt")
    [[perf, t, e, acc, model, name, dln]] = performances
    assert (t, e, acc) == (pytest.approx(float(throughput.group(1))), pytest.approx(float(energy.group(1))),
                           pytest.approx(float(top1.group(1)) / 100))
    assert name == "NUCLEO_L4R5ZI"
    assert dln == "https://w3id.org/dlom/id/dln/mlperf-tiny/kws"  # closed division: the reference network
    sources = {r[0] for r in rows(store, f"SELECT ?p WHERE {{ <{perf}> prov:wasDerivedFrom [ dlom:sourcePath ?p ] }}")}
    assert sources == {f"{NAME_ONLY_SYSTEM}/kws/{k}/results.txt" for k in KINDS}  # no system file to cite
    # no stack is published, so none is stated
    assert rows(store, f"SELECT ?x WHERE {{ <{model}> dlom:usesFramework|dlom:usesCompiler|"
                       "dlom:appliesOptimization ?x }") == []
    [[submitter, year]] = rows(store, f"""SELECT ?s ?y WHERE {{ <{perf}> prov:wasGeneratedBy ?run .
        ?run prov:wasAssociatedWith [ rdfs:label ?s ] . <{model}> dlom:yearCreated ?y
        FILTER NOT EXISTS {{ ?run dlom:softwareVersions ?v }} }}""")
    assert (submitter, year) == ("STMicroelectronics", 2022)


def test_summed_and_peak_quantities(imported: tuple[Store, ImportReport]) -> None:
    store, _ = imported
    # "2MB+32KB" → 2080 KB; "Prime Core, up to 3.4Ghz, ..." → the peak 3400 MHz; "20M" → 20 MHz
    assert scalar(store, 'SELECT ?s WHERE { ?d dlom:board "RX65N-Cloud-Kit" ; dlom:storageKB ?s }') == 2080
    assert scalar(store, 'SELECT ?c WHERE { ?d dlom:board "Snapdragon 8 Gen 3 Mobile HDK" ; '
                         'dlom:clockFrequencyMHz ?c }') == 3400
    assert scalar(store, 'SELECT ?c WHERE { ?d dlom:board "ZCU106" ; dlom:clockFrequencyMHz ?c }') == 20


def test_duplicate_keys_and_repaired_files_from_the_real_rounds(imported: tuple[Store, ImportReport]) -> None:
    store, report = imported
    # v0.7 hls4ml-finn publishes "Inference Framework" twice ("hls4ml", then "FINN"): both are kept
    path = "v0.7/open/hls4ml-finn/systems/system_description_pynq.json"
    [[record]] = rows(store, "SELECT ?r WHERE { ?d dlom:sourceRecord ?r ; "
                             "prov:wasDerivedFrom [ dlom:sourcePath ?path ] }", path=path)
    assert json.loads(record)["Inference Framework"] == ["hls4ml", "FINN"]
    frameworks = {r[0] for r in rows(store, """SELECT ?l WHERE { ?d dlom:usesFramework [ rdfs:label ?l ] ;
                                               prov:wasDerivedFrom [ dlom:sourcePath ?path ] }""", path=path)}
    assert frameworks == {"hls4ml", "FINN"}
    # four published JSONs are not valid JSON; each is repaired and the repair recorded on its source file
    repaired = dict(rows(store, "SELECT ?p ?c WHERE { ?f a dlom:SourceFile ; dlom:sourcePath ?p ; rdfs:comment ?c }"))
    assert set(repaired) == {
        "v0.5/closed/latentai/systems/raspberry_pi_4_leip_framework.json",
        "v1.0/closed/OctoML/systems/system_description_NRF5340DK_microtvm_cmsis_nn.json",
        "v1.0/closed/OctoML/systems/system_description_NUCLEO_L4R5ZI_microtvm_cmsis_nn.json",
        "v1.0/open/hls4ml/systems/system_description_pynq.json",
    }
    for p in repaired:
        with pytest.raises(json.JSONDecodeError):
            json.loads((MLPERF_TINY / p).read_text())
    assert report.counts["repaired_json_files"] == 4


def test_dlns_techniques_and_provenance(imported: tuple[Store, ImportReport]) -> None:
    store, _ = imported
    dlns = {r[0]: r[1:] for r in rows(store, """SELECT ?b ?fam ?layers ?data ?task WHERE {
        ?m dlom:division "closed" ; dlom:benchmark ?b ; dlom:usesDLN ?d .
        ?d dlom:architectureFamily ?fam ; dlom:numberOfLayers ?layers ; dlom:trainingDataset ?data ; dlom:task ?task
    } GROUP BY ?b ?fam ?layers ?data ?task""")}
    assert dlns["kws"][:3] == ["DS-CNN", 10, "Speech Commands v2"]
    assert dlns["vww"][0] == "MobileNetV1" and "COCO" in dlns["vww"][2]
    assert dlns["ic"][:3] == ["ResNet", 10, "CIFAR-10"]
    assert "ToyADMOS" in dlns["ad"][2]
    assert rows(store, "SELECT ?d WHERE { ?d a dlom:DLN ; dlom:numberOfParameters ?n }") == []  # not invented
    # the reference's int8 quantization and its ML model compiler are techniques the model applies
    techniques = rows(store, f"""SELECT ?type ?tool ?bits WHERE {{
        ?m dlom:hasPerformance <{REFERENCE_KWS}> ; dlom:appliesOptimization ?t .
        ?t a ?type ; dlom:toolName ?tool . OPTIONAL {{ ?t dlom:bitWidth ?bits }} }}""")
    assert sorted(map(tuple, techniques), key=str) == sorted([
        ("https://w3id.org/dlom#Quantization", "TensorFlow Int8 Quantization", 8),
        ("https://w3id.org/dlom#HardwareOptimization", "TensorFlow Lite for Microcontrollers v2.3.1", None),
    ], key=str)
    [[submitter, rnd, year, versions, year_created]] = rows(store, f"""SELECT ?s ?r ?y ?v ?yc WHERE {{
        ?m dlom:hasPerformance <{REFERENCE_KWS}> ; dlom:yearCreated ?yc .
        <{REFERENCE_KWS}> prov:wasGeneratedBy ?run . ?run a dlom:BenchmarkRun ; dlom:benchmarkRound ?r ;
            <http://purl.org/dc/terms/date> ?y ; dlom:softwareVersions ?v ;
            prov:wasAssociatedWith [ a dlom:Submitter ; rdfs:label ?s ] }}""")
    assert (submitter, rnd, year_created) == ("reference", "v0.5", 2021)
    assert "TensorFlow Lite for Microcontrollers v2.3.1" in versions and "gcc-arm-none-eabi" in versions
    sources = {r[0] for r in rows(store, f"SELECT ?p WHERE {{ <{REFERENCE_KWS}> prov:wasDerivedFrom "
                                         "[ dlom:sourcePath ?p ] }")}
    assert sources == {f"v0.5/closed/reference/results/Nucleo-L4R5ZI/kws/{k}/results.txt" for k in KINDS} | {
        "v0.5/closed/reference/systems/Nucleo_L4R5ZI_System_Description.json"}


def test_reimport_is_idempotent_and_parts_of_the_tree_give_the_same_iris(imported: tuple[Store, ImportReport]) -> None:
    store, _ = imported
    whole = set(store.quads())
    import_mlperf_tiny(store, MLPERF_TINY)
    assert set(store.quads()) == whole
    for part in (MLPERF_TINY / "v0.5", MLPERF_TINY / "v1.0" / "closed", MLPERF_TINY / "v1.0" / "closed" / "plumerai"):
        s = new_store()
        report = import_mlperf_tiny(s, part)
        assert report.counts["models"] > 0
        assert set(s.quads()) - set(ontology_quads()) <= whole
        s.close()


def test_registered_for_the_cli() -> None:
    assert importers()["mlperf-tiny"] is import_mlperf_tiny


def test_progress_covers_every_file_of_a_messy_tree(tmp_path: Path) -> None:
    progress = RecordingProgress()
    s = new_store()
    import_mlperf_tiny(s, messy_tree(tmp_path), progress)
    s.close()
    assert progress.total == progress.advanced == sum(1 for p in tmp_path.rglob("*") if p.is_file())


def test_progress_covers_every_file() -> None:
    progress = RecordingProgress()
    s = new_store()
    import_mlperf_tiny(s, MLPERF_TINY / "v0.5", progress)
    s.close()
    files = [p for p in (MLPERF_TINY / "v0.5").glob("*/*/*/**/*") if p.is_file()]
    assert progress.total == progress.advanced == len(files)


# --- small messy trees ----------------------------------------------------------------------------

PERFORMANCE = "00001.000 ulp-mlperf: Median throughput is {t} inf./sec.\n"
ACCURACY = "00002.000 ulp-mlperf: Top-1: {a}%\n00002.000 ulp-mlperf: AUC: 0.99\n"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


MESSY_SYSTEM = """{
    "Submitter": "Acme",
    "Board Name": "Acme Board",
    "SoC Name": "",
    "SoC Memory capacity (not including processor or accelerator)": "1.19MB",
    "SoC storage capacity": "320KB",
    "Processor(s) Frequencies": "280 MHz",
    "Accelerator": "N/A",
    "Inference Framework": "TFLM 2.3",
    "Inference Framework": "",
    "Operating System ": "bare-mental",
    "Quantization Method": "8-bit PTQ",
    "ML Model Compiler(s)": ""
}
"""


def messy_tree(root: Path) -> Path:
    sub = root / "v1.0" / "closed" / "acme"
    write(sub / "systems" / "acme_board.json", MESSY_SYSTEM)
    # the same benchmark spelled two ways for one system
    write(sub / "results" / "acme_board" / "kws" / "performance" / "results.txt", PERFORMANCE.format(t="200.0"))
    write(sub / "results" / "acme_board" / "keyword_spotting" / "performance" / "results.txt",
          PERFORMANCE.format(t="100.0"))
    write(sub / "results" / "acme_board" / "keyword_spotting" / "accuracy" / "results.txt", ACCURACY.format(a="91.5"))
    write(sub / "results" / "acme_board" / "image_classification" / "performance" / "results.txt",
          "00001.000 ulp-mlperf: Runtime requirements have been met.\n")  # no median
    write(sub / "results" / "other_board" / "vww" / "performance" / "results.txt", PERFORMANCE.format(t="5.0"))
    write(sub / "results" / "acme_board" / "kws" / "performance" / "log.txt", "log\n")
    return root


def test_messy_tree(tmp_path: Path, store: Store) -> None:
    report = import_mlperf_tiny(store, messy_tree(tmp_path))
    assert report.counts["devices"] == 2 and report.counts["name_only_devices"] == 1  # other_board has no JSON
    assert report.counts["models"] == 2  # acme kws (ic has no median) and other_board vww
    [[clock, mem, storage, os_name, framework, record]] = rows(store, """SELECT ?c ?m ?s ?os ?fw ?r WHERE {
        ?d a dlom:EndDevice ; dlom:clockFrequencyMHz ?c ; dlom:memoryKB ?m ; dlom:storageKB ?s ;
           dlom:operatingSystem ?os ; dlom:usesFramework [ rdfs:label ?fw ] ; dlom:sourceRecord ?r }""")
    assert clock == 280 and mem == pytest.approx(1.19 * 1024) and storage == 320
    assert os_name == "bare metal" and framework == "TFLM 2.3"
    original = json.loads(record)
    assert original["Inference Framework"] == ["TFLM 2.3", ""]  # duplicate key: both published values
    assert original["Operating System "] == "bare-mental"
    assert original["SoC Memory capacity (not including processor or accelerator)"] == "1.19MB"
    # empty and N/A values leave the property out
    assert rows(store, "SELECT ?v WHERE { ?d a dlom:EndDevice . "
                       "{ ?d dlom:soc ?v } UNION { ?d dlom:accelerator ?v } }") == []
    [[bits, scheme]] = rows(store, "SELECT ?b ?s WHERE { ?q a dlom:Quantization ; dlom:bitWidth ?b ; "
                                   "dlom:quantizationScheme ?s }")
    assert (bits, scheme) == (8, "static")
    # the kws performance comes from kws/ (read first); keyword_spotting/performance is skipped as a
    # second spelling, its accuracy (the only one) is used
    [[t, acc, year]] = rows(store, "SELECT ?t ?a ?y WHERE { ?m dlom:yearCreated ?y ; dlom:hasPerformance ?p . "
                                   "?p dlom:throughputIps ?t ; dlom:accuracy ?a }")
    assert (t, acc, year) == (pytest.approx(200.0), pytest.approx(0.915), 2022)
    skipped = dict(report.skipped)
    base = "v1.0/closed/acme/results/"
    assert "spelled two ways" in skipped[base + "acme_board/keyword_spotting/performance/results.txt"]
    assert "no median throughput" in skipped[base + "acme_board/image_classification/performance/results.txt"]
    assert "not a results summary" in skipped[base + "acme_board/kws/performance/log.txt"]
    assert len(skipped) == 3
    # other_board's result is kept on a device known by its folder name only, and says why
    [[name, label, comment, t]] = rows(store, "SELECT ?n ?l ?c ?t WHERE { ?d dlom:describedOnlyByName true ; "
                                              "dlom:publishedName ?n ; rdfs:label ?l ; rdfs:comment ?c . "
                                              "?m dlom:deployedOn ?d ; dlom:hasPerformance [ dlom:throughputIps ?t ] }")
    assert (name, t) == ("other_board", pytest.approx(5.0))
    assert label == "other_board (acme, MLPerf Tiny v1.0 closed: name only, no matching system description)"
    assert "no system description JSON matches system folder 'other_board'" in comment
    assert "v1.0/closed/acme/results/other_board" in comment


def test_folder_matching_several_descriptions_is_a_separate_name_only_device(tmp_path: Path, store: Store) -> None:
    sub = tmp_path / "v1.0" / "closed" / "acme"
    write(sub / "systems" / "board.json", MESSY_SYSTEM)
    write(sub / "systems" / "board_system_description.json", MESSY_SYSTEM.replace("Acme Board", "Acme Board 2"))
    write(sub / "results" / "board" / "kws" / "performance" / "results.txt", PERFORMANCE.format(t="7.0"))
    report = import_mlperf_tiny(store, tmp_path)
    assert report.counts["devices"] == 3 and report.counts["name_only_devices"] == 1
    [[device, comment]] = rows(store, "SELECT ?d ?c WHERE { ?m dlom:deployedOn ?d . ?d rdfs:comment ?c }")
    assert "matches several system descriptions (board.json, board_system_description.json)" in comment
    # not merged into the described device whose file stem slugs the same
    described = rows(store, "SELECT ?d WHERE { ?d a dlom:EndDevice ; dlom:sourceRecord ?r }")
    assert [device] not in described and len(described) == 2
    assert rows(store, f"SELECT ?p WHERE {{ <{device}> dlom:sourceRecord|dlom:board ?p }}") == []


def test_submission_without_system_descriptions(tmp_path: Path, store: Store) -> None:
    sub = tmp_path / "v0.7" / "closed" / "acme"
    write(sub / "systems" / "notes.txt", "hookup described elsewhere\n")
    write(sub / "results" / "board_a" / "kws" / "performance" / "results.txt", PERFORMANCE.format(t="12.5"))
    write(sub / "results" / "board_a" / "vww" / "accuracy" / "results.txt", ACCURACY.format(a="80"))
    # a folder none of whose files holds a figure gives no device: there is nothing to attach to it
    write(sub / "results" / "board_b" / "kws" / "performance" / "results.txt", "no summary here\n")
    report = import_mlperf_tiny(store, tmp_path)
    assert report.counts["devices"] == report.counts["name_only_devices"] == 1
    assert report.counts["models"] == 2
    assert dict(report.skipped) == {
        "v0.7/closed/acme/systems/notes.txt": "not a system description (.json)",
        "v0.7/closed/acme/results/board_b/kws/performance/results.txt": "no median throughput line",
    }
    [[label, comment, models]] = rows(store, "SELECT ?l ?c (COUNT(?m) AS ?n) WHERE { ?d dlom:publishedName ?name ; "
                                             "rdfs:label ?l ; rdfs:comment ?c . ?m dlom:deployedOn ?d } GROUP BY ?l ?c",
                                      name="board_a")
    assert label == "board_a (acme, MLPerf Tiny v0.7 closed: name only, no system description)"
    assert "its systems/ folder holds no JSON" in comment
    assert models == 2


def test_systems_only_tree_imports_devices_without_measurements(tmp_path: Path, store: Store) -> None:
    sub = tmp_path / "v1.2" / "closed" / "acme"
    write(sub / "systems" / "a.json", MESSY_SYSTEM)
    write(sub / "systems" / "b.json", MESSY_SYSTEM.replace("Acme Board", "Acme Board B"))
    report = import_mlperf_tiny(store, sub)  # a submitter folder: round and division from the path
    assert report.counts["devices"] == 2 and report.counts["models"] == 0 and report.skipped == []
    assert scalar(store, "SELECT (COUNT(?d) AS ?n) WHERE { ?d a dlom:EndDevice }") == 2
    assert rows(store, "SELECT ?p WHERE { ?p a dlom:Performance }") == []
    assert rows(store, "SELECT ?m WHERE { ?m a dlom:Model }") == []


def test_malformed_json_names_file_and_line_and_leaves_the_store_unchanged(tmp_path: Path, store: Store) -> None:
    before = set(store.quads())
    root = messy_tree(tmp_path)
    write(root / "v1.0" / "closed" / "acme" / "systems" / "broken.json",
          '{\n  "Board Name": "X",\n  "SoC Name": ]\n}\n')
    with pytest.raises(InputError) as e:
        import_mlperf_tiny(store, root)
    assert e.value.file.endswith("/v1.0/closed/acme/systems/broken.json") and Path(e.value.file).is_file()
    assert e.value.line == 3
    assert "malformed JSON" in str(e.value)
    assert set(store.quads()) == before


def test_unknown_unit_names_file_and_field(tmp_path: Path, store: Store) -> None:
    before = set(store.quads())
    sub = tmp_path / "v1.0" / "closed" / "acme"
    write(sub / "systems" / "a.json", MESSY_SYSTEM.replace("280 MHz", "280 furlongs"))
    with pytest.raises(InputError) as e:
        import_mlperf_tiny(store, tmp_path)
    assert e.value.file.endswith("/v1.0/closed/acme/systems/a.json")
    assert e.value.field_name == "Processor(s) Frequencies"
    assert "furlongs" in str(e.value)
    assert set(store.quads()) == before


def test_not_a_results_tree(tmp_path: Path, store: Store) -> None:
    with pytest.raises(InputError, match="not an MLPerf Tiny results tree"):
        import_mlperf_tiny(store, tmp_path)
    lone = tmp_path / "somewhere" / "acme"
    write(lone / "systems" / "a.json", MESSY_SYSTEM)
    with pytest.raises(InputError, match="cannot tell round and division"):
        import_mlperf_tiny(store, lone)


def test_entity_iris_are_deterministic(tmp_path: Path) -> None:
    first, second = new_store(), new_store()
    import_mlperf_tiny(first, messy_tree(tmp_path / "a"))
    import_mlperf_tiny(second, messy_tree(tmp_path / "b"))
    assert set(first.quads()) == set(second.quads())
    assert NamedNode("https://w3id.org/dlom/id/model/v1-0/closed/acme/acme-board/kws") in {
        q.subject for q in first.quads()}


# --- round names, later rounds' accuracy lines, benchmarks the importer does not know -------------


def test_a_folder_not_named_vX_Y_is_not_a_round(tmp_path: Path, store: Store) -> None:
    # 'v1' (no minor number) or any other name is not silently taken as a round called after the folder
    for name in ("v1", "results", "v1.0.1"):
        sub = tmp_path / name / "closed" / "acme"
        write(sub / "systems" / "acme_board.json", MESSY_SYSTEM)
        write(sub / "results" / "acme_board" / "kws" / "performance" / "results.txt", PERFORMANCE.format(t="1.0"))
        before = set(store.quads())
        with pytest.raises(InputError, match="cannot tell the round"):
            import_mlperf_tiny(store, tmp_path / name)
        assert set(store.quads()) == before
    import_mlperf_tiny(store, tmp_path / "results", round_name="v1.3")
    assert {r[0] for r in rows(store, "SELECT DISTINCT ?r WHERE { ?m a dlom:Model ; dlom:benchmarkRound ?r }")} == {"v1.3"}


def test_a_clone_is_named_by_its_readme_or_its_name(tmp_path: Path, store: Store) -> None:
    clone = tmp_path / "tiny_results_v1.3"
    write(clone / "README.md", "# MLPerf™ Tiny v1.3 results\n")
    sub = clone / "closed" / "acme"
    write(sub / "systems" / "acme_board.json", MESSY_SYSTEM)
    write(sub / "results" / "acme_board" / "kws" / "performance" / "results.txt", PERFORMANCE.format(t="1.0"))
    import_mlperf_tiny(store, clone)
    assert {r[0] for r in rows(store, "SELECT DISTINCT ?r WHERE { ?m a dlom:Model ; dlom:benchmarkRound ?r }")} == {"v1.3"}
    write(clone / "README.md", "# MLPerf™ Tiny v1.2 results\n")
    with pytest.raises(InputError, match="README names round v1.2"):
        import_mlperf_tiny(new_store(), clone)


def test_later_rounds_accuracy_lines_and_an_unknown_benchmark(tmp_path: Path, store: Store) -> None:
    sub = tmp_path / "v1.3" / "closed" / "acme"
    write(sub / "systems" / "acme_board.json", MESSY_SYSTEM)
    write(sub / "results" / "acme_board" / "ic" / "performance" / "results.txt", PERFORMANCE.format(t="10.0"))
    write(sub / "results" / "acme_board" / "ic" / "accuracy" / "results.txt", "00002.000 ulp-mlperf: Top 1% = 85.5\n")
    write(sub / "results" / "acme_board" / "ad" / "performance" / "results.txt", PERFORMANCE.format(t="20.0"))
    write(sub / "results" / "acme_board" / "ad" / "accuracy" / "results.txt", "00002.000 ulp-mlperf: AUC = 0.966\n")
    write(sub / "results" / "acme_board" / "sww" / "performance" / "results.txt", PERFORMANCE.format(t="30.0"))
    report = import_mlperf_tiny(store, tmp_path / "v1.3")
    got = dict((b, a) for b, a in rows(store, "SELECT ?b ?a WHERE { ?m dlom:benchmark ?b ; dlom:hasPerformance/dlom:accuracy ?a }"))
    assert got == {"ic": pytest.approx(0.855), "ad": pytest.approx(0.966)}
    reason = dict(report.skipped)["v1.3/closed/acme/results/acme_board/sww/performance/results.txt"]
    assert "no known benchmark folder in acme_board/sww" in reason


def test_same_board_in_every_round_is_one_hardware_entity(imported: tuple[Store, ImportReport]) -> None:
    store, report = imported
    # the rounds that describe a NUCLEO-L4R5ZI, from the raw JSON (any spelling of the board name)
    raw_rounds = {p.relative_to(MLPERF_TINY).parts[0] for p in raw_system_jsons()
                  if re.search(r'"Board Name"\s*:\s*"nucleo-l4r5zi"', p.read_text(errors="replace"), re.I)}
    found = rows(store, """SELECT DISTINCT ?hw ?path WHERE { ?hw a dlom:Hardware ; rdfs:label "NUCLEO-L4R5ZI" ;
        dlom:hasConfiguration ?d . ?d prov:wasDerivedFrom/dlom:sourcePath ?path }""")
    assert len({hw for hw, _ in found}) == 1
    assert {str(path).split("/")[0] for _, path in found} == raw_rounds and len(raw_rounds) >= 4
    # a device known by name only is linked to no hardware (nothing is known of it)
    assert rows(store, "SELECT ?d WHERE { ?d dlom:describedOnlyByName true ; dlom:hardware ?hw }") == []
    # the -Q variant is kept apart from the plain board, linked for a person to check
    assert rows(store, """SELECT ?a WHERE { ?a rdfs:label "NUCLEO-H7A3ZI-Q" ;
        dlom:possiblySameHardwareAs/rdfs:label "NUCLEO-H7A3ZI" }""")
