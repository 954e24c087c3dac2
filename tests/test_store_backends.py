"""The Store protocol behaves the same on every backend: the embedded Oxigraph store, Neo4j and a remote
SPARQL endpoint (Fuseki). The servers are real (tests/conftest_backends.py starts them on loopback)."""
from __future__ import annotations

import pytest
from pyoxigraph import BlankNode, Literal, NamedNode, Quad, Triple

from conftest_backends import fresh_store
from kg.errors import QueryError, StoreURLError, ValidationError
from kg.namespaces import DLOM, RDF, RDFS, SPARQL_PREFIXES, XSD, entity
from kg.repositories import Repository
from kg.results import BooleanResult, GraphResult, Solutions
from kg.store import Store, open_store
from kg.terms import literal
from kg.writes import write_triples

EX = "http://example.org/"
G1, G2 = NamedNode(EX + "g1"), NamedNode(EX + "g2")


def ex(name: str) -> NamedNode:
    return NamedNode(EX + name)


def device_triples(name: str, price: float = 12.5) -> list[Triple]:
    d = entity("device", "test", name)
    return [
        Triple(d, RDF.type, DLOM.EndDevice),
        Triple(d, RDFS.label, literal(f"Device {name}")),
        Triple(d, DLOM.priceUsd, literal(price)),
        Triple(d, DLOM.memoryKB, literal(256.0)),
    ]


def rows(store: Store, sparql: str, **kwargs) -> list[dict]:
    result = store.select(sparql, **kwargs)
    return result.dicts()


def test_store_satisfies_protocol(any_store: Store) -> None:
    assert isinstance(any_store, Store)
    assert any_store.count() > 500  # the ontology is there
    assert any_store.count(Repository.ONTOLOGY.graph) == any_store.count()


def test_select_with_substitutions_is_typed_and_safe(any_store: Store) -> None:
    any_store.add([Quad(ex("a"), ex("name"), Literal("Alice"), G1),
                   Quad(ex("b"), ex("name"), Literal('" } DROP ALL #'), G1)])
    got = rows(any_store, "SELECT ?s WHERE { ?s <http://example.org/name> ?n }",
               substitutions={"n": Literal('" } DROP ALL #')})
    assert got == [{"s": ex("b")}]
    assert any_store.count(G1) == 2  # the hostile value stayed a value


def test_literals_round_trip_exactly(any_store: Store) -> None:
    # (xsd:double is left out: the embedded Oxigraph store rewrites "2.5E0" as "2.5"; Neo4j keeps it,
    # see test_neo4j_literal_encoding_is_lossless.)
    values = [
        Literal("7", datatype=XSD.integer),
        Literal("-12345678901234567890123", datatype=XSD.integer),  # beyond 64 bits
        Literal("1.5", datatype=XSD.decimal),
        Literal("0.1", datatype=XSD.decimal),
        Literal("true", datatype=XSD.boolean),
        Literal("chat", language="fr"),
        Literal("chat", language="en-gb"),
        Literal("plain"),
        Literal("2024-01-02", datatype=XSD.date),
        Literal("x", datatype=NamedNode(EX + "custom")),
        Literal("line\nbreak \"quoted\" \\ tab\t"),
    ]
    quads = [Quad(ex("lit"), ex("p"), value, G1) for value in values]
    any_store.add(quads)
    assert set(any_store.quads(G1)) == set(quads)
    got = {r["o"] for r in rows(any_store, "SELECT ?o WHERE { <http://example.org/lit> <http://example.org/p> ?o }")}
    assert got == set(values)


def test_neo4j_literal_encoding_is_lossless() -> None:
    from kg.stores.neo4j.terms import decode_lexical, encode_literal

    xsd = "http://www.w3.org/2001/XMLSchema#"
    cases = [("007", xsd + "integer"), ("7", xsd + "integer"), ("1.50", xsd + "decimal"), ("1.5", xsd + "decimal"),
             ("2.5E0", xsd + "double"), ("NaN", xsd + "double"), ("INF", xsd + "double"), ("1", xsd + "boolean"),
             ("true", xsd + "boolean"), ("99999999999999999999", xsd + "integer"), ("abc", xsd + "integer")]
    for lexical, datatype in cases:
        stored = encode_literal(lexical, datatype, None)
        assert decode_lexical(stored.dtlang, stored.kind, stored.value) == lexical, (lexical, datatype)
    assert encode_literal("7", xsd + "integer", None).value == 7  # natively typed where exact
    assert encode_literal("1.5", xsd + "decimal", None).value == 1.5
    assert encode_literal("007", xsd + "integer", None).kind == "l"  # else the exact lexical form


def test_ask_and_construct(any_store: Store) -> None:
    any_store.add([Quad(ex("a"), ex("knows"), ex("b"), G1), Quad(ex("b"), ex("age"), literal(42), G2)])
    ask = any_store.query("ASK WHERE { ?x <http://example.org/knows> ?y . ?y <http://example.org/age> 42 }")
    assert ask == BooleanResult(True)
    assert any_store.query("ASK WHERE { ?x <http://example.org/age> 43 }") == BooleanResult(False)
    graph = any_store.query("CONSTRUCT { ?y <http://example.org/knownBy> ?x } "
                            "WHERE { ?x <http://example.org/knows> ?y }")
    assert isinstance(graph, GraphResult)
    assert list(graph.triples) == [Triple(ex("b"), ex("knownBy"), ex("a"))]



def test_select_ask_and_construct_are_typed_and_take_query_keywords(any_store: Store) -> None:
    any_store.add([Quad(ex("a"), ex("knows"), ex("b"), G1), Quad(ex("c"), ex("knows"), ex("d"), G1),
                   Quad(ex("b"), ex("age"), literal(42), G2)])
    solutions = any_store.select("SELECT ?y WHERE { ?x <http://example.org/knows> ?y }",
                                 substitutions={"x": ex("a")})
    assert isinstance(solutions, Solutions) and solutions.dicts() == [{"y": ex("b")}]
    age = "ASK WHERE { ?y <http://example.org/age> ?n }"
    assert any_store.ask(age, substitutions={"n": literal(42)}) is True
    assert any_store.ask(age, substitutions={"n": literal(43)}) is False
    assert any_store.ask(age, substitutions={"n": literal(42)}, default_graph=[G1], timeout_s=30) is False
    graph = any_store.construct("CONSTRUCT { ?y <http://example.org/knownBy> ?x } "
                                "WHERE { ?x <http://example.org/knows> ?y }", substitutions={"x": ex("c")})
    assert isinstance(graph, GraphResult)
    assert list(graph.triples) == [Triple(ex("d"), ex("knownBy"), ex("c"))]
    assert [r["y"] for r in any_store.select("SELECT ?y WHERE { ?x <http://example.org/knows> ?y } ORDER BY ?y",
                                             named_graphs=[G2], default_graph=[G1]).dicts()] == [ex("b"), ex("d")]


def test_a_query_of_another_form_is_a_clear_error(any_store: Store) -> None:
    ask, select = "ASK WHERE { ?s ?p ?o }", "SELECT ?s WHERE { ?s ?p ?o } LIMIT 1"
    with pytest.raises(QueryError, match=r"^Store\.select\(\) runs a SELECT query, but this is an ASK query"):
        any_store.select(ask)
    with pytest.raises(QueryError, match=r"^Store\.ask\(\) runs an ASK query, but this is a SELECT query"):
        any_store.ask(select)
    with pytest.raises(QueryError, match=r"^Store\.construct\(\) runs a CONSTRUCT or DESCRIBE query, but this is "
                                         r"an ASK query .*: ASK WHERE \{ \?s \?p \?o \}$"):
        any_store.construct(ask)
    with pytest.raises(QueryError, match=r"but this is a CONSTRUCT or DESCRIBE query"):
        any_store.select("CONSTRUCT WHERE { ?s ?p ?o }")
    assert any_store.query(ask) == BooleanResult(True)  # query() still runs any form

def test_default_graph_is_union_and_graph_restrictions(any_store: Store) -> None:
    any_store.add([Quad(ex("a"), ex("p"), literal(1), G1), Quad(ex("a"), ex("p"), literal(1), G2),
                   Quad(ex("a"), ex("q"), ex("b"), G2)])
    q = "SELECT ?o WHERE { <http://example.org/a> <http://example.org/p> ?o }"
    # One triple in the union although it is in two graphs (Oxigraph repeats such a solution once per
    # graph; Neo4j and Fuseki give set semantics), hence the set.
    assert {r["o"] for r in rows(any_store, q)} == {literal(1)}
    both = "SELECT DISTINCT ?p ?o WHERE { <http://example.org/a> ?p ?o } ORDER BY ?p"
    assert [r["p"] for r in rows(any_store, both)] == [ex("p"), ex("q")]
    assert [r["p"] for r in rows(any_store, both, default_graph=[G1])] == [ex("p")]
    per_graph = ("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { <http://example.org/a> ?p ?o } } "
                 "GROUP BY ?g ORDER BY ?g")
    assert [(r["g"], int(r["n"].value)) for r in rows(any_store, per_graph)] == [(G1, 1), (G2, 2)]
    assert [r["g"] for r in rows(any_store, per_graph, named_graphs=[G2])] == [G2]


def test_sparql_features_beyond_bgp(any_store: Store) -> None:
    any_store.add([Quad(ex(f"m{i}"), ex("cost"), literal(float(i * 10)), G1) for i in range(5)]
                  + [Quad(ex("m1"), ex("tag"), Literal("cheap"), G1)])
    q = ("SELECT ?m ?c ?t WHERE { ?m <http://example.org/cost> ?c FILTER(?c >= 10.0 && ?c < 40) "
         "OPTIONAL { ?m <http://example.org/tag> ?t } } ORDER BY DESC(?c) LIMIT 2")
    got = rows(any_store, q)
    assert [r["m"] for r in got] == [ex("m3"), ex("m2")]
    agg = rows(any_store, "SELECT (SUM(?c) AS ?s) (MAX(?c) AS ?mx) WHERE { ?m <http://example.org/cost> ?c }")
    assert float(agg[0]["s"].value) == 100.0 and float(agg[0]["mx"].value) == 40.0
    union = rows(any_store, "SELECT ?m WHERE { { ?m <http://example.org/tag> 'cheap' } UNION "
                            "{ ?m <http://example.org/cost> 0.0 } } ORDER BY ?m")
    assert [r["m"] for r in union] == [ex("m0"), ex("m1")]
    minus = rows(any_store, "SELECT ?m WHERE { ?m <http://example.org/cost> ?c "
                            "MINUS { ?m <http://example.org/tag> ?t } } ORDER BY ?m")
    assert [r["m"] for r in minus] == [ex("m0"), ex("m2"), ex("m3"), ex("m4")]


def test_malformed_query_raises_query_error(any_store: Store) -> None:
    with pytest.raises(QueryError):
        any_store.query("SELECT WHERE { this is not sparql")
    with pytest.raises(QueryError):
        any_store.update("INSERT DATA { <http://example.org/a> <http://example.org/p> }")


def test_update_is_one_transaction(any_store: Store) -> None:
    any_store.update("INSERT DATA { GRAPH <http://example.org/g1> { <http://example.org/a> <http://example.org/p> 1 } }")
    assert any_store.count(G1) == 1
    any_store.update("DELETE { GRAPH <http://example.org/g1> { ?s ?p 1 } } "
                     "INSERT { GRAPH <http://example.org/g1> { ?s ?p 2 } } "
                     "WHERE { GRAPH <http://example.org/g1> { ?s ?p 1 } }")
    assert set(any_store.quads(G1)) == {Quad(ex("a"), ex("p"), literal(2), G1)}
    with pytest.raises(QueryError):  # second operation is malformed: the first must not land
        any_store.update("INSERT DATA { GRAPH <http://example.org/g1> { <http://example.org/z> <http://example.org/p> 3 } } ; "
                         "INSERT DATA { GRAPH <http://example.org/g1> { <http://example.org/z> } }")
    assert any_store.count(G1) == 1


def test_add_replace_and_count_per_graph(any_store: Store) -> None:
    base = any_store.count()
    a, b = Quad(ex("a"), ex("p"), literal(1), G1), Quad(ex("a"), ex("p"), literal(2), G2)
    any_store.add([a, b, a])  # set semantics: a duplicate is one quad
    assert (any_store.count(G1), any_store.count(G2), any_store.count()) == (1, 1, base + 2)
    c = Quad(ex("a"), ex("p"), literal(3), G1)
    any_store.replace([a], [c])
    assert set(any_store.quads(G1)) == {c}
    assert set(any_store.quads(G2)) == {b}
    any_store.replace([], [a])
    assert any_store.count(G1) == 2


def test_load_nquads_adds_the_data_or_nothing(any_store: Store) -> None:
    a, b = Quad(ex("a"), ex("p"), literal(1), G1), Quad(ex("b"), ex("p"), literal("x"), G2)
    before = any_store.count()
    any_store.load_nquads(f"{a} .\n{b} .\n".encode())
    assert {a, b} <= set(any_store.quads()) and any_store.count() == before + 2
    with pytest.raises(QueryError, match="malformed N-Quads"):
        any_store.load_nquads(f"{Quad(ex('c'), ex('p'), literal(1), G1)} .\n<oops> .\n".encode())
    assert any_store.count() == before + 2


def test_add_is_atomic(any_store: Store) -> None:
    good = Quad(ex("a"), ex("p"), literal(1), G1)
    # An RDF-star triple term as object is rejected by every backend's write path; nothing may land.
    try:
        bad = Quad(ex("a"), ex("p"), Triple(ex("x"), ex("y"), ex("z")), G1)
    except (TypeError, ValueError):
        pytest.skip("pyoxigraph build without RDF-star")
    before = any_store.count()
    try:
        any_store.add([good, bad])
    except Exception:  # noqa: BLE001 - the failure mode is backend specific; atomicity is the point
        assert any_store.count() == before
    else:
        # Oxigraph stores triple terms: then both landed, which is atomic too.
        assert any_store.count() == before + 2


def test_write_triples_validates_end_to_end(any_store: Store) -> None:
    report = write_triples(any_store, device_triples("one"), source="test")
    assert report.triples == 4
    device = entity("device", "test", "one")
    assert any_store.count(Repository.CLIENT_CONFIGURATIONS.graph) == 4
    got = rows(any_store, SPARQL_PREFIXES + "SELECT ?price WHERE { ?d a dlom:EndDevice ; dlom:priceUsd ?price }",
               substitutions={"d": device})
    assert got == [{"price": literal(12.5)}]
    before = any_store.count()
    invalid = device_triples("two", price=-5.0) + [Triple(entity("device", "test", "two"), DLOM.priceUsd, Literal("cheap"))]
    with pytest.raises(ValidationError):
        write_triples(any_store, invalid, source="bad.csv")
    assert any_store.count() == before  # nothing written
    # Adding to an existing entity sees its stored type (routing and maxCount checks read the store).
    with pytest.raises(ValidationError):
        write_triples(any_store, [Triple(device, DLOM.priceUsd, literal(13.0))], source="second price")


def test_blank_nodes_and_iris_kept_apart(any_store: Store) -> None:
    any_store.add([Quad(BlankNode("b1"), ex("p"), ex("o"), G1), Quad(ex("s"), ex("p"), BlankNode("b2"), G1)])
    got = rows(any_store, "SELECT ?s ?o WHERE { ?s <http://example.org/p> ?o } ORDER BY ?o")
    assert len(got) == 2
    assert sum(isinstance(r["s"], BlankNode) for r in got) == 1
    assert sum(isinstance(r["o"], BlankNode) for r in got) == 1


def test_clear_empties_every_graph(any_store: Store) -> None:
    any_store.add([Quad(ex("a"), ex("p"), literal(1), G1)])
    any_store.clear()
    assert any_store.count() == 0
    assert list(any_store.quads()) == []


# -- backend specific --------------------------------------------------------------------------------


def test_neo4j_mapping_is_property_graph(neo4j_url: str) -> None:
    from neo4j import GraphDatabase

    store = fresh_store("neo4j", with_ontology=False)
    write_triples(store, device_triples("n"), source="test")
    store.close()
    with GraphDatabase.driver(neo4j_url) as driver:
        record = driver.execute_query(
            "MATCH (n:Resource {uri: $uri}) RETURN labels(n) AS labels, keys(n) AS keys", uri=entity("device", "test", "n").value
        ).records[0]
    assert DLOM.EndDevice.value in record["labels"]  # rdf:type is a label (full IRI)
    assert any(k.startswith(DLOM.priceUsd.value + " ") for k in record["keys"])  # a literal is a property


def test_neo4j_url_errors_are_clear() -> None:
    with pytest.raises(StoreURLError, match="cannot reach|refused"):
        open_store("neo4j://127.0.0.1:1")
    with pytest.raises(StoreURLError, match="unknown"):
        open_store("neo4j://127.0.0.1:1?bogus=1")


def test_remote_endpoint_urls_derive_from_store_url() -> None:
    from kg.stores.sparql_remote import endpoints_for

    assert endpoints_for("sparql+http://h:3030/ds")[:2] == ("http://h:3030/ds/query", "http://h:3030/ds/update")
    assert endpoints_for("sparql+https://h/repositories/kg?query=&update=statements")[:2] == (
        "https://h/repositories/kg", "https://h/repositories/kg/statements")
    assert endpoints_for("sparql+http://h:7878?query=/query&update=/update")[:2] == (
        "http://h:7878/query", "http://h:7878/update")
    with pytest.raises(StoreURLError):
        endpoints_for("sparql+http://h/ds?nonsense=1")


def test_remote_union_modes_agree(fuseki_url: str) -> None:
    store = fresh_store("sparql", with_ontology=False)
    store.add([Quad(ex("a"), ex("p"), literal(1), G1), Quad(ex("b"), ex("p"), literal(2), G2)])
    q = "SELECT ?s WHERE { ?s <http://example.org/p> ?o } ORDER BY ?s"
    jena = open_store(fuseki_url + "?union=jena")
    assert rows(store, q) == rows(jena, q) == [{"s": ex("a")}, {"s": ex("b")}]
    with pytest.raises(StoreURLError, match="nowhere"):
        open_store(fuseki_url + "?query=nowhere")


def test_graph_level_updates(any_store: Store) -> None:
    any_store.add([Quad(ex("a"), ex("p"), literal(1), G1), Quad(ex("b"), ex("p"), ex("c"), G1),
                   Quad(ex("a"), ex("p"), literal(2), G2)])
    any_store.update("INSERT { GRAPH <http://example.org/g3> { ?s <http://example.org/copied> ?o } } "
                     "WHERE { GRAPH ?g { ?s <http://example.org/p> ?o } }")
    assert any_store.count(NamedNode(EX + "g3")) == 3
    any_store.update("CLEAR GRAPH <http://example.org/g1>")
    assert any_store.count(G1) == 0 and any_store.count(G2) == 1
    any_store.update("DELETE WHERE { GRAPH <http://example.org/g3> { ?s ?p ?o } }")
    assert any_store.count(NamedNode(EX + "g3")) == 0
    assert set(any_store.quads(G2)) == {Quad(ex("a"), ex("p"), literal(2), G2)}


@pytest.mark.parametrize("backend", ["neo4j", "sparql"])
def test_query_timeout_is_reported(backend: str) -> None:
    from kg.errors import QueryTimeoutError

    store = fresh_store(backend)  # ~800 ontology quads: their cross product has ~650,000 rows
    with pytest.raises(QueryTimeoutError):
        # (A 2-way product, so that a server which goes on after the client gave up is soon done.)
        store.query("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f FILTER(?c != ?f) }", timeout_s=0.05)
    assert rows(store, "SELECT (COUNT(*) AS ?n) WHERE { ?a a ?c }")  # the store is still usable
    store.clear()  # do not leave the server busy with data for the next test
    store.close()


def test_neo4j_sends_each_bgp_as_one_cypher_query(neo4j_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from kg.stores.neo4j.rdflib_view import CypherTripleStore

    store = fresh_store("neo4j", with_ontology=False)
    write_triples(store, device_triples("x", price=10.0) + device_triples("y", price=99.0), source="test")
    sent: list = []
    run_bgp = CypherTripleStore.run_bgp

    def recording(self, compiled):  # the real method, with the Cypher it sends recorded
        sent.append(compiled)
        return run_bgp(self, compiled)

    monkeypatch.setattr(CypherTripleStore, "run_bgp", recording)
    got = rows(store, SPARQL_PREFIXES + "SELECT ?d ?label WHERE { ?d a dlom:EndDevice ; rdfs:label ?label ; "
                                        "dlom:priceUsd ?p ; dlom:memoryKB ?m FILTER(?p < 50) }")
    assert [r["label"] for r in got] == [literal("Device x")]
    assert len(sent) == 1  # four triple patterns, one Cypher query
    assert " < $" in sent[0].cypher and 50 in sent[0].params.values()  # the numeric FILTER went along
    store.close()


def test_neo4j_changes_rdflib_custom_evaluations_only_while_it_evaluates(
        neo4j_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from rdflib.plugins.sparql import CUSTOM_EVALS

    import kg.stores.neo4j.rdflib_view as view

    store = fresh_store("neo4j", with_ontology=False)  # the backend is imported (open_store discovers it)
    before = dict(CUSTOM_EVALS)
    assert not any(name.startswith("dlom_") for name in before)
    seen: list[set[str]] = []
    original = view._evaluate_bgp_in_cypher

    def looking(ctx, part):  # the real evaluation, noting what rdflib's table holds while it runs
        seen.append(set(CUSTOM_EVALS))
        return original(ctx, part)

    monkeypatch.setitem(view._CUSTOM_EVALUATIONS, "dlom_neo4j_bgp", looking)
    write_triples(store, device_triples("x", price=10.0), source="test")
    assert rows(store, "SELECT ?s WHERE { ?s ?p ?o } LIMIT 1")
    assert seen and all({"dlom_neo4j_bgp", "dlom_neo4j_grouped_aggregate"} <= names for names in seen)
    assert dict(CUSTOM_EVALS) == before
    store.clear()
    store.close()


def test_neo4j_update_rolls_back_on_a_failing_operation(neo4j_url: str) -> None:
    store = fresh_store("neo4j", with_ontology=False)
    store.update("INSERT DATA { GRAPH <http://example.org/g1> { <http://example.org/a> <http://example.org/p> 1 } }")
    with pytest.raises(QueryError, match="nothing was written"):
        # The first operation succeeds, the second fails at run time (the graph exists): all or nothing.
        store.update("INSERT DATA { GRAPH <http://example.org/g1> { <http://example.org/z> <http://example.org/p> 3 } } ; "
                     "CREATE GRAPH <http://example.org/g1>")
    assert store.count(G1) == 1
    store.close()
