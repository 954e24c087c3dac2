"""``dlom gnn predict`` on the shipped graph as a user runs it, in a subprocess: scored through
onnxruntime without importing torch, equal to the torch ensemble's prediction, nothing on stderr;
``--format csv`` is a usage error; an ambiguous label is one error line listing the candidates."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from gnn.paths import SHIPPED_CHECKPOINT
from kg.bootstrap import ensure_initialized, shipped_files
from kg.namespaces import SPARQL_PREFIXES
from kg.store import Store, open_store

pytestmark = pytest.mark.skipif(not shipped_files() or not SHIPPED_CHECKPOINT.is_file(),
                                reason="no shipped knowledge graph or predictor")

REPO = Path(__file__).resolve().parent.parent
# The README's example (an MLPerf Tiny reference network on a reference board) with its int8 quantization.
DLN = "https://w3id.org/dlom/id/dln/mlperf-tiny/kws"
DEVICE = "https://w3id.org/dlom/id/device/v0-5/closed/reference/nucleo-l4r5zi-system-description"
TECHNIQUE = "Quantization: TensorFlow Int8 Quantization"


@dataclass
class Shipped:
    home: Path
    store_url: str
    torch_prediction: dict
    resnet8_dlns: list[str]
    fp16_techniques: list[str]


def _iris(store: Store, where: str) -> list[str]:
    res = store.select(SPARQL_PREFIXES + f"SELECT DISTINCT ?s WHERE {{ {where} }}")
    return sorted(row[0].value for row in res.rows)


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> Shipped:
    """The shipped graph in an on-disk store; a DLOM_HOME whose user checkpoint is the shipped one with
    an ONNX scorer exported for this very graph (so ONNX and torch must agree, whichever graph the
    shipped scorer was built for); the torch path's prediction of the configuration."""
    from gnn.export import export_graph
    from gnn.onnx_scorer import OnnxScorer
    from gnn.predict import predict_configuration
    from gnn.train import Ensemble

    home = tmp_path_factory.mktemp("predict-fast")
    url = f"oxigraph://{home / 'store'}"
    s = open_store(url)
    try:
        ensure_initialized(s)
        graph = export_graph(s)
        ensemble = Ensemble.load(SHIPPED_CHECKPOINT)
        (home / "gnn").mkdir()
        shutil.copy(SHIPPED_CHECKPOINT, home / "gnn" / "predictor.pt")
        OnnxScorer.build(ensemble, graph).save(home / "gnn" / "predictor.onnx")
        reference = predict_configuration(s, DLN, DEVICE, [TECHNIQUE], ensemble=ensemble, graph=graph)
        resnet8 = _iris(s, '?s a dlom:DLN ; rdfs:label ?l . FILTER(CONTAINS(LCASE(?l), "resnet-8"))')
        fp16 = _iris(s, '?s a ?c ; rdfs:label "fp16 conversion" . ?c rdfs:subClassOf* dlom:OptimizationTechnique')
    finally:
        s.close()
    return Shipped(home, url, reference, resnet8, fp16)


def _dlom(shipped: Shipped, *args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """``python -m dlom.cli gnn predict --store … ARGS`` in a fresh interpreter, and the modules it had
    imported when it exited (written at exit, so nothing but the command's own output is on stderr)."""
    probe = shipped.home / "modules.txt"
    probe.unlink(missing_ok=True)
    code = ("import atexit, runpy, sys\n"
            f"atexit.register(lambda: open({str(probe)!r}, 'w').write('\\n'.join(sys.modules)))\n"
            "sys.argv = ['dlom', *sys.argv[1:]]\n"
            "runpy.run_module('dlom.cli', run_name='__main__', alter_sys=True)\n")
    env = {k: v for k, v in os.environ.items() if k != "DLOM_STORE"}
    env.update(DLOM_HOME=str(shipped.home), PYTHONPATH=os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]))
    r = subprocess.run([sys.executable, "-c", code, "gnn", "predict", "--store", shipped.store_url, *args],
                       capture_output=True, text=True, env=env, cwd=REPO, timeout=300)
    return r, set(probe.read_text().split("\n")) if probe.is_file() else set()


def _torch_modules(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in ("torch", "torch_geometric"))


def test_json_prediction_without_torch_equals_the_torch_path(shipped: Shipped) -> None:
    r, modules = _dlom(shipped, "--dln", DLN, "--device", DEVICE, "--technique", TECHNIQUE, "--format", "json")
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""  # no warning, from torch or anything else
    assert "onnxruntime" in modules and not _torch_modules(modules)
    out, ref = json.loads(r.stdout), shipped.torch_prediction
    assert (out["scorer"], ref["scorer"]) == ("onnxruntime", "torch")
    assert out["scorer_graph"] is None and out["predictor_version"] == ref["predictor_version"]
    for part in ("predicted", "uncertainty"):
        for key, value in out[part].items():
            if key != "method":
                np.testing.assert_allclose(value, ref[part][key], rtol=1e-3, err_msg=f"{part}.{key}")
    for key in ("dln", "device", "techniques", "memory_fit", "weight_bytes", "cold_start", "measured_models_on_device", "measured"):
        assert out[key] == ref[key], key
    assert out["device"]["detail"]  # what tells this board apart is named


def test_table_without_torch_names_the_entities(shipped: Shipped) -> None:
    r, modules = _dlom(shipped, "--dln", DLN, "--device", DEVICE)
    assert r.returncode == 0, r.stderr
    assert r.stderr == "" and not _torch_modules(modules)
    assert f"<{DLN}>" in r.stdout and f"<{DEVICE}>" in r.stdout and "(onnxruntime)" in r.stdout


def test_format_csv_is_a_usage_error(shipped: Shipped) -> None:
    r, _ = _dlom(shipped, "--dln", DLN, "--device", DEVICE, "--format", "csv")
    assert r.returncode == 2
    assert "--format" in r.stderr and "'table'" in r.stderr and "'json'" in r.stderr


@pytest.mark.parametrize(("option", "name", "noun"), [("--dln", "ResNet-8", "DLN"), ("--technique", "fp16 conversion", "technique")])
def test_ambiguous_label_is_one_line_listing_the_candidates(shipped: Shipped, option: str, name: str, noun: str) -> None:
    candidates = shipped.resnet8_dlns if option == "--dln" else shipped.fp16_techniques
    assert len(candidates) > 1, f"the shipped graph no longer has several entities matching {name!r}"
    args = {"--dln": DLN, "--device": DEVICE, option: name}
    r, modules = _dlom(shipped, *[x for k, v in args.items() for x in (k, v)])
    assert r.returncode == 1 and r.stdout == ""
    line, = r.stderr.strip().splitlines()
    assert line.startswith(f"error: ambiguous {noun} {name!r}: {len(candidates)} match")
    assert all(f"<{iri}>" in line for iri in candidates)
    if option == "--technique":  # each fp16 conversion is told apart by the network it converted
        assert line.count("applied to") == len(candidates)
    assert not _torch_modules(modules)
