"""Framework families (kg/framework_names.py): every spelling MLPerf Tiny submitters used for one product
names that product; the importers record it; the framework requirement finds every spelling by it."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from decision.facet_index import facet_index
from decision.recommend import recommend
from kg.framework_names import framework_families, framework_name
from kg.importers.mlperf_tiny import import_mlperf_tiny
from kg.store import Store

SHARED_TINY = Path(__file__).resolve().parents[2] / "shared" / "data" / "mlperf-tiny"
TFLM = "TensorFlow Lite for Microcontrollers"


def _tiny_framework_spellings() -> set[str]:
    """The "Inference Framework" texts of every MLPerf Tiny system description, read from the raw text (some
    files are not valid JSON; the importer repairs them, this count must not depend on that)."""
    field = re.compile(r'"inference[ _]framework"\s*:\s*"([^"]*)"', re.I)
    return {m.group(1).strip() for path in SHARED_TINY.rglob("systems/*.json") if not path.name.startswith("._")
            for m in field.finditer(path.read_text(encoding="utf-8", errors="replace")) if m.group(1).strip()}


@pytest.mark.parametrize(("label", "families"), [
    ("tflite-micro, https://github.com/tensorflow/tflite-micro.git, commit_id:a30942eb", (TFLM,)),
    ("Tensorflow Lite Micro 2.3.1", (TFLM,)),
    ("TensorFlow Lite for micro", (TFLM,)),
    ("TensorFlow Lite for Microcontrollers='https://github.com/tensorflow/tflite-micro/tree/10b1223'", (TFLM,)),
    ("TFLite v2.7.1 (ruy)", ("TensorFlow Lite",)),
    ("ArmNN TFLite v22.11 using neon", ("TensorFlow Lite", "Arm NN")),
    ("TensorRT 8.5.0, CUDA 11.8", ("TensorRT", "CUDA")),
    ("OpenVino 2021.2.200", ("OpenVINO",)),
    ("Onnxruntime v1.14.0 with GPU support", ("ONNX Runtime",)),
    ("AI Hub precompiled_qnn_onnx runtime (onnxruntime 1.22.2; qairt 2.45.0)",
     ("ONNX Runtime", "Qualcomm AI Engine Direct (QNN)")),
    ("microTVM", ("microTVM",)),
    ("TVM 0.9.dev commit=c3ace209", ("Apache TVM",)),
    ("TensorFlow source from (https://github.com/Intel-tensorflow/tensorflow-lite)", ("TensorFlow",)),
    ("FINN", ()),
])
def test_a_label_names_its_families(label: str, families: tuple[str, ...]) -> None:
    assert framework_families(label) == families


def test_framework_name_drops_the_source_reference() -> None:
    assert framework_name("tflite-micro, https://github.com/tensorflow/tflite-micro.git, commit_id:a309") == "tflite-micro"
    assert framework_name("TensorFlow source from (https://github.com/Intel-tensorflow/tensorflow)") == "TensorFlow source"
    assert framework_name("TVM 0.9.dev commit=c3ace209") == "TVM 0.9.dev"


def test_every_raw_tflite_micro_spelling_is_one_family() -> None:
    spellings = _tiny_framework_spellings()
    micro = {s for s in spellings if "micro" in s.lower() and "tvm" not in s.lower()}
    assert len(micro) == 7, micro  # the raw files' spellings, counted independently of the importer
    assert {s: framework_families(s) for s in micro} == {s: (TFLM,) for s in micro}


def test_the_shipped_graph_records_each_labels_families(shipped: Store) -> None:
    rows = shipped.select("PREFIX dlom: <https://w3id.org/dlom#> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
                          "SELECT ?f ?l ?family WHERE { ?f a dlom:Framework ; rdfs:label ?l "
                          "OPTIONAL { ?f dlom:frameworkFamily ?family } }").dicts()
    recorded: dict[str, set[str]] = {}
    labels: dict[str, str] = {}
    for r in rows:
        labels[r["f"].value] = r["l"].value
        recorded.setdefault(r["f"].value, set()).update([r["family"].value] if "family" in r else [])
    assert len(labels) > 200
    assert {f: recorded[f] for f in labels} == {f: set(framework_families(label)) for f, label in labels.items()}


def _matching(store: Store, framework: str) -> int:
    return recommend(store, {"device": {"framework": framework}}, top_k=1).candidates_considered


def _models_on_spellings(store: Store, spellings: set[str]) -> int:
    """The models whose own or whose device's framework label is one of ``spellings``, counted by a query
    of its own."""
    values = " ".join(json.dumps(s) for s in sorted(spellings))
    return int(store.select(
        "PREFIX dlom: <https://w3id.org/dlom#> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
        f"SELECT (COUNT(DISTINCT ?m) AS ?n) WHERE {{ VALUES ?l {{ {values} }} ?m a dlom:Model . "
        "{ ?m dlom:usesFramework ?fw } UNION { ?m dlom:deployedOn ?d . ?d dlom:usesFramework ?fw } "
        "?fw rdfs:label ?label FILTER(STR(?label) = ?l) }").dicts()[0]["n"].value)


def _tflm_spellings() -> set[str]:
    return {s for s in _tiny_framework_spellings() if framework_families(s) == (TFLM,)}


def test_the_framework_requirement_finds_every_spelling_by_its_family_in_sparql(store: Store) -> None:
    import_mlperf_tiny(store, SHARED_TINY)  # MLPerf Tiny alone: the bare query answers quickly
    expected = _models_on_spellings(store, _tflm_spellings())
    assert expected > _matching(store, "tflite-micro") > 0  # one spelling finds some, the family all
    assert _matching(store, TFLM) == expected


def test_the_framework_requirement_finds_every_spelling_by_its_family_in_the_facet_index(shipped: Store) -> None:
    assert facet_index(shipped) is not None  # retrieval on the shipped graph answers through it, as the server's
    expected = _models_on_spellings(shipped, _tflm_spellings())
    assert expected > _matching(shipped, "tflite-micro") > 0
    assert _matching(shipped, TFLM) == expected
