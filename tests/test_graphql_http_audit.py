"""GraphQL over HTTP conformance: the graphql-http audit (``serverAudits``) run with node's test runner
against the live app (uvicorn on a loopback port, the shipped graph in an in-memory store).

Every MUST and SHOULD audit must pass: no error, no warning. The audit's npm packages are pinned in
conformance/package-lock.json (``npm ci`` in conformance/ installs them; ``make test`` does).
"""
from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.app import create_app
from api.server import serve_in_background
from kg.bootstrap import ensure_initialized
from kg.store import open_store

REPO = Path(__file__).resolve().parent.parent
CONFORMANCE = REPO / "conformance"


@pytest.fixture(scope="module")
def graphql_url() -> Iterator[str]:
    store = open_store("oxigraph://")
    ensure_initialized(store)
    with serve_in_background(create_app(store)) as url:
        yield f"{url}/graphql"
    store.close()


def test_graphql_over_http_audit_passes_every_must_and_should(graphql_url: str) -> None:
    node = shutil.which("node")
    assert node, "node is needed for the GraphQL over HTTP audit"
    if not (CONFORMANCE / "node_modules" / "graphql-http").is_dir():
        npm = shutil.which("npm")
        assert npm, "npm is needed to install the audit (conformance/package-lock.json)"
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=CONFORMANCE, check=True, capture_output=True, timeout=300)
    r = subprocess.run([node, "--test", "--test-reporter=tap", "graphql-http.test.mjs"], cwd=CONFORMANCE,
                       env={"PATH": str(Path(node).parent), "DLOM_GRAPHQL_URL": graphql_url},
                       capture_output=True, text=True, timeout=300)
    summary = json.loads([line[2:] for line in r.stdout.splitlines() if line.startswith("# {")][-1])
    failed = [line for line in r.stdout.splitlines() if line.startswith("not ok")]
    total = summary["ok"] + summary["warn"] + summary["error"]
    assert total >= 50, f"the audit ran only {total} checks:\n{r.stdout[-3000:]}\n{r.stderr[-2000:]}"
    assert summary == {"ok": total, "warn": 0, "error": 0}, "\n".join(failed) + "\n" + r.stdout[-6000:]
    assert r.returncode == 0 and not failed
    print(f"graphql-http audit: {summary['ok']} of {total} pass")
