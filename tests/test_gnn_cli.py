"""``dlom gnn`` commands on a tiny on-disk store: train, predict (JSON; ONNX by default, torch with
--model or for a node the scorer does not know), propose, validated --format, and clear errors."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import typer
from pyoxigraph import Triple
from typer.testing import CliRunner

from dlom.gnn_command import gnn_app, loop
from kg.namespaces import DLOM, RDF, RDFS, entity
from kg.ontology import ontology_quads
from kg.store import open_store
from kg.terms import literal
from kg.writes import write_triples

from test_gnn_pipeline import build_tiny_graph

app = typer.Typer()
app.add_typer(gnn_app, name="gnn")
app.command("loop")(loop)
runner = CliRunner()


@pytest.fixture(scope="module")
def tiny_store_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("gnn-cli") / "store"
    s = open_store(f"oxigraph://{path}")
    s.add(ontology_quads())
    build_tiny_graph(s)
    s.close()
    return f"oxigraph://{path}"


@pytest.fixture(scope="module")
def checkpoint(tiny_store_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gnn-model") / "p.pt"
    r = runner.invoke(app, ["gnn", "train", "--store", tiny_store_url, "--out", str(out), "--epochs", "20",
                            "--members", "2", "--hidden", "16"])
    assert r.exit_code == 0, r.output
    assert "trained dlom-gnn-" in r.output
    assert out.is_file() and out.with_suffix(".onnx").is_file() and out.with_suffix(".json").is_file()
    return out


def test_predict_json(tiny_store_url: str, checkpoint: Path) -> None:
    r = runner.invoke(app, ["gnn", "predict", "--store", tiny_store_url, "--model", str(checkpoint),
                            "--dln", "mid-cnn", "--device", "Board Cold", "--technique", "Quantization: INT8 (test)",
                            "--format", "json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["cold_start"] is True
    assert out["predicted"]["inference_latency_ms"] > 0
    assert set(out["uncertainty"]) >= {"std_ln_latency_ms", "std_accuracy", "std_ln_energy_uj"}


def test_predict_unknown_device_is_one_clear_line(tiny_store_url: str, checkpoint: Path) -> None:
    r = runner.invoke(app, ["gnn", "predict", "--store", tiny_store_url, "--model", str(checkpoint),
                            "--dln", "mid-cnn", "--device", "No Such Board"])
    assert r.exit_code == 1
    assert "unknown device 'No Such Board'" in r.output and "Traceback" not in r.output


def test_predict_without_trained_model(tiny_store_url: str, tmp_path: Path) -> None:
    r = runner.invoke(app, ["gnn", "predict", "--store", tiny_store_url, "--model", str(tmp_path / "none.pt"),
                            "--dln", "mid-cnn", "--device", "Board A"])
    assert r.exit_code == 1
    assert "no trained GNN" in r.output and "dlom gnn train" in r.output


def test_propose_json_without_writing(tiny_store_url: str, checkpoint: Path) -> None:
    r = runner.invoke(app, ["gnn", "propose", "--store", tiny_store_url, "--model", str(checkpoint), "--top-k", "2",
                            "--weight", "latency=2", "--no-write", "--format", "json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert len(out["proposals"]) == 2 and out["written_models"] == []


def test_bad_weight_is_rejected(tiny_store_url: str, checkpoint: Path) -> None:
    r = runner.invoke(app, ["gnn", "propose", "--store", tiny_store_url, "--model", str(checkpoint),
                            "--weight", "speed=1"])
    assert r.exit_code == 2
    assert "unknown objective" in r.output


def test_eval_writes_the_table(tiny_store_url: str, tmp_path: Path) -> None:
    doc = tmp_path / "eval.md"
    r = runner.invoke(app, ["gnn", "eval", "--store", tiny_store_url, "--splits", "temporal", "--members", "1",
                            "--epochs", "3", "--write-doc", str(doc)])
    assert r.exit_code == 0, r.output
    text = doc.read_text()
    assert "## temporal split" in text and "| gradient-boosted trees |" in text and "## Verdict" in text
    r = runner.invoke(app, ["gnn", "eval", "--store", tiny_store_url, "--splits", "sideways"])
    assert r.exit_code == 2 and "unknown split" in r.output


@pytest.fixture
def trained_home(checkpoint: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A DLOM_HOME whose user checkpoint (with its ONNX scorer) is the one trained on the tiny graph."""
    home = tmp_path / "home"
    (home / "gnn").mkdir(parents=True)
    for suffix in (".pt", ".onnx", ".json"):
        shutil.copy(checkpoint.with_suffix(suffix), home / "gnn" / f"predictor{suffix}")
    monkeypatch.setenv("DLOM_HOME", str(home))
    return home


def _predict(*args: str) -> dict:
    r = runner.invoke(app, ["gnn", "predict", *args, "--format", "json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def test_predict_scores_with_onnx_and_agrees_with_torch(tiny_store_url: str, checkpoint: Path, trained_home: Path) -> None:
    config = ["--store", tiny_store_url, "--dln", "mid-cnn", "--device", "Board B", "--technique", "Quantization: INT8 (test)"]
    onnx, torch_ = _predict(*config), _predict(*config, "--model", str(trained_home / "gnn" / "predictor.pt"))
    assert (onnx["scorer"], torch_["scorer"]) == ("onnxruntime", "torch")
    assert onnx["scorer_graph"] is None  # built for this very graph
    assert onnx["predictor_version"] == torch_["predictor_version"]
    for part in ("predicted", "uncertainty"):
        for key, value in onnx[part].items():
            if key != "method":
                np.testing.assert_allclose(value, torch_[part][key], rtol=1e-4, atol=1e-6, err_msg=f"{part}.{key}")
    for key in ("dln", "device", "techniques", "memory_fit", "weight_bytes", "cold_start", "measured_models_on_device", "measured"):
        assert onnx[key] == torch_[key], key


def test_predict_falls_back_to_torch_for_a_node_the_scorer_lacks(tmp_path: Path, trained_home: Path) -> None:
    url = f"oxigraph://{tmp_path / 'grown'}"
    s = open_store(url)
    s.add(ontology_quads())
    build_tiny_graph(s)
    new = entity("device", "test", "Board New")
    write_triples(s, [Triple(new, RDF.type, DLOM.EndDevice), Triple(new, RDFS.label, literal("Board New")),
                      Triple(new, DLOM.clockFrequencyMHz, literal(300.0)),
                      Triple(new, DLOM.usesFramework, entity("framework", "test", "tflm"))], source="a device imported after training")
    s.close()
    out = _predict("--store", url, "--dln", "mid-cnn", "--device", "Board New")
    assert out["scorer"] == "torch" and out["cold_start"] is True
    assert out["predicted"]["inference_latency_ms"] > 0


@pytest.mark.parametrize("command", [["gnn", "predict", "--dln", "mid-cnn", "--device", "Board A"], ["gnn", "propose"], ["loop"]])
def test_format_is_table_or_json(command: list[str], tiny_store_url: str) -> None:
    r = runner.invoke(app, [*command, "--store", tiny_store_url, "--format", "csv"])
    assert r.exit_code == 2
    assert "--format" in r.output and "'table'" in r.output and "'json'" in r.output


def test_ambiguous_label_lists_the_candidates(tiny_store_url: str, checkpoint: Path) -> None:
    r = runner.invoke(app, ["gnn", "predict", "--store", tiny_store_url, "--model", str(checkpoint),
                            "--dln", "cnn", "--device", "Board A"])
    assert r.exit_code == 1
    assert "ambiguous DLN 'cnn'" in r.output and "Traceback" not in r.output
    for name in ("tiny-cnn", "mid-cnn", "big-cnn"):
        assert f"<{entity('dln', 'test', name).value}>" in r.output
    assert "parameters" in r.output  # what tells the candidates apart
