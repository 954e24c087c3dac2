"""``dlom import rdf``: RDF files in Turtle, N-Triples, N-Quads or JSON-LD (format by file extension).

Every triple is placed in a repository by :func:`kg.repositories.route` (by its subject's class) and
validated against the SHACL shapes, like every other write. Decisions (docs/record-format.md):

* Graph names in N-Quads (and JSON-LD named graphs) do not choose where data lands: routing by class
  is the one rule. A quad naming another graph is imported with its graph name ignored. A quad naming
  a DLOM repository graph must agree with where routing puts it (else the file mixes up repositories
  and is refused), so a ``dlom export`` dump can be re-imported.
* The DLOM ontology is read-only: new statements about ``dlom:`` terms, or in the ontology graph, are
  refused (statements the store already holds, such as those of a dump, are skipped).
* Statements the store already holds are skipped, so importing the same file twice writes nothing.
"""
from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox
from pyoxigraph import DefaultGraph, NamedNode, Quad, Triple

from kg.errors import InputError
from kg.importers import ImportReport, register_importer
from kg.importers.records import decode_utf8, new_triples, read_bytes, write_checked
from kg.namespaces import DLOM, PREFIXES
from kg.progress import NoProgress, Progress
from kg.repositories import Repository, route
from kg.store import Store
from kg.writes import TripleBuilder, existing_types

FORMATS: dict[str, ox.RdfFormat] = {
    ".ttl": ox.RdfFormat.TURTLE,
    ".turtle": ox.RdfFormat.TURTLE,
    ".nt": ox.RdfFormat.N_TRIPLES,
    ".nq": ox.RdfFormat.N_QUADS,
    ".jsonld": ox.RdfFormat.JSON_LD,
    ".json-ld": ox.RdfFormat.JSON_LD,
}
_REPOSITORY_GRAPHS = {r.value: r for r in Repository}


def rdf_format(path: Path) -> ox.RdfFormat:
    """The RDF syntax of a file, by its extension."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(str(path), f"unknown RDF file extension {path.suffix!r} (known: {', '.join(FORMATS)})")
    return fmt


def parse_rdf_file(path: Path) -> list[Quad]:
    """All distinct quads of one file (canonical literals); a syntax error raises :class:`InputError`
    with its line."""
    file = str(path)
    data = read_bytes(path)
    fmt = rdf_format(path)
    if fmt == ox.RdfFormat.JSON_LD:
        # JSON syntax first: pyoxigraph's JSON-LD errors carry no position, Python's JSON errors do.
        try:
            json.loads(decode_utf8(data, file))
        except json.JSONDecodeError as e:
            raise InputError(file, f"malformed JSON: {e.msg}", line=e.lineno) from None
    try:
        parsed = list(ox.parse(data, format=fmt))
    except SyntaxError as e:
        line = e.lineno if isinstance(e.lineno, int) else None
        raise InputError(file, f"malformed {fmt.name}: {e.msg}", line=line) from None
    # Literals in the store's canonical form ("36.50"^^xsd:decimal is stored as "36.5"), so they
    # compare equal to what the store holds and gives back.
    scratch = ox.Store()
    scratch.extend(parsed)
    return list(scratch)


def rdf_files(path: Path) -> list[Path]:
    """The file itself, or the RDF files of a directory (by extension, sorted)."""
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in FORMATS)
        if not files:
            raise InputError(str(path), f"directory holds no RDF files ({', '.join(FORMATS)})")
        return files
    return [path]


def _short(iri: str) -> str:
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns):
            return f"{prefix}:{iri[len(ns):]}"
    return iri


@register_importer("rdf")
def import_rdf(store: Store, path: Path, progress: Progress = NoProgress()) -> ImportReport:
    """Import Turtle / N-Triples / N-Quads / JSON-LD files: parse all, check, validate, one write.

    Raises :class:`InputError` naming the file (and line for syntax errors, focus node and property
    for SHACL violations); writes nothing on any error.
    """
    path = Path(path)
    files = rdf_files(path)
    progress.start(len(files), f"reading {path.name}")
    quads: list[tuple[Quad, str]] = []
    for file in files:
        quads.extend((q, str(file)) for q in parse_rdf_file(file))
        progress.advance()
    source = str(path)

    fresh = set(new_triples(store, [q.triple for q, _ in quads]))
    batch = TripleBuilder(source)
    claimed: dict[Triple, tuple[Repository, str]] = {}
    triples: list[Triple] = []
    for q, file in quads:
        t = q.triple
        graph = q.graph_name
        repo = None if isinstance(graph, DefaultGraph) else _REPOSITORY_GRAPHS.get(graph.value)
        if t not in fresh:
            continue  # the store holds it already (e.g. the ontology part of a dump)
        if repo is Repository.ONTOLOGY or (isinstance(t.subject, NamedNode) and t.subject.value.startswith(str(DLOM))):
            raise InputError(file, f"the DLOM ontology is read-only; refusing the new statement {t}",
                             field_name=_short(t.predicate.value))
        if repo is not None:
            claimed.setdefault(t, (repo, file))
        focus = t.subject.value if isinstance(t.subject, NamedNode) else str(t.subject)
        batch.locate(focus, file, predicate=t.predicate.value, field=_short(t.predicate.value))
        triples.append(t)
    triples = list(dict.fromkeys(triples))

    if claimed:
        untyped = sorted({t.subject.value for t in triples if isinstance(t.subject, NamedNode)})
        known = {k: sorted(v) for k, v in existing_types(store, untyped).items()}
        placed = {q.triple: q.graph_name.value for q in route(triples, known_types=known)}
        for t, (repo, file) in claimed.items():
            if placed[t] != repo.value:
                raise InputError(file, f"{t} is in the {repo.name.lower().replace('_', '-')} graph, but its subject's "
                                       f"class belongs in <{placed[t]}>; remove the graph name or fix the type")
    written = write_checked(store, triples, batch, source)
    subjects = len({t.subject for t in triples})
    return ImportReport(source=source, triples=written, counts={"files": len(files), "subjects": subjects})
