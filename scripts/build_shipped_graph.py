"""Build the knowledge graph DLOM ships: every shared data set imported, written as sorted N-Quads.

Usage (from the repository root)::

    .venv/bin/python scripts/build_shipped_graph.py [--SOURCE PATH ...]

Each entry of :data:`SOURCES` is one data set under ``../shared/data`` and the importer that reads it;
``--mlperf-tiny PATH`` (and so on for each source) reads that source from another place. All sources
are imported into one store, in the table's order, so entities two sources share (a network, a board)
are one node. Writes ``kg/data/dlom-kg.nq.gz`` (the quads outside the ontology graph, one per line,
sorted, gzip with mtime 0 and no file name, so the same input always gives the same bytes) and
``kg/data/dlom-kg.json`` (what it holds: per source the counts, rounds and skipped files).
:mod:`kg.bootstrap` loads the N-Quads into a new store on first run.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a script: make the repository's packages importable
    sys.path.insert(0, str(REPO))

from kg.dump import canonical_gzip  # noqa: E402
from kg.importers import ImportReport  # noqa: E402
from kg.importers.mlperf_inference import import_mlperf_inference  # noqa: E402
from kg.importers.mlperf_inference import round_names as inference_rounds  # noqa: E402
from kg.importers.mlperf_tiny import ROUND_NAME, import_mlperf_tiny  # noqa: E402
from kg.importers.qai_hub_models import import_qai_hub_models  # noqa: E402
from kg.importers.qai_hub_models import release_versions as qai_release_versions  # noqa: E402
from kg.ontology import ontology_quads  # noqa: E402
from kg.repositories import Repository  # noqa: E402
from kg.store import Store, open_store  # noqa: E402

SHARED_DATA = REPO.parent / "shared" / "data"
GRAPH_FILE = REPO / "kg" / "data" / "dlom-kg.nq.gz"
MANIFEST_FILE = REPO / "kg" / "data" / "dlom-kg.json"


class ShippedSource(NamedTuple):
    """One data set of the shipped graph: its name (the ``--NAME`` option and the manifest key), where it
    lies under ``../shared/data``, how to import it and which rounds (or releases) a folder of it holds."""

    name: str
    folder: str
    load: Callable[[Store, Path], ImportReport]
    rounds: Callable[[Path], list[str]]


def _tiny_rounds(path: Path) -> list[str]:
    return sorted(p.name for p in path.iterdir() if p.is_dir() and ROUND_NAME.match(p.name))


SOURCES: tuple[ShippedSource, ...] = (
    ShippedSource("mlperf-tiny", "mlperf-tiny", lambda store, path: import_mlperf_tiny(store, path), _tiny_rounds),
    # a folder of wheels: every release, in version order (rounds = the release versions)
    ShippedSource("qai-hub-models", "qai-hub-models", lambda store, path: import_qai_hub_models(store, path),
                  qai_release_versions),
    # a folder of .tar.gz archives, one per round (v0.5 ... v3.0)
    ShippedSource("mlperf-inference", "mlperf-inference", lambda store, path: import_mlperf_inference(store, path),
                  inference_rounds),
)


def build_lines(paths: dict[str, Path] | None = None) -> tuple[list[str], dict[str, Any]]:
    """The sorted N-Quads lines of the graph imported from every source (``paths`` overrides where a
    source lies) and its manifest."""
    chosen = {src.name: (paths or {}).get(src.name, SHARED_DATA / src.folder) for src in SOURCES}
    store = open_store("oxigraph://")
    reports: dict[str, dict[str, Any]] = {}
    try:
        store.add(ontology_quads())
        for src in SOURCES:
            report = src.load(store, chosen[src.name])
            reports[src.name] = {
                "rounds": src.rounds(chosen[src.name]),
                "counts": dict(sorted(report.counts.items())),
                "skipped": [{"file": f, "reason": r} for f, r in report.skipped],
            }
        ontology = Repository.ONTOLOGY.graph
        lines = sorted(f"{q} .\n" for q in store.quads() if q.graph_name != ontology)
    finally:
        store.close()
    manifest = {
        "description": "DLOM knowledge graph built from the shared data sets by scripts/build_shipped_graph.py",
        "sources": reports,
        "quads": len(lines),
    }
    return lines, manifest


def gzip_bytes(lines: list[str]) -> bytes:
    """Deterministic gzip of the lines (:func:`kg.dump.canonical_gzip`)."""
    return canonical_gzip(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="Build kg/data/dlom-kg.nq.gz from the shared data sets.")
    for src in SOURCES:
        parser.add_argument(f"--{src.name}", type=Path, metavar="PATH",
                            help=f"where {src.name} lies (default ../shared/data/{src.folder})")
    args = parser.parse_args(argv[1:])
    paths = {src.name: getattr(args, src.name.replace("-", "_")) for src in SOURCES}
    lines, manifest = build_lines({k: v for k, v in paths.items() if v is not None})
    GRAPH_FILE.parent.mkdir(parents=True, exist_ok=True)
    GRAPH_FILE.write_bytes(gzip_bytes(lines))
    MANIFEST_FILE.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    counts = {name: r["counts"] for name, r in manifest["sources"].items()}
    print(f"wrote {len(lines)} quads to {GRAPH_FILE.relative_to(REPO)}; counts: {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
