"""Conversion of Python values to typed RDF literals and back."""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from pyoxigraph import BlankNode, Literal, NamedNode

from kg.namespaces import RDF, XSD

Term = NamedNode | BlankNode | Literal

_NUMERIC = {XSD[t].value for t in ("integer", "decimal", "double", "float", "int", "long")}
_INTEGER = {XSD[t].value for t in ("integer", "int", "long")}


def literal(value: Any) -> Literal:
    """A typed literal for ``value``: int → xsd:integer, float/Decimal → xsd:decimal, bool → xsd:boolean,
    datetime → xsd:dateTime, date → xsd:date, dict/list → rdf:JSON, anything else → xsd:string."""
    if isinstance(value, Literal):
        return value
    if isinstance(value, bool):
        return Literal("true" if value else "false", datatype=XSD.boolean)
    if isinstance(value, int):
        return Literal(str(value), datatype=XSD.integer)
    if isinstance(value, float):
        return Literal(format(Decimal(repr(value)), "f"), datatype=XSD.decimal)
    if isinstance(value, Decimal):
        return Literal(format(value, "f"), datatype=XSD.decimal)
    if isinstance(value, dt.datetime):
        return Literal(value.isoformat(), datatype=XSD.dateTime)
    if isinstance(value, dt.date):
        return Literal(value.isoformat(), datatype=XSD.date)
    if isinstance(value, (dict, list)):
        return Literal(json.dumps(value, sort_keys=True, ensure_ascii=False), datatype=RDF.JSON)
    return Literal(str(value))


def is_numeric(term: Term) -> bool:
    return isinstance(term, Literal) and term.datatype.value in _NUMERIC


def to_python(term: Term | None) -> Any:
    """The Python value of a term: numbers, booleans, strings; IRIs and blank nodes as their string."""
    if term is None:
        return None
    if isinstance(term, NamedNode | BlankNode):
        return term.value
    dtype = term.datatype.value
    if dtype in _INTEGER:
        return int(term.value)
    if dtype in _NUMERIC:
        return float(term.value)
    if dtype == XSD.boolean.value:
        return term.value in ("true", "1")
    return term.value
