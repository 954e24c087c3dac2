"""The runtimes a benchmarked model runs on: onnxruntime (an exported ONNX graph) and PyTorch eager.

A :class:`Runner` gives a predict function over numpy batches (for accuracy), a zero-argument call
for a prepared batch (for the timing loop: nothing but the runtime call itself), and the size of the
model file it loaded. onnxruntime runs with the CPU execution provider — or CUDA when the setting
asks for it and the host has it — with the setting's intra-op thread count and one inter-op thread.
"""
from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from bench.device import DeviceSetting
from bench.errors import UnsupportedError

RUNTIMES = ("onnxruntime", "pytorch")


def export_onnx(model: nn.Module, input_shape: tuple[int, ...], path: Path) -> Path:
    """Export ``model`` (float32, eval mode) to ONNX opset 17 with a dynamic batch dimension."""
    model = model.float().eval()
    x = torch.zeros((1, *input_shape))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        # The TorchScript-based exporter: 100× faster than the dynamo exporter for these small
        # networks and produces the same standard operators.
        torch.onnx.export(model, (x,), str(path), input_names=["input"], output_names=["output"],
                          dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, opset_version=17,
                          dynamo=False)
    return path


@dataclass
class Runner:
    """A loaded model on a runtime."""

    runtime: str
    provider: str
    version: str
    model_bytes: int
    predict: Callable[[np.ndarray], np.ndarray]
    bind: Callable[[np.ndarray], Callable[[], object]]
    close: Callable[[], None]


def onnxruntime_runner(path: Path, setting: DeviceSetting) -> Runner:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = setting.threads or 0
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.log_severity_level = 3
    if setting.device == "cuda":
        if "CUDAExecutionProvider" not in ort.get_available_providers():
            raise UnsupportedError("runtime.device is cuda but this onnxruntime has no CUDAExecutionProvider (no GPU build or no GPU)")
        providers = ["CUDAExecutionProvider"]
    else:
        providers = ["CPUExecutionProvider"]
    try:
        session = ort.InferenceSession(str(path), sess_options=opts, providers=providers)
    except Exception as e:  # onnxruntime raises its own exception types for missing kernels
        raise UnsupportedError(f"onnxruntime cannot load the model on {providers[0]}: {e}") from None
    return session_runner(session, providers[0], path.stat().st_size)


def session_runner(session, provider: str, model_bytes: int) -> Runner:
    """A :class:`Runner` over an existing onnxruntime ``InferenceSession``."""
    import onnxruntime as ort

    name = session.get_inputs()[0].name

    def predict(batch: np.ndarray) -> np.ndarray:
        return session.run(None, {name: np.ascontiguousarray(batch, dtype=np.float32)})[0].astype(np.float32)

    def bind(batch: np.ndarray) -> Callable[[], object]:
        feed = {name: np.ascontiguousarray(batch, dtype=np.float32)}
        run = session.run
        return lambda: run(None, feed)

    return Runner("onnxruntime", provider, ort.__version__, model_bytes, predict, bind, lambda: None)


def pytorch_runner(model: nn.Module, setting: DeviceSetting, work_dir: Path) -> Runner:
    if setting.device == "cuda" and not torch.cuda.is_available():
        raise UnsupportedError("runtime.device is cuda but PyTorch sees no CUDA GPU on this host")
    device = torch.device(setting.device)
    model = model.to(device).eval()
    dtype = next(model.parameters()).dtype
    path = work_dir / "model.pt"
    torch.save(model.state_dict(), path)
    previous = torch.get_num_threads()
    # Never more threads than the cores it is pinned to: oversubscribed threads spin against each other.
    threads = setting.threads or (len(setting.cores) if setting.cores else None)
    if threads is not None:
        torch.set_num_threads(threads)

    def predict(batch: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return model(torch.from_numpy(batch).to(device=device, dtype=dtype)).float().cpu().numpy()

    def bind(batch: np.ndarray) -> Callable[[], object]:
        x = torch.from_numpy(np.ascontiguousarray(batch)).to(device=device, dtype=dtype)
        sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)

        def call() -> object:
            with torch.no_grad():
                out = model(x)
            sync()
            return out

        return call

    return Runner("pytorch", "CUDA" if device.type == "cuda" else "CPU (eager)", torch.__version__, path.stat().st_size,
                  predict, bind, lambda: torch.set_num_threads(previous))
