"""Where trained predictors live: the user's (under DLOM_HOME) and the one DLOM ships."""
from __future__ import annotations

from pathlib import Path

from gnn.errors import NoTrainedModelError
from kg.config import dlom_home

ARTIFACTS = Path(__file__).parent / "artifacts"
SHIPPED_CHECKPOINT = ARTIFACTS / "predictor.pt"
SHIPPED_ONNX = ARTIFACTS / "predictor.onnx"


def user_checkpoint() -> Path:
    """``$DLOM_HOME/gnn/predictor.pt``: where ``dlom gnn train`` writes by default."""
    return dlom_home() / "gnn" / "predictor.pt"


def resolve_checkpoint(path: Path | None = None) -> Path:
    """The checkpoint to use: ``path`` when given (it must exist), else the user's trained one, else
    the shipped one. Raises :class:`NoTrainedModelError` when none exists."""
    if path is not None:
        if not Path(path).is_file():
            raise NoTrainedModelError(f"no trained GNN at {path}: run 'dlom gnn train --out {path}' first")
        return Path(path)
    for candidate in (user_checkpoint(), SHIPPED_CHECKPOINT):
        if candidate.is_file():
            return candidate
    raise NoTrainedModelError(f"no trained GNN at {user_checkpoint()} and none shipped: run 'dlom gnn train' first")
