"""The embedded default store: Oxigraph (RocksDB) on disk, or in memory for tests."""
from __future__ import annotations

import fcntl
import functools
import itertools
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pyoxigraph as ox
from pyoxigraph import NamedNode, Quad

from kg.binding import bind
from kg.errors import QueryError, QueryTimeoutError, StoreLockedError, StoreURLError
from kg.repositories import QuadsByGraph
from kg.results import BooleanResult, GraphResult, QueryResult, Solutions
from kg.store import Queries, register_backend
from kg.terms import Term

_CHECK_EVERY = 256  # rows between deadline checks while streaming results
_STAGED_MARK = "DLOM-STAGED-COMPLETE"  # written into a staging copy once it holds the whole write


def _predicates_of(*batches: Iterable[Quad], **_: Any) -> set[str] | None:
    """The predicates of a write of these quads, when known without consuming an iterator."""
    if not all(isinstance(b, list | tuple | QuadsByGraph) for b in batches):
        return None
    return {t.predicate.value for b in batches  # type: ignore[union-attr]
            for t in (itertools.chain.from_iterable(b.by_graph.values()) if isinstance(b, QuadsByGraph) else b)}


def _changes_store(predicates_of: Callable[..., set[str] | None] = lambda *args, **kwargs: None
                   ) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Mark a write method: ``generation`` moves before and after it, so a result derived while the
    write was under way is never taken for current (see :mod:`kg.derived_results`); so does the
    generation of each predicate it writes (``predicates_of(*args)``; None: possibly any)."""

    def mark(write: Callable[..., None]) -> Callable[..., None]:
        @functools.wraps(write)
        def counted(self: OxigraphStore, *args: Any, **kwargs: Any) -> None:
            depth = self._write_depth
            if getattr(depth, "n", 0):
                # called by a write of this thread (bulk_add → add in memory): that write moves it, so
                # every write moves the generation exactly GENERATION_MOVES_PER_WRITE times
                return write(self, *args, **kwargs)
            predicates = predicates_of(*args, **kwargs)
            self._moved(predicates)
            depth.n = 1
            try:
                write(self, *args, **kwargs)
            finally:
                depth.n = 0
                self._moved(predicates)

        return counted

    return mark


_TEXT_CHUNK = 100_000  # quads per text chunk handed to the bulk loader


def _text_chunks(quads: Iterable[Quad]) -> Iterator[tuple[bytes, ox.RdfFormat, NamedNode | None]]:
    """``quads`` as (text, its format, the graph it goes to) chunks for :meth:`ox.Store.bulk_load`."""
    if isinstance(quads, QuadsByGraph):
        for graph, triples in quads.by_graph.items():
            for i in range(0, len(triples), _TEXT_CHUNK):
                yield ox.serialize(triples[i:i + _TEXT_CHUNK], format=ox.RdfFormat.N_TRIPLES), ox.RdfFormat.N_TRIPLES, graph
        return
    it = iter(quads)
    while chunk := list(itertools.islice(it, _TEXT_CHUNK)):
        yield ox.serialize(chunk, format=ox.RdfFormat.N_QUADS), ox.RdfFormat.N_QUADS, None


@register_backend("oxigraph")
class OxigraphStore(Queries):
    """Oxigraph store. ``oxigraph:///abs/path`` opens (or creates) an on-disk store; ``oxigraph://``
    an in-memory one. Only one process may hold an on-disk store open, so ``generation`` (bumped by
    every write) tells when anything derived from the store went stale."""

    GENERATION_MOVES_PER_WRITE = 2
    """Each write method moves ``generation`` twice, before and after (a write it calls does not move it
    again): a caller that sees it move by exactly this much over its own write knows no other write ran
    meanwhile (:mod:`kg.writes` tells its listeners so, for incremental upkeep of derived indexes)."""

    def __init__(self, url: str = "oxigraph://") -> None:
        self._write_depth = threading.local()
        parts = urlsplit(url)
        if parts.scheme != "oxigraph":
            raise StoreURLError(f"not an oxigraph URL: {url!r}")
        raw_path = unquote(parts.netloc + parts.path)
        self.url = url
        self._writes = itertools.count(1)
        self.generation = 0
        self._predicate_moved: dict[str, int] = {}  # predicate IRI → generation of its last write
        self._any_moved = 0  # generation of the last write that may have written any predicate
        self.path: Path | None = Path(raw_path) if raw_path else None
        if self.path is None:
            self._store = ox.Store()
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = _acquire_lock(self.path)
        try:
            _finish_interrupted_swap(self.path)
            self.path.mkdir(parents=True, exist_ok=True)
            self._open_disk()
        except BaseException:
            os.close(self._lock)
            raise

    def _open_disk(self) -> None:
        assert self.path is not None
        try:
            self._store = ox.Store(str(self.path))
        except OSError as e:
            if "lock" in str(e).lower():
                raise StoreLockedError(
                    f"the store at {self.path} is open in another process; stop it (e.g. a running "
                    f"'dlom serve') or point DLOM_HOME/DLOM_STORE elsewhere. ({e})"
                ) from None
            raise

    def _moved(self, predicates: set[str] | None) -> None:
        self.generation = next(self._writes)
        if predicates is None:
            self._any_moved = self.generation
        else:
            for p in predicates:
                self._predicate_moved[p] = self.generation

    def generation_of(self, vocabularies: Iterable[str]) -> int | None:
        """The generation of the last write that may have written a predicate of one of
        ``vocabularies`` (namespace IRIs): a result whose queries match only predicates of those
        vocabularies stays current while this does not move."""
        namespaces = tuple(vocabularies)
        return max([self._any_moved, *(g for p, g in self._predicate_moved.items() if p.startswith(namespaces))])

    @classmethod
    def read_only(cls, path: Path) -> OxigraphStore:
        """A read-only view of an on-disk store that no process writes — a :meth:`checkpoint` — for
        query worker processes (:mod:`kg.query_pool`). It takes no lock; its writes fail."""
        view = cls.__new__(cls)
        view._write_depth = threading.local()
        view.url, view.path, view.generation, view._writes = f"oxigraph://{path}", None, None, itertools.count(1)
        view._predicate_moved, view._any_moved = {}, 0
        view._store = ox.Store.read_only(str(path))
        return view

    def checkpoint(self, path: Path) -> None:
        """A consistent copy of this on-disk store at ``path`` (a RocksDB checkpoint: hard links, no
        data copied), as of a moment no write was half done."""
        if self.path is None:
            raise StoreURLError("an in-memory store has no on-disk checkpoint")
        self._store.flush()
        self._store.backup(str(path))

    # -- reads -----------------------------------------------------------------------------------

    def query(
        self,
        sparql: str,
        *,
        substitutions: Mapping[str, Term] | None = None,
        default_graph: Sequence[NamedNode] | None = None,
        named_graphs: Sequence[NamedNode] | None = None,
        timeout_s: float | None = None,
    ) -> QueryResult:
        deadline = time.monotonic() + timeout_s if timeout_s else None
        kwargs: dict = {}
        if default_graph is not None:
            kwargs["default_graph"] = list(default_graph) or [ox.DefaultGraph()]
        else:
            kwargs["use_default_graph_as_union"] = True
        if named_graphs is not None:
            kwargs["named_graphs"] = list(named_graphs)
        try:
            result = self._store.query(bind(sparql, substitutions or {}), **kwargs)
        except SyntaxError as e:
            raise QueryError(f"SPARQL syntax error: {e}") from None
        except (OSError, ValueError, TypeError, RuntimeError) as e:
            raise QueryError(f"query failed: {e}") from None
        if deadline is not None and time.monotonic() > deadline:
            raise QueryTimeoutError(f"query exceeded its {timeout_s:g} s time limit")
        if isinstance(result, ox.QueryBoolean):
            return BooleanResult(bool(result))
        if isinstance(result, ox.QuerySolutions):
            variables = [v.value for v in result.variables]
            # (a solution iterates over its values in the variables' order, None where one is unbound)
            return Solutions(variables, _with_deadline(map(tuple, result), deadline, timeout_s))
        return GraphResult(_with_deadline(iter(result), deadline, timeout_s))

    def quads(self, graph: NamedNode | None = None) -> Iterator[Quad]:
        return iter(self._store.quads_for_pattern(None, None, None, graph))

    def count(self, graph: NamedNode | None = None) -> int:
        if graph is None:
            return len(self._store)
        # Counted by the engine: iterating quads_for_pattern makes a Python quad per triple (23 s for the
        # shipped graph's largest repository on disk, against 1.5 s for this query).
        result = self.query("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }", substitutions={"g": graph})
        return int(next(iter(result.rows))[0].value)  # type: ignore[union-attr]

    # -- writes (each atomic) ------------------------------------------------------------------

    @_changes_store()
    def update(self, sparql: str) -> None:
        try:
            self._store.update(sparql)
        except SyntaxError as e:
            raise QueryError(f"SPARQL update syntax error: {e}") from None
        except (OSError, ValueError, RuntimeError) as e:
            raise QueryError(f"update failed: {e}") from None

    @_changes_store(_predicates_of)
    def add(self, quads: Iterable[Quad]) -> None:
        self._store.extend(quads)

    @_changes_store(_predicates_of)
    def bulk_add(self, quads: Iterable[Quad], check: Callable[[], None] | None = None) -> None:
        """Add many quads atomically, several times faster than :meth:`add` for large writes.

        On disk, the write goes into a staging copy of the store (a RocksDB checkpoint: hard links,
        no data copied) through Oxigraph's bulk loader, which is fast but not transactional; the copy
        replaces the store only once it holds everything (a marker file, then two renames that
        :func:`_finish_interrupted_swap` completes or discards after a crash). So a killed process
        leaves either the old store or the new one, never a part. In memory, one transaction.

        ``check()`` (validation) runs while the copy loads, where the machine has a second core: the
        quads go to the loader as text, in chunks — a :class:`kg.repositories.QuadsByGraph` as N-Triples
        into each named graph, without a quad object per triple — which it parses and writes without
        holding Python's GIL (loading Python quad objects holds it throughout), the next chunk made
        while the last loads. If ``check`` raises, the copy is discarded once its load ends, and the
        store is as it was.
        """
        if self.path is None:
            if check is not None:
                check()
            return self.add(quads)
        if check is not None and (os.cpu_count() or 1) < 2:
            check()
            check = None
        if check is None:
            return self._swap_in(lambda copy: copy.bulk_extend(quads))

        def load_as_text(copy: ox.Store, pool: ThreadPoolExecutor) -> list[Future[None]]:
            return [pool.submit(copy.bulk_load, data, format=fmt, to_graph=graph)  # in order, one at a time
                    for data, fmt, graph in _text_chunks(quads)]

        self._swap_in(load_as_text, check)

    @_changes_store()
    def load_nquads(self, data: bytes) -> None:
        """Add N-Quads ``data`` atomically, as :meth:`bulk_add` does, parsed by Oxigraph itself (about
        twice as fast as parsing to Python quads first: the shipped graph, a restore)."""
        try:
            if self.path is None:
                self._store.load(data, format=ox.RdfFormat.N_QUADS)
            else:
                self._swap_in(lambda copy: copy.bulk_load(data, format=ox.RdfFormat.N_QUADS))
        except SyntaxError as e:
            raise QueryError(f"malformed N-Quads: {e}") from None

    def _swap_in(self, load: Callable[..., Any], check: Callable[[], None] | None = None) -> None:
        """Run ``load`` on a staging copy of this on-disk store and swap the copy in (see :meth:`bulk_add`).
        With ``check``, ``load(copy, pool)`` submits the loading to a one-thread ``pool`` and returns its
        futures, and ``check()`` runs meanwhile; if it (or a load) raises, the copy is closed and removed
        once the loads end, and nothing is swapped in."""
        assert self.path is not None
        staging, old = _sibling(self.path, "staging"), _sibling(self.path, "old")
        _remove_staging(staging)
        self._store.flush()
        self._store.backup(str(staging))
        copy = ox.Store(str(staging))
        try:
            if check is None:
                load(copy)
            else:
                with ThreadPoolExecutor(max_workers=1, thread_name_prefix="bulk-load") as pool:
                    loads = load(copy, pool)
                    try:
                        check()
                    finally:
                        for loading in loads:  # (a load cannot be stopped: wait for it, then drop the copy)
                            loading.result()
            copy.flush()
        except BaseException:
            copy = None  # type: ignore[assignment]  # closes it: an open store may write into the directory removed next
            _remove_staging(staging)
            raise
        copy = None  # type: ignore[assignment]  # closed before the swap
        _fsync_write(staging / _STAGED_MARK)
        del self._store  # releases the RocksDB lock of the old copy
        shutil.rmtree(old, ignore_errors=True)
        os.rename(self.path, old)
        os.rename(staging, self.path)
        _fsync_dir(self.path.parent)
        (self.path / _STAGED_MARK).unlink()
        shutil.rmtree(old, ignore_errors=True)
        self._open_disk()

    @_changes_store(_predicates_of)
    def replace(self, remove: Iterable[Quad], add: Iterable[Quad]) -> None:
        remove, add = list(remove), list(add)
        if not remove:
            return self.add(add)
        # One SPARQL update is one transaction. Terms are written by pyoxigraph's own N-Triples
        # serialization, so no user text is spliced into the update unescaped.
        body = "DELETE DATA {\n" + _quads_block(remove) + "};\nINSERT DATA {\n" + _quads_block(add) + "}"
        self._store.update(body)

    @_changes_store()
    def clear(self) -> None:
        self._store.clear()

    def flush(self) -> None:
        if self.path is not None:
            self._store.flush()

    def close(self) -> None:
        if self.path is not None:
            self._store.flush()
        del self._store
        if self.path is not None:
            os.close(self._lock)

    def __repr__(self) -> str:
        return f"OxigraphStore({self.url!r})"


def _acquire_lock(path: Path) -> int:
    """Hold ``<store>.lock`` beside the store for as long as it is open: one process per store, and
    the staging copies of :meth:`OxigraphStore.bulk_add` are only ever touched by the holder."""
    fd = os.open(_sibling(path, "lock"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise StoreLockedError(
            f"the store at {path} is open in another process; stop it (e.g. a running "
            f"'dlom serve') or point DLOM_HOME/DLOM_STORE elsewhere."
        ) from None
    return fd


def _sibling(path: Path, role: str) -> Path:
    return path.with_name(f"{path.name}.{role}")


def _checkpoint_in_progress(target: Path) -> Path:
    # RocksDB builds a checkpoint in "<target>.tmp" and renames it when done: a process killed while
    # Store.backup runs leaves that directory behind.
    return target.with_name(f"{target.name}.tmp")


def _remove_staging(staging: Path) -> None:
    shutil.rmtree(staging, ignore_errors=True)
    shutil.rmtree(_checkpoint_in_progress(staging), ignore_errors=True)


def _fsync_write(path: Path) -> None:
    with open(path, "wb") as f:
        os.fsync(f.fileno())
    _fsync_dir(path.parent)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _finish_interrupted_swap(path: Path) -> None:
    """Bring a store directory back to one whole copy after a :meth:`OxigraphStore.bulk_add` was killed.

    A staging copy marked complete becomes the store if the old store was already moved aside (the
    write was under way of being swapped in); otherwise — incomplete, or the old store still in place —
    it is deleted and the write did not happen. A superseded old copy is deleted."""
    staging, old = _sibling(path, "staging"), _sibling(path, "old")
    shutil.rmtree(_checkpoint_in_progress(staging), ignore_errors=True)
    if staging.exists():
        if (staging / _STAGED_MARK).exists() and not path.exists():
            os.rename(staging, path)
            _fsync_dir(path.parent)
        else:
            shutil.rmtree(staging)
    if path.exists():
        (path / _STAGED_MARK).unlink(missing_ok=True)
        shutil.rmtree(old, ignore_errors=True)
    elif old.exists():  # killed after moving the store aside but before the copy was complete: impossible
        os.rename(old, path)  # by the order of bulk_add's steps, kept as a last resort


def _quads_block(quads: list[Quad]) -> str:
    by_graph: dict[str, list[str]] = {}
    for q in quads:
        g = q.graph_name
        key = "" if isinstance(g, ox.DefaultGraph) else str(g)
        by_graph.setdefault(key, []).append(f"{q.subject} {q.predicate} {q.object} .")
    parts = []
    for g, lines in by_graph.items():
        inner = "\n".join(lines)
        parts.append(f"GRAPH {g} {{\n{inner}\n}}\n" if g else inner + "\n")
    return "".join(parts)


def _with_deadline(items: Iterator, deadline: float | None, timeout_s: float | None) -> Iterator:
    if deadline is None:
        yield from items
        return
    for i, item in enumerate(items):
        if i % _CHECK_EVERY == 0 and time.monotonic() > deadline:
            raise QueryTimeoutError(f"query exceeded its {timeout_s:g} s time limit")
        yield item
