"""The app's prediction model (the GNN's ONNX predictor), loaded on first use.

Importing torch and loading the predictor takes seconds (on the grown graph, tens of seconds when the
scorer is rebuilt for it), so a server starts without it: :func:`warm_predictor_in_background` loads it
right after start-up when ``Settings.warm_predictor`` is on (``dlom serve``), otherwise the first request
that needs it does. Either way it is loaded once and cached on ``app.state.predictor``.
"""
from __future__ import annotations

import threading
from typing import Any

from fastapi import Request
from starlette.datastructures import State

_LOAD_LOCK = threading.Lock()


class PredictorUnavailable(Exception):
    """This server has no trained predictor (or cannot import it); the message says why."""


def predictor_of(request: Request) -> Any:
    """The app's predictor, loaded once on first use (thread-safe) and cached on ``app.state``.
    Raises :class:`PredictorUnavailable` when there is none."""
    return load_predictor(request.app.state)


def load_predictor(state: State) -> Any:
    """The predictor cached on the app's ``state``, loaded first when it is not (one load at a time;
    a request arriving during a load waits for it). Raises :class:`PredictorUnavailable`."""
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


def warm_predictor_in_background(state: State) -> None:
    """Start loading the predictor in a daemon thread, so the first proposal after start-up does not pay
    for it. A server without a predictor says so when asked (the failure is the request's to report)."""
    def warm() -> None:
        try:
            load_predictor(state)
        except PredictorUnavailable:
            pass

    threading.Thread(target=warm, name="warm-predictor", daemon=True).start()
