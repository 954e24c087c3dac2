"""``dlom serve``: open the store, initialize it on first run, and serve the app with uvicorn.

:func:`serve_in_background` runs the same app on a loopback port in a thread (tests use it, so they
talk to a real HTTP server, not an in-process client). :func:`uvicorn_options` names the event loop and
HTTP implementation that ``dlom serve``, :func:`serve_in_background` and the endpoint benchmark
(``benchmarks/api_sparql.py``) all use.
"""
from __future__ import annotations

import importlib.util
import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

from api.app import create_app
from kg.bootstrap import ensure_initialized
from kg.store import open_store


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def uvicorn_options() -> dict[str, str]:
    """The uvicorn event loop and HTTP implementation DLOM serves with (keyword arguments for
    ``uvicorn.run`` / ``uvicorn.Config``).

    uvloop and httptools (both C) when installed, as ``uvicorn[standard]`` (a DLOM dependency)
    installs them; else asyncio and h11 (pure Python; about 0.1 ms more per request on the 2-core
    development machine). Named here rather than left to uvicorn's "auto" so the choice is visible,
    and so ``dlom serve``, :func:`serve_in_background` and the endpoint benchmark serve alike.
    """
    return {"loop": "uvloop" if _installed("uvloop") else "asyncio",
            "http": "httptools" if _installed("httptools") else "h11"}


SHUTDOWN_GRACE_S = 2.0
"""On SIGTERM/SIGINT, how long requests in flight may still finish before they are cancelled."""


def run(host: str = "127.0.0.1", port: int = 8000, store_url: str | None = None) -> None:
    """Serve until SIGTERM or SIGINT, then stop within a few seconds whatever is running.

    uvicorn stops accepting, gives requests in flight :data:`SHUTDOWN_GRACE_S` and cancels the rest;
    the app's shutdown kills the query worker processes (:mod:`kg.query_pool`); the store is flushed
    and closed. Every write a client was told succeeded was committed before that answer, so none is
    lost. The process then exits at once: a thread still inside the store (an uncancellable query on a
    store without worker processes) must not hold it open — it answers nobody any more.
    """
    store = open_store(store_url)
    code = 0
    try:
        ensure_initialized(store)
        uvicorn.run(create_app(store), host=host, port=port, log_level="info",
                    timeout_graceful_shutdown=SHUTDOWN_GRACE_S, **uvicorn_options())
    except BaseException:
        code = 1
        raise
    finally:
        store.close()
        if code == 0:
            logging.shutdown()
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)


@contextmanager
def serve_in_background(app: FastAPI, host: str = "127.0.0.1", start_timeout_s: float = 20.0) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free port of ``host`` in a daemon thread; yields the base URL
    (``http://127.0.0.1:PORT``) once the server accepts connections, and stops it on exit."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))  # the kernel picks a free port; the bound socket is handed to uvicorn (no race)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False,
                                           **uvicorn_options()))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="uvicorn")
    thread.start()
    deadline = time.monotonic() + start_timeout_s
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the API server did not start on {host}:{port}")
        time.sleep(0.02)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
