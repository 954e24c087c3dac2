"""GraphQL queries for decision support: ``recommend`` and ``preferences``.

They take the same input as ``POST /api/recommend`` and ``POST /api/preferences`` (the requirements model of
:mod:`decision.requirements`, as JSON) and answer the same result documents, so GraphQL clients get exactly
what REST clients get. Invalid input is answered as data — ``{"errors": [{"field", "message"}]}`` — never
as a server error. The logic is the decision library's; these resolvers only translate.
"""
from __future__ import annotations

from typing import Any

import strawberry
from pydantic import ValidationError
from strawberry.scalars import JSON
from strawberry.types import Info

from decision.elicitation import PreferenceError, assess
from decision.recommend import recommend
from decision.applicability import requirement_coverage
from decision.requirements import PairwiseComparison, RequirementsError, field_errors, parse_requirements
from kg.errors import QueryTimeoutError


def _errors(field: str, message: str) -> dict[str, Any]:
    return {"errors": [{"field": field, "message": message}]}


@strawberry.type
class DecisionQuery:
    @strawberry.field(description="Recommend models for requirements (the body of POST /api/recommend): "
                                  "ranked by Eq. 1 with explanations, Pareto front and sensitivity; or "
                                  "{errors: [{field, message}]}.")
    async def recommend(self, info: Info, requirements: JSON, top_k: int = 5, group_variants: bool = True) -> JSON:
        if not 1 <= top_k <= 100:
            return _errors("topK", "must be between 1 and 100")
        context = info.context

        def run() -> dict[str, Any]:
            try:
                return recommend(context.store, requirements, top_k=top_k, diverse=group_variants,
                                 timeout_s=context.settings.query_timeout_s).to_dict()
            except RequirementsError as e:
                return {"errors": [{"field": f.field, "message": f.message} for f in e.errors]}
            except PreferenceError as e:
                return _errors("preferences.comparisons", str(e))
            except QueryTimeoutError as e:
                return _errors("(query)", str(e))

        return await context.run(run)

    @strawberry.field(description="Which stated requirements the data can check for the candidates (the body "
                                  "of POST /api/requirements/coverage): {requirements: [{field, status, with_data, "
                                  "candidates, reason}]}; or {errors: [{field, message}]}.")
    async def requirement_coverage(self, info: Info, requirements: JSON) -> JSON:
        context = info.context

        def run() -> dict[str, Any]:
            try:
                req = parse_requirements(requirements)
                return {"requirements": [a.to_dict() for a in requirement_coverage(
                    context.store, req, timeout_s=context.settings.query_timeout_s)]}
            except RequirementsError as e:
                return {"errors": [{"field": f.field, "message": f.message} for f in e.errors]}
            except QueryTimeoutError as e:
                return _errors("(query)", str(e))

        return await context.run(run)

    @strawberry.field(description="AHP weights and consistency ratio from pairwise comparisons "
                                  "([{more, less, level}], levels equal|weak|stronger|absolute); "
                                  "or {errors: [{field, message}]}.")
    def preferences(self, comparisons: JSON) -> JSON:
        if not isinstance(comparisons, list):
            return _errors("comparisons", "must be a list of {more, less, level}")
        parsed = []
        for i, c in enumerate(comparisons):
            try:
                parsed.append(PairwiseComparison.model_validate(c))
            except ValidationError as e:
                return {"errors": [{"field": f.field, "message": f.message}
                                   for f in field_errors(e, prefix=f"comparisons[{i}].")]}
        try:
            return assess(parsed).to_dict()
        except PreferenceError as e:
            return _errors("comparisons", str(e))
