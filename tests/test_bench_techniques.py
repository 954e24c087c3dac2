"""Each technique materialized on a small network, checked for its real effect."""
from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from bench.data import digits_task
from bench.device import DeviceSetting
from bench.harness import trained_baseline
from bench.networks import get_network
from bench.profile import profile_network
from bench.runtimes import export_onnx, onnxruntime_runner
from bench.spec import TrainingConfig
from bench.techniques import PipelineState, techniques
from bench.training import evaluate, torch_predict

torch.set_num_threads(1)
T = techniques()


@pytest.fixture(scope="module")
def small_cnn():
    spec = get_network("small-cnn")
    task = digits_task(spec)
    return spec, task, trained_baseline(spec, task, TrainingConfig(epochs=1), seed=0)


def _state(small_cnn, tmp_path: Path, runtime: str = "onnxruntime") -> PipelineState:
    spec, task, base = small_cnn
    return PipelineState(network=spec, task=task, seed=0, runtime=runtime, work_dir=tmp_path,
                         model=copy.deepcopy(base), teacher=base)


def _params(name: str, **given):
    return T[name].validate(given, "techniques[0]", "<test>")


@pytest.mark.parametrize("name, extra", [("quantize-dynamic", {}), ("quantize-static", {"calibration_samples": 16}), ("fp16", {})])
def test_onnx_quantization_makes_a_smaller_model_that_runs_and_keeps_accuracy(small_cnn, tmp_path, name, extra):
    state = _state(small_cnn, tmp_path)
    state.onnx_path = export_onnx(state.model, state.network.input_shape, tmp_path / "model.onnx")
    fp32_size = state.onnx_path.stat().st_size
    fp32_quality = evaluate(onnxruntime_runner(state.onnx_path, DeviceSetting(threads=1)).predict, state.task)
    outcome = T[name].apply_onnx(state, _params(name, **extra))
    assert state.onnx_path.stat().st_size < fp32_size * (0.6 if name != "fp16" else 0.75)
    assert outcome.facts["size_after_bytes"] == state.onnx_path.stat().st_size
    runner = onnxruntime_runner(state.onnx_path, DeviceSetting(threads=1))
    quality = evaluate(runner.predict, state.task)
    assert abs(quality - fp32_quality) < 0.08  # a real, working low-precision model
    if name.startswith("quantize"):
        import onnx

        ops = {n.op_type for n in onnx.load(str(state.onnx_path)).graph.node}
        assert ops & {"QuantizeLinear", "DynamicQuantizeLinear", "ConvInteger", "MatMulInteger", "QLinearConv"}


def test_unstructured_pruning_zeroes_the_requested_fraction_and_fine_tuning_keeps_it(small_cnn, tmp_path):
    state = _state(small_cnn, tmp_path, runtime="pytorch")
    outcome = T["prune-unstructured"].apply_torch(state, _params("prune-unstructured", sparsity=0.6))
    for m in state.model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            assert not hasattr(m, "weight_mask")  # made permanent
            zeros = float((m.weight == 0).float().mean())
            assert zeros == pytest.approx(0.6, abs=0.01)
    assert outcome.facts["achieved_sparsity"] == pytest.approx(0.6, abs=0.01)
    T["fine-tune"].apply_torch(state, _params("fine-tune", epochs=1))
    for m in state.model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            assert float((m.weight == 0).float().mean()) == pytest.approx(0.6, abs=0.01)


def test_structured_pruning_rebuilds_layers_with_fewer_channels(small_cnn, tmp_path):
    state = _state(small_cnn, tmp_path)
    before = profile_network(state.model, state.network.input_shape)
    outcome = T["prune-structured"].apply_torch(state, _params("prune-structured", sparsity=0.5))
    m = state.model
    assert m.conv1.out_channels == 8 and m.conv1.weight.shape[0] == 8 and m.bn1.num_features == 8
    assert m.conv2.in_channels == 8 and m.conv2.out_channels == 16
    assert m.fc.in_features == 16 * 16
    after = profile_network(m, state.network.input_shape)
    assert after.parameters < before.parameters / 2 and after.macs < before.macs / 2
    assert m(torch.from_numpy(state.task.x_test[:3])).shape == (3, 10)
    assert isinstance(outcome.facts["faster"], bool) and outcome.facts["speedup"] > 0
    assert ("no real speed-up" not in outcome.notes[0]) == outcome.facts["faster"]  # the verdict follows the figure


def test_linear_svd_has_the_requested_rank(tmp_path):
    spec = get_network("mlp")
    task = digits_task(spec)
    base = trained_baseline(spec, task, TrainingConfig(epochs=1), seed=0)
    state = PipelineState(network=spec, task=task, seed=0, runtime="onnxruntime", work_dir=tmp_path,
                          model=copy.deepcopy(base), teacher=base)
    T["decompose-svd"].apply_torch(state, _params("decompose-svd", rank=8))
    fc1 = state.model.fc1
    assert isinstance(fc1, nn.Sequential) and fc1[0].out_features == 8
    product = (fc1[1].weight @ fc1[0].weight).detach()
    assert int(torch.linalg.matrix_rank(product)) == 8
    # The rank-8 product is the best rank-8 approximation of the original weight (Eckart–Young).
    s = torch.linalg.svdvals(base.fc1.weight.detach())
    err = torch.linalg.matrix_norm(product - base.fc1.weight.detach())
    assert float(err) == pytest.approx(float(s[8:].square().sum().sqrt()), rel=1e-3)


def test_conv_tucker2_decomposition_has_the_requested_ranks(small_cnn, tmp_path):
    state = _state(small_cnn, tmp_path)
    outcome = T["decompose-conv"].apply_torch(state, _params("decompose-conv", rank_ratio=0.5))
    conv2 = state.model.conv2
    assert isinstance(conv2, nn.Sequential) and len(conv2) == 3
    assert (conv2[0].out_channels, conv2[1].out_channels) == (8, 16)
    assert conv2[1].kernel_size == (3, 3)
    assert {"layer": "conv2", "method": "tucker2", "ranks": [8, 16]} in outcome.facts["decomposed"]
    # The 1×1 → k×k → 1×1 chain equals a full convolution whose output-channel unfolding has rank 16.
    x = torch.from_numpy(state.task.x_test[:4])
    assert state.model(x).shape == (4, 10)


def test_distillation_trains_a_smaller_student_that_is_measured(small_cnn, tmp_path):
    state = _state(small_cnn, tmp_path)
    teacher_params = profile_network(state.model, state.network.input_shape).parameters
    outcome = T["distill"].apply_torch(state, _params("distill", student_width=0.5, epochs=2))
    student = profile_network(state.model, state.network.input_shape)
    assert student.parameters < teacher_params / 2
    assert outcome.facts["student_parameters"] == student.parameters
    quality = evaluate(torch_predict(state.model), state.task)
    assert quality == pytest.approx(outcome.facts["student_quality"], abs=1e-6)
    assert quality > 0.3  # it learned the digits (chance is 0.1)
    assert state.architecture_changed and state.student_width == 0.5


def test_every_network_exports_and_runs_on_onnxruntime(tmp_path):
    """Structured pruning's channel groups and the ONNX export work for the small registered networks."""
    for name in ["small-cnn", "mlp", "fc-autoencoder", "ds-cnn"]:
        spec = get_network(name)
        model = spec.build(1.0).eval()
        path = export_onnx(model, spec.input_shape, tmp_path / f"{name}.onnx")
        x = np.random.default_rng(0).standard_normal((2, *spec.input_shape)).astype(np.float32)
        out = onnxruntime_runner(path, DeviceSetting(threads=1)).predict(x)
        with torch.no_grad():
            ref = model(torch.from_numpy(x)).numpy()
        np.testing.assert_allclose(out, ref, rtol=1e-3, atol=1e-4)


def test_training_reports_its_progress_batch_by_batch(small_cnn) -> None:  # type: ignore[no-untyped-def]
    """A benchmark run's progress moves while the baseline trains (the longest phase; issue 19: a
    measurement's bar stood at 5 % until training ended): one report per batch, rising to 1."""
    spec, task, _ = small_cnn
    seen: list[float] = []
    trained_baseline(spec, task, TrainingConfig(epochs=1), seed=12345, on_progress=seen.append)
    batches = -(-len(task.train_tensors()[0]) // TrainingConfig().batch_size)
    assert len(seen) == batches and seen == sorted(seen) and seen[-1] == 1.0
