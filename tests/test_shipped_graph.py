"""The shipped knowledge graph (kg/data/dlom-kg.nq.gz) is exactly what importing ../shared gives."""
from __future__ import annotations

import gzip
import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from kg.bootstrap import ensure_initialized
from kg.ontology import ontology_quads
from kg.repositories import Repository
from kg.store import open_store

REPO = Path(__file__).resolve().parent.parent
MLPERF_TINY = REPO.parent / "shared" / "data" / "mlperf-tiny"  # as tests/conftest.py names it
SHIPPED_GRAPH = REPO / "kg" / "data" / "dlom-kg.nq.gz"
MANIFEST = REPO / "kg" / "data" / "dlom-kg.json"

pytestmark = pytest.mark.skipif(not MLPERF_TINY.is_dir(), reason="needs ../shared/data/mlperf-tiny")


def build_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_shipped_graph", REPO / "scripts" / "build_shipped_graph.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def rebuilt() -> tuple[ModuleType, list[str], dict[str, Any]]:
    """The graph re-imported from ../shared, once for the module."""
    script = build_script()
    lines, manifest = script.build_lines({"mlperf-tiny": MLPERF_TINY})
    return script, lines, manifest


def test_reimport_reproduces_the_shipped_graph_exactly(rebuilt: tuple[ModuleType, list[str], dict[str, Any]]) -> None:
    script, lines, _ = rebuilt
    assert SHIPPED_GRAPH.exists(), "run scripts/build_shipped_graph.py"
    shipped = gzip.decompress(SHIPPED_GRAPH.read_bytes()).decode("utf-8")
    assert shipped == "".join(lines)
    # deterministic bytes: no timestamp or file name in the gzip header (same zlib gives the same stream)
    assert SHIPPED_GRAPH.read_bytes()[4:8] == b"\x00\x00\x00\x00"
    assert script.gzip_bytes(lines) == script.gzip_bytes(lines)


def test_manifest_describes_the_shipped_graph(rebuilt: tuple[ModuleType, list[str], dict[str, Any]]) -> None:
    _, lines, manifest = rebuilt
    shipped = json.loads(MANIFEST.read_text(encoding="utf-8"))
    assert shipped == manifest
    assert shipped["quads"] == len(lines)
    tiny = shipped["sources"]["mlperf-tiny"]
    assert tiny["rounds"] == ["v0.5", "v0.7", "v1.0", "v1.1", "v1.2"]
    assert tiny["counts"]["models"] > 200 and tiny["counts"]["devices"] > 80
    qai = shipped["sources"]["qai-hub-models"]  # both shared releases, in version order
    assert qai["rounds"] == ["0.45.0", "0.55.0"]
    # 6,669 + 12,673 latency rows and 459 + 580 device accuracy values (../shared/README.md; recounted
    # from the raw YAML in tests/test_importer_qai_hub_models.py)
    assert qai["counts"]["latency_rows"] == 6669 + 12673 and qai["counts"]["accuracy_values"] == 459 + 580
    assert qai["skipped"] == []
    inference = shipped["sources"]["mlperf-inference"]  # the seven shared archives
    assert inference["rounds"] == ["v0.5", "v0.7", "v1.0", "v1.1", "v2.0", "v2.1", "v3.0"]
    # 22,168 summaries (../shared/README.md; recounted from the raw tar members in
    # tests/test_importer_mlperf_inference.py): at least 95 % are performance records, the rest skipped
    assert inference["counts"]["summaries"] == 22_168
    assert inference["counts"]["performances"] >= 0.95 * 22_168
    assert all(entry["reason"] for entry in inference["skipped"])


def test_shipped_graph_holds_no_ontology_and_is_sorted(rebuilt: tuple[ModuleType, list[str], dict[str, Any]]) -> None:
    _, lines, _ = rebuilt
    assert lines == sorted(lines) and len(set(lines)) == len(lines)
    in_ontology = f"<{Repository.ONTOLOGY.graph.value}> .\n"  # how an N-Quads line in that graph ends
    assert not any(line.endswith(in_ontology) for line in lines)


def test_first_run_loads_ontology_and_shipped_graph() -> None:
    """The first run leaves the store holding exactly the ontology and the shipped files' quads (compared as
    N-Quads lines, as scripts/build_shipped_graph.py writes them), the second changes nothing."""
    store = open_store("oxigraph://")
    try:
        assert ensure_initialized(store)
        shipped = {line for path in sorted(SHIPPED_GRAPH.parent.glob("*.nq.gz"))
                   for line in gzip.decompress(path.read_bytes()).decode("utf-8").splitlines(keepends=True)}
        assert SHIPPED_GRAPH.name in {p.name for p in SHIPPED_GRAPH.parent.glob("*.nq.gz")}
        expected = sorted(shipped | {f"{q} .\n" for q in ontology_quads()})
        assert sorted(f"{q} .\n" for q in store.quads()) == expected
        assert not ensure_initialized(store)  # second run: nothing to do
        assert store.count() == len(expected)
    finally:
        store.close()
