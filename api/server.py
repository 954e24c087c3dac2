"""``dlom serve``: open the store, initialize it on first run, and serve the app with uvicorn."""
from __future__ import annotations

import uvicorn

from api.app import create_app
from kg.bootstrap import ensure_initialized
from kg.store import open_store


def run(host: str = "127.0.0.1", port: int = 8000, store_url: str | None = None) -> None:
    store = open_store(store_url)
    try:
        ensure_initialized(store)
        uvicorn.run(create_app(store), host=host, port=port, log_level="info")
    finally:
        store.close()
