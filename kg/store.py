"""The one protocol every knowledge-graph backend implements, and opening a backend by URL.

Backends live one per file in :mod:`kg.stores` and register the URL schemes they serve with
:func:`register_backend`; callers only ever call :func:`open_store`. A backend implements :meth:`Store.query`
(any query form, as the SPARQL endpoint needs) and inherits the typed :meth:`~Queries.select`,
:meth:`~Queries.ask` and :meth:`~Queries.construct` from :class:`Queries`, built on it here once.
"""
from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol, TypedDict, TypeVar, Unpack, runtime_checkable
from urllib.parse import urlsplit

from pyoxigraph import NamedNode, Quad

from kg import config
from kg.errors import QueryError, StoreURLError
from kg.results import BooleanResult, GraphResult, QueryResult, Solutions
from kg.terms import Term


class QueryOptions(TypedDict, total=False):
    """The keyword arguments of :meth:`Store.query`, which :meth:`~Queries.select`, :meth:`~Queries.ask`
    and :meth:`~Queries.construct` take too."""

    substitutions: Mapping[str, Term] | None
    default_graph: Sequence[NamedNode] | None
    named_graphs: Sequence[NamedNode] | None
    timeout_s: float | None


_R = TypeVar("_R", Solutions, BooleanResult, GraphResult)
_FORMS = {Solutions: "a SELECT", BooleanResult: "an ASK", GraphResult: "a CONSTRUCT or DESCRIBE"}


def _of_form(result: QueryResult, form: type[_R], method: str, sparql: str) -> _R:
    if isinstance(result, form):
        return result
    text = " ".join(sparql.split())
    raise QueryError(f"Store.{method}() runs {_FORMS[form]} query, but this is {_FORMS[type(result)]} query "
                     f"(Store.query() runs any form): {text[:120] + '…' if len(text) > 120 else text}")


class Queries(Protocol):
    """Reading by SPARQL. A backend implements :meth:`query`; the typed :meth:`select`, :meth:`ask` and
    :meth:`construct` are built on it here, once, and a backend gets them by subclassing this class."""

    def query(self, sparql: str, **options: Unpack[QueryOptions]) -> QueryResult:
        """Run a SPARQL query of any form. By default the default graph is the union of all named graphs.

        ``substitutions`` binds variables to terms before evaluation (safe parameter binding: user
        values never become query text). ``default_graph``/``named_graphs`` restrict the dataset as in
        the SPARQL protocol. Raises :class:`kg.errors.QueryError` on a syntax error and
        :class:`kg.errors.QueryTimeoutError` past ``timeout_s``.
        """
        ...

    def select(self, sparql: str, **options: Unpack[QueryOptions]) -> Solutions:
        """Run a SELECT query, like :meth:`query`; :class:`kg.errors.QueryError` for another form."""
        return _of_form(self.query(sparql, **options), Solutions, "select", sparql)

    def ask(self, sparql: str, **options: Unpack[QueryOptions]) -> bool:
        """Run an ASK query, like :meth:`query`; :class:`kg.errors.QueryError` for another form."""
        return _of_form(self.query(sparql, **options), BooleanResult, "ask", sparql).value

    def construct(self, sparql: str, **options: Unpack[QueryOptions]) -> GraphResult:
        """Run a CONSTRUCT (or DESCRIBE) query, like :meth:`query`; :class:`kg.errors.QueryError` for
        another form."""
        return _of_form(self.query(sparql, **options), GraphResult, "construct", sparql)


def run_check_first(add: Callable[[Iterable[Quad]], None]) -> Callable[..., None]:
    """A backend's :meth:`Store.bulk_add` that runs ``check`` first, then ``add`` (one transaction
    either way: a server has no faster atomic path)."""

    def bulk_add(self: Any, quads: Iterable[Quad], check: Callable[[], None] | None = None) -> None:
        if check is not None:
            check()
        add(self, quads)

    return bulk_add


@runtime_checkable
class Store(Queries, Protocol):
    """A quad store with SPARQL 1.1. Every write method is atomic: it lands whole or not at all."""

    url: str
    generation: int | None
    """Moves with every write this store object sees, so results derived from it can be kept until it
    moves (:mod:`kg.derived_results`); None when others may write to the store too (a server)."""

    def generation_of(self, vocabularies: Iterable[str]) -> int | None:
        """Like :attr:`generation`, for the writes that may have written a predicate of one of
        ``vocabularies`` (namespace IRIs)."""
        ...

    def update(self, sparql: str) -> None:
        """Run a SPARQL 1.1 update atomically. It is not validated here: see :mod:`kg.writes`."""
        ...

    def add(self, quads: Iterable[Quad]) -> None:
        """Add quads atomically (validated writes go through :func:`kg.writes.write_triples`)."""
        ...

    def bulk_add(self, quads: Iterable[Quad], check: Callable[[], None] | None = None) -> None:
        """Add many quads atomically; a backend may take a faster path than :meth:`add` for this.
        ``check()`` may refuse the write by raising (nothing is then written): a backend runs it before
        writing, or while it loads the quads where it can do both at once (see :func:`run_check_first`)."""
        ...

    def load_nquads(self, data: bytes) -> None:
        """Add N-Quads ``data`` atomically, like :meth:`bulk_add` (a backend may parse it natively)."""
        ...

    def replace(self, remove: Iterable[Quad], add: Iterable[Quad]) -> None:
        """Remove then add quads in one atomic transaction."""
        ...

    def quads(self, graph: NamedNode | None = None) -> Iterator[Quad]:
        """Every quad, or those of one named graph."""
        ...

    def count(self, graph: NamedNode | None = None) -> int:
        """Number of quads, or of one named graph."""
        ...

    def clear(self) -> None:
        """Remove everything."""
        ...

    def close(self) -> None:
        """Release the store (and its lock)."""
        ...


BackendFactory = Callable[[str], Store]
_BACKENDS: dict[str, BackendFactory] = {}


def register_backend(*schemes: str) -> Callable[[BackendFactory], BackendFactory]:
    """Class decorator: the decorated backend serves URLs with these schemes."""

    def decorate(factory: BackendFactory) -> BackendFactory:
        for scheme in schemes:
            _BACKENDS[scheme] = factory
        return factory

    return decorate


_UNAVAILABLE: dict[str, str] = {}  # backend module → why it could not be imported (a missing optional package)
_discovered = False


def _import_backend(name: str) -> None:
    try:
        importlib.import_module(f"kg.stores.{name}")
    except ImportError as e:  # an optional backend's driver is not installed: the others still work
        _UNAVAILABLE[name] = str(e)


def _discover_backends(scheme: str) -> None:
    """Register the backend of ``scheme``: first the module named like it (``oxigraph://`` is served
    by ``kg.stores.oxigraph``), so a command does not pay for importing every other backend's driver
    (the Neo4j driver alone takes about half a second); then, when that is not it, every module."""
    global _discovered
    import kg.stores

    names = [m.name for m in pkgutil.iter_modules(kg.stores.__path__)]
    if scheme in names:
        _import_backend(scheme)
        if scheme in _BACKENDS:
            return
    _discovered = True
    for name in names:
        _import_backend(name)


def open_store(url: str | None = None) -> Store:
    """Open the store a URL names (default: env ``DLOM_STORE`` or the embedded store under ``DLOM_HOME``).

    ``oxigraph:///abs/path`` is the embedded on-disk store, ``oxigraph://`` an in-memory one.
    """
    url = url or config.store_url()
    scheme = urlsplit(url).scheme
    if scheme not in _BACKENDS and not _discovered:
        _discover_backends(scheme)
    factory = _BACKENDS.get(scheme)
    if factory is None:
        known = ", ".join(sorted(f"{s}://" for s in _BACKENDS))
        missing = "".join(f"; backend {name!r} unavailable ({why})" for name, why in sorted(_UNAVAILABLE.items()))
        raise StoreURLError(f"unknown store URL scheme {scheme!r} in {url!r}; known: {known}{missing}")
    return factory(url)
