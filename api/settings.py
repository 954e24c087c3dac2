"""Service settings, read from the environment once at start-up."""
from __future__ import annotations

import os
from dataclasses import dataclass, field


def _list(name: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in os.environ.get(name, "").split(",") if x.strip())


@dataclass(frozen=True)
class Settings:
    """``DLOM_UPDATE_TOKEN``: bearer token that enables /sparql/update and mutations (unset: updates off).
    ``DLOM_QUERY_TIMEOUT_S``: per-query time limit. ``DLOM_MAX_ROWS``: result row limit.
    ``DLOM_MAX_BODY_BYTES``: largest accepted request body. ``DLOM_FEDERATION_ALLOWLIST``: comma-separated
    URL prefixes that SERVICE/LOAD may reach (unset: none). ``DLOM_QUERY_WORKERS``: how many SPARQL
    queries are evaluated at once (worker processes, killed at the time limit, for the embedded on-disk
    store; threads otherwise, which also run updates and GraphQL's store reads); more wait, within
    their time limit. Admission control (:mod:`api.admission`), per client address:
    ``DLOM_CLIENT_MAX_CONCURRENT`` requests at once, ``DLOM_CLIENT_BUDGET_S`` seconds of request time
    per minute; over either, 429 with ``Retry-After`` (0 turns a limit off)."""

    update_token: str | None = field(default_factory=lambda: os.environ.get("DLOM_UPDATE_TOKEN") or None)
    query_timeout_s: float = field(default_factory=lambda: float(os.environ.get("DLOM_QUERY_TIMEOUT_S", "30")))
    max_rows: int = field(default_factory=lambda: int(os.environ.get("DLOM_MAX_ROWS", "10000")))
    max_body_bytes: int = field(default_factory=lambda: int(os.environ.get("DLOM_MAX_BODY_BYTES", str(1 << 20))))
    federation_allowlist: tuple[str, ...] = field(default_factory=lambda: _list("DLOM_FEDERATION_ALLOWLIST"))
    query_processes: bool = field(default_factory=lambda: os.environ.get("DLOM_QUERY_PROCESSES", "1") != "0")
    """``DLOM_QUERY_PROCESSES=0``: evaluate in threads even on the on-disk store (the response is then
    bounded at the time limit, not the work: for comparison, e.g. ``benchmarks/api_sparql.py``)."""
    query_workers: int = field(default_factory=lambda: int(os.environ.get("DLOM_QUERY_WORKERS", "8")))
    client_max_concurrent: int = field(default_factory=lambda: int(os.environ.get("DLOM_CLIENT_MAX_CONCURRENT", "6")))
    client_budget_s: float = field(default_factory=lambda: float(os.environ.get("DLOM_CLIENT_BUDGET_S", "120")))
    warm_predictor: bool = field(default_factory=lambda: os.environ.get("DLOM_WARM_PREDICTOR", "1") != "0")
    """Load the prediction model right after start-up (``DLOM_WARM_PREDICTOR=0``: on the first request
    that needs it, as the test suite does so that its many servers do not each load it)."""
    warm_facet_index: bool = field(default_factory=lambda: os.environ.get("DLOM_WARM_FACET_INDEX", "1") != "0")
    """Build the derived indexes — the decision support's facet index (:mod:`decision.facet_index`) and the
    explorer search's label index (:mod:`kg.label_index`) — right after start-up, in the
    background (``DLOM_WARM_FACET_INDEX=0``: never — recommendations then query the store, as the test
    suite's many servers do)."""
