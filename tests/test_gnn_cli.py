"""``dlom gnn`` commands on a tiny on-disk store: train, predict (JSON), propose, and clear errors."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from dlom.gnn_command import gnn_app, loop
from kg.ontology import ontology_quads
from kg.store import open_store

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
