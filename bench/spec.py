"""Benchmark specs: one configuration (a network, techniques in order, a runtime and device setting).

A spec is a YAML or JSON mapping::

    network: ds-cnn                  # a registered network (bench.networks)
    techniques:                      # applied in this order (bench.techniques)
      - {name: prune-unstructured, sparsity: 0.5}
      - {name: fine-tune, epochs: 2}
      - {name: quantize-static, calibration_samples: 128}
    runtime: {name: onnxruntime, device: cpu, threads: 1, cores: [0]}
    training: {epochs: 3, learning_rate: 0.003, batch_size: 64}   # the baseline's training
    seeds: [0, 1]                    # ≥ 2 seeds give the stability (variance of accuracy)
    measure: {warmup: 20, repetitions: 200, min_time_s: 1.0, batch_sizes: [1, 8, 32]}

Every value is checked before anything runs; a bad one raises :class:`bench.errors.SpecError` naming
the file and the field (``techniques[0].sparsity``, ``runtime.threads``).
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.device import DeviceSetting
from bench.errors import SpecError
from bench.networks.registry import NetworkSpec, get_network
from bench.runtimes import RUNTIMES
from bench.techniques.registry import Param, Technique, get_technique


@dataclass(frozen=True)
class TechniqueStep:
    name: str
    params: dict[str, Any]
    technique: type[Technique] = field(compare=False, repr=False)


@dataclass(frozen=True)
class TrainingConfig:
    epochs: int = 3
    learning_rate: float = 3e-3
    batch_size: int = 64


@dataclass(frozen=True)
class MeasureConfig:
    warmup: int = 20
    repetitions: int = 200
    min_time_s: float = 1.0
    batch_sizes: tuple[int, ...] = (1, 8, 32)


@dataclass(frozen=True)
class BenchSpec:
    network: NetworkSpec
    techniques: tuple[TechniqueStep, ...]
    runtime: str
    setting: DeviceSetting
    training: TrainingConfig = TrainingConfig()
    seeds: tuple[int, ...] = (0,)
    measure: MeasureConfig = MeasureConfig()
    name: str | None = None

    def identity(self) -> dict[str, Any]:
        """What makes two runs the same configuration (measurement settings excluded)."""
        return {
            "network": self.network.name,
            "techniques": [{"name": s.name, **s.params} for s in self.techniques],
            "runtime": self.runtime, "setting": {"device": self.setting.device, "threads": self.setting.threads,
                                                 "cores": list(self.setting.cores) if self.setting.cores else None},
            "training": asdict(self.training), "seeds": list(self.seeds),
        }

    def to_raw(self) -> dict[str, Any]:
        """This configuration as a spec mapping (``parse_spec(spec.to_raw())`` gives it back)."""
        ident = self.identity()
        raw = {"network": ident["network"], "techniques": ident["techniques"],
               "runtime": {"name": self.runtime, **ident["setting"]}, "training": ident["training"],
               "seeds": ident["seeds"]}
        return {**raw, "name": self.name} if self.name else raw

    def key(self, host_key: str) -> str:
        """A stable identifier of this configuration on a host (the sweep's resume key)."""
        text = json.dumps({**self.identity(), "host": host_key}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def describe(self) -> str:
        steps = " → ".join(s.technique.describe(s.params) for s in self.techniques) or "no optimization"
        return f"{self.network.name}: {steps} on {self.runtime} ({self.setting.describe()})"


_TOP_KEYS = {"network", "techniques", "runtime", "training", "seeds", "measure", "name"}
_TRAINING = {"epochs": Param(int, default=3, minimum=1), "learning_rate": Param(float, default=3e-3, minimum=0.0, min_exclusive=True, maximum=1.0),
             "batch_size": Param(int, default=64, minimum=2)}
_MEASURE = {"warmup": Param(int, default=20, minimum=0), "repetitions": Param(int, default=200, minimum=5),
            "min_time_s": Param(float, default=1.0, minimum=0.0), "batch_sizes": Param(list, default=[1, 8, 32])}
_RUNTIME = {"name": Param(str, default="onnxruntime", choices=RUNTIMES), "device": Param(str, default="cpu", choices=("cpu", "cuda")),
            "threads": Param(int, minimum=1, nullable=True), "cores": Param(list, nullable=True)}


def _section(raw: Any, params: dict[str, Param], where: str, file: str) -> dict[str, Any]:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise SpecError(file, f"must be a mapping, got {type(raw).__name__}", field_name=where)
    unknown = sorted(set(raw) - set(params))
    if unknown:
        raise SpecError(file, f"unknown key {unknown[0]!r}; known: {', '.join(sorted(params))}", field_name=f"{where}.{unknown[0]}")
    return {k: p.check(raw.get(k), f"{where}.{k}", file) for k, p in params.items()}


def _int_list(values: list, where: str, file: str, minimum: int) -> tuple[int, ...]:
    out = []
    for i, v in enumerate(values):
        if not isinstance(v, int) or isinstance(v, bool) or v < minimum:
            raise SpecError(file, f"must be an integer ≥ {minimum}, got {v!r}", field_name=f"{where}[{i}]")
        out.append(v)
    if not out:
        raise SpecError(file, "must not be empty", field_name=where)
    return tuple(out)


def parse_techniques(raw: Any, runtime: str, file: str, where: str = "techniques") -> tuple[TechniqueStep, ...]:
    """Checked technique steps: known names, valid parameters, ONNX-stage steps last and only on onnxruntime."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise SpecError(file, "must be a list of techniques", field_name=where)
    steps: list[TechniqueStep] = []
    onnx_stage: str | None = None
    for i, item in enumerate(raw):
        at = f"{where}[{i}]"
        if isinstance(item, str):
            item = {"name": item}
        if not isinstance(item, dict):
            raise SpecError(file, "must be a technique name or a mapping with a name", field_name=at)
        tech = get_technique(item.get("name"), f"{at}.name", file)
        params = tech.validate(item, at, file)
        if tech.apply_torch is None and runtime != "onnxruntime":
            raise SpecError(file, f"{tech.name} produces an onnxruntime model; it needs runtime.name onnxruntime, not {runtime}",
                            field_name=f"{at}.name")
        stage = tech.stage(runtime)
        if stage == "torch" and onnx_stage is not None:
            raise SpecError(file, f"{tech.name} cannot follow {onnx_stage}: a quantized/fp16 graph is not transformed further; "
                            "put it earlier", field_name=f"{at}.name")
        if stage == "onnx" or tech.name == "fp16":
            onnx_stage = onnx_stage or tech.name
        steps.append(TechniqueStep(tech.name, params, tech))
    return tuple(steps)


def parse_runtime(raw: Any, file: str, where: str = "runtime") -> tuple[str, DeviceSetting]:
    r = _section(raw, _RUNTIME, where, file)
    cores = None
    if r["cores"] is not None:
        cores = _int_list(r["cores"], f"{where}.cores", file, 0)
        available = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set(range(os.cpu_count() or 1))
        missing = sorted(set(cores) - available)
        if missing:
            raise SpecError(file, f"core(s) {missing} do not exist or are not available here (available: {sorted(available)})",
                            field_name=f"{where}.cores")
    return r["name"], DeviceSetting(device=r["device"], threads=r["threads"], cores=tuple(sorted(set(cores))) if cores else None)


def parse_spec(raw: Any, file: str = "<spec>") -> BenchSpec:
    """A checked :class:`BenchSpec` from a mapping (as read from YAML/JSON)."""
    if not isinstance(raw, dict):
        raise SpecError(file, f"a spec must be a mapping, got {type(raw).__name__}")
    unknown = sorted(set(raw) - _TOP_KEYS)
    if unknown:
        raise SpecError(file, f"unknown key {unknown[0]!r}; known: {', '.join(sorted(_TOP_KEYS))}", field_name=unknown[0])
    if "network" not in raw:
        raise SpecError(file, "is required", field_name="network")
    network = get_network(raw["network"], "network", file)
    runtime, setting = parse_runtime(raw.get("runtime"), file)
    steps = parse_techniques(raw.get("techniques"), runtime, file)
    t = _section(raw.get("training"), _TRAINING, "training", file)
    m = _section(raw.get("measure"), _MEASURE, "measure", file)
    seeds_raw = raw.get("seeds", [0])
    if isinstance(seeds_raw, int) and not isinstance(seeds_raw, bool):
        seeds_raw = [seeds_raw]
    if not isinstance(seeds_raw, list):
        raise SpecError(file, "must be a list of integers", field_name="seeds")
    seeds = _int_list(seeds_raw, "seeds", file, 0)
    name = raw.get("name")
    if name is not None and not isinstance(name, str):
        raise SpecError(file, "must be a string", field_name="name")
    return BenchSpec(network=network, techniques=steps, runtime=runtime, setting=setting,
                     training=TrainingConfig(**t), seeds=tuple(dict.fromkeys(seeds)),
                     measure=MeasureConfig(m["warmup"], m["repetitions"], m["min_time_s"],
                                           _int_list(m["batch_sizes"], "measure.batch_sizes", file, 1)),
                     name=name)


def read_document(path: Path) -> Any:
    """A YAML or JSON document; unreadable or malformed files raise :class:`SpecError` with the line."""
    import yaml

    try:
        text = path.read_text()
    except OSError as e:
        raise SpecError(str(path), f"cannot read: {e.strerror or e}") from None
    if path.suffix == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as e:
            raise SpecError(str(path), f"malformed JSON: {e.msg}", line=e.lineno) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise SpecError(str(path), f"malformed YAML: {getattr(e, 'problem', e)}",
                        line=mark.line + 1 if mark is not None else None) from None
