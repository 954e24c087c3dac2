"""kg.binding.bind: values bound as typed terms where the parser sees the WHERE groups — not where a
regular expression finds the text ``WHERE {`` — in the query and in every subquery."""
from __future__ import annotations

import pytest
from pyoxigraph import Literal, NamedNode, Quad

from kg.binding import bind
from kg.errors import QueryError
from kg.store import Store, open_store

EX = "http://example.org/"


@pytest.fixture
def two_rows() -> Store:
    s = open_store("oxigraph://")
    s.add([Quad(NamedNode(EX + "a"), NamedNode(EX + "p"), Literal("x"), NamedNode(EX + "g")),
           Quad(NamedNode(EX + "b"), NamedNode(EX + "p"), Literal("y"), NamedNode(EX + "g"))])
    yield s
    s.close()


def rows(store: Store, sparql: str) -> list[tuple[str, ...]]:
    res = store.select(sparql)
    return sorted(tuple(t.value for t in row) for row in res.rows)


def test_a_where_in_a_comment_is_not_where_values_go(two_rows: Store) -> None:
    q = f"# a comment: WHERE {{ ?x ?y ?z }}\nSELECT ?s WHERE {{ ?s <{EX}p> ?o }}"
    assert rows(two_rows, bind(q, {"o": Literal("x")})) == [(EX + "a",)]


def test_a_where_in_a_string_or_iri_is_not_where_values_go(two_rows: Store) -> None:
    q = f'SELECT ?s WHERE {{ ?s <{EX}p> ?o FILTER(?o != "WHERE {{") }}'
    assert rows(two_rows, bind(q, {"o": Literal("y")})) == [(EX + "b",)]


def test_a_variable_used_only_inside_a_subquery_is_bound(two_rows: Store) -> None:
    q = f"SELECT ?s WHERE {{ {{ SELECT ?s WHERE {{ ?s <{EX}p> ?o }} }} }}"
    assert rows(two_rows, bind(q, {"o": Literal("x")})) == [(EX + "a",)]


def test_select_and_ask_without_the_where_keyword(two_rows: Store) -> None:
    assert rows(two_rows, bind(f"SELECT ?s {{ ?s <{EX}p> ?o }}", {"o": Literal("y")})) == [(EX + "b",)]
    assert two_rows.ask(bind(f"ASK {{ ?s <{EX}p> ?o }}", {"o": Literal("z")})) is False


def test_values_stay_terms(two_rows: Store) -> None:
    q = bind(f"SELECT ?s WHERE {{ ?s <{EX}p> ?o }}", {"o": Literal('" } DROP ALL #')})
    assert rows(two_rows, q) == [] and "DROP ALL" in q  # one string literal, matching nothing


def test_unbindable_input_is_refused() -> None:
    with pytest.raises(QueryError, match="no WHERE group"):
        bind("CONSTRUCT { ?s ?p ?o }", {"o": Literal("x")})
    with pytest.raises(QueryError, match="invalid variable name"):
        bind("SELECT * WHERE { ?s ?p ?o }", {"o x": Literal("x")})
