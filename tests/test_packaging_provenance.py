"""Version and provenance: ``dlom --version``, ``GET /api/health`` and the SPARQL service description
report the package version, the shipped graph's build (sources with rounds, sha256 of each shipped
file) and the predictor version — each checked against the files themselves, read here independently."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from kg.store import open_store

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "kg" / "data"
SCHEMA = "https://schema.org/"
DCTERMS = "http://purl.org/dc/terms/"


def expected() -> dict:
    manifest = json.loads((DATA / "dlom-kg.json").read_text())
    predictor = json.loads((REPO / "gnn" / "artifacts" / "predictor.json").read_text())
    return {
        "version": metadata.version("dlom"),
        "sha256": {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(DATA.glob("*.nq.gz"))},
        "rounds": {name: s["rounds"] for name, s in manifest["sources"].items()},
        "quads": manifest["quads"],
        "predictor": predictor["predictor_version"],
    }


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DLOM_HOME", str(tmp_path))  # no user-trained predictor: the shipped one is reported
    store = open_store("oxigraph://")
    with TestClient(create_app(store)) as c:
        yield c
    store.close()


def test_version_option(tmp_path: Path) -> None:
    env = dict(os.environ, DLOM_HOME=str(tmp_path), PYTHONPATH=str(REPO))
    r = subprocess.run([sys.executable, "-m", "dlom.cli", "--version"], cwd=REPO, env=env, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    want = expected()
    assert r.stdout.splitlines()[0] == f"dlom {want['version']}"
    for name, digest in want["sha256"].items():
        assert f"{name} sha256:{digest}" in r.stdout
    for source, rounds in want["rounds"].items():
        assert f"{source} {', '.join(rounds)}" in r.stdout
    assert f"predictor: {want['predictor']}" in r.stdout


def test_health_reports_version_graph_build_and_predictor(client: TestClient) -> None:
    body = client.get("/api/health").json()
    want = expected()
    assert body["status"] == "ok" and body["version"] == want["version"]
    assert {f["file"]: f["sha256"] for f in body["graph"]["files"]} == want["sha256"]
    assert {n: s["rounds"] for n, s in body["graph"]["sources"].items()} == want["rounds"]
    assert body["graph"]["quads"] == want["quads"]
    assert body["graph"]["built"] is None  # the reproducible build records no date: unknown, not invented
    assert body["predictor"]["version"] == want["predictor"]


def test_service_description_reports_the_same(client: TestClient) -> None:
    r = client.get("/sparql", headers={"Accept": "application/n-triples"})
    assert r.status_code == 200
    triples = list(ox.parse(r.content, format=ox.RdfFormat.N_TRIPLES))
    values = lambda p: {t.object.value for t in triples if t.predicate.value == p}  # noqa: E731
    want = expected()
    assert f"dlom {want['version']}" in values(SCHEMA + "softwareVersion")
    assert want["predictor"] in values(SCHEMA + "softwareVersion")
    assert set(want["sha256"].values()) == values(SCHEMA + "sha256")
    assert {f"{n} ({', '.join(r)})" for n, r in want["rounds"].items()} == values(DCTERMS + "source")
