"""Errors the GNN package reports to a user: each says what was asked and why it cannot be done."""
from __future__ import annotations

from kg.errors import DlomError


class GnnError(DlomError):
    """Base class of the GNN's user-facing errors."""


class EmptyGraphError(GnnError):
    """The store holds no models with measured performance to learn from (or no node of a needed type)."""


class UnknownEntityError(GnnError):
    """A DLN, device or technique named by IRI or label is not in the store (or the label is ambiguous)."""


class NoTrainedModelError(GnnError):
    """No trained predictor exists at the given path: run ``dlom gnn train`` first."""


class BenchmarkUnavailableError(GnnError):
    """The benchmark module (bench/) cannot run a configuration here."""
