"""The app's prediction model (the GNN's ONNX predictor), loaded on first use.

Importing torch and loading the predictor takes seconds, so a server starts without it and loads it
the first time a request needs it; then it is cached on ``app.state.predictor``.
"""
from __future__ import annotations

import threading
from typing import Any

from fastapi import Request

_LOAD_LOCK = threading.Lock()


class PredictorUnavailable(Exception):
    """This server has no trained predictor (or cannot import it); the message says why."""


def predictor_of(request: Request) -> Any:
    """The app's predictor, loaded once on first use (thread-safe) and cached on ``app.state``.
    Raises :class:`PredictorUnavailable` when there is none."""
    state = request.app.state
    existing = getattr(state, "predictor", None)
    if existing is not None:
        return existing
    with _LOAD_LOCK:
        existing = getattr(state, "predictor", None)
        if existing is not None:
            return existing
        failure = getattr(state, "predictor_failure", None)
        if failure:
            raise PredictorUnavailable(failure)
        try:
            from gnn.errors import NoTrainedModelError
            from gnn.onnx_scorer import OnnxCandidatePredictor
        except ImportError as e:
            state.predictor_failure = f"the prediction model is not installed on this server ({e})"
            raise PredictorUnavailable(state.predictor_failure) from None
        try:
            state.predictor = OnnxCandidatePredictor.from_default_paths(state.store)
        except NoTrainedModelError as e:
            # Not cached as a failure: 'dlom gnn train' may produce artifacts while the server runs.
            raise PredictorUnavailable(f"the prediction model has no trained artifacts ({e})") from None
        return state.predictor


def lazy_predictor(request: Request):
    """A function giving the app's predictor, or None when this server has none: decision support calls
    it only when nothing matches, so the model loads only when it is needed."""

    def load() -> Any:
        try:
            return predictor_of(request)
        except PredictorUnavailable:
            return None

    return load
