"""Results derived from the store, kept until the store next changes.

Some reads are expensive and asked again and again with the same arguments while the graph does not
change: the ordered list of models that GraphQL pages walk through, the candidate set the decision
support re-ranks each time a user moves a preference. :func:`derived` computes such a result once and
hands it out again until the store's ``generation`` moves.

Only a store that sees every change made to it can say when a result went stale: the embedded store
(one process holds it) counts its writes in ``generation``. Stores that other clients write to
(Neo4j, a remote SPARQL endpoint) have ``generation`` None, and nothing derived from them is kept.

Kept results are shared between callers: treat them as read-only (:func:`derived_per_item` alone adds
to the entries it keeps).
"""
from __future__ import annotations

import logging
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Collection, Hashable, Iterable, Mapping
from typing import Any, TypeVar

from kg.store import Store

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

log = logging.getLogger(__name__)

MAX_ENTRIES = 16
"""Results kept per store (least recently used first out). A listing of every model of a 1M-triple graph
(45k models) takes about 15 MB, so this bounds what is kept to a few hundred MB at worst."""


class _Results:
    """The kept results of one store, each with the generation it was computed at."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.entries: OrderedDict[Hashable, tuple[int, Any]] = OrderedDict()
        self.computing: dict[Hashable, tuple[int, threading.Event]] = {}  # results being computed


_by_store: weakref.WeakKeyDictionary[Store, _Results] = weakref.WeakKeyDictionary()
_registry_lock = threading.Lock()


def _generation(store: Store, vocabularies: Collection[str] | None) -> int | None:
    if getattr(store, "generation", None) is None:
        return None
    return store.generation if vocabularies is None else store.generation_of(vocabularies)


def derived(store: Store, key: Hashable, compute: Callable[[], T], vocabularies: Collection[str] | None = None) -> T:
    """``compute()``'s result for ``key``, computed at most once per generation of ``store`` — or, when
    the result's queries match only predicates of ``vocabularies`` (namespace IRIs, e.g.
    :data:`kg.namespaces.DLOM_VOCABULARIES`), per generation of those (so writes of other vocabularies,
    a client's own data in a graph of its own, keep it).

    ``key`` must name everything the result depends on besides the store's contents. A result whose
    computation overlapped a write is returned but not kept. Callers asking for a result that another
    caller is computing wait for that computation instead of starting a second one.
    """
    generation = _generation(store, vocabularies)
    if generation is None:
        return compute()
    with _registry_lock:
        results = _by_store.get(store)
        if results is None:
            results = _by_store[store] = _Results()
    while True:
        with results.lock:
            kept = results.entries.get(key)
            if kept is not None and kept[0] == generation:
                results.entries.move_to_end(key)
                return kept[1]  # type: ignore[no-any-return]
            running = results.computing.get(key)
            if running is None or running[0] != generation:
                done = threading.Event()
                results.computing[key] = (generation, done)
                break
        # The same result is being computed by another caller (a first page asked twice, a warm-up):
        # wait for it rather than compute it twice; if it was not kept (a write overlapped), compute.
        running[1].wait()
        if _generation(store, vocabularies) != generation:
            return compute()
    try:
        value = compute()
        with results.lock:
            if _generation(store, vocabularies) == generation:
                results.entries[key] = (generation, value)
                results.entries.move_to_end(key)
                while len(results.entries) > MAX_ENTRIES:
                    results.entries.popitem(last=False)
        return value
    finally:
        with results.lock:
            if results.computing.get(key, (None, None))[1] is done:
                del results.computing[key]
        done.set()


def derived_per_item(store: Store, key: Hashable, items: Iterable[K], compute: Callable[[list[K]], Mapping[K, V]],
                     vocabularies: Collection[str] | None = None) -> dict[K, V]:
    """``{item: value}`` for ``items``, where ``compute(missing)`` gives the values of a list of items (it
    may leave an item out: it has none): each item computed at most once per generation of ``store`` (or
    of ``vocabularies``), so a caller asking for a few items of a large set at a time (the top models of
    a ranking, under new weights) reads only the ones it has not asked for before.

    The values are kept together under ``key`` (one entry of :func:`derived`, which this function alone
    adds to); ``key`` must name everything a value depends on besides the store's contents and the item.
    """
    values: dict[K, V | None] = derived(store, key, dict, vocabularies)
    wanted = list(dict.fromkeys(items))
    missing = [i for i in wanted if i not in values]
    if missing:
        found = compute(missing)
        # None marks an item compute had no value for, so it is not asked again. (A write during
        # compute is harmless: the next call of derived hands out a new, empty entry.)
        values.update({i: found.get(i) for i in missing})
    return {i: v for i in wanted if (v := values[i]) is not None}


def kept(store: Store, key: Hashable, vocabularies: Collection[str] | None = None) -> Any | None:
    """The result kept for ``key`` at the store's current generation (of ``vocabularies``), else None (never
    computed, stale, or a store without a generation). Computes nothing."""
    generation = _generation(store, vocabularies)
    results = _by_store.get(store)
    if generation is None or results is None:
        return None
    with results.lock:
        entry = results.entries.get(key)
        return entry[1] if entry is not None and entry[0] == generation else None


def derive_in_background(store: Store, key: Hashable, compute: Callable[[], Any],
                         vocabularies: Collection[str] | None = None) -> None:
    """Start :func:`derived` for ``key`` in a daemon thread, unless the store has no generation or the
    result is kept or being computed at the current one (so callers asking again do not pile up threads).
    A failure is logged: the caller meanwhile answers without the result."""
    generation = _generation(store, vocabularies)
    if generation is None or kept(store, key, vocabularies) is not None:
        return
    results = _by_store.get(store)
    if results is not None:
        with results.lock:
            running = results.computing.get(key)
            if running is not None and running[0] == generation:
                return

    def run() -> None:
        try:
            derived(store, key, compute, vocabularies)
        except Exception as e:  # a closed store, a timeout: the result is simply not there
            log.warning("%s could not be derived in the background (%s)", key, e)
    threading.Thread(target=run, name=f"derive-{key[0] if isinstance(key, tuple) else key}", daemon=True).start()


def forget(store: Store, which: Callable[[Hashable], bool] | None = None) -> None:
    """Drop every result kept for ``store``, or those whose key ``which`` accepts (the next call of
    :func:`derived` computes them afresh)."""
    if which is None:
        with _registry_lock:
            _by_store.pop(store, None)
        return
    results = _by_store.get(store)
    if results is not None:
        with results.lock:
            for key in [k for k in results.entries if which(k)]:
                del results.entries[key]
