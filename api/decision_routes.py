"""REST routes of the decision support system (see :mod:`decision`).

* ``POST /api/recommend`` — requirements (the six wizard steps, preferences included) → ranked models
  with explanations, the Pareto front and the top choice's sensitivity; or an honest 'no match'.
* ``POST /api/requirements/coverage`` — which stated requirements the data can check for the candidates
  (the wizard asks it at the step where a requirement is entered).
* ``POST /api/preferences`` — AHP weights and consistency ratio from pairwise comparisons; a half-finished
  set that does not yet connect all objectives answers 200 with ``status: "incomplete"``, the unconnected
  groups and the comparisons still needed (never a 4xx: it is the normal state while a user answers).
* ``POST /api/ratings`` — store a user's 1-5 ratings of a model (needs ``Authorization: Bearer
  <DLOM_UPDATE_TOKEN>``).

Client mistakes get 4xx with field-level errors ``{"errors": [{"field": "performance.min_accuracy",
"message": "must be in [0, 1]"}]}`` — never a 500 or a stack trace. The routes hold no logic beyond
translating HTTP to the library.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field, field_validator

from api.predictor import lazy_predictor
from api.auth import needs_update_token
from api.rest_errors import ErrorList, FieldErrorRoute, error_response
from measure.build_new import labels_of, measurability_of
from decision.applicability import requirement_coverage
from decision.elicitation import PreferenceError, assess
from decision.objectives import Objective
from decision.ratings import RatingInputError, UnknownModelError, rate_model
from decision.recommend import recommend
from decision.requirements import PairwiseComparison, Requirements, RequirementsError
from kg.errors import FieldError, QueryTimeoutError, ValidationError


router = APIRouter(route_class=FieldErrorRoute, tags=["Decision support"])


# -- response models (mirror decision.recommend.Recommendation.to_dict) ----------------------------

class ObjectiveOut(BaseModel):
    objective: Objective
    value: float = Field(description="1-5, 5 best")
    source: str = Field(description="the evidence: derived (measured) | measured-effects (no measurement of the "
                        "model; the paired measurements of its precision vs float) | effects (Table 1, no "
                        "measurement) | missing (neutral 3) | rating (users' ratings are the only evidence)")
    source_label: str = Field(description="for people: 'measured', 'measured effects (n paired measurements)', "
                              "'effect-derived (Table 1)', 'rated (n)', 'measured + rated (n)', 'no data' "
                              "('predicted' for a predicted model's derived values)")
    pairs: int = Field(0, description="measured-effects: how many paired measurements the value rests on")
    ratings: int = Field(0, description="how many user ratings the value includes (Bayesian average with the evidence)")
    rating_mean: float | None = None
    basis: str
    weight: float
    contribution: float = Field(description="weight × value (Eq. 1 term)")


class RequirementOut(BaseModel):
    field: str
    required: Any = None
    actual: Any = None
    status: str = Field(description="met | missed | unknown | not_applied (no candidate records the data to check it)")
    margin: float | None = Field(None, description="how far inside the limit, in the unit (positive = inside)")
    unit: str
    mandatory: bool
    text: str


class EvidenceOut(BaseModel):
    record: str
    kind: str | None = None
    activity: str | None = None
    activity_label: str | None = None
    round: str | None = None
    submitters: list[str] = []
    source_files: list[str] = []
    prediction_confidence: float | None = None
    predictor_version: str | None = None


class SimilarOut(BaseModel):
    model: str
    label: str
    rank: int
    score: float


class ApplicabilityOut(BaseModel):
    field: str
    required: Any = None
    status: str = Field(description="applied | not_applied (the data cannot check it for the candidates)")
    with_data: int = Field(description="candidates that record what the requirement needs")
    candidates: int
    reason: str


class ExplanationOut(BaseModel):
    rank: int
    model: str
    label: str
    score: float = Field(description="Eq. 1 overall score (1-5)")
    on_pareto_front: bool
    predicted: bool
    objectives: list[ObjectiveOut]
    requirements: list[RequirementOut]
    evidence: list[EvidenceOut]
    attributes: dict[str, Any]
    similar_count: int = Field(0, description="near-identical variants of this configuration grouped under it")
    similar: list[SimilarOut] = Field(default_factory=list, description="the best-ranked of them")


class DeviationOut(BaseModel):
    more: Objective
    less: Objective
    given: float
    implied: float
    log_deviation: float


class ConsistencyOut(BaseModel):
    method: str
    consistency_ratio: float
    consistent: bool
    lambda_max: float
    missing_comparisons: int
    note: str
    most_inconsistent: list[DeviationOut]


class ParetoOut(BaseModel):
    model: str
    label: str
    rank: int
    score: float
    values: dict[str, float] = Field(description="the six objective values (1-5, 5 best)")
    measures: dict[str, float] = Field(default_factory=dict, description="its performance in real units, as recorded: "
                                       "accuracy (fraction), inference_latency_ms, energy_per_inference_uj (absent: not recorded)")


class SensitivityOut(BaseModel):
    objective: Objective
    weight: float
    lowest_weight: float
    highest_weight: float
    decrease_margin: float
    increase_margin: float
    overtaken_below_by: str | None
    overtaken_above_by: str | None


class ThisMachineOut(BaseModel):
    device: str = Field(description="IRI of this server's device (a dlom:BenchmarkHost setting)")
    label: str


class PredictionOut(BaseModel):
    label: str
    dln: str
    devices: list[str]
    metrics: dict[str, float]
    confidence: float
    predictor_version: str
    techniques: list[str]
    predicted: bool = True
    measurable_here: bool | None = Field(None, description="whether this server's benchmark can build and "
                                         "measure the configuration (set by /api/proposals)")
    not_measurable_because: str | None = Field(None, description="why it cannot, when it cannot")
    on_this_machine: ThisMachineOut | None = Field(None, description="where it cannot: this server's device on "
                                                   "which the same network and techniques can be measured instead")
    dln_label: str | None = Field(None, description="the DLN's label")
    device_labels: list[str] | None = Field(None, description="the devices' labels, in the order of devices")
    technique_labels: list[str] | None = Field(None, description="the techniques' labels, in the order of techniques")


class RecommendResponse(BaseModel):
    status: str = Field(description="ok | no_match | predicted")
    message: str
    weights: dict[str, float]
    consistency: ConsistencyOut | None
    candidates_considered: int
    requirements_applied: list[ApplicabilityOut] = Field(default_factory=list, description="which stated "
                                                         "requirements the data could check, and which not (why)")
    recommendations: list[ExplanationOut]
    pareto_front: list[ParetoOut]
    sensitivity: list[SensitivityOut]
    predictions: list[PredictionOut]
    timings_ms: dict[str, float]


@router.post("/api/recommend", response_model=RecommendResponse, summary="Recommend models for requirements",
             responses={422: {"model": ErrorList, "description": "invalid requirements (field-level errors)"},
                        504: {"model": ErrorList, "description": "the candidate query exceeded the time limit"}})
def post_recommend(requirements: Requirements, request: Request,
                   top_k: int = Query(5, ge=1, le=100, description="how many explained recommendations"),
                   group_variants: bool = Query(True, description="near-identical variants of one configuration "
                                                "take one place, with 'n more like this'")) -> Any:
    """Retrieve the models meeting the requirements, weight the objectives from the preferences (AHP),
    rank by Eq. 1 and explain; when nothing matches, say so (or ask the prediction model). A
    requirement the data cannot check is reported not applied (``requirements_applied``)."""
    settings = request.app.state.settings
    try:
        rec = recommend(request.app.state.store, requirements, predictor=lazy_predictor(request), top_k=top_k,
                        timeout_s=settings.query_timeout_s, diverse=group_variants)
    except RequirementsError as e:
        return error_response(422, e.errors)
    except PreferenceError as e:
        return error_response(422, [FieldError(field="preferences.comparisons", message=str(e))])
    except QueryTimeoutError as e:
        return error_response(504, [FieldError(field="(query)", message=str(e))])
    body = rec.to_dict()
    if rec.predictions:
        predictor = getattr(request.app.state, "predictor", None)  # loaded: it made the predictions
        for c, out, measurability in zip(rec.predictions, body["predictions"],
                                         measurability_of(request.app.state.store, rec.predictions)):
            out.update(measurability.to_json(), **labels_of(predictor, c))
    return body


class CoverageResponse(BaseModel):
    requirements: list[ApplicabilityOut] = Field(description="per stated requirement (and the number of devices): "
                                                 "applied, or not applied and why")


@router.post("/api/requirements/coverage", response_model=CoverageResponse,
             summary="Which stated requirements the data can check",
             responses={422: {"model": ErrorList, "description": "invalid requirements (field-level errors)"},
                        504: {"model": ErrorList}})
def post_requirement_coverage(requirements: Requirements, request: Request) -> Any:
    """What the wizard asks at the step where a requirement is entered: for the models that meet (or may
    meet) the other requirements, whether the data records what each stated requirement needs — e.g.
    'no price data: the budget cannot be applied; add prices via …'. Preferences are ignored."""
    try:
        found = requirement_coverage(request.app.state.store, requirements,
                                     timeout_s=request.app.state.settings.query_timeout_s)
    except QueryTimeoutError as e:
        return error_response(504, [FieldError(field="(query)", message=str(e))])
    return {"requirements": [a.to_dict() for a in found]}


class PreferencesRequest(BaseModel):
    comparisons: list[PairwiseComparison] = Field(default_factory=list, description="Fig. 8a's pairwise comparisons; missing pairs are completed (Harker).")

    @field_validator("comparisons")
    @classmethod
    def _no_duplicates(cls, v: list[PairwiseComparison]) -> list[PairwiseComparison]:
        seen = set()
        for c in v:
            pair = frozenset((c.more, c.less))
            if pair in seen:
                raise ValueError(f"{c.more.value} and {c.less.value} are compared twice")
            seen.add(pair)
        return v


class NeededComparisonOut(BaseModel):
    a: Objective
    b: Objective


class PreferencesResponse(BaseModel):
    status: str = Field(description="complete (weights determined) | incomplete (some objectives not yet connected)")
    message: str
    answered: int = Field(description="how many comparisons were given")
    weights: dict[str, float] | None = Field(description="None while incomplete")
    consistency: ConsistencyOut | None
    completed_matrix: list[list[float]] | None = Field(description="the comparison matrix with missing pairs completed (w_i / w_j)")
    unconnected_groups: list[list[Objective]] = Field(description="while incomplete: the groups not yet compared with each other")
    needed_comparisons: list[NeededComparisonOut] = Field(description="while incomplete: one comparison per extra group that would connect it")


@router.post("/api/preferences", response_model=PreferencesResponse, summary="AHP weights from pairwise comparisons",
             responses={422: {"model": ErrorList, "description": "malformed comparisons (a pair twice, an unknown level)"}})
def post_preferences(body: PreferencesRequest) -> Any:
    """Weights by the principal eigenvector and the consistency ratio (CR > 0.1 flagged with the
    comparisons most responsible); a set that does not yet connect all objectives is *incomplete*
    (200, no weights, which comparisons are still needed)."""
    return assess(body.comparisons).to_dict()


class RatingsRequest(BaseModel):
    model: str = Field(min_length=1, description="IRI of the dlom:Model")
    rater: str = Field(min_length=1, max_length=200, description="who rates")
    ratings: dict[Objective, int] = Field(min_length=1, description="objective → 1-5 (5 best)")

    @field_validator("ratings")
    @classmethod
    def _scale(cls, v: dict[Objective, int]) -> dict[Objective, int]:
        bad = [o.value for o, x in v.items() if not 1 <= x <= 5]
        if bad:
            raise ValueError(f"ratings must be integers 1-5 ({', '.join(bad)})")
        return v


class StoredRatingOut(BaseModel):
    rating: str
    objective: Objective
    value: int


class RatingsResponse(BaseModel):
    model: str
    rater: str
    at: dt.datetime
    stored: list[StoredRatingOut]


@router.post("/api/ratings", response_model=RatingsResponse, status_code=201, summary="Rate a model (token)",
             responses={401: {"model": ErrorList}, 403: {"model": ErrorList}, 404: {"model": ErrorList},
                        422: {"model": ErrorList}},
             dependencies=[needs_update_token("ratings")])
def post_ratings(body: RatingsRequest, request: Request) -> Any:
    """Store the rater's 1-5 ratings as dlom:Rating nodes (who and when), validated and atomic."""
    at = dt.datetime.now(dt.timezone.utc)
    try:
        stored = rate_model(request.app.state.store, body.model, body.ratings, body.rater, at=at)
    except UnknownModelError as e:
        return error_response(404, [FieldError(field="model", message=str(e))])
    except RatingInputError as e:
        return error_response(422, [FieldError(field=e.field, message=str(e))])
    except ValidationError as e:
        return error_response(422, [FieldError(field=f"ratings ({v.path})", message=str(v)) for v in e.violations])
    return {"model": body.model, "rater": body.rater.strip(), "at": at,
            "stored": [{"rating": s.iri, "objective": s.objective, "value": s.value} for s in stored]}
