"""Optional parts of DLOM and the one message that says which extra to install.

``pip install dlom`` is the core: the knowledge graph, the service (SPARQL, GraphQL, REST, UI),
decision support and prediction with the shipped ONNX scorer (onnxruntime). Training the GNN needs
the ``gnn`` extra (torch, torch-geometric, ONNX export); materializing and measuring configurations
needs the ``bench`` extra. Code that needs an extra calls :func:`require_extra` before importing it,
so a missing extra is one line naming the extra — never an ImportError traceback.
"""
from __future__ import annotations

import importlib.util

from kg.errors import DlomError

# extra → (what it is for, the top-level modules it provides)
EXTRAS: dict[str, tuple[str, tuple[str, ...]]] = {
    "gnn": ("the GNN with torch (train, evaluate, predict, propose, rebuild the ONNX scorer)", ("torch", "torch_geometric", "onnx", "sklearn", "scipy")),
    "bench": ("the benchmark (materializing and measuring configurations)", ("torch", "onnx", "sklearn")),
}


class MissingExtraError(DlomError):
    """A command or feature needs an optional extra that is not installed; the message names it."""


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a module blocked or half-installed counts as missing
        return False


def missing_modules(extra: str) -> list[str]:
    """The modules of ``extra`` that cannot be imported here (empty when the extra is installed)."""
    return [m for m in EXTRAS[extra][1] if not _importable(m)]


def has_extra(extra: str) -> bool:
    """True when every module of ``extra`` is importable (checked without importing them)."""
    return not missing_modules(extra)


def extra_message(extra: str) -> str:
    """The one-line message for a missing ``extra``."""
    purpose, _ = EXTRAS[extra]
    missing = ", ".join(missing_modules(extra)) or "its modules"
    return (f"{purpose} needs the '{extra}' extra, not installed here ({missing} missing): "
            f"pip install 'dlom[{extra}]'")


def require_extra(extra: str) -> None:
    """Raise :class:`MissingExtraError` (one line naming the extra to install) unless ``extra`` is installed."""
    if not has_extra(extra):
        raise MissingExtraError(extra_message(extra))
