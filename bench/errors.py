"""Errors the benchmark module reports to a user."""
from __future__ import annotations

from kg.errors import DlomError, InputError


class SpecError(InputError):
    """A benchmark spec or grid is invalid: names the file and the field (e.g. ``techniques[1].sparsity``)."""


class UnsupportedError(DlomError):
    """A valid configuration the chosen runtime or device cannot run (e.g. CUDA without a GPU)."""


class TechniqueError(DlomError):
    """A technique failed while being applied to a real model; says which step and why."""
