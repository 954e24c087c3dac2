"""Bad specs and grids get clear errors naming the field."""
from __future__ import annotations

import pytest
from typer.testing import CliRunner

from bench.errors import SpecError
from bench.spec import parse_spec
from bench.sweep import parse_grid


def _err(raw) -> SpecError:
    with pytest.raises(SpecError) as e:
        parse_spec(raw, "spec.yaml")
    return e.value


@pytest.mark.parametrize("raw, field, words", [
    ({"network": "resnet-1000"}, "network", "unknown network"),
    ({}, "network", "required"),
    ({"network": "mlp", "techniques": [{"name": "magic"}]}, "techniques[0].name", "unknown technique"),
    ({"network": "mlp", "techniques": [{"name": "prune-unstructured", "sparsity": 1.5}]}, "techniques[0].sparsity", "< 1.0, got 1.5"),
    ({"network": "mlp", "techniques": [{"name": "prune-unstructured", "sparsity": 1.0}]}, "techniques[0].sparsity", "< 1.0"),
    ({"network": "mlp", "techniques": [{"name": "prune-unstructured"}]}, "techniques[0].sparsity", "required"),
    ({"network": "mlp", "techniques": [{"name": "prune-structured", "sparsity": "half"}]}, "techniques[0].sparsity", "must be a float"),
    ({"network": "mlp", "techniques": [{"name": "decompose-svd", "rank": 0}]}, "techniques[0].rank", "≥ 1"),
    ({"network": "mlp", "techniques": [{"name": "decompose-svd", "rank": 4, "rank_ratio": 0.5}]}, "techniques[0].rank", "exactly one"),
    ({"network": "mlp", "techniques": [{"name": "distill", "temperature": 0}]}, "techniques[0].temperature", "> 0.0"),
    ({"network": "mlp", "techniques": [{"name": "fine-tune", "epochs": 2, "lr": 0.1}]}, "techniques[0].lr", "unknown parameter"),
    ({"network": "mlp", "techniques": [{"name": "quantize-static"}, {"name": "fine-tune"}]}, "techniques[1].name", "cannot follow"),
    ({"network": "mlp", "techniques": [{"name": "quantize-dynamic"}], "runtime": {"name": "pytorch"}}, "techniques[0].name", "onnxruntime"),
    ({"network": "mlp", "runtime": {"name": "tensorrt"}}, "runtime.name", "must be one of"),
    ({"network": "mlp", "runtime": {"threads": 0}}, "runtime.threads", "≥ 1"),
    ({"network": "mlp", "runtime": {"cores": [9999]}}, "runtime.cores", "not available"),
    ({"network": "mlp", "seeds": [-1]}, "seeds[0]", "≥ 0"),
    ({"network": "mlp", "colour": "red"}, "colour", "unknown key"),
])
def test_bad_specs_name_the_field(raw, field, words):
    e = _err(raw)
    assert e.field_name == field
    assert words in e.reason
    assert f"spec.yaml [{field}]" in str(e)


def test_a_good_spec_round_trips():
    raw = {"network": "mlp", "techniques": [{"name": "prune-unstructured", "sparsity": 0.5}, "fine-tune", {"name": "fp16"}],
           "runtime": {"name": "pytorch", "threads": 1}, "seeds": [0, 1]}
    spec = parse_spec(raw)
    assert [s.name for s in spec.techniques] == ["prune-unstructured", "fine-tune", "fp16"]
    assert spec.techniques[1].params == {"epochs": 2, "learning_rate": 1e-3}
    again = parse_spec(spec.to_raw())
    assert again.identity() == spec.identity() and again.key("h") == spec.key("h")


def test_bad_grid_names_the_combination_field():
    with pytest.raises(SpecError) as e:
        parse_grid({"networks": ["mlp"], "combinations": {"bad": [{"name": "prune-unstructured", "sparsity": 2}]}}, "grid.yaml")
    assert e.value.field_name == "combinations.bad[0].sparsity"
    with pytest.raises(SpecError) as e:
        parse_grid({"networks": ["mlp", "nope"]}, "grid.yaml")
    assert e.value.field_name == "networks[1]"


def test_cli_reports_a_bad_spec_without_a_traceback(tmp_path):
    from dlom.bench_command import bench_app

    spec = tmp_path / "bad.yaml"
    spec.write_text("network: mlp\ntechniques:\n  - {name: prune-unstructured, sparsity: 1.5}\n")
    result = CliRunner().invoke(bench_app, ["run", str(spec), "--store", "oxigraph://"])
    assert result.exit_code == 1
    assert "techniques[0].sparsity" in result.output and "Traceback" not in result.output
    broken = tmp_path / "broken.yaml"
    broken.write_text("network: [mlp\n")
    result = CliRunner().invoke(bench_app, ["run", str(broken), "--store", "oxigraph://"])
    assert result.exit_code == 1 and "malformed YAML" in result.output


def test_cuda_is_refused_before_any_work_on_a_host_without_a_gpu():
    import torch

    from bench.errors import UnsupportedError
    from bench.harness import run_benchmark

    if torch.cuda.is_available():
        pytest.skip("this host has a GPU")
    spec = parse_spec({"network": "mlp", "runtime": {"device": "cuda"}})
    with pytest.raises(UnsupportedError, match="cuda"):
        run_benchmark(spec)


def test_a_model_from_elsewhere_is_rebuilt_from_its_dln_or_refused_naming_the_technique(store):
    from pyoxigraph import Triple

    from bench.graph import spec_from_model
    from kg.namespaces import DLOM, RDF, RDFS, entity
    from kg.terms import literal
    from kg.writes import write_triples

    dln, dev, model, tech = (entity("dln", "mlperf-tiny", "kws"), entity("device", "t"), entity("model", "t"),
                             entity("quantization", "vendor-int8"))
    base = [Triple(dln, RDF.type, DLOM.DLN), Triple(dln, RDFS.label, literal("DS-CNN")),
            Triple(dev, RDF.type, DLOM.EndDevice), Triple(dev, RDFS.label, literal("board")),
            Triple(model, RDF.type, DLOM.Model), Triple(model, RDFS.label, literal("imported")),
            Triple(model, DLOM.usesDLN, dln), Triple(model, DLOM.deployedOn, dev)]
    write_triples(store, base)
    assert spec_from_model(store, model) == {"network": "ds-cnn", "techniques": []}
    write_triples(store, [Triple(tech, RDF.type, DLOM.Quantization), Triple(tech, RDFS.label, literal("vendor int8")),
                          Triple(model, DLOM.appliesOptimization, tech)])
    with pytest.raises(SpecError) as e:
        spec_from_model(store, model)
    assert e.value.field_name == "appliesOptimization" and "vendor int8" in e.value.reason


def test_cli_runs_a_good_spec_and_reports_what_it_wrote(tmp_path):
    from dlom.bench_command import bench_app

    spec = tmp_path / "mlp.json"
    spec.write_text('{"network": "mlp", "techniques": [{"name": "quantize-dynamic"}], "training": {"epochs": 1},'
                    ' "runtime": {"threads": 1}, "measure": {"repetitions": 10, "min_time_s": 0.02, "batch_sizes": [1]}}')
    result = CliRunner().invoke(bench_app, ["run", str(spec), "--store", "oxigraph://", "--cache-dir", str(tmp_path / "c")])
    assert result.exit_code == 0, result.output
    assert "written: https://w3id.org/dlom/id/model/bench/mlp/" in result.output
    assert "top-1 accuracy" in result.output and "not measured" in result.output
