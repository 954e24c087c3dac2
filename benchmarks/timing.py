"""Wall-clock timing of a callable, as the benchmarks report it: the median and one upper percentile;
and the line naming the machine a benchmark ran on."""
from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable


def timed_ms(fn: Callable[[], object], reps: int, upper: float = 0.9, warm_up: bool = True,
             setup: Callable[[], object] | None = None) -> tuple[float, float]:
    """(median, the ``upper`` quantile) of ``fn()``'s wall time in ms over ``reps`` runs, after one
    untimed run when ``warm_up``; ``setup()`` runs untimed before each."""
    if warm_up:
        if setup is not None:
            setup()
        fn()
    times = []
    for _ in range(reps):
        if setup is not None:
            setup()
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(upper * len(times)))]


def machine_line() -> str:
    """The machine and its load, for the line under a benchmark's figures (a shared machine's load
    inflates wall time)."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"machine: {platform.machine()}, {os.cpu_count()} CPUs, load average {load:.1f}; "
            f"Python {platform.python_version()}, {platform.system()}")
