"""The FastAPI application: one app, one store, routers for each interface."""
from __future__ import annotations

from fastapi import FastAPI

from api import graphql_api, rest, sparql_endpoint
from api.settings import Settings
from kg.store import Store


def create_app(store: Store, settings: Settings | None = None) -> FastAPI:
    """The DLOM web app over ``store``. The app holds no business logic: it calls the libraries."""
    app = FastAPI(title="DLOM", version="0.1.0",
                  description="Knowledge graph, decision support and prediction for deep-learning deployments on IoT and edge devices.")
    app.state.store = store
    app.state.settings = settings or Settings()
    app.include_router(sparql_endpoint.router)
    app.include_router(rest.router)
    app.include_router(graphql_api.router)
    return app
