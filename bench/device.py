"""The host the bench runs on (its real fingerprint) and the device setting a run constrains it to.

The fingerprint — CPU model from /proc/cpuinfo, logical cores, memory, ISA flags, OS, library
versions — becomes a ``dlom:EndDevice``. A constrained setting (fewer intra-op threads, pinned cores)
is recorded as its own ``dlom:EndDevice`` with ``dlom:hostSetting`` saying what was constrained and
``dlom:cpuCores`` the cores it may use; it is labelled as a setting of this host, never as another
device.

Where the fingerprint comes from: ``/proc/cpuinfo`` and ``/proc/meminfo``, or — when the environment
variable ``DLOM_HOST_PROC`` names a folder — that folder's ``cpuinfo`` and ``meminfo`` (and its logical
cores are the ``processor`` entries of that ``cpuinfo``). Tests use it to simulate another machine;
nothing here imports torch, so a server describes its host in milliseconds.
"""
from __future__ import annotations

import hashlib
import os
import platform
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pyoxigraph import NamedNode

from kg.namespaces import entity

# SIMD and matrix extensions that decide which kernels the runtimes use.
_ISA_OF_INTEREST = ("sse4_1", "sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512_vnni",
                    "avx512_bf16", "avx512_fp16", "avx_vnni", "amx_tile", "amx_int8", "amx_bf16", "neon", "asimd",
                    "asimddp", "sve", "i8mm")


@dataclass(frozen=True)
class HostFingerprint:
    cpu_model: str
    logical_cores: int
    memory_kb: int | None
    isa_flags: tuple[str, ...]
    clock_mhz: float | None
    os: str
    machine: str
    gpu: str | None
    libraries: tuple[tuple[str, str], ...]

    @property
    def key(self) -> str:
        """A stable identity of the hardware (not the software): same machine type → same key."""
        text = "|".join([self.cpu_model, str(self.logical_cores), str(self.memory_kb), ",".join(self.isa_flags),
                         self.machine, self.gpu or ""])
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    @property
    def iri(self) -> NamedNode:
        return entity("device", "host", self.key)

    @property
    def label(self) -> str:
        mem = f", {self.memory_kb / 1024 / 1024:.0f} GiB" if self.memory_kb else ""
        return f"Host {self.cpu_model} ({self.logical_cores} logical cores{mem}, {self.machine})"

    def software_versions(self) -> str:
        return "; ".join(f"{k} {v}" for k, v in self.libraries)


HOST_PROC_ENV = "DLOM_HOST_PROC"


def _proc_dir() -> Path:
    override = os.environ.get(HOST_PROC_ENV)
    return Path(override) if override else Path("/proc")


def _cpuinfo_lines() -> list[str]:
    try:
        return (_proc_dir() / "cpuinfo").read_text().splitlines()
    except OSError:
        return []


def _cpuinfo() -> dict[str, str]:
    out: dict[str, str] = {}
    for line in _cpuinfo_lines():
        if ":" in line:
            k, v = (s.strip() for s in line.split(":", 1))
            out.setdefault(k, v)
    return out


def _logical_cores() -> int:
    if os.environ.get(HOST_PROC_ENV):
        listed = sum(1 for line in _cpuinfo_lines() if line.split(":", 1)[0].strip() == "processor")
        if listed:
            return listed
    return os.cpu_count() or 1


def _mem_total_kb() -> int | None:
    try:
        for line in (_proc_dir() / "meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def library_versions() -> tuple[tuple[str, str], ...]:
    """Versions of the libraries a measurement depends on, read from the installed distributions (no
    import: a library that is not installed is left out)."""
    from importlib.metadata import PackageNotFoundError, version

    found = [("python", platform.python_version())]
    for name in ("torch", "onnxruntime", "onnx", "numpy"):
        try:
            found.append((name, version(name)))
        except PackageNotFoundError:
            continue
    return tuple(found)


def _gpu_name() -> str | None:
    """The first NVIDIA GPU's model name from the driver's /proc entry (no CUDA initialization); None
    without one, and always None for a simulated host (``DLOM_HOST_PROC``) unless its folder has
    ``driver/nvidia/gpus``."""
    for info in sorted((_proc_dir() / "driver" / "nvidia" / "gpus").glob("*/information")):
        try:
            for line in info.read_text().splitlines():
                if line.startswith("Model:"):
                    return line.split(":", 1)[1].strip() or None
        except OSError:
            continue
    return None


@lru_cache(maxsize=1)
def host_fingerprint() -> HostFingerprint:
    """The fingerprint of this host (or of the simulated one ``DLOM_HOST_PROC`` names); cached: call
    ``host_fingerprint.cache_clear()`` after changing that variable."""
    info = _cpuinfo()
    flags = set((info.get("flags") or info.get("Features") or "").split())
    model = info.get("model name") or info.get("Model name") or info.get("Hardware") or platform.processor() or "unknown CPU"
    try:
        mhz = float(info["cpu MHz"]) if "cpu MHz" in info else None
    except ValueError:
        mhz = None
    return HostFingerprint(
        cpu_model=model, logical_cores=_logical_cores(), memory_kb=_mem_total_kb(),
        isa_flags=tuple(f for f in _ISA_OF_INTEREST if f in flags), clock_mhz=mhz,
        os=f"{platform.system()} {platform.release()}", machine=platform.machine(), gpu=_gpu_name(),
        libraries=library_versions())


@dataclass(frozen=True)
class DeviceSetting:
    """How a run constrains the host: ``threads`` intra-op threads (None = runtime default), ``cores``
    the CPU cores the process is pinned to (None = not pinned), ``device`` cpu or cuda."""

    device: str = "cpu"
    threads: int | None = None
    cores: tuple[int, ...] | None = None

    @property
    def constrained(self) -> bool:
        return self.threads is not None or self.cores is not None

    def describe(self) -> str:
        parts = [f"{self.device}"]
        parts.append(f"{self.threads} intra-op thread(s)" if self.threads is not None else "default intra-op threads")
        parts.append(f"pinned to CPU core(s) {','.join(map(str, self.cores))}" if self.cores is not None else "not pinned")
        return "; ".join(parts)

    def slug(self) -> str:
        t = "default" if self.threads is None else str(self.threads)
        c = "any" if self.cores is None else "-".join(map(str, self.cores))
        return f"{self.device}-threads-{t}-cores-{c}"

    def device_iri(self, host: HostFingerprint) -> NamedNode:
        if not self.constrained and self.device == "cpu":
            return host.iri
        return entity("device", "host", host.key, "setting", self.slug())

    def device_label(self, host: HostFingerprint) -> str:
        if not self.constrained and self.device == "cpu":
            return host.label
        return f"{host.label} — constrained setting: {self.describe()}"

    def available_cores(self, host: HostFingerprint) -> int:
        if self.cores is not None:
            return len(self.cores)
        if self.threads is not None:
            return min(self.threads, host.logical_cores)
        return host.logical_cores


@contextmanager
def pinned(cores: tuple[int, ...] | None) -> Iterator[None]:
    """Pin every thread of this process to ``cores`` while open (threads created meanwhile, such as a
    runtime's thread pool, inherit it), then restore each thread's previous affinity."""
    if cores is None:
        yield
        return
    tids = [int(t) for t in os.listdir("/proc/self/task")]
    previous = {}
    for tid in tids:
        try:
            previous[tid] = os.sched_getaffinity(tid)
            os.sched_setaffinity(tid, set(cores))
        except OSError:
            continue
    try:
        yield
    finally:
        for tid in [int(t) for t in os.listdir("/proc/self/task")]:
            try:
                os.sched_setaffinity(tid, previous.get(tid, previous.get(os.getpid(), set(range(os.cpu_count() or 1)))))
            except OSError:
                continue
