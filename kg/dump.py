"""Export and restore of a whole store as N-Quads (gzip when the file name ends in .gz)."""
from __future__ import annotations

import gzip
from pathlib import Path

import pyoxigraph as ox

from kg.errors import DlomError, InputError, ValidationError
from kg.store import Store
from kg.validation import validate


def _open(path: Path, mode: str):
    return gzip.open(path, mode) if path.suffix == ".gz" else open(path, mode)


def export_nquads(store: Store, path: Path) -> int:
    """Write every quad to ``path`` in a canonical order (sorted lines); returns the quad count."""
    lines = sorted(f"{q} .\n" for q in store.quads())
    with _open(path, "wt") as f:
        f.writelines(lines)
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
