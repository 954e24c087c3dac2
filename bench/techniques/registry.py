"""The registry of optimization techniques, one file per technique (like Olive's passes).

A technique declares its parameters (validated before anything runs, with errors naming the field,
e.g. ``techniques[1].sparsity``), the ontology family it is recorded as, and how it is applied:
``apply_torch`` transforms the PyTorch model (pruning, decomposition, distillation, fine-tuning) and
``apply_onnx`` transforms the exported ONNX model (quantization). A technique with only
``apply_onnx`` needs the onnxruntime runtime, and no PyTorch-stage technique may follow an
ONNX-stage one (a quantized graph is not trained further).
"""
from __future__ import annotations

import importlib
import math
import pkgutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from pyoxigraph import NamedNode
from torch import nn

from bench.data import DigitsTask
from bench.errors import SpecError
from bench.networks.registry import NetworkSpec


@dataclass(frozen=True)
class Param:
    """One declared technique parameter: its type, default and allowed range."""

    kind: type
    default: Any = None
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None
    min_exclusive: bool = False
    max_exclusive: bool = False
    choices: tuple[Any, ...] | None = None
    nullable: bool = False
    help: str = ""

    def check(self, value: Any, where: str, file: str) -> Any:
        """The value converted to ``kind``; raises :class:`SpecError` naming ``where`` when it is invalid."""
        if value is None:
            if self.nullable or not self.required:
                return self.default
            raise SpecError(file, "is required", field_name=where)
        if self.kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if self.kind is list and isinstance(value, (list, tuple)):
            return list(value)
        if not isinstance(value, self.kind) or isinstance(value, bool) != (self.kind is bool):
            raise SpecError(file, f"must be a {self.kind.__name__}, got {value!r}", field_name=where)
        if isinstance(value, float) and not math.isfinite(value):
            raise SpecError(file, f"must be a finite number, got {value!r}", field_name=where)
        if self.choices is not None and value not in self.choices:
            raise SpecError(file, f"must be one of {', '.join(map(str, self.choices))}; got {value!r}", field_name=where)
        if self.minimum is not None and (value <= self.minimum if self.min_exclusive else value < self.minimum):
            op = ">" if self.min_exclusive else "≥"
            raise SpecError(file, f"must be {op} {self.minimum}, got {value!r}", field_name=where)
        if self.maximum is not None and (value >= self.maximum if self.max_exclusive else value > self.maximum):
            op = "<" if self.max_exclusive else "≤"
            raise SpecError(file, f"must be {op} {self.maximum}, got {value!r}", field_name=where)
        return value


@dataclass
class PipelineState:
    """What techniques read and transform, in order.

    ``model`` is the PyTorch model until export; ``onnx_path`` the ONNX file after it. ``teacher`` is
    the trained baseline (distillation's teacher, and the reference for speed-up checks).
    ``keep_zero`` holds masks of pruned weights that later training must keep at zero. A technique
    that changes the architecture into a narrower variant sets ``student_width``.
    """

    network: NetworkSpec
    task: DigitsTask
    seed: int
    runtime: str
    work_dir: Path
    model: nn.Module
    teacher: nn.Module
    onnx_path: Path | None = None
    keep_zero: dict[str, Any] = field(default_factory=dict)
    student_width: float | None = None
    architecture_changed: bool = False


@dataclass
class Outcome:
    """What applying a technique did, measured: facts (JSON-able) and human-readable notes."""

    facts: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


class Technique:
    """Base of every technique. Subclasses set the class attributes and implement an apply method."""

    name: ClassVar[str]
    label: ClassVar[str]
    family: ClassVar[NamedNode]
    tool: ClassVar[str]
    params: ClassVar[dict[str, Param]] = {}

    @classmethod
    def validate(cls, raw: dict[str, Any], where: str, file: str) -> dict[str, Any]:
        """Checked parameters (defaults filled in); unknown keys are errors naming the field."""
        unknown = sorted(set(raw) - set(cls.params) - {"name"})
        if unknown:
            known = ", ".join(sorted(cls.params)) or "none"
            raise SpecError(file, f"unknown parameter {unknown[0]!r} for {cls.name}; known: {known}",
                            field_name=f"{where}.{unknown[0]}")
        out = {k: p.check(raw.get(k), f"{where}.{k}", file) for k, p in cls.params.items()}
        cls.check_combination(out, where, file)
        return out

    @classmethod
    def check_combination(cls, params: dict[str, Any], where: str, file: str) -> None:
        """Cross-parameter checks (override when parameters constrain each other)."""

    @classmethod
    def describe(cls, params: dict[str, Any]) -> str:
        """A one-line label of this application, e.g. 'Unstructured pruning (sparsity 0.5)'."""
        shown = ", ".join(f"{k} {v}" for k, v in params.items() if v is not None)
        return f"{cls.label} ({shown})" if shown else cls.label

    @classmethod
    def properties(cls, params: dict[str, Any], state: PipelineState | None) -> list[tuple[NamedNode, Any]]:
        """Ontology properties (family-specific) recorded on the technique node."""
        return []

    # Exactly one of the two is overridden (fp16 overrides both).
    apply_torch: ClassVar[Any] = None
    apply_onnx: ClassVar[Any] = None

    @classmethod
    def stage(cls, runtime: str) -> str:
        """'torch' or 'onnx': where this technique runs for ``runtime``."""
        if cls.apply_torch is not None and (cls.apply_onnx is None or runtime != "onnxruntime"):
            return "torch"
        return "onnx"


_TECHNIQUES: dict[str, type[Technique]] = {}
_discovered = False


def register_technique(cls: type[Technique]) -> type[Technique]:
    """Class decorator: add a technique to the registry under ``cls.name``."""
    _TECHNIQUES[cls.name] = cls
    return cls


def techniques() -> dict[str, type[Technique]]:
    """Every registered technique by name."""
    global _discovered
    if not _discovered:
        _discovered = True
        import bench.techniques

        for module in pkgutil.iter_modules(bench.techniques.__path__):
            if module.name != "registry":
                importlib.import_module(f"bench.techniques.{module.name}")
    return dict(_TECHNIQUES)


def get_technique(name: Any, where: str, file: str) -> type[Technique]:
    """The technique registered as ``name``; unknown names raise :class:`SpecError` naming the field."""
    registry = techniques()
    if not isinstance(name, str) or name not in registry:
        raise SpecError(file, f"unknown technique {name!r}; known: {', '.join(sorted(registry))}", field_name=where)
    return registry[name]
