"""Measurement primitives: latency percentiles, throughput, peak memory and energy.

Latency: after warm-up, one call is timed at a time with ``time.perf_counter_ns`` into a
preallocated list — the loop does nothing else, so the harness adds next to nothing to what it
measures (``benchmarks/bench_harness_overhead.py`` checks it against a bare loop). Repetitions go on
until both a minimum count and a minimum duration are reached, so fast models get many samples and
the median is stable; the coefficient of variation is reported with it.

Peak memory is the peak resident-set-size delta: the kernel's peak RSS counter (VmHWM) is reset
through ``/proc/self/clear_refs`` and read back after loading and running the model, minus the RSS
before. Energy is read from Linux RAPL (``/sys/class/powercap``) when the host exposes it, otherwise it
is *not measured* (None) — never estimated.
"""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

POWERCAP = Path("/sys/class/powercap")


@dataclass(frozen=True)
class LatencyStats:
    """Latency of one call, in milliseconds."""

    p50_ms: float
    p90_ms: float
    p99_ms: float
    mean_ms: float
    cv: float
    samples: int
    warmup: int

    @property
    def throughput_ips(self) -> float:
        return 1000.0 / self.p50_ms


def time_calls(fn: Callable[[], object], count: int) -> list[int]:
    """Nanoseconds of ``count`` consecutive calls of ``fn`` (the tightest loop the harness has)."""
    times = [0] * count
    clock = time.perf_counter_ns
    for i in range(count):
        t0 = clock()
        fn()
        times[i] = clock() - t0
    return times


def measure_latency(fn: Callable[[], object], warmup: int = 20, repetitions: int = 200, min_time_s: float = 1.0,
                    max_repetitions: int = 20000) -> LatencyStats:
    """Percentiles of ``fn``'s latency after ``warmup`` calls, over at least ``repetitions`` calls and at
    least ``min_time_s`` seconds (at most ``max_repetitions`` calls)."""
    time_calls(fn, warmup)
    samples = time_calls(fn, repetitions)
    elapsed = sum(samples) / 1e9
    while elapsed < min_time_s and len(samples) < max_repetitions:
        per_call = max(elapsed / len(samples), 1e-7)
        more = int(min(max_repetitions - len(samples), max(repetitions, (min_time_s - elapsed) / per_call + 1)))
        batch = time_calls(fn, more)
        samples += batch
        elapsed += sum(batch) / 1e9
    ms = np.asarray(samples, dtype=np.float64) / 1e6
    p50, p90, p99 = (float(v) for v in np.percentile(ms, [50, 90, 99]))
    mean = float(ms.mean())
    return LatencyStats(p50, p90, p99, mean, float(ms.std(ddof=1) / mean) if len(ms) > 1 else 0.0, len(ms), warmup)


def torch_compare_latency_ms(models: list, input_shape: tuple[int, ...], rounds: int = 5,
                             repetitions: int = 20) -> list[float]:
    """Batch-1 latency (ms) of several PyTorch models in eager mode on one thread, timed in interleaved
    rounds; each model's figure is the lowest of its per-round medians, so a burst of load from other
    processes during one round does not decide a comparison."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        calls = []
        for model in models:
            model.eval()
            x = torch.randn((1, *input_shape), dtype=next(model.parameters()).dtype)
            calls.append((lambda m=model, x=x: m(x)))
        best = [float("inf")] * len(models)
        with torch.no_grad():
            for call in calls:
                time_calls(call, 5)
            for _ in range(rounds):
                for i, call in enumerate(calls):
                    best[i] = min(best[i], statistics.median(time_calls(call, repetitions)) / 1e6)
        return best
    finally:
        torch.set_num_threads(previous)


def _status_kb(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


class PeakMemory:
    """Context manager: peak RSS growth (MB) while it is open; ``mb`` is None where Linux's counters
    are unavailable. ``method`` says how it was measured."""

    method = "peak RSS delta (VmHWM after reset via /proc/self/clear_refs, minus VmRSS before)"

    def __init__(self) -> None:
        self.mb: float | None = None
        self._before: int | None = None
        self._reset = False

    def __enter__(self) -> PeakMemory:
        try:
            Path("/proc/self/clear_refs").write_text("5")  # 5 = reset the peak RSS counter
            self._reset = True
        except OSError:
            self._reset = False
        self._before = _status_kb("VmRSS")
        return self

    def __exit__(self, *exc) -> None:
        peak = _status_kb("VmHWM")
        if self._reset and peak is not None and self._before is not None:
            self.mb = max(0.0, (peak - self._before) / 1024.0)


def rapl_domains() -> list[Path]:
    """Package-level RAPL energy counters the host exposes (empty when it exposes none)."""
    if not POWERCAP.exists():
        return []
    out = []
    for d in sorted(POWERCAP.glob("intel-rapl:*")):
        if d.name.count(":") == 1 and (d / "energy_uj").exists():
            try:
                int((d / "energy_uj").read_text())
                out.append(d)
            except (OSError, ValueError):
                continue
    return out


def measure_energy_uj(fn: Callable[[], object], calls: int) -> float | None:
    """Energy per call in µJ over ``calls`` calls from RAPL package counters, or None (not measured)
    when the host exposes no readable RAPL interface. Includes everything the package did meanwhile."""
    domains = rapl_domains()
    if not domains:
        return None

    def read() -> list[int]:
        return [int((d / "energy_uj").read_text()) for d in domains]

    ranges = [int((d / "max_energy_range_uj").read_text()) if (d / "max_energy_range_uj").exists() else 2**63 for d in domains]
    before = read()
    time_calls(fn, calls)
    after = read()
    total = sum((a - b) % r for a, b, r in zip(after, before, ranges))
    return total / calls if total > 0 else None
