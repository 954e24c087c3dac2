"""A write lands whole or not at all, even when the writing process is killed; one process per store.

A writer subprocess appends batches of N triples to an on-disk store, one ``write_triples`` call per
batch, and prints ``ack <i>`` after each call returns — through the ordinary transaction and through the
bulk path (a staged copy swapped in by renames). The test SIGKILLs it at random moments, several
rounds in a row, then reopens the store: every acknowledged batch must be there in full, and no batch
may be there in part.
"""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from pyoxigraph import Literal, NamedNode, Quad

from kg.errors import StoreLockedError
from kg.store import open_store

REPO = Path(__file__).resolve().parent.parent
BATCH = 400
ROUNDS = 5

WRITER = """
import sys
from pyoxigraph import Literal, NamedNode, Triple
from kg.namespaces import XSD
from kg.store import open_store
from kg.writes import write_triples

url, start, n, bulk = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "bulk"
store = open_store(url)
print("ready", flush=True)
i = start
while True:
    batch = [Triple(NamedNode(f"urn:dlom-test:b{i}-{j}"), NamedNode("urn:dlom-test:inBatch"),
                    Literal(str(i), datatype=XSD.integer)) for j in range(n)]
    write_triples(store, batch, "atomicity test", bulk=bulk)
    print(f"ack {i}", flush=True)
    i += 1
"""

OPENER = """
import sys
from kg.errors import StoreLockedError
from kg.store import open_store
try:
    open_store(sys.argv[1])
except StoreLockedError as e:
    print("StoreLockedError:", e)
    sys.exit(3)
print("opened")
"""


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


def _run_and_kill(url: str, start: int, delay_s: float, path: str) -> list[int]:
    """Start a writer, SIGKILL it ``delay_s`` after it is ready; the batch numbers it acknowledged."""
    proc = subprocess.Popen([sys.executable, "-c", WRITER, url, str(start), str(BATCH), path], cwd=REPO, env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.strip())
            if line.strip() == "ready":
                ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    if not ready.wait(60):
        proc.kill()
        pytest.fail(f"writer did not start: {proc.stderr.read() if proc.stderr else ''}")
    time.sleep(delay_s)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)
    reader.join(10)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read() if proc.stderr else ""
    return [int(line.split()[1]) for line in lines if line.startswith("ack ")]


@pytest.mark.parametrize("path", ["transaction", "bulk"])
def test_killed_writers_leave_only_whole_batches(tmp_path: Path, path: str) -> None:
    url = f"oxigraph://{tmp_path / 'store'}"
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    acknowledged: list[int] = []
    for round_ in range(ROUNDS):
        # Each round numbers its batches apart, so a batch killed before its ack is never retried.
        acknowledged += _run_and_kill(url, round_ * 100_000, rng.uniform(0.2, 1.5), path)
    assert acknowledged, "no batch was acknowledged; the kill came too early to test anything"

    store = open_store(url)
    try:
        result = store.select("SELECT ?b (COUNT(?s) AS ?n) WHERE { ?s <urn:dlom-test:inBatch> ?b } GROUP BY ?b")
        sizes = {int(b.value): int(n.value) for b, n in result.rows}
    finally:
        store.close()
    partial = {b: n for b, n in sizes.items() if n != BATCH}
    assert not partial, f"partial batches {partial} (seed {seed})"
    missing = sorted(set(acknowledged) - sizes.keys())
    assert not missing, f"acknowledged batches missing after kill: {missing} (seed {seed})"
    print(f"seed {seed}: {len(acknowledged)} acknowledged batches, {len(sizes)} whole batches in the store")
    leftovers = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("store.") and p.name != "store.lock")
    assert not leftovers, f"staging copies left behind after reopening: {leftovers}"
    # At most one unacknowledged batch per round may have landed (killed between write and ack).
    assert len(sizes.keys() - set(acknowledged)) <= ROUNDS


def test_second_process_gets_store_locked_error(tmp_path: Path) -> None:
    url = f"oxigraph://{tmp_path / 'store'}"
    holder = open_store(url)
    try:
        r = subprocess.run([sys.executable, "-c", OPENER, url], cwd=REPO, env=_env(), capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 3, r.stdout + r.stderr
        assert "StoreLockedError:" in r.stdout and "open in another process" in r.stdout
        assert str(tmp_path / "store") in r.stdout
    finally:
        holder.close()
    # Once released, the store opens again.
    r = subprocess.run([sys.executable, "-c", OPENER, url], cwd=REPO, env=_env(), capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "opened" in r.stdout


def test_cli_reports_a_locked_store_without_a_traceback(tmp_path: Path) -> None:
    home = tmp_path / "home"
    holder = open_store(f"oxigraph://{(home / 'store').resolve()}")
    try:
        env = _env(DLOM_HOME=str(home))
        env.pop("DLOM_STORE", None)
        r = subprocess.run([sys.executable, "-m", "dlom.cli", "stats"], cwd=REPO, env=env, capture_output=True,
                           text=True, timeout=120)
    finally:
        holder.close()
    assert r.returncode == 1
    message = " ".join(r.stderr.split())  # rich wraps long lines
    assert message.startswith("error: the store at") and "open in another process" in message
    assert "Traceback" not in r.stderr + r.stdout


def test_store_locked_error_is_a_dlom_error() -> None:
    from kg.errors import DlomError

    assert issubclass(StoreLockedError, DlomError)


def _quad(i: int) -> Quad:
    return Quad(NamedNode(f"urn:dlom-test:s{i}"), NamedNode("urn:dlom-test:p"), Literal(str(i)),
                NamedNode("urn:dlom-test:g"))


@pytest.mark.parametrize("crash_point", ["staged-not-marked", "marked-not-moved", "moved-aside", "swapped"])
def test_a_bulk_write_killed_at_each_step_reopens_to_one_whole_copy(tmp_path: Path, crash_point: str) -> None:
    """Rebuild on disk the state each step of ``bulk_add`` leaves behind, then reopen: the store holds
    the old contents or the whole new write — exactly the new write once the staging copy is marked
    complete and the old copy moved aside — and no staging or old copy survives."""
    import shutil

    import pyoxigraph as ox

    from kg.stores.oxigraph import _STAGED_MARK

    path = tmp_path / "store"
    store = open_store(f"oxigraph://{path}")
    store.add([_quad(0)])
    store.close()
    staging, old = tmp_path / "store.staging", tmp_path / "store.old"
    original = ox.Store(str(path))
    original.backup(str(staging))
    del original
    copy = ox.Store(str(staging))
    copy.bulk_extend([_quad(1), _quad(2)])
    copy.flush()
    del copy
    if crash_point != "staged-not-marked":
        (staging / _STAGED_MARK).touch()
    if crash_point in ("moved-aside", "swapped"):
        path.rename(old)
    if crash_point == "swapped":
        staging.rename(path)
    store = open_store(f"oxigraph://{path}")
    try:
        found = sorted(q.subject.value for q in store.quads())
    finally:
        store.close()
    expected_new = crash_point in ("moved-aside", "swapped")
    assert found == ([f"urn:dlom-test:s{i}" for i in (0, 1, 2)] if expected_new else ["urn:dlom-test:s0"])
    assert not staging.exists() and not old.exists()
    assert not (path / _STAGED_MARK).exists()
    shutil.rmtree(path)


@pytest.mark.parametrize("cores", [2, 1], ids=["check-while-loading", "check-first"])
def test_a_bulk_write_its_check_refuses_leaves_the_store_as_it_was(tmp_path: Path, cores: int,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """``bulk_add``'s check (validation) runs while the staging copy loads where the host has a second
    core, first on a one-core host (simulated): either way a refused write leaves the store as it was
    and no staging copy, and an accepted one lands whole."""
    from kg.stores import oxigraph

    monkeypatch.setattr(oxigraph.os, "cpu_count", lambda: cores)
    path = tmp_path / "store"
    store = open_store(f"oxigraph://{path}")
    try:
        store.add([_quad(0)])
        checked: list[int] = []

        def refuse() -> None:
            checked.append(1)
            raise ValueError("refused")

        with pytest.raises(ValueError, match="refused"):
            store.bulk_add([_quad(i) for i in range(1, 500)], check=refuse)
        assert checked == [1]
        assert [q.subject.value for q in store.quads()] == ["urn:dlom-test:s0"]
        assert not (tmp_path / "store.staging").exists()
        store.bulk_add([_quad(i) for i in range(1, 500)], check=lambda: checked.append(2))
        assert checked == [1, 2] and len(list(store.quads())) == 500
    finally:
        store.close()


def test_an_invalid_bulk_import_writes_nothing(tmp_path: Path) -> None:
    """A validated write large enough for the bulk path: one invalid record among thousands, and the
    on-disk store is as it was (the validation ran beside the load of the staging copy)."""
    from pyoxigraph import Triple

    from kg.errors import ValidationError
    from kg.namespaces import DLOM, RDF, RDFS
    from kg.ontology import ontology_quads
    from kg.writes import BULK_MIN_QUADS, write_triples

    store = open_store(f"oxigraph://{tmp_path / 'store'}")
    try:
        store.add(ontology_quads())
        before = len(list(store.quads()))
        triples = []
        for i in range(BULK_MIN_QUADS // 2 + 1):
            dln = NamedNode(f"https://w3id.org/dlom/id/dln/bulk-test/{i}")
            triples += [Triple(dln, RDF.type, DLOM.DLN), Triple(dln, RDFS.label, Literal(f"network {i}"))]
        triples.append(Triple(NamedNode("https://w3id.org/dlom/id/dln/bulk-test/0"), DLOM.numberOfLayers,
                              Literal("many")))  # not an integer
        with pytest.raises(ValidationError, match="numberOfLayers"):
            write_triples(store, triples, source="bulk test")
        assert len(list(store.quads())) == before
    finally:
        store.close()
