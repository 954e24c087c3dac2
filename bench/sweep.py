"""Sweeps: networks × technique combinations × runtime settings, resumable.

A grid file (YAML or JSON)::

    networks: [ds-cnn, resnet-8]
    combinations:                       # name → techniques in order (as in a spec)
      baseline: []
      int8-static: [{name: quantize-static}]
    runtimes: [{name: onnxruntime, threads: 1, cores: [0]}]
    training: {epochs: 3}
    seeds: [0, 1]
    measure: {repetitions: 100, min_time_s: 0.5}

Every item is checked before the first one runs. Each result is written to the graph as soon as it
completes, and a line is appended (and fsynced) to a JSON-lines journal; a resumed sweep skips items
whose model the graph already measures or the journal lists, so a crash loses at most the item that
was running. Items that failed (a technique the runtime cannot run, say) are journaled with the
reason and skipped on resume unless ``retry_failed``.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.device import host_fingerprint
from bench.errors import SpecError
from bench.spec import BenchSpec, parse_runtime, parse_spec, parse_techniques, read_document
from kg.errors import DlomError
from kg.progress import NoProgress, Progress

_GRID_KEYS = {"name", "networks", "combinations", "runtimes", "training", "seeds", "measure"}


@dataclass(frozen=True)
class SweepItem:
    name: str
    spec: BenchSpec
    key: str


@dataclass(frozen=True)
class Grid:
    name: str
    items: tuple[SweepItem, ...]


def _runtime_slug(raw: dict[str, Any]) -> str:
    threads = raw.get("threads")
    cores = raw.get("cores")
    return (f"{raw.get('name', 'onnxruntime')}"
            f"{'' if threads is None else f'-t{threads}'}{'' if cores is None else '-c' + '.'.join(map(str, cores))}")


def parse_grid(raw: Any, file: str = "<grid>") -> Grid:
    """A checked grid: every (network, combination, runtime) item parsed as a spec."""
    if not isinstance(raw, dict):
        raise SpecError(file, f"a grid must be a mapping, got {type(raw).__name__}")
    unknown = sorted(set(raw) - _GRID_KEYS)
    if unknown:
        raise SpecError(file, f"unknown key {unknown[0]!r}; known: {', '.join(sorted(_GRID_KEYS))}", field_name=unknown[0])
    nets = raw.get("networks")
    if not isinstance(nets, list) or not nets:
        raise SpecError(file, "must be a non-empty list of network names", field_name="networks")
    combos = raw.get("combinations", {"baseline": []})
    if not isinstance(combos, dict) or not combos:
        raise SpecError(file, "must be a mapping of combination name → list of techniques", field_name="combinations")
    runtimes = raw.get("runtimes", [{"name": "onnxruntime"}])
    if not isinstance(runtimes, list) or not runtimes:
        raise SpecError(file, "must be a non-empty list of runtime settings", field_name="runtimes")
    for i, r in enumerate(runtimes):
        name, _ = parse_runtime(r, file, f"runtimes[{i}]")
        for cname, techs in combos.items():
            parse_techniques(techs, name, file, f"combinations.{cname}")
    host = host_fingerprint()
    items = []
    for n, net in enumerate(nets):
        for cname, techs in combos.items():
            for r in runtimes:
                item = f"{net} / {cname} / {_runtime_slug(r)}"
                try:
                    spec = parse_spec({"network": net, "techniques": techs, "runtime": r, "training": raw.get("training"),
                                       "seeds": raw.get("seeds", [0]), "measure": raw.get("measure"), "name": item}, file)
                except SpecError as e:
                    if e.field_name == "network":
                        e.field_name = f"networks[{n}]"
                    raise
                items.append(SweepItem(item, spec, spec.key(host.key)))
    return Grid(str(raw.get("name") or Path(file).stem), tuple(items))


def load_grid(path: Path) -> Grid:
    return parse_grid(read_document(path), str(path))


@dataclass
class SweepReport:
    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


class Journal:
    """The append-only JSON-lines record of finished items (each line flushed and fsynced)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: dict[str, dict[str, Any]] = {}
        if path.exists():
            for i, line in enumerate(path.read_text().splitlines(), start=1):
                if not line.strip():
                    continue
                try:
                    entry = json.loads(line)
                    self.entries[entry["key"]] = entry
                except (json.JSONDecodeError, KeyError, TypeError):
                    # A line cut short by a crash mid-write: that item simply runs again.
                    continue

    def append(self, entry: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a") as f:
            f.write(json.dumps(entry, sort_keys=True) + "\n")
            f.flush()
            os.fsync(f.fileno())
        self.entries[entry["key"]] = entry


def run_sweep(grid: Grid, store, journal_path: Path, progress: Progress = NoProgress(),
              cache_dir: Path | None = None, retry_failed: bool = False,
              on_result: Callable[[SweepItem, Any], None] | None = None) -> SweepReport:
    """Run every item not yet done; write each result to ``store`` as it completes. ``progress`` counts
    items (skipped ones too) and is told the name of each item as it starts."""
    from bench.graph import model_iri, model_recorded, write_result
    from bench.harness import run_benchmark

    journal = Journal(journal_path)
    report = SweepReport()
    progress.start(len(grid.items), f"sweep {grid.name}")
    for item in grid.items:
        entry = journal.entries.get(item.key)
        model = model_iri(item.spec.network.name, item.key)
        if (entry and (entry["status"] == "done" or not retry_failed)) or model_recorded(store, model):
            report.skipped.append(item.name)
            progress.advance()
            continue
        progress.describe(item.name)
        t0 = time.monotonic()
        try:
            result = run_benchmark(item.spec, cache_dir=cache_dir)
            write_result(store, result)
        except DlomError as e:
            journal.append({"key": item.key, "name": item.name, "status": "failed", "reason": str(e),
                            "at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")})
            report.failed.append((item.name, str(e)))
        else:
            journal.append({"key": item.key, "name": item.name, "status": "done", "model": model.value,
                            "quality": round(result.quality, 6), "latency_p50_ms": round(result.latency.p50_ms, 6),
                            "seconds": round(time.monotonic() - t0, 1),
                            "at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")})
            report.done.append(item.name)
            if on_result is not None:
                on_result(item, result)
        progress.advance()
    return report
