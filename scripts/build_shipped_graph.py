"""Build the knowledge graph DLOM ships: every MLPerf Tiny round imported, written as sorted N-Quads.

Usage (from the repository root)::

    .venv/bin/python scripts/build_shipped_graph.py [MLPERF_TINY_TREE]

The tree defaults to ``../shared/data/mlperf-tiny``. Writes ``kg/data/dlom-kg.nq.gz`` (the quads outside
the ontology graph, one per line, sorted, gzip with mtime 0 and no file name, so the same input always
gives the same bytes) and ``kg/data/dlom-kg.json`` (what it holds: counts, rounds, skipped files).
:mod:`kg.bootstrap` loads the N-Quads into a new store on first run.
"""
from __future__ import annotations

import gzip
import io
import json
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a script: make the repository's packages importable
    sys.path.insert(0, str(REPO))

from kg.importers.mlperf_tiny import ROUND_NAME, import_mlperf_tiny  # noqa: E402
from kg.ontology import ontology_quads  # noqa: E402
from kg.repositories import Repository  # noqa: E402
from kg.store import open_store  # noqa: E402

DEFAULT_SOURCE = REPO.parent / "shared" / "data" / "mlperf-tiny"
GRAPH_FILE = REPO / "kg" / "data" / "dlom-kg.nq.gz"
MANIFEST_FILE = REPO / "kg" / "data" / "dlom-kg.json"


def build_lines(source: Path) -> tuple[list[str], dict[str, Any]]:
    """The sorted N-Quads lines of the graph imported from ``source`` and its manifest."""
    store = open_store("oxigraph://")
    try:
        store.add(ontology_quads())
        report = import_mlperf_tiny(store, source)
        ontology = Repository.ONTOLOGY.graph
        lines = sorted(f"{q} .\n" for q in store.quads() if q.graph_name != ontology)
    finally:
        store.close()
    manifest = {
        "description": "DLOM knowledge graph built from the MLPerf Tiny results (MLCommons) by "
                       "scripts/build_shipped_graph.py",
        "source": "mlperf-tiny",
        "rounds": sorted(p.name for p in source.iterdir() if p.is_dir() and ROUND_NAME.match(p.name)),
        "quads": len(lines),
        "counts": dict(sorted(report.counts.items())),
        "skipped": [{"file": f, "reason": r} for f, r in report.skipped],
    }
    return lines, manifest


def gzip_bytes(lines: list[str]) -> bytes:
    """Deterministic gzip of the lines: no timestamp, no embedded file name."""
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as f:
        f.write("".join(lines).encode("utf-8"))
    return buffer.getvalue()


def main(argv: list[str]) -> int:
    source = Path(argv[1]) if len(argv) > 1 else DEFAULT_SOURCE
    lines, manifest = build_lines(source)
    GRAPH_FILE.parent.mkdir(parents=True, exist_ok=True)
    GRAPH_FILE.write_bytes(gzip_bytes(lines))
    MANIFEST_FILE.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {len(lines)} quads to {GRAPH_FILE.relative_to(REPO)}; counts: {manifest['counts']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
