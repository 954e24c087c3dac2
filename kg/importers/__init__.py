"""Importers of real data, one module each, registered by format name for ``dlom import <format>``.

Each importer reads and validates its whole input first and writes it in one transaction through
:func:`kg.writes.write_triples`: bad input raises :class:`kg.errors.InputError` or
:class:`kg.errors.ValidationError` and leaves the store unchanged.
"""
from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kg.progress import Progress
from kg.store import Store


@dataclass
class ImportReport:
    """What an import wrote and what it skipped (each skipped file with its reason)."""

    source: str
    triples: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)


Importer = Callable[[Store, Path, Progress], ImportReport]
IMPORTERS: dict[str, Importer] = {}


def register_importer(name: str) -> Callable[[Importer], Importer]:
    """Decorator: make an importer available as ``dlom import <name>``."""

    def decorate(fn: Importer) -> Importer:
        IMPORTERS[name] = fn
        return fn

    return decorate


def importers() -> dict[str, Importer]:
    """All registered importers (each module in this package registers itself on import)."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    return IMPORTERS
