"""The validated update's delta (kg.validated_update): computed from the update alone, it must equal the
exact delta of the update evaluated on a copy of the whole store, for every update form it handles."""
from __future__ import annotations

import pyoxigraph as ox
import pytest

from kg.errors import QueryError
from kg.store import open_store
from kg.validated_update import _planned_delta, _scratch_delta, apply_validated_update

EX = "https://example.org/u/"
G1, G2 = f"<{EX}g1>", f"<{EX}g2>"
DATA = f"""
GRAPH {G1} {{ <{EX}a> <{EX}p> 1 , 2 . <{EX}a> <{EX}q> "x"@en . <{EX}b> <{EX}p> 3 . }}
GRAPH {G2} {{ <{EX}b> <{EX}p> 3 . <{EX}c> <{EX}r> <{EX}a> . }}
<{EX}d> <{EX}p> 4 .
"""

UPDATES = [
    f"INSERT DATA {{ GRAPH {G1} {{ <{EX}n> <{EX}p> 5 }} }}",
    f"INSERT DATA {{ GRAPH {G1} {{ <{EX}a> <{EX}p> 1 }} }}",  # already there: no change
    f"DELETE DATA {{ GRAPH {G1} {{ <{EX}a> <{EX}p> 1 }} }}",
    f"DELETE DATA {{ GRAPH {G1} {{ <{EX}a> <{EX}p> 99 }} }}",  # absent: no change
    f"DELETE DATA {{ <{EX}d> <{EX}p> 4 }}",
    f"PREFIX ex: <{EX}> INSERT DATA {{ ex:m ex:p 'y' ; ex:q 2.50 }} ; DELETE DATA {{ GRAPH ex:g2 {{ ex:b ex:p 3 }} }}",
    f"INSERT DATA {{ GRAPH {G1} {{ <{EX}t> <{EX}p> 7 }} }} ; DELETE DATA {{ GRAPH {G1} {{ <{EX}t> <{EX}p> 7 }} }}",
    f"DELETE {{ GRAPH ?g {{ ?s <{EX}p> ?o }} }} INSERT {{ GRAPH ?g {{ ?s <{EX}p2> ?o }} }} WHERE {{ GRAPH ?g {{ ?s <{EX}p> ?o FILTER(?o > 1) }} }}",
    f"DELETE WHERE {{ GRAPH {G2} {{ ?s ?p ?o }} }}",
    f"WITH {G1} DELETE {{ ?s <{EX}q> ?o }} INSERT {{ ?s <{EX}q> \"z\" }} WHERE {{ ?s <{EX}q> ?o }}",
    f"INSERT {{ GRAPH {G2} {{ ?s <{EX}seen> true }} }} USING {G1} WHERE {{ ?s <{EX}p> ?o }}",
    f"INSERT {{ GRAPH {G2} {{ ?s <{EX}unbound> ?nothing }} }} WHERE {{ GRAPH {G1} {{ ?s <{EX}p> ?o }} }}",
    f"DELETE {{ ?s <{EX}p> ?o }} WHERE {{ ?s <{EX}p> ?o }}",  # default graph: only <d>
    f"CLEAR GRAPH {G2}",
    f"DROP SILENT GRAPH <{EX}none>",
    "CLEAR DEFAULT",
    f"DROP GRAPH {G1} ; INSERT DATA {{ GRAPH {G1} {{ <{EX}z> <{EX}p> 0 }} }}",
    f"CREATE SILENT GRAPH {G1}",
    f"BASE <{EX}> INSERT DATA {{ GRAPH <g1> {{ <rel> <p> \"\"\"a ; b }} \"\"\" }} }}",
]


def _store():
    store = open_store("oxigraph://")
    scratch = ox.Store()
    scratch.update(f"INSERT DATA {{ {DATA} }}")
    store.add(list(scratch))
    return store


@pytest.mark.parametrize("update", UPDATES)
def test_planned_delta_equals_the_exact_one(update: str) -> None:
    store = _store()
    planned = _planned_delta(store, update)
    assert planned is not None, "this form should not need the scratch copy"
    exact = _scratch_delta(store, update)
    assert sorted(map(str, planned[0])) == sorted(map(str, exact[0]))
    assert sorted(map(str, planned[1])) == sorted(map(str, exact[1]))


@pytest.mark.parametrize("update", [
    f"COPY {G1} TO {G2}",
    f"INSERT DATA {{ GRAPH {G1} {{ <{EX}n> <{EX}p> 5 }} }} ; DELETE WHERE {{ GRAPH {G1} {{ ?s <{EX}p> ?o }} }}",
])
def test_other_forms_take_the_exact_path(update: str) -> None:
    store = _store()
    assert _planned_delta(store, update) is None
    before = {str(q) for q in store.quads()}
    report = apply_validated_update(store, update)
    exact_removed, exact_added = _scratch_delta(_store(), update)
    assert report.committed
    assert {str(q) for q in store.quads()} == (before - set(map(str, exact_removed))) | set(map(str, exact_added))


def test_blank_nodes_in_inserted_data_are_new_nodes() -> None:
    store = _store()
    report = apply_validated_update(store, f"INSERT DATA {{ GRAPH {G1} {{ _:x <{EX}p> 1 . _:x <{EX}q> 2 }} }}")
    assert report.inserted == 2
    subjects = {q.subject for q in store.quads() if isinstance(q.subject, ox.BlankNode)}
    assert len(subjects) == 1


def test_dropping_a_missing_graph_is_an_error_unless_silent() -> None:
    store = _store()
    with pytest.raises(QueryError, match="does not exist"):
        apply_validated_update(store, f"DROP GRAPH <{EX}none>")
    assert apply_validated_update(store, f"DROP SILENT GRAPH <{EX}none>").inserted == 0


def test_syntax_error_names_the_parser_message() -> None:
    with pytest.raises(QueryError, match="syntax error"):
        apply_validated_update(_store(), "INSERT DATA { <http://x> }")
