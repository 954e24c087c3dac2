"""Results derived from the store are kept exactly until the store changes."""
from __future__ import annotations

import threading
from pathlib import Path

from pyoxigraph import Literal, NamedNode, Quad

from kg.derived_results import derived, derived_per_item
from kg.store import open_store

G = NamedNode("urn:dlom-test:g")


def _quad(i: int) -> Quad:
    return Quad(NamedNode(f"urn:dlom-test:s{i}"), NamedNode("urn:dlom-test:p"), Literal(str(i)), G)


def _counting(store):
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return store.count()

    return calls, compute


def test_a_result_is_computed_once_per_generation_and_every_write_invalidates_it(tmp_path: Path) -> None:
    store = open_store(f"oxigraph://{tmp_path / 'store'}")
    try:
        calls, compute = _counting(store)
        assert derived(store, "n", compute) == 0
        assert derived(store, "n", compute) == 0
        assert len(calls) == 1
        writes = [lambda: store.add([_quad(1)]), lambda: store.bulk_add([_quad(2), _quad(3)]),
                  lambda: store.replace([_quad(1)], [_quad(4)]),
                  lambda: store.update("INSERT DATA { GRAPH <urn:dlom-test:g> { <urn:a> <urn:b> 1 } }"),
                  lambda: store.clear()]
        for expected, write in zip([1, 3, 3, 4, 0], writes):
            write()
            assert derived(store, "n", compute) == expected
            assert derived(store, "n", compute) == expected
        assert len(calls) == 1 + len(writes)
    finally:
        store.close()


def test_per_item_results_are_read_once_per_item_until_the_store_changes() -> None:
    store = open_store("oxigraph://")
    asked: list[list[int]] = []

    def squares(items: list[int]) -> dict[int, int]:
        asked.append(items)
        return {i: i * i + store.count() for i in items if i != 3}  # 3 has no value

    assert derived_per_item(store, "sq", [1, 2, 3, 2], squares) == {1: 1, 2: 4}
    assert derived_per_item(store, "sq", [2, 4, 3, 1], squares) == {2: 4, 4: 16, 1: 1}
    assert asked == [[1, 2, 3], [4]]  # only what was not asked before, 3 (no value) included
    assert derived_per_item(store, "other", [2], squares) == {2: 4} and asked[-1] == [2]  # per key
    store.add([_quad(1)])
    assert derived_per_item(store, "sq", [1, 4], squares) == {1: 2, 4: 17} and asked[-1] == [1, 4]  # all again


def test_results_are_kept_per_key_and_per_store() -> None:
    a, b = open_store("oxigraph://"), open_store("oxigraph://")
    b.add([_quad(1)])
    assert derived(a, "n", a.count) == 0 and derived(b, "n", b.count) == 1
    assert derived(a, ("other", 1), lambda: "x") == "x"
    assert derived(a, "n", lambda: -1) == 0  # still the kept result


def test_a_result_computed_while_a_write_ran_is_not_kept() -> None:
    store = open_store("oxigraph://")
    started, release = threading.Event(), threading.Event()

    def slow_count() -> int:
        started.set()
        release.wait(10)
        return -1  # stands for a result read before the write below

    reader = threading.Thread(target=lambda: derived(store, "n", slow_count))
    reader.start()
    started.wait(10)
    store.add([_quad(1)])
    release.set()
    reader.join(10)
    assert derived(store, "n", store.count) == 1


def test_a_store_others_write_to_keeps_nothing() -> None:
    class SharedServer:  # stands for Neo4j / a remote endpoint: generation None
        generation = None

    server = SharedServer()
    calls: list[int] = []
    for _ in range(3):
        derived(server, "n", lambda: calls.append(1))  # type: ignore[arg-type]
    assert len(calls) == 3


def test_forget_drops_what_was_kept() -> None:
    from kg.derived_results import forget

    store = open_store("oxigraph://")
    calls, compute = _counting(store)
    derived(store, "n", compute)
    forget(store)
    derived(store, "n", compute)
    assert len(calls) == 2


def test_a_result_read_from_given_vocabularies_survives_writes_of_other_predicates() -> None:
    from kg.namespaces import DLOM, DLOM_VOCABULARIES

    store = open_store("oxigraph://")
    calls, compute = _counting(store)
    derived(store, "k", compute, DLOM_VOCABULARIES)
    store.add([_quad(1)])  # urn:dlom-test:p is none of DLOM's vocabularies
    store.replace([_quad(1)], [_quad(2)])
    derived(store, "k", compute, DLOM_VOCABULARIES)
    assert len(calls) == 1
    derived(store, "k", compute)  # without vocabularies every write counts
    assert len(calls) == 2
    store.add([Quad(NamedNode("urn:dlom-test:m"), NamedNode(DLOM + "latencyMs"), Literal("1"), G)])
    derived(store, "k", compute, DLOM_VOCABULARIES)
    assert len(calls) == 3
    store.update("INSERT DATA { <urn:dlom-test:a> <urn:dlom-test:q> 1 }")  # predicates unknown: counts
    derived(store, "k", compute, DLOM_VOCABULARIES)
    assert len(calls) == 4


def test_callers_asking_at_once_share_one_computation() -> None:
    store = open_store("oxigraph://")
    started, release = threading.Event(), threading.Event()
    calls: list[int] = []

    def slow() -> int:
        calls.append(1)
        started.set()
        release.wait(5)
        return 42

    answers: list[int] = []
    first = threading.Thread(target=lambda: answers.append(derived(store, "k", slow)))
    first.start()
    started.wait(5)
    second = threading.Thread(target=lambda: answers.append(derived(store, "k", slow)))
    second.start()
    second.join(0.2)
    assert second.is_alive(), "the second caller should wait for the first computation"
    release.set()
    first.join(5)
    second.join(5)
    assert answers == [42, 42] and len(calls) == 1
