"""FastAPI dependencies: the store and settings the app was created with."""
from __future__ import annotations

from fastapi import Request

from api.settings import Settings
from kg.store import Store


def get_store(request: Request) -> Store:
    return request.app.state.store


def get_settings(request: Request) -> Settings:
    return request.app.state.settings
