"""User ratings of models on the six objectives (1-5), stored as dlom:Rating nodes with who and when.

    <model> dlom:hasRating <rating> .
    <rating> a dlom:Rating ; rdfs:label "…" ; dlom:ratingValue 4 ; dlom:ratedObjective dlom:CostObjective ;
             dlom:raterName "alice" ; prov:generatedAtTime "2026-…"^^xsd:dateTime .

Writes go through :func:`kg.writes.write_triples` (SHACL-validated, atomic: all of a user's ratings
land together or not at all). A rating's IRI is derived from model, objective, rater and time, so a
user who rates again adds a new rating (history is kept) and the mean includes both.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from pyoxigraph import NamedNode, Triple

from decision.facet_index import FacetIndex, current_index
from decision.objectives import OBJECTIVES, Objective
from decision.retrieval import BIND_LIMIT, CandidateSet
from kg.binding import values_rows
from kg.derived_results import derived
from kg.errors import DlomError
from kg.namespaces import DLOM, DLOM_VOCABULARIES, PROV, RDF, RDFS, SPARQL_PREFIXES, entity
from kg.store import Store
from kg.terms import literal
from kg.writes import write_triples


class UnknownModelError(DlomError):
    """The IRI given does not name a dlom:Model in the store."""


class RatingInputError(DlomError, ValueError):
    """A rating request is malformed; ``field`` says which part (model, rater, ratings)."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


@dataclass(frozen=True)
class StoredRating:
    iri: str
    objective: Objective
    value: int


def model_exists(store: Store, model_iri: str) -> bool:
    return store.ask(SPARQL_PREFIXES + "ASK WHERE { ?m a dlom:Model }", substitutions={"m": NamedNode(model_iri)})


def rating_triples(model_iri: str, ratings: Mapping[Objective, int], rater: str,
                   at: dt.datetime) -> list[Triple]:
    """The triples of one user's ratings of one model (values are checked here and by SHACL)."""
    model = NamedNode(model_iri)
    stamp = at.astimezone(dt.timezone.utc).isoformat()
    triples: list[Triple] = []
    for objective, value in ratings.items():
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
            raise RatingInputError(f"ratings.{objective.value}", f"must be an integer 1-5, got {value!r}")
        node = entity("rating", model_iri, objective.value, rater, stamp)
        triples += [
            Triple(model, DLOM.hasRating, node),
            Triple(node, RDF.type, DLOM.Rating),
            Triple(node, RDFS.label, literal(f"{rater} rates {objective.value} {value}/5")),
            Triple(node, DLOM.ratingValue, literal(int(value))),
            Triple(node, DLOM.ratedObjective, objective.iri),
            Triple(node, DLOM.raterName, literal(rater)),
            Triple(node, PROV.generatedAtTime, literal(at.astimezone(dt.timezone.utc))),
        ]
    return triples


def rate_model(store: Store, model_iri: str, ratings: Mapping[Objective, int], rater: str,
               at: dt.datetime | None = None) -> list[StoredRating]:
    """Store ``rater``'s ratings of a model; raises :class:`UnknownModelError` if it is not a model,
    :class:`RatingInputError` for a malformed IRI, a value outside 1-5 or an empty rater, and
    kg.errors.ValidationError if SHACL refuses the records (nothing is written then)."""
    if not rater.strip():
        raise RatingInputError("rater", "must not be empty")
    if not ratings:
        raise RatingInputError("ratings", "give at least one objective's rating")
    try:
        NamedNode(model_iri)
    except ValueError as e:
        raise RatingInputError("model", f"not a valid IRI: {e}") from None
    if not model_exists(store, model_iri):
        raise UnknownModelError(f"no dlom:Model <{model_iri}> in the store")
    at = at or dt.datetime.now(dt.timezone.utc)
    triples = rating_triples(model_iri, ratings, rater.strip(), at)
    write_triples(store, triples, source=f"ratings by {rater.strip()}")
    return [StoredRating(t.subject.value, o, v) for t, (o, v) in
            zip((t for t in triples if t.predicate == RDF.type), ratings.items())]


def mean_ratings(store: Store, model_iris: Iterable[str] | None = None) -> dict[str, dict[Objective, tuple[float, int]]]:
    """Per model, per objective: (mean rating, number of ratings). ``model_iris`` limits the models
    (None: all rated models — one grouped query, cheaper than binding thousands of IRIs). Kept until
    the store changes (:mod:`kg.derived_results`); read-only."""
    key = ("decision.mean_ratings", None if model_iris is None else tuple(model_iris))
    return derived(store, key, lambda: _mean_ratings(store, key[1]), DLOM_VOCABULARIES)


def candidate_ratings(store: Store, found: CandidateSet) -> dict[int, dict[Objective, tuple[float, int]]]:
    """:func:`mean_ratings` of the candidates ``found``, by candidate index (the rated ones only): from the
    store's facet index where the set was answered from its current one (:mod:`decision.facet_index`:
    brought forward after each validated write, so a new rating costs no query over every rating), else
    by query. The same figures either way (``tests/test_facet_index.py``), up to the last bits of the
    means (the engine averages decimals exactly, numpy in doubles). Read-only."""
    index = current_index(store)
    if (index is not None and not index.irregular and found.index_rows is not None
            and found.index_generation == index.generation):
        return _ratings_from_index(index, found.index_rows)
    rated = mean_ratings(store, found.iris if len(found) <= BIND_LIMIT else None)
    return {i: rated[iri] for i, iri in enumerate(found.iris) if iri in rated} if rated else {}


def _ratings_from_index(index: FacetIndex, rows: np.ndarray) -> dict[int, dict[Objective, tuple[float, int]]]:
    candidate = np.full(len(index), -1, dtype=np.intp)
    candidate[rows] = np.arange(len(rows))
    objectives = []
    for iri in index.rating_objective.values:
        try:
            objectives.append(OBJECTIVES.index(Objective.from_iri(iri)))
        except ValueError:
            objectives.append(-1)  # not one of the six: ignored, as the query's rows are
    objective = np.array(objectives + [-1], dtype=np.intp)[index.rating_objective.codes]
    of = candidate[index.rating_model] if len(index.rating_model) else np.zeros(0, dtype=np.intp)
    keep = (of >= 0) & (objective >= 0) & ~np.isnan(index.rating_value)
    key = of[keep] * len(OBJECTIVES) + objective[keep]
    cells, counts = np.unique(key, return_counts=True)
    sums = np.bincount(np.searchsorted(cells, key), weights=index.rating_value[keep], minlength=len(cells))
    out: dict[int, dict[Objective, tuple[float, int]]] = {}
    for cell, total, n in zip(cells.tolist(), sums.tolist(), counts.tolist()):
        out.setdefault(cell // len(OBJECTIVES), {})[OBJECTIVES[cell % len(OBJECTIVES)]] = (total / n, n)
    return out


def _mean_ratings(store: Store, model_iris: Sequence[str] | None) -> dict[str, dict[Objective, tuple[float, int]]]:
    text = (SPARQL_PREFIXES + "SELECT ?m ?o (AVG(?v) AS ?mean) (COUNT(?v) AS ?n) WHERE { %s "
            "?m dlom:hasRating ?r . ?r dlom:ratedObjective ?o ; dlom:ratingValue ?v } GROUP BY ?m ?o")
    if model_iris is None:
        text = text % ""
    else:
        rows = [(NamedNode(m),) for m in model_iris]
        if not rows:
            return {}
        text = text % values_rows(["m"], rows)
    result = store.select(text)
    out: dict[str, dict[Objective, tuple[float, int]]] = {}
    for m, o, mean, n in result.rows:
        try:
            objective = Objective.from_iri(o.value)  # type: ignore[union-attr]
        except ValueError:
            continue
        out.setdefault(m.value, {})[objective] = (float(mean.value), int(n.value))  # type: ignore[union-attr]
    return out
