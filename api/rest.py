"""The REST API under /api (documented in the OpenAPI schema at /openapi.json, browsable at /docs).

* ``GET /api/health`` — liveness: the store answers, and how many quads it holds; with the package
  version, the shipped graph's build and the predictor (:func:`api.build_info.build_info`).
* ``GET /api/stats`` — :func:`kg.stats.graph_stats`: quads per repository, instances per DLOM class.
* Linked-Data pages (``/api/entity``, ``/id/…``, ``/ontology``): see :mod:`api.linked_data`, whose
  routes this router includes.

No business logic here: each route calls one library function and returns its result as JSON.
"""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from api import linked_data
from api.build_info import build_info
from kg.stats import graph_stats

router = APIRouter()
router.include_router(linked_data.router)


class Health(BaseModel):
    status: str = Field(description="'ok' when the store answered")
    quads: int = Field(description="quads in the store")
    version: str = Field(description="the dlom package version")
    graph: dict[str, Any] = Field(description="the shipped knowledge graph's build: sources with their rounds, "
                                              "quads, and each shipped file with its sha256 ('built' is null: the "
                                              "build is byte-reproducible and records no date)")
    predictor: dict[str, Any] | None = Field(description="the prediction model this server uses (version, what it "
                                                         "was trained on); null when there is none")


class Stats(BaseModel):
    total: int = Field(description="quads in the store")
    repositories: dict[str, int] = Field(description="quads per repository (named graph)")
    classes: dict[str, int] = Field(description="instances per DLOM class (local name)")


@router.get("/api/health", response_model=Health, tags=["REST"], summary="Liveness check")
def health(request: Request) -> Health:
    return Health(status="ok", quads=request.app.state.store.count(), **build_info())


@router.get("/api/stats", response_model=Stats, tags=["REST"], summary="Knowledge-graph statistics")
def stats(request: Request) -> Stats:
    s = graph_stats(request.app.state.store)
    return Stats(total=s.total, repositories=s.repositories, classes=s.classes)
