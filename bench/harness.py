"""The benchmark harness: a checked spec → a real model → measurements (recorded by :mod:`bench.graph`).

For each seed: build the network, train the baseline on the digits task (cached per network, seed
and training settings), apply the techniques in order (PyTorch-stage ones on the module, then export
to ONNX for onnxruntime and apply the ONNX-stage ones), load the result on the runtime with the
device setting and measure its quality on the test set *through that runtime*. The first seed's
model is then measured: latency percentiles (batch 1), throughput at each batch size, size on disk,
peak memory, energy where RAPL exists. Quality is the mean over seeds; stability the variance.
"""
from __future__ import annotations

import copy
import datetime as dt
import statistics
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from bench.data import DigitsTask, digits_task
from bench.device import HostFingerprint, host_fingerprint, pinned
from bench.errors import TechniqueError, UnsupportedError
from bench.measure import LatencyStats, PeakMemory, measure_energy_uj, measure_latency
from bench.networks.registry import NetworkSpec
from bench.profile import NetworkProfile, profile_network
from bench.runtimes import Runner, export_onnx, onnxruntime_runner, pytorch_runner
from bench.spec import BenchSpec, TrainingConfig
from bench.techniques.registry import Outcome, PipelineState
from bench.training import evaluate, train
from kg.progress import PhaseReport, no_report

REPO = Path(__file__).resolve().parent.parent

_BASELINES: dict[tuple, dict[str, torch.Tensor]] = {}


def code_version() -> str:
    """The git commit of the code (with '+local changes' when the tree differs), or 'unknown'."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, timeout=10)
        if commit.returncode != 0:
            return "unknown (not a git checkout)"
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO, capture_output=True,
                               text=True, timeout=10)
        return commit.stdout.strip() + (" +local changes" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown (git unavailable)"


def trained_baseline(network: NetworkSpec, task: DigitsTask, training: TrainingConfig, seed: int,
                     cache_dir: Path | None = None, on_progress: Callable[[float], None] | None = None) -> nn.Module:
    """The network at width 1.0 trained on the digits task (a fresh copy; training is cached per
    network, seed and training settings, in memory and under ``cache_dir`` when given); ``on_progress``
    gets the fraction of the training done (see :func:`bench.training.train`; nothing when cached)."""
    key = (network.name, seed, training.epochs, training.learning_rate, training.batch_size)
    model = network.build(1.0)
    if key not in _BASELINES and cache_dir is not None:
        path = cache_dir / f"{network.name}-seed{seed}-e{training.epochs}-lr{training.learning_rate:g}-b{training.batch_size}.pt"
        if path.exists():
            _BASELINES[key] = torch.load(path, weights_only=True)
    if key not in _BASELINES:
        torch.manual_seed(seed)
        model = network.build(1.0)
        train(model, task, training.epochs, training.learning_rate, seed, training.batch_size, on_progress=on_progress)
        _BASELINES[key] = copy.deepcopy(model.state_dict())
        if cache_dir is not None:
            cache_dir.mkdir(parents=True, exist_ok=True)
            torch.save(_BASELINES[key], cache_dir / f"{network.name}-seed{seed}-e{training.epochs}-lr{training.learning_rate:g}-b{training.batch_size}.pt")
    model.load_state_dict(_BASELINES[key])
    return model.eval()


@dataclass
class StepRecord:
    """One applied technique: its step, what it did."""

    index: int
    name: str
    params: dict[str, Any]
    outcome: Outcome


@dataclass
class SeedRun:
    seed: int
    quality: float
    state: PipelineState
    steps: list[StepRecord]


@dataclass
class BenchResult:
    """Everything one benchmark run measured (the graph record is built from it)."""

    spec: BenchSpec
    key: str
    host: HostFingerprint
    started: dt.datetime
    ended: dt.datetime
    code_version: str
    steps: list[StepRecord]
    quality_by_seed: dict[int, float]
    metric: str
    dataset: str
    latency: LatencyStats
    batch_latency: dict[int, LatencyStats]
    model_bytes: int
    memory_mb: float | None
    energy_uj: float | None
    runtime_version: str
    provider: str
    base_profile: NetworkProfile
    deployed_profile: NetworkProfile
    architecture_changed: bool
    student_width: float | None
    notes: list[str] = field(default_factory=list)

    @property
    def quality(self) -> float:
        return statistics.fmean(self.quality_by_seed.values())

    @property
    def stability(self) -> float | None:
        """Variance of quality across seeds (None with one seed: not measured)."""
        q = list(self.quality_by_seed.values())
        return statistics.variance(q) if len(q) >= 2 else None


def _apply_steps(spec: BenchSpec, state: PipelineState) -> list[StepRecord]:
    records = []
    exported = False
    for i, step in enumerate(spec.techniques):
        stage = step.technique.stage(spec.runtime)
        if stage == "onnx" and not exported:
            state.onnx_path = export_onnx(state.model, spec.network.input_shape, state.work_dir / "model.onnx")
            exported = True
        try:
            fn = step.technique.apply_torch if stage == "torch" else step.technique.apply_onnx
            outcome = fn(state, step.params)
        except Exception as e:  # a technique failing on a real model is reported with its step
            raise TechniqueError(f"techniques[{i}] ({step.name}) failed on {spec.network.name}: {e}") from e
        records.append(StepRecord(i, step.name, step.params, outcome))
    if spec.runtime == "onnxruntime" and not exported:
        state.onnx_path = export_onnx(state.model, spec.network.input_shape, state.work_dir / "model.onnx")
    return records


def _runner(spec: BenchSpec, state: PipelineState) -> Runner:
    if spec.runtime == "onnxruntime":
        assert state.onnx_path is not None
        return onnxruntime_runner(state.onnx_path, spec.setting)
    return pytorch_runner(state.model, spec.setting, state.work_dir)


def run_benchmark(spec: BenchSpec, work_dir: Path | None = None, cache_dir: Path | None = None,
                  progress: PhaseReport = no_report) -> BenchResult:
    """Build, optimize and measure one configuration; ``progress`` hears each phase as it starts (per
    seed: training, techniques, loading and evaluation; then latency, batch sizes and energy). Recording
    the result is the caller's (:func:`bench.graph.write_result`).

    Raises :class:`bench.errors.TechniqueError` when a technique fails and
    :class:`bench.errors.UnsupportedError` when the runtime cannot run the result.
    """
    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
    host = host_fingerprint()
    if spec.setting.device == "cuda" and host.gpu is None:
        # Refused before any training: the configuration cannot be measured on this host.
        raise UnsupportedError("runtime.device is cuda but this host has no CUDA GPU visible to PyTorch")
    started = dt.datetime.now(dt.timezone.utc)
    task = digits_task(spec.network)
    with tempfile.TemporaryDirectory(prefix="dlom-bench-") as tmp:
        root = Path(work_dir) if work_dir is not None else Path(tmp)
        runs: list[SeedRun] = []
        first_runner: Runner | None = None
        memory = PeakMemory()
        # Training and techniques run unpinned; only loading and measuring happen under the setting.
        # Seeds take 80 % of the reported progress (training dominates), measuring the rest.
        share = 0.8 / len(spec.seeds)
        for n, seed in enumerate(spec.seeds):
            seed_dir = root / f"seed-{seed}"
            seed_dir.mkdir(parents=True, exist_ok=True)
            of = f"seed {n + 1} of {len(spec.seeds)}"
            progress(n * share, f"training the {spec.network.label} baseline ({of})")

            def trained(fraction: float, n: int = n, of: str = of) -> None:  # training: the first half of a seed's share
                progress((n + 0.5 * fraction) * share, f"training the {spec.network.label} baseline ({of})")
            baseline = trained_baseline(spec.network, task, spec.training, seed, cache_dir, on_progress=trained)
            state = PipelineState(network=spec.network, task=task, seed=seed, runtime=spec.runtime, work_dir=seed_dir,
                                  model=copy.deepcopy(baseline), teacher=baseline)
            if spec.techniques:
                progress((n + 0.5) * share, f"applying {', '.join(t.name for t in spec.techniques)} ({of})")
            steps = _apply_steps(spec, state)
            progress((n + 0.8) * share, f"loading on {spec.runtime} and evaluating quality ({of})")
            with pinned(spec.setting.cores):
                if n == 0:
                    with memory:
                        runner = _runner(spec, state)
                        runner.predict(task.x_test[:1])
                    first_runner = runner
                else:
                    runner = _runner(spec, state)
                quality = evaluate(runner.predict, task)
            if n > 0:
                runner.close()
            runs.append(SeedRun(seed, quality, state, steps))
        assert first_runner is not None
        progress(0.8, f"measuring latency at batch 1 ({spec.setting.describe()})")
        with pinned(spec.setting.cores):
            m = spec.measure
            one = first_runner.bind(task.x_test[:1])
            latency = measure_latency(one, m.warmup, m.repetitions, m.min_time_s)
            batch_latency = {}
            for b in m.batch_sizes:
                if b == 1:
                    batch_latency[1] = latency
                    continue
                progress(0.9, f"measuring throughput at batch {b}")
                x = np.resize(task.x_test, (b, *task.x_test.shape[1:]))
                batch_latency[b] = measure_latency(first_runner.bind(x), max(3, m.warmup // 4), max(10, m.repetitions // 4),
                                                   m.min_time_s / 2)
            progress(0.97, "measuring energy where the host exposes it")
            energy = measure_energy_uj(one, max(100, latency.samples))
        first_runner.close()
        first = runs[0]
        final_model = first.state.model.float()
        deployed = profile_network(final_model, spec.network.input_shape)
        base = profile_network(spec.network.build(1.0), spec.network.input_shape)
        notes = [f"latency measured on real test inputs (batch 1: one digits test image), {latency.samples} timed calls "
                 f"after {latency.warmup} warm-up calls",
                 f"peak memory: {PeakMemory.method}" if memory.mb is not None else "peak memory: not measured (no /proc peak-RSS reset)",
                 "energy: " + ("RAPL package counters (whole package, while timing)" if energy is not None
                               else "not measured (this host exposes no RAPL powercap interface)"),
                 f"stability: variance of quality over seeds {list(spec.seeds)}" if len(spec.seeds) >= 2
                 else "stability: not measured (one seed)"]
        if deployed.nonzero_parameters < deployed.parameters:
            notes.append(f"deployed model: {deployed.parameters} parameters, {deployed.nonzero_parameters} non-zero; {deployed.macs} MACs (dense)")
        return_value = BenchResult(
            spec=spec, key=spec.key(host.key), host=host, started=started, ended=dt.datetime.now(dt.timezone.utc),
            code_version=code_version(), steps=first.steps, quality_by_seed={r.seed: r.quality for r in runs},
            metric=task.metric, dataset=task.description, latency=latency, batch_latency=batch_latency,
            model_bytes=first_runner.model_bytes, memory_mb=memory.mb, energy_uj=energy,
            runtime_version=first_runner.version, provider=first_runner.provider, base_profile=base,
            deployed_profile=deployed, architecture_changed=first.state.architecture_changed,
            student_width=first.state.student_width, notes=notes)
    progress(1.0, "measured")
    return return_value
