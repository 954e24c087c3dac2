"""REST routes of decision support's 'Build new' path (the prediction model's proposals, measured on
request). The logic lives in :mod:`measure.build_new`; these routes translate HTTP.

* ``POST /api/proposals?limit=5[&measurable_only=true]`` — the requirements of ``/api/recommend`` →
  proposals from the GNN predictor (predicted metrics and confidence; labels of the DLN, devices and
  techniques; near-identical variants grouped as ``similar``), each saying whether this server's
  benchmark can measure it (and why not) and, where not, ``on_this_machine``: this server's device on
  which the same network and techniques can be measured instead; ``measurable_only`` keeps those it
  can, from the predictor's top 50 (:func:`measure.build_new.propose` decides). 501 when this server
  has no trained predictor.
* ``POST /api/measurements`` (``Authorization: Bearer <DLOM_UPDATE_TOKEN>``) — ``{"proposal": {...},
  "on_this_machine": false}``: the server re-predicts the proposed configuration itself (re-targeted
  to this machine with ``on_this_machine: true``), stores it as a predicted model
  (dlom:PredictedPerformance with confidence and provenance) and queues a job measuring it on this
  host → 202 ``{"job", "status_url", "predicted_model"}``. A configuration this host cannot run ends
  as a failed job whose message says why.
* ``GET /api/jobs/{id}`` — status, progress (0..1), message and result (``model``, ``metrics`` measured,
  ``predicted``); 404 for an unknown id.

The predictor is loaded on the first request that needs it (importing torch is slow) and cached as
``app.state.predictor``, which ``/api/recommend`` then also uses. ``app.state.measurement_overrides``
(optional mapping) replaces bench spec sections for every measurement (tests use shorter training).
"""
from __future__ import annotations

import threading
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from api.decision_routes import PredictionOut
from api.predictor import PredictorUnavailable, predictor_of
from api.auth import needs_update_token
from api.rest_errors import ErrorList, FieldErrorRoute, error_response
from api.jobs import JobRegistry
from decision.elicitation import PreferenceError
from decision.prediction import save_predicted_candidate
from decision.requirements import Requirements
from kg.errors import FieldError, ValidationError
from measure.build_new import CANDIDATE_POOL, ProposalError, labels_of, measure_configuration, propose, rescored_candidate
from measure.plan import MeasurementPlanner

router = APIRouter(route_class=FieldErrorRoute, tags=["Decision support"])

_JOBS_LOCK = threading.Lock()
MAX_PROPOSALS = CANDIDATE_POOL


def jobs_of(request: Request) -> JobRegistry:
    state = request.app.state
    with _JOBS_LOCK:
        if getattr(state, "build_jobs", None) is None:
            state.build_jobs = JobRegistry()
        return state.build_jobs


def _prediction_out(c: Any) -> dict[str, Any]:
    return {"label": c.label, "dln": c.dln, "devices": list(c.devices), "metrics": dict(c.metrics),
            "confidence": c.confidence, "predictor_version": c.predictor_version, "techniques": list(c.techniques),
            "predicted": True}


class SimilarProposalOut(BaseModel):
    label: str
    dln: str
    devices: list[str]
    techniques: list[str]
    metrics: dict[str, float]
    confidence: float


class ProposalOut(PredictionOut):
    similar_count: int = Field(0, description="how many near-identical variants (same DLN family, hardware and "
                               "technique families) are grouped under this proposal")
    similar: list[SimilarProposalOut] = Field(default_factory=list, description="those variants, best first")


class ProposalsResponse(BaseModel):
    predictor_version: str
    message: str | None = None
    proposals: list[ProposalOut]


@router.post("/api/proposals", response_model=ProposalsResponse, summary="Proposals from the prediction model",
             responses={422: {"model": ErrorList}, 501: {"model": ErrorList, "description": "no trained predictor here"}})
def post_proposals(requirements: Requirements, request: Request,
                   limit: int = Query(5, ge=1, le=MAX_PROPOSALS, description="how many proposals (groups of "
                                      "near-identical variants)"),
                   measurable_only: bool = Query(False, description="only configurations on this server's own "
                                                 "devices that its benchmark can build and measure")) -> Any:
    """Unseen configurations meeting the requirements, ranked by Eq. 1 of their *predicted* metrics,
    each saying whether this server can measure it (:func:`measure.build_new.propose`)."""
    try:
        predictor = predictor_of(request)
    except PredictorUnavailable as e:
        return error_response(501, [{"field": "(server)", "message": str(e)}])
    try:
        listing = propose(request.app.state.store, predictor, requirements, limit, measurable_only)
    except PreferenceError as e:  # comparisons that do not determine the weights, as POST /api/recommend
        return error_response(422, [{"field": "preferences.comparisons", "message": str(e)}])
    except ValueError as e:  # e.g. weights that cannot be normalized
        return error_response(422, [{"field": "preferences", "message": str(e)}])
    out = [{**_prediction_out(p.candidate), **p.measurability.to_json(), **p.labels, "similar_count": len(p.similar),
            "similar": [{k: v for k, v in _prediction_out(s).items() if k in SimilarProposalOut.model_fields}
                        for s in p.similar]}
           for p in listing.proposals]
    return {"predictor_version": predictor.version, "message": listing.message, "proposals": out}


class ProposalIn(BaseModel):
    """A proposal as ``/api/proposals`` returned it; only its configuration (DLN, device, techniques) is
    used: the stored prediction is recomputed by the server."""

    label: str | None = Field(None, max_length=500)
    dln: str = Field(min_length=1, max_length=2000)
    devices: list[str] = Field(min_length=1, max_length=1)
    techniques: list[str] = Field(default_factory=list, max_length=20)
    metrics: dict[str, float] = Field(default_factory=dict)
    confidence: float | None = None
    predictor_version: str | None = None
    predicted: bool | None = None


class MeasurementRequest(BaseModel):
    proposal: ProposalIn
    on_this_machine: bool = Field(False, description="measure the same network and techniques on this server's "
                                  "reference device instead of the proposed device (see the proposal's on_this_machine)")


class MeasurementAccepted(BaseModel):
    job: str
    status_url: str
    predicted_model: str
    predicted: PredictionOut


@router.post("/api/measurements", response_model=MeasurementAccepted, status_code=202,
             summary="Store a proposal as a predicted model and measure it here (token)",
             responses={401: {"model": ErrorList}, 403: {"model": ErrorList}, 422: {"model": ErrorList},
                        501: {"model": ErrorList}},
             dependencies=[needs_update_token("measurements")])
def post_measurements(body: MeasurementRequest, request: Request) -> Any:
    try:
        predictor = predictor_of(request)
    except PredictorUnavailable as e:
        return error_response(501, [{"field": "(server)", "message": str(e)}])
    p = body.proposal
    store = request.app.state.store
    devices = list(p.devices)
    if body.on_this_machine:
        target = MeasurementPlanner(store).on_this_machine(p.dln, p.techniques)
        if target is None:
            return error_response(422, [{"field": "on_this_machine", "message": "this server's benchmark cannot measure "
                                         "this network with these techniques on this machine either"}])
        devices = [target.iri]
    try:
        candidate = rescored_candidate(predictor, p.dln, devices, p.techniques)
    except ProposalError as e:
        return error_response(422, [{"field": e.field, "message": str(e)}])
    try:
        model = save_predicted_candidate(store, candidate)
    except ValidationError as e:
        return error_response(422, [FieldError(field=f"proposal ({v.path})", message=str(v)) for v in e.violations])
    predicted = {**_prediction_out(candidate), **labels_of(predictor, candidate)}
    overrides = getattr(request.app.state, "measurement_overrides", None)
    configuration = (candidate.dln, candidate.devices[0], candidate.techniques)

    def body_fn(report: Any, result: dict[str, Any]) -> str:
        return measure_configuration(store, *configuration, report, result, overrides)

    job = jobs_of(request).submit(f"measure {candidate.label}", body_fn,
                                  result={"predicted_model": model, "predicted": predicted["metrics"],
                                          "model": None, "metrics": {}})
    return JSONResponse(status_code=202, content={"job": job, "status_url": f"/api/jobs/{job}",
                                                  "predicted_model": model, "predicted": predicted})


class JobOut(BaseModel):
    id: str
    status: str = Field(description="queued | running | succeeded | failed")
    progress: float
    message: str
    result: dict[str, Any]


@router.get("/api/jobs/{job_id}", response_model=JobOut, summary="A background job's status",
            responses={404: {"model": ErrorList}})
def get_job(job_id: str, request: Request) -> Any:
    job = jobs_of(request).snapshot(job_id)
    if job is None:
        return error_response(404, [{"field": "job_id", "message": f"no job {job_id!r} on this server"}])
    return {"id": job.id, "status": job.status, "progress": job.progress, "message": job.message, "result": job.result}
