"""Results derived from the store, kept until the store next changes.

Some reads are expensive and asked again and again with the same arguments while the graph does not
change: the ordered list of models that GraphQL pages walk through, the candidate set the decision
support re-ranks each time a user moves a preference. :func:`derived` computes such a result once and
hands it out again until the store's ``generation`` moves.

Only a store that sees every change made to it can say when a result went stale: the embedded store
(one process holds it) counts its writes in ``generation``. Stores that other clients write to
(Neo4j, a remote SPARQL endpoint) have ``generation`` None, and nothing derived from them is kept.

Kept results are shared between callers: treat them as read-only.
"""
from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from kg.store import Store

T = TypeVar("T")

MAX_ENTRIES = 16
"""Results kept per store (least recently used first out). A listing of every model of a 1M-triple graph
(45k models) takes about 15 MB, so this bounds what is kept to a few hundred MB at worst."""


class _Results:
    """The kept results of one store, for one generation."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.generation: int | None = None
        self.entries: OrderedDict[Hashable, Any] = OrderedDict()


_by_store: weakref.WeakKeyDictionary[Store, _Results] = weakref.WeakKeyDictionary()
_registry_lock = threading.Lock()
_MISSING = object()


def derived(store: Store, key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()``'s result for ``key``, computed at most once per generation of ``store``.

    ``key`` must name everything the result depends on besides the store's contents. A result whose
    computation overlapped a write is returned but not kept.
    """
    generation = getattr(store, "generation", None)
    if generation is None:
        return compute()
    with _registry_lock:
        results = _by_store.get(store)
        if results is None:
            results = _by_store[store] = _Results()
    with results.lock:
        if results.generation != generation:
            results.generation, results.entries = generation, OrderedDict()
        value = results.entries.get(key, _MISSING)
        if value is not _MISSING:
            results.entries.move_to_end(key)
            return value  # type: ignore[no-any-return]
    value = compute()
    with results.lock:
        if getattr(store, "generation", None) == generation == results.generation:
            results.entries[key] = value
            while len(results.entries) > MAX_ENTRIES:
                results.entries.popitem(last=False)
    return value


def forget(store: Store) -> None:
    """Drop every result kept for ``store`` (the next call of :func:`derived` computes afresh)."""
    with _registry_lock:
        _by_store.pop(store, None)
