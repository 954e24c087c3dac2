"""The ``dlom`` CLI end to end, as a user runs it: subprocesses with DLOM_HOME in a temporary directory."""
from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pyoxigraph import Literal

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
COUNT_MODELS = "SELECT (COUNT(DISTINCT ?m) AS ?n) WHERE { ?m a dlom:Model }"


def dlom(home: Path, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, DLOM_HOME=str(home), COLUMNS="200")
    env.pop("DLOM_STORE", None)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    r = subprocess.run([sys.executable, "-m", "dlom.cli", *args], cwd=REPO, env=env, capture_output=True,
                       text=True, timeout=300)
    assert "Traceback" not in r.stdout + r.stderr, r.stdout + r.stderr
    if ok:
        assert r.returncode == 0, f"dlom {' '.join(args)} failed:\n{r.stdout}\n{r.stderr}"
    return r


def total_quads(home: Path) -> int:
    out = dlom(home, "query", "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }", "--format", "json").stdout
    return int(json.loads(out)[0]["n"])


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DLOM_HOME initialized and loaded with every example through the CLI."""
    h = tmp_path_factory.mktemp("dlom-home")
    dlom(h, "init")
    for fmt, name in (("rdf", "configuration.ttl"), ("tags", "device.tags.xml"), ("records", "records.csv"),
                      ("records", "records.json")):
        r = dlom(h, "import", fmt, str(EXAMPLES / name))
        assert "imported" in r.stdout and "triples" in r.stdout
    return h


def test_init_is_idempotent(home: Path) -> None:
    before = total_quads(home)
    r = dlom(home, "init")
    assert "quads" in r.stdout
    assert total_quads(home) == before


def test_query_formats(home: Path) -> None:
    # The examples' models (one per importer), not all 42k: ordering 42k labels costs Oxigraph seconds per call.
    examples = ("ResNet-50 int8 on Raspberry pi 3", "VWW MobileNetV1 0.25x int8 on Nano 33", "MobileNetV2 int8 on Pi 4",
                "DS-CNN int8 on Nucleo-L4R5ZI")
    q = ("SELECT ?label WHERE { ?m a dlom:Model ; rdfs:label ?label FILTER(?label IN ("
         + ", ".join(str(Literal(label)) for label in examples) + ")) } ORDER BY ?label")
    rows = json.loads(dlom(home, "query", q, "--format", "json").stdout)
    labels = [r["label"] for r in rows]
    assert "ResNet-50 int8 on Raspberry pi 3" in labels  # tags
    assert "VWW MobileNetV1 0.25x int8 on Nano 33" in labels  # rdf
    assert "MobileNetV2 int8 on Pi 4" in labels and "DS-CNN int8 on Nucleo-L4R5ZI" in labels  # records
    assert labels == sorted(labels)
    table = list(csv.reader(io.StringIO(dlom(home, "query", q, "--format", "csv").stdout)))
    assert table[0] == ["label"] and [r[0] for r in table[1:]] == labels
    text = dlom(home, "query", q, "--format", "table").stdout
    assert f"{len(labels)} row(s)" in text and "DS-CNN int8 on Nucleo-L4R5ZI" in text
    assert dlom(home, "query", "ASK WHERE { ?m a dlom:Model }", "--format", "json").stdout.strip() == "true"


def test_query_syntax_error_is_a_clear_message(home: Path) -> None:
    r = dlom(home, "query", "SELECT WHERE {", ok=False)
    assert r.returncode == 1 and "error:" in r.stderr and "syntax" in r.stderr.lower()


def test_stats(home: Path) -> None:
    out = dlom(home, "stats").stdout
    assert "total:" in out and "quads" in out


def test_bad_import_exits_1_with_file_and_line_and_changes_nothing(home: Path, tmp_path: Path) -> None:
    before = total_quads(home)
    bad = tmp_path / "bad.csv"
    bad.write_text("model,dln,device,accuracy,submitter,date\nm,N,D,0.5,L,2026-01-01\nm2,N,D,1.7,L,2026-01-01\n")
    r = dlom(home, "import", "records", str(bad), ok=False)
    message = " ".join(r.stderr.split())
    assert r.returncode == 1 and f"{bad}:3 [accuracy]: 1.7 is not in [0, 1]" in message
    r = dlom(home, "import", "tags", str(tmp_path / "missing.xml"), ok=False)
    assert r.returncode == 1 and "file not found" in r.stderr
    r = dlom(home, "import", "nonsense", str(bad), ok=False)
    assert r.returncode == 2 and "unknown format" in r.stderr
    assert total_quads(home) == before


@pytest.fixture(scope="module")
def small_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DLOM_HOME with the ontology only (``init --without-shipped-graph``), then one real MLPerf Tiny
    round and the examples imported: what export and restore must carry, at a size that runs quickly."""
    h = tmp_path_factory.mktemp("dlom-small-home")
    r = dlom(h, "init", "--without-shipped-graph")
    assert "ontology" in r.stderr and "shipped" not in r.stderr
    dlom(h, "import", "mlperf-tiny", str(REPO.parent / "shared" / "data" / "mlperf-tiny" / "v1.0"))
    for fmt, name in (("rdf", "configuration.ttl"), ("records", "records.csv")):
        dlom(h, "import", fmt, str(EXAMPLES / name))
    return h


def test_init_without_the_shipped_graph_loads_only_the_ontology(small_home: Path) -> None:
    assert int(json.loads(dlom(small_home, "query", "SELECT (COUNT(*) AS ?n) WHERE { GRAPH <https://w3id.org/dlom/graph/ontology> "
                               "{ ?s ?p ?o } }", "--format", "json").stdout)[0]["n"]) > 0
    rounds = json.loads(dlom(small_home, "query", "SELECT DISTINCT ?r WHERE { ?x dlom:benchmarkRound ?r }",
                             "--format", "json").stdout)
    assert [r["r"] for r in rounds] == ["v1.0"]


def test_export_restore_round_trip_and_corrupt_restore(small_home: Path, tmp_path: Path) -> None:
    home = small_home
    first = tmp_path / "first.nq"
    dlom(home, "export", str(first))
    fresh = tmp_path / "fresh-home"
    r = dlom(fresh, "restore", str(first))
    assert "restored" in r.stdout
    second = tmp_path / "second.nq"
    dlom(fresh, "export", str(second))
    assert first.read_bytes() == second.read_bytes()
    gz = tmp_path / "first.nq.gz"
    dlom(home, "export", str(gz))
    fresh_gz = tmp_path / "fresh-gz"
    dlom(fresh_gz, "restore", str(gz))
    third = tmp_path / "third.nq"
    dlom(fresh_gz, "export", str(third))
    assert third.read_bytes() == first.read_bytes()

    lines = first.read_text().splitlines(keepends=True)
    corrupt = tmp_path / "corrupt.nq"
    corrupt.write_text("".join(lines[:10]) + lines[10][: len(lines[10]) // 2] + "\n" + "".join(lines[11:]))
    r = dlom(fresh, "restore", "--replace", str(corrupt), ok=False)
    message = " ".join(r.stderr.split())
    assert r.returncode == 1 and f"{corrupt}:11: malformed N-Quads" in message
    invalid = tmp_path / "invalid.nq"
    accuracy = next(line for line in lines if "#accuracy> \"0." in line)  # an accuracy in [0, 1] ...
    invalid.write_text(first.read_text().replace(accuracy, accuracy.replace('> "0.', '> "1.', 1)))  # ... now above 1
    assert invalid.read_text() != first.read_text()
    r = dlom(fresh, "restore", "--replace", str(invalid), ok=False)
    assert r.returncode == 1 and "SHACL violation" in r.stderr and "nothing was written" in r.stderr
    r = dlom(fresh, "restore", str(first), ok=False)  # not empty and no --replace
    assert r.returncode == 1 and "already holds" in r.stderr
    # The failed restores left the store as it was, byte for byte.
    dlom(fresh, "export", str(second))
    assert first.read_bytes() == second.read_bytes()
