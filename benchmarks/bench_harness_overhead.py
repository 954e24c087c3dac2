"""Does the bench harness add to the latency it measures? (target: ≤ 1 %)

Builds one onnxruntime session (DS-CNN, one intra-op thread) and, in the same process and run,
alternates the harness's measurement (:func:`bench.measure.measure_latency` of the harness's
:class:`bench.runtimes.Runner` call over that session) with a bare timing loop over the same session
and the same input — ``perf_counter_ns`` around ``session.run`` and nothing
else. Each side runs several rounds; the figure compared is the median of the per-round medians. It
prints both p50s and their ratio, and exits 1 if the harness is more than 1 % slower.

    .venv/bin/python benchmarks/bench_harness_overhead.py [network] [--rounds N]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from bench.data import digits_task  # noqa: E402
from bench.device import pinned  # noqa: E402
from bench.measure import measure_latency  # noqa: E402
from bench.networks import get_network  # noqa: E402
from bench.runtimes import export_onnx, session_runner  # noqa: E402


def bare_loop_p50_ms(session, feed: dict, warmup: int, count: int) -> float:
    """The simplest possible timing of session.run: no harness code at all."""
    for _ in range(warmup):
        session.run(None, feed)
    times = []
    for _ in range(count):
        t0 = time.perf_counter_ns()
        session.run(None, feed)
        times.append(time.perf_counter_ns() - t0)
    return float(np.median(times)) / 1e6


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("network", nargs="?", default="ds-cnn")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--calls", type=int, default=400)
    ap.add_argument("--core", type=int, default=0, help="pin to this core (-1: do not pin)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    spec = get_network(args.network)
    task = digits_task(spec)
    cores = None if args.core < 0 else (args.core,)
    with tempfile.TemporaryDirectory() as tmp, pinned(cores):
        path = export_onnx(spec.build(1.0).eval(), spec.input_shape, Path(tmp) / "model.onnx")
        x = np.ascontiguousarray(task.x_test[:1], dtype=np.float32)
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads, opts.inter_op_num_threads = 1, 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        session = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
        feed = {session.get_inputs()[0].name: x}
        runner = session_runner(session, "CPUExecutionProvider", path.stat().st_size)  # the harness's view of it
        harness_p50, bare_p50 = [], []
        for _ in range(args.rounds):
            # The harness times the same session (its bound call runs session.run on the same input).
            harness_p50.append(measure_latency(runner.bind(x), warmup=20, repetitions=args.calls, min_time_s=0).p50_ms)
            bare_p50.append(bare_loop_p50_ms(session, feed, 20, args.calls))
    h, b = statistics.median(harness_p50), statistics.median(bare_p50)
    ratio = h / b
    print(f"network {spec.name}, onnxruntime CPU, 1 thread{'' if cores is None else f', pinned to core {args.core}'}, "
          f"{args.rounds} rounds × {args.calls} calls")
    print(f"harness p50: {h:.5f} ms")
    print(f"bare loop p50: {b:.5f} ms")
    print(f"ratio harness/bare: {ratio:.4f} ({(ratio - 1) * 100:+.2f} %)")
    return 0 if ratio <= 1.01 else 1


if __name__ == "__main__":
    sys.exit(main())
