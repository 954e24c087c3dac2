"""The label index (kg.label_index) answers the explorer search exactly as its SPARQL query does:
results, order, total, counts per rank, the IRI-pasted fallback and errors — on a hand-made graph, on
generated graphs (hypothesis) and on the shipped graph; and a write is seen by the next search."""
from __future__ import annotations


import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyoxigraph import Literal, NamedNode, Quad

from kg import exploration
from kg.derived_results import forget
from kg.namespaces import DLOM, RDF, RDFS
from kg.store import Store, open_store

ID = "https://w3id.org/dlom/id/test/"
CLASSES = [DLOM.Hardware, DLOM.Model, DLOM.EndDevice, DLOM.SourceFile, DLOM.MeasuredPerformance, None]


def _pages(store: Store, q: str, cls: str | None = None, limit: int = 20, offset: int = 0) -> tuple[dict, dict]:
    assert exploration.label_index(store) is not None
    fast = exploration.search_page(store, q, cls, limit, offset).to_dict()
    slow = exploration.search_page(store, q, cls, limit, offset, through_index=False).to_dict()
    return fast, slow


def _entity(store: Store, name: str, labels: list[str], classes: list[NamedNode | None]) -> None:
    s = NamedNode(ID + name)
    quads = [Quad(s, RDFS.label, Literal(label)) for label in labels]
    quads += [Quad(s, RDF.type, c) for c in classes if c is not None]
    store.add(quads)


@pytest.fixture
def small(store: Store) -> Store:
    _entity(store, "nucleo-board", ["NUCLEO-L4R5ZI"], [DLOM.Hardware])
    _entity(store, "nucleo-device", ["Nucleo L4R5ZI (ST)", "zz nucleo"], [DLOM.EndDevice])
    _entity(store, "nucleo-model", ["KWS on Nucleo"], [DLOM.Model])
    _entity(store, "nucleo-record", ["Measured: KWS on NUCLEO"], [DLOM.MeasuredPerformance, DLOM.Model])
    _entity(store, "ΣΟΦΙΑ", ["ΟΔΟΣ σοφίας", "Straße"], [])
    return store


@pytest.mark.parametrize("q, cls, limit, offset", [
    ("nucleo", None, 20, 0), ("NUCLEO", None, 2, 1), ("nucleo", DLOM.EndDevice.value, 20, 0),
    ("οδος", None, 20, 0), ("straß", None, 20, 0), ("zz", None, 20, 0), ("nothing here", None, 20, 0),
    (ID + "nucleo-board", None, 20, 0), (ID + "nucleo-board", None, 20, 1), ("on", DLOM.Model.value, 5, 0),
])
def test_index_answers_as_the_query_on_a_small_graph(small: Store, q: str, cls: str | None, limit: int, offset: int) -> None:
    fast, slow = _pages(small, q, cls, limit, offset)
    assert fast == slow


def test_errors_are_the_same(small: Store) -> None:
    exploration.label_index(small)
    for kwargs in ({"text": "x"}, {"text": "nucleo", "class_iri": "not an iri"}, {"text": "nucleo", "offset": -1}):
        with pytest.raises(exploration.ExplorationInputError) as fast:
            exploration.search_page(small, **kwargs)  # type: ignore[arg-type]
        with pytest.raises(exploration.ExplorationInputError) as slow:
            exploration.search_page(small, through_index=False, **kwargs)  # type: ignore[arg-type]
        assert (fast.value.field, fast.value.message) == (slow.value.field, slow.value.message)


def test_the_first_search_after_a_write_sees_the_new_label(small: Store) -> None:
    exploration.label_index(small)
    _entity(small, "new", ["A brand-new Nucleo-F767ZI"], [DLOM.Hardware])
    page = exploration.search_page(small, "f767")  # the index is stale: the query answers
    assert [r.iri for r in page.results] == [ID + "new"]
    assert exploration.label_index(small) is not None  # rebuilt at the new generation
    assert exploration.search_page(small, "f767").to_dict() == exploration.search_page(small, "f767", through_index=False).to_dict()


_words = st.sampled_from(["Nucleo", "nano", "ResNet", "w8a8", "Pi", "ÄÖ", "σς", "a", "ab", " ", "-"])
_label = st.lists(_words, min_size=1, max_size=4).map("".join)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(entities=st.lists(st.tuples(st.lists(_label, min_size=1, max_size=2), st.lists(st.sampled_from(CLASSES), max_size=2)),
                         min_size=1, max_size=8),
       q=st.sampled_from(["nucleo", "an", "w8", "äö", "σς", "a a", "pi-", "zzz"]),
       cls=st.sampled_from([None, DLOM.Model.value, DLOM.Hardware.value]), offset=st.integers(0, 3))
def test_index_answers_as_the_query_on_generated_graphs(entities: list, q: str, cls: str | None, offset: int) -> None:
    s = open_store("oxigraph://")
    try:
        for i, (labels, classes) in enumerate(entities):
            _entity(s, f"e{i}", labels, classes)
        fast, slow = _pages(s, q, cls, 3, offset)
        assert fast == slow
    finally:
        forget(s)
        s.close()


@pytest.mark.parametrize("q, cls, limit, offset", [
    ("nucleo", None, 25, 0), ("Nucleo", None, 25, 25), ("resnet", None, 50, 0), ("raspberry", None, 20, 0),
    ("w8a8", None, 20, 100), ("mobilenet", DLOM.Model.value, 20, 0), ("jetson", DLOM.EndDevice.value, 20, 0),
    ("syntiant", None, 20, 0), ("qualcomm", DLOM.Hardware.value, 20, 0), ("kws", None, 10, 3),
    ("no such thing at all", None, 20, 0), ("snapdragon 8", None, 20, 0),
])
def test_index_answers_as_the_query_on_the_shipped_graph(shipped: Store, q: str, cls: str | None, limit: int, offset: int) -> None:
    fast, slow = _pages(shipped, q, cls, limit, offset)
    assert fast == slow
