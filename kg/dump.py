"""Export and restore of a whole store as N-Quads (gzip when the file name ends in .gz)."""
from __future__ import annotations

import gzip
import io
from collections.abc import Iterable
from pathlib import Path

import pyoxigraph as ox

from kg.errors import DlomError, InputError, ValidationError
from kg.store import Store
from kg.validation import validate


def _open(path: Path, mode: str):
    return gzip.open(path, mode) if path.suffix == ".gz" else open(path, mode)


def canonical_gzip(lines: Iterable[str]) -> bytes:
    """The lines gzipped deterministically: no timestamp, no embedded file name, so the same lines
    always give the same bytes (the shipped graph and DLOM's dumps are reproducible byte for byte)."""
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as f:
        f.write("".join(lines).encode("utf-8"))
    return buffer.getvalue()


def export_nquads(store: Store, path: Path, without_ontology: bool = False) -> int:
    """Write every quad (``without_ontology``: all but the ontology graph's) to ``path`` in a
    canonical order (sorted lines; gzip by :func:`canonical_gzip` when the name ends in .gz);
    returns the quad count."""
    from kg.repositories import Repository

    ontology = Repository.ONTOLOGY.graph
    lines = sorted(f"{q} .\n" for q in store.quads() if not (without_ontology and q.graph_name == ontology))
    path.write_bytes(canonical_gzip(lines) if path.suffix == ".gz" else "".join(lines).encode("utf-8"))
    return len(lines)


def read_nquads(path: Path) -> list[ox.Quad]:
    """Parse an N-Quads dump; an unreadable or malformed file raises :class:`InputError` with its line."""
    if not path.exists():
        raise InputError(str(path), "file not found")
    try:
        with _open(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as e:
        raise InputError(str(path), f"cannot read: {e}") from None
    try:
        return list(ox.parse(data, format=ox.RdfFormat.N_QUADS))
    except SyntaxError as e:
        line = getattr(e, "lineno", None)
        raise InputError(str(path), f"malformed N-Quads: {e.msg if hasattr(e, 'msg') else e}", line=line) from None


def restore_nquads(store: Store, path: Path, replace: bool = False) -> int:
    """Load a dump made by :func:`export_nquads`; validated first, written atomically.

    The store must be empty unless ``replace`` is set, in which case its content is replaced in the
    same transaction. Returns the number of quads loaded.
    """
    quads = read_nquads(path)
    # A dump is self-contained (it carries the ontology), so it is validated on its own.
    violations = validate([q.triple for q in quads])
    if violations:
        raise ValidationError(violations, str(path))
    if store.count() and not replace:
        raise DlomError(f"the store already holds {store.count()} quads; restore into an empty store or pass --replace")
    existing = list(store.quads()) if replace else []
    if existing:
        store.replace(existing, quads)
    else:
        store.bulk_add(quads)  # atomic too, and the faster path into an empty store
    return len(quads)
