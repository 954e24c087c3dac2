"""A sweep writes each result as it completes and resumes after being killed, without redoing items."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from bench.graph import model_iri, model_recorded
from bench.sweep import load_grid, run_sweep
from kg.binding import bind
from kg.namespaces import SPARQL_PREFIXES
from kg.store import open_store
from recording_progress import RecordingProgress

REPO = Path(__file__).resolve().parent.parent

GRID = """
name: resume-test
networks: [mlp]
combinations:
  baseline: []
  pruned: [{name: prune-unstructured, sparsity: 0.5}]
  int8: [{name: quantize-dynamic}]
runtimes: [{name: onnxruntime, threads: 1}]
training: {epochs: 1}
seeds: [0]
measure: {warmup: 3, repetitions: 20, min_time_s: 1.5, batch_sizes: [1]}
"""


def _done_lines(journal: Path) -> list[dict]:
    if not journal.exists():
        return []
    return [json.loads(line) for line in journal.read_text().splitlines() if line.strip()]


def test_sweep_resumes_after_a_kill_without_redoing_finished_items(tmp_path):
    grid_file = tmp_path / "grid.yaml"
    grid_file.write_text(GRID)
    journal = tmp_path / "journal.jsonl"
    store_url = f"oxigraph://{tmp_path / 'store'}"
    env = {**os.environ, "PYTHONPATH": str(REPO), "DLOM_HOME": str(tmp_path / "home")}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from dlom.bench_command import bench_app; bench_app()", "sweep", str(grid_file),
         "--store", store_url, "--journal", str(journal), "--cache-dir", str(tmp_path / "cache")],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 150
        while not _done_lines(journal) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _done_lines(journal), f"no item finished: {proc.stderr.read().decode()[-2000:] if proc.poll() is not None else 'timeout'}"
        proc.send_signal(signal.SIGKILL)  # mid-way through the next item (each takes > 1.5 s to measure)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    finished = {e["key"] for e in _done_lines(journal)}
    assert 1 <= len(finished) < 3

    grid = load_grid(grid_file)
    store = open_store(store_url)
    try:
        for item in grid.items:  # what the killed run wrote is exactly what it journaled
            assert model_recorded(store, model_iri("mlp", item.key)) == (item.key in finished)
        report = run_sweep(grid, store, journal)
        assert len(report.skipped) == len(finished) and len(report.done) == 3 - len(finished) and not report.failed
        entries = _done_lines(journal)
        assert sorted(e["key"] for e in entries) == sorted(i.key for i in grid.items)  # each item once
        for item in grid.items:  # every model measured by exactly one run
            rows = list(store.query(bind(SPARQL_PREFIXES + "SELECT (COUNT(DISTINCT ?r) AS ?n) WHERE { ?m dlom:hasPerformance ?p . "
                                         "?p prov:wasGeneratedBy ?r }", {"m": model_iri("mlp", item.key)})).rows)
            assert int(rows[0][0].value) == 1
        # A third run has nothing left to do.
        again = run_sweep(grid, store, journal)
        assert not again.done and len(again.skipped) == 3
    finally:
        store.close()


def test_items_already_in_the_graph_are_skipped_even_without_a_journal(tmp_path, store):
    grid_file = tmp_path / "grid.yaml"
    grid_file.write_text(GRID.replace("min_time_s: 1.5", "min_time_s: 0.05").replace(
        "  pruned: [{name: prune-unstructured, sparsity: 0.5}]\n  int8: [{name: quantize-dynamic}]\n", ""))
    grid = load_grid(grid_file)
    heard = RecordingProgress()
    first = run_sweep(grid, store, tmp_path / "a.jsonl", heard)
    assert len(first.done) == 1
    assert (heard.total, heard.advanced, heard.descriptions) == (1, 1, [grid.items[0].name])
    heard = RecordingProgress()
    second = run_sweep(grid, store, tmp_path / "b.jsonl", heard)  # a fresh journal: the graph alone says it is done
    assert second.skipped == [grid.items[0].name] and not second.done
    assert (heard.total, heard.advanced, heard.descriptions) == (1, 1, [])  # a skipped item counts, unnamed

    # The shipped form of sweep results: sorted N-Quads without the ontology, byte-reproducible.
    from kg.dump import export_nquads, read_nquads
    from kg.repositories import Repository
    from kg.validation import validate

    a, b = tmp_path / "a.nq.gz", tmp_path / "b.nq.gz"
    n = export_nquads(store, a, without_ontology=True)
    export_nquads(store, b, without_ontology=True)
    assert a.read_bytes() == b.read_bytes() and a.read_bytes()[4:8] == b"\0\0\0\0"  # gzip mtime 0
    quads = read_nquads(a)
    assert len(quads) == n and all(q.graph_name != Repository.ONTOLOGY.graph for q in quads)
    assert not validate([q.triple for q in quads])  # the results validate on their own
