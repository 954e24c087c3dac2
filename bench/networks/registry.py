"""The registry of benchmarkable networks: each network file registers a :class:`NetworkSpec`.

A network is built from code (no downloaded weights) at a width multiplier, so knowledge
distillation can build a narrower student of the same family. Every registered network is also a
``dlom:DLN`` in the graph (see :mod:`bench.profile`); the four MLPerf Tiny reference networks use the
same DLN IRIs as the MLPerf Tiny importer (``entity("dln", "mlperf-tiny", <benchmark>)``, see
:mod:`kg.importers.mlperf_tiny`) so measured models join the imported results.
"""
from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from pyoxigraph import NamedNode
from torch import nn

from bench.errors import SpecError

TaskKind = Literal["classification", "anomaly-detection"]


@dataclass(frozen=True)
class NetworkSpec:
    """A network the bench can build, train and measure.

    ``build(width)`` returns a freshly initialised ``nn.Module`` taking a batch of ``input_shape``
    (without the batch dimension); ``width`` scales every hidden channel count (1.0 = the reference).
    ``num_outputs`` is the reference head size: a classifier whose head is larger than the digits
    task's classes keeps its reference head (unused logits train towards low scores).
    ``channel_groups(model)`` lists the producer/consumer layer groups that structured pruning may
    shrink (see :mod:`bench.techniques.structured_pruning`).
    """

    name: str
    label: str
    family: str
    task: str
    task_kind: TaskKind
    input_shape: tuple[int, ...]
    num_outputs: int
    dln_iri: NamedNode
    build: Callable[[float], nn.Module]
    activation: str = "ReLU"
    loss: str = "cross-entropy"
    benchmark: str | None = None
    channel_groups: Callable[[nn.Module], list] | None = None
    notes: str = ""
    hyper_parameters: dict = field(default_factory=dict)


_NETWORKS: dict[str, NetworkSpec] = {}
_discovered = False


def register_network(spec: NetworkSpec) -> NetworkSpec:
    """Add a network to the registry (a name may be registered once)."""
    if spec.name in _NETWORKS and _NETWORKS[spec.name] is not spec:
        raise ValueError(f"network {spec.name!r} is registered twice")
    _NETWORKS[spec.name] = spec
    return spec


def _discover() -> None:
    import bench.networks

    for module in pkgutil.iter_modules(bench.networks.__path__):
        if module.name != "registry":
            importlib.import_module(f"bench.networks.{module.name}")


def networks() -> dict[str, NetworkSpec]:
    """Every registered network by name."""
    global _discovered
    if not _discovered:
        _discovered = True
        _discover()
    return dict(_NETWORKS)


def get_network(name: str, field_name: str = "network", file: str = "<spec>") -> NetworkSpec:
    """The network registered as ``name``; an unknown name raises :class:`SpecError` naming the field."""
    registry = networks()
    if not isinstance(name, str) or name not in registry:
        raise SpecError(file, f"unknown network {name!r}; known: {', '.join(sorted(registry))}", field_name=field_name)
    return registry[name]


def network_for_dln(iri: str) -> NetworkSpec | None:
    """The registered network whose DLN IRI is ``iri`` (None when no registered network has it)."""
    for spec in networks().values():
        if spec.dln_iri.value == iri:
            return spec
    return None


def scaled(channels: int, width: float) -> int:
    """``channels`` scaled by a width multiplier, at least 1."""
    return max(1, int(round(channels * width)))
