"""How RDF terms are stored in Neo4j (see :mod:`kg.stores.neo4j`): node keys, graph keys, literal
property keys with their native or lexical values, and the exact way back to pyoxigraph terms."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from pyoxigraph import BlankNode, DefaultGraph, Literal, NamedNode, Quad

from kg.errors import QueryError

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
XSD = "http://www.w3.org/2001/XMLSchema#"
XSD_STRING = XSD + "string"
NATIVE_NUMERIC = {XSD + "integer", XSD + "decimal", XSD + "double"}

NodeKey = str  # an IRI, or "_:" + blank node label
GraphKey = str  # a graph IRI, "_:" + label, or "" for the default graph


@dataclass(frozen=True)
class StoredLiteral:
    """A literal as stored: datatype IRI (or ``@lang``), storage kind (``n`` native / ``l`` lexical), value."""

    dtlang: str
    kind: str
    value: Any

    def key_prefix(self, predicate: str) -> str:
        return f"{predicate} {self.dtlang} {self.kind} "


@dataclass(frozen=True)
class StoredQuad:
    """A quad in storage form: the object is a node key (IRI/blank node) or a :class:`StoredLiteral`."""

    s: NodeKey
    p: str
    o: NodeKey | StoredLiteral
    g: GraphKey


def _decimal_lexical(f: float) -> str:
    # The form kg.terms.literal() writes for floats: shortest repr, never in exponent notation.
    return format(Decimal(repr(f)), "f")


def encode_literal(lexical: str, datatype: str | None, language: str | None) -> StoredLiteral:
    """Storage form of a literal; native Neo4j values only where decoding gives the same lexical form back."""
    if language:
        return StoredLiteral("@" + language, "n", lexical)
    dt = datatype or XSD_STRING
    if dt == XSD_STRING:
        return StoredLiteral(dt, "n", lexical)
    try:
        if dt == XSD + "integer":
            i = int(lexical)
            if str(i) == lexical and -(2**63) <= i < 2**63:
                return StoredLiteral(dt, "n", i)
        elif dt == XSD + "boolean" and lexical in ("true", "false"):
            return StoredLiteral(dt, "n", lexical == "true")
        elif dt == XSD + "decimal":
            f = float(lexical)
            if _decimal_lexical(f) == lexical:
                return StoredLiteral(dt, "n", f)
        elif dt == XSD + "double":
            f = float(lexical)
            if repr(f) == lexical:
                return StoredLiteral(dt, "n", f)
    except (ValueError, InvalidOperation, OverflowError):
        pass
    return StoredLiteral(dt, "l", lexical)


def decode_lexical(dtlang: str, kind: str, value: Any) -> str:
    """The exact lexical form of a stored literal value."""
    if kind == "l" or isinstance(value, str):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if dtlang == XSD + "decimal":
        return _decimal_lexical(value)
    return repr(value)


def _node_key(term: NamedNode | BlankNode) -> NodeKey:
    return term.value if isinstance(term, NamedNode) else "_:" + term.value


def graph_key(graph: NamedNode | BlankNode | DefaultGraph) -> GraphKey:
    return "" if isinstance(graph, DefaultGraph) else _node_key(graph)


def _ox_node(key: NodeKey) -> NamedNode | BlankNode:
    return BlankNode(key[2:]) if key.startswith("_:") else NamedNode(key)


def _ox_literal(dtlang: str, kind: str, value: Any) -> Literal:
    lexical = decode_lexical(dtlang, kind, value)
    if dtlang.startswith("@"):
        return Literal(lexical, language=dtlang[1:])
    return Literal(lexical, datatype=NamedNode(dtlang))


def quad_to_stored(q: Quad) -> StoredQuad:
    # Hot path of bulk loads: exact type checks and a cache of literal encodings (labels, categories
    # and small numbers repeat a lot).
    o = q.object
    if type(o) is Literal:
        obj: NodeKey | StoredLiteral = _encode_cached(o.value, o.datatype.value, o.language)
    elif type(o) is NamedNode:
        obj = o.value
    elif type(o) is BlankNode:
        obj = "_:" + o.value
    else:
        raise QueryError(f"the neo4j backend cannot store RDF-star triple terms: {q}")
    s = q.subject
    g = q.graph_name
    return StoredQuad(s.value if type(s) is NamedNode else "_:" + s.value, q.predicate.value, obj,
                      g.value if type(g) is NamedNode else graph_key(g))


_encode_cached = functools.lru_cache(maxsize=65_536)(encode_literal)


def stored_to_quad(s: NodeKey, p: str, o: NodeKey | tuple[str, str, Any], g: GraphKey) -> Quad:
    obj = _ox_literal(*o) if isinstance(o, tuple) else _ox_node(o)
    graph = DefaultGraph() if g == "" else _ox_node(g)
    return Quad(_ox_node(s), NamedNode(p), obj, graph)


def quoted_identifier(name: str) -> str:
    """A Cypher identifier (label / relationship type) quoted in backticks; backticks are doubled."""
    return "`" + name.replace("`", "``") + "`"


def split_property_key(key: str) -> tuple[str, str, str, str]:
    p, dtlang, kind, g = key.split(" ", 3)
    return p, dtlang, kind, g
