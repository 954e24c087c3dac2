"""The wheel is the product: ``python -m build`` makes a wheel holding the ontology, the shipped graph,
the predictor artifacts and the built UI assets; installed (not editable, core only: no torch) into a
clean virtual environment it initializes a store and serves the API, SPARQL and the UI over real HTTP.

The wheel is built from a copy of the working tree (so the clone gets no build/ or egg-info litter);
installing resolves the core dependencies from the package index through pip's cache.
"""
from __future__ import annotations

import gzip
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import venv
import zipfile
from pathlib import Path

import httpx
import pyoxigraph as ox

REPO = Path(__file__).resolve().parent.parent
SKIP = shutil.ignore_patterns(".git", ".venv", "node_modules", "build", "dist", "*.egg-info", "__pycache__",
                              ".pytest_cache", "ui_artifacts", "tests", "benchmarks", "docs", "examples")
DLOM = "https://w3id.org/dlom/ontology#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


def shipped_models() -> int:
    """dlom:Model instances in the shipped graph files, read here from the files themselves."""
    models = set()
    for path in sorted((REPO / "kg" / "data").glob("*.nq.gz")):
        with gzip.open(path, "rb") as f:
            for q in ox.parse(f.read(), format=ox.RdfFormat.N_QUADS):
                if q.predicate.value == RDF_TYPE and q.object.value == DLOM + "Model":
                    models.add(q.subject.value)
    return len(models)


def build_wheel(tmp: Path) -> Path:
    vendor = REPO / "api" / "static" / "vendor"
    assert (vendor / "cytoscape.esm.min.mjs").is_file(), "the UI's vendor files are missing: run scripts/setup_ui.sh"
    src = tmp / "src"
    shutil.copytree(REPO, src, ignore=SKIP)
    shutil.copytree(vendor, src / "api" / "static" / "vendor", dirs_exist_ok=True)
    r = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp / "dist"), str(src)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    (wheel,) = (tmp / "dist").glob("dlom-*.whl")
    return wheel


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_wheel_installs_and_serves_without_the_repository(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in ("kg/ontology/dlom.ttl", "kg/data/dlom-kg.nq.gz", "kg/data/dlom-kg.json", "gnn/artifacts/predictor.onnx",
                     "gnn/artifacts/predictor.json", "api/static/index.html", "api/static/vendor/cytoscape.esm.min.mjs",
                     "api/static/vendor/graphiql/graphiql.min.js"):
        assert required in names, f"{required} is not in {wheel.name}"

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    bin_dir = env_dir / "bin"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DLOM_STORE", "VIRTUAL_ENV")}
    env.update(DLOM_HOME=str(tmp_path / "home"), PIP_DISABLE_PIP_VERSION_CHECK="1")
    r = subprocess.run([str(bin_dir / "pip"), "install", "-q", str(wheel)], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]

    probe = subprocess.run([str(bin_dir / "python"), "-c", "import importlib.util as u, dlom, json; "
                            "print(json.dumps([dlom.__file__, bool(u.find_spec('torch'))]))"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    location, has_torch = json.loads(probe.stdout)
    assert Path(location).is_relative_to(env_dir), f"dlom imported from {location}, not from the installed wheel"
    assert has_torch is False, "the core install must not pull in torch"

    init = subprocess.run([str(bin_dir / "dlom"), "init"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert init.returncode == 0, init.stdout + init.stderr
    assert "Traceback" not in init.stdout + init.stderr

    train = subprocess.run([str(bin_dir / "dlom"), "gnn", "train"], cwd=tmp_path, env=env, capture_output=True, text=True,
                           timeout=120)
    assert train.returncode == 1 and "pip install 'dlom[gnn]'" in train.stderr and "Traceback" not in train.stderr

    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen([str(bin_dir / "dlom"), "serve", "--port", str(port)], cwd=tmp_path, env=env,
                                  stdout=out, stderr=subprocess.STDOUT, text=True)
    try:
        check_server(f"http://127.0.0.1:{port}", server)
    except AssertionError as e:
        raise AssertionError(f"{e}\n--- dlom serve output ---\n{log.read_text()[-4000:]}") from None
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def check_server(base: str, server: subprocess.Popen) -> None:
    """Health, one SPARQL query and the UI page (with a vendor asset) of a running ``dlom serve``."""
    deadline = time.monotonic() + 120
    while True:
        assert server.poll() is None, "dlom serve exited"
        try:
            health = httpx.get(f"{base}/api/health", timeout=5)
            break
        except httpx.TransportError:
            assert time.monotonic() < deadline, "dlom serve did not answer within 120 s"
            time.sleep(0.3)
    assert health.status_code == 200, health.text
    body = health.json()
    assert body["status"] == "ok" and body["quads"] > 0 and body["version"] == "0.1.0"
    assert body["predictor"]["version"] == json.loads((REPO / "gnn/artifacts/predictor.json").read_text())["predictor_version"]

    sparql = httpx.post(f"{base}/sparql", timeout=30, headers={"Accept": "application/sparql-results+json"},
                        data={"query": f"SELECT (COUNT(DISTINCT ?m) AS ?n) WHERE {{ ?m a <{DLOM}Model> }}"})
    assert sparql.status_code == 200, sparql.text
    assert int(sparql.json()["results"]["bindings"][0]["n"]["value"]) == shipped_models()

    page = httpx.get(f"{base}/", timeout=10)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html") and "<html" in page.text.lower()
    asset = httpx.get(f"{base}/ui/vendor/cytoscape.esm.min.mjs", timeout=10)
    assert asset.status_code == 200 and len(asset.content) > 100_000
