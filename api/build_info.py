"""What this DLOM is: the package version, the build of the shipped knowledge graph and the predictor.

One owner for the provenance that ``dlom --version``, ``GET /api/health`` and the SPARQL service
description report. Everything is read from files that ship with the package (no torch, no store):

* the package version from the installed distribution's metadata;
* the shipped graph's build from ``kg/data/dlom-kg.json`` (the manifest scripts/build_shipped_graph.py
  writes: ``{"description", "sources": {name: {"rounds", "counts", "skipped"}}, "quads"}``, read
  defensively — a field missing or of another shape is reported as unknown) and a sha256 of each
  shipped ``*.nq.gz``. The build is byte-reproducible (gzip without a timestamp), so it carries no
  build date: the checksum and the source rounds identify it, and ``built`` stays None (unknown);
* the predictor from the ONNX scorer's metadata (``predictor.json``) beside the checkpoint the
  server would use (the user's under DLOM_HOME, else the shipped one).
"""
from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from kg.bootstrap import SHIPPED_DIR, shipped_files

MANIFEST = SHIPPED_DIR / "dlom-kg.json"


def package_version() -> str:
    """The installed ``dlom`` distribution's version ("unknown" when run from a tree that is not installed)."""
    try:
        return metadata.version("dlom")
    except metadata.PackageNotFoundError:
        return "unknown"


@lru_cache(maxsize=16)
def _sha256(path: Path, size: int, mtime_ns: int) -> str:  # size/mtime key the cache to the file's state
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def file_sha256(path: Path) -> str:
    st = path.stat()
    return _sha256(path, st.st_size, st.st_mtime_ns)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def graph_build() -> dict[str, Any]:
    """The shipped knowledge graph's build: sources with their rounds, quads, files with sha256."""
    manifest = _read_json(MANIFEST) or {}
    sources: dict[str, Any] = {}
    raw_sources = manifest.get("sources")
    if isinstance(raw_sources, dict):
        for name, entry in sorted(raw_sources.items()):
            rounds = entry.get("rounds") if isinstance(entry, dict) else None
            sources[str(name)] = {"rounds": [str(r) for r in rounds] if isinstance(rounds, list) else None}
    quads = manifest.get("quads")
    return {
        "description": manifest.get("description") if isinstance(manifest.get("description"), str) else None,
        "sources": sources,
        "quads": quads if isinstance(quads, int) and not isinstance(quads, bool) else None,
        "built": None,  # byte-reproducible build: no date recorded; the sha256 identifies it
        "files": [{"file": p.name, "bytes": p.stat().st_size, "sha256": file_sha256(p)} for p in shipped_files()],
    }


def predictor_build() -> dict[str, Any] | None:
    """The predictor the server would use: version and what it was trained on (None when there is none)."""
    from gnn.errors import NoTrainedModelError
    from gnn.paths import resolve_checkpoint

    try:
        checkpoint = resolve_checkpoint()
    except NoTrainedModelError:
        return None
    meta = _read_json(checkpoint.with_suffix(".json"))
    if meta is None:
        return {"version": None, "checkpoint": checkpoint.name, "onnx": False}
    trained_on = meta.get("trained_on") if isinstance(meta.get("trained_on"), dict) else {}
    return {"version": meta.get("predictor_version"), "format": meta.get("format"),
            "trained_on_models": trained_on.get("models"), "trained_on_nodes": trained_on.get("nodes"),
            "onnx": checkpoint.with_suffix(".onnx").is_file()}


def build_info() -> dict[str, Any]:
    """Package version, shipped-graph build and predictor, as JSON-ready data."""
    return {"version": package_version(), "graph": graph_build(), "predictor": predictor_build()}


def version_text() -> str:
    """The lines ``dlom --version`` prints."""
    info = build_info()
    g, p = info["graph"], info["predictor"]
    rounds = "; ".join(f"{name} {', '.join(s['rounds'] or ['?'])}" for name, s in g["sources"].items()) or "unknown sources"
    files = ", ".join(f"{f['file']} sha256:{f['sha256']}" for f in g["files"]) or "no shipped graph files"
    lines = [f"dlom {info['version']}",
             f"knowledge graph: {g['quads'] if g['quads'] is not None else '?'} quads from {rounds} ({files})",
             f"predictor: {p['version'] if p else 'none'}"]
    return "\n".join(lines)


SCHEMA = "https://schema.org/"
DCTERMS = "http://purl.org/dc/terms/"


def provenance_triples(service: Any, dataset: Any) -> list[Any]:
    """:func:`build_info` as triples of a SPARQL service description: the service's
    ``schema:softwareVersion``; the dataset's ``dcterms:source`` (each source with its rounds) and one
    ``dcterms:hasPart`` per shipped file (name, ``schema:sha256``); the predictor as a
    ``schema:hasPart`` of the service with its ``schema:softwareVersion``."""
    from pyoxigraph import BlankNode, Literal, NamedNode, Triple

    from kg.namespaces import RDFS

    info = build_info()
    schema = lambda name: NamedNode(SCHEMA + name)  # noqa: E731 - vocabulary shorthands
    dc = lambda name: NamedNode(DCTERMS + name)  # noqa: E731
    out = [Triple(service, schema("softwareVersion"), Literal(f"dlom {info['version']}"))]
    for name, source in info["graph"]["sources"].items():
        rounds = ", ".join(source["rounds"] or []) or "rounds unknown"
        out.append(Triple(dataset, dc("source"), Literal(f"{name} ({rounds})")))
    for i, f in enumerate(info["graph"]["files"]):
        part = BlankNode(f"shippedFile{i}")
        out += [Triple(dataset, dc("hasPart"), part), Triple(part, dc("identifier"), Literal(f["file"])),
                Triple(part, schema("sha256"), Literal(f["sha256"]))]
    predictor = info["predictor"]
    if predictor and predictor.get("version"):
        node = BlankNode("predictor")
        out += [Triple(service, schema("hasPart"), node), Triple(node, RDFS.label, Literal("DLOM GNN predictor")),
                Triple(node, schema("softwareVersion"), Literal(str(predictor["version"])))]
    return out
