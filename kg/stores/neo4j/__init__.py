"""A Neo4j backend: the knowledge graph as a property graph, with full SPARQL 1.1 on top.

URLs: ``neo4j://[user:password@]host:7687[?database=neo4j&timeout=30]`` (also ``bolt://``,
``neo4j+s://``, ``bolt+s://``). Credentials may come from the URL or from the environment variables
``DLOM_NEO4J_USER`` / ``DLOM_NEO4J_PASSWORD``; without either the driver connects without auth.

Mapping (exact round trip: every quad that goes in comes out again, term for term)
-------------------------------------------------------------------------------
* Every IRI or blank node that is a subject or an IRI/blank-node object is a node labelled
  ``Resource`` with a unique ``uri`` property (the n10s convention). Blank nodes keep their label as
  ``uri = "_:<label>"`` (never a valid absolute IRI, so the two cannot collide).
* A quad whose object is an IRI or blank node is a relationship whose *type is the full predicate IRI*
  and whose ``graph`` property is the graph IRI (``""`` for the default graph). The same triple in two
  graphs is two relationships. ``rdf:type`` is stored like this too (that relationship is the truth,
  with its graph), and additionally the subject gets the class IRI as a *label* (full IRI, not
  shortened, so no prefix registry is needed), e.g. ``MATCH (m:`https://w3id.org/dlom#Model`)``.
* A quad whose object is a literal is a list-valued node property whose key is
  ``"<predicate IRI> <datatype IRI or @lang> <n|l> <graph IRI or empty>"`` (IRIs and language tags
  cannot contain spaces). ``n`` keys hold native Neo4j values (integers for canonical xsd:integer,
  floats for xsd:decimal/xsd:double whose lexical form is the canonical one, booleans, strings);
  ``l`` keys hold the exact lexical form as a string when a native value would not give it back
  (``"007"^^xsd:integer``). Each key's list is homogeneous, as Neo4j requires.
* Constraint: ``Resource.uri`` is unique (which also indexes it). Every :meth:`Neo4jStore.add`,
  :meth:`~Neo4jStore.replace` and :meth:`~Neo4jStore.update` is one Neo4j transaction, written with
  batched ``UNWIND`` statements.

SPARQL
------
Queries and updates are evaluated with rdflib's SPARQL 1.1 algebra evaluator over an rdflib ``Store``
view of the graph (:class:`~kg.stores.neo4j.rdflib_view.CypherTripleStore`), and every basic graph
pattern is compiled into *one* Cypher query (:func:`~kg.stores.neo4j.cypher.compile_bgp`) instead of one
lookup per triple pattern. Results are pyoxigraph terms in :mod:`kg.results` types. ``SERVICE`` is
refused (it would make the server fetch arbitrary URLs).

Modules: :mod:`~kg.stores.neo4j.terms` (the term encoding above), :mod:`~kg.stores.neo4j.writes`
(UNWIND writes), :mod:`~kg.stores.neo4j.cypher` (BGP → Cypher), :mod:`~kg.stores.neo4j.rdflib_view`
(rdflib's evaluator over a Neo4j transaction), :mod:`~kg.stores.neo4j.store` (the Store).
"""
from kg.stores.neo4j.store import Neo4jStore

__all__ = ["Neo4jStore"]
