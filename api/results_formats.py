"""Serializers for SPARQL results, and content negotiation between them.

SELECT/ASK results are written by hand, following the W3C result-format specifications:

* SPARQL 1.1 Query Results JSON Format (https://www.w3.org/TR/sparql11-results-json/)
* SPARQL Query Results XML Format, 2nd ed. (https://www.w3.org/TR/rdf-sparql-XMLres/)
* SPARQL 1.1 Query Results CSV and TSV Formats (https://www.w3.org/TR/sparql11-results-csv-tsv/)

CONSTRUCT/DESCRIBE results (triples) are written by pyoxigraph's RDF serializers (Turtle, N-Triples,
JSON-LD, RDF/XML).

Truncation at the row limit is never silent. A truncated result carries, inside the body wherever the
format has a place for it, the link :data:`TRUNCATED_LINK` (``head.link`` in JSON, ``<link href>`` in
XML; a ``#`` comment in Turtle and N-Triples), and the HTTP layer adds the response header
``DLOM-Results-Truncated: true``. CSV, TSV and JSON-LD have no place for metadata: for those the header
is the signal.
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring as _json_string  # the C encoder json.dumps(ensure_ascii=False) uses
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox
from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from kg.namespaces import PREFIXES, XSD

TRUNCATED_LINK = "https://w3id.org/dlom/sparql#results-truncated"
"""Link placed in a truncated result's head (JSON ``head.link``, XML ``<link href>``)."""

_XSD_STRING = str(XSD.string.value)
_RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"

Row = tuple[object | None, ...]


@dataclass(frozen=True)
class Format:
    """One result format: the media type served and the media types a client may ask for it by."""

    name: str
    media_type: str
    aliases: tuple[str, ...] = ()

    @property
    def content_type(self) -> str:
        return f"{self.media_type}; charset=utf-8"


SPARQL_JSON = Format("json", "application/sparql-results+json", ("application/json",))
SPARQL_XML = Format("xml", "application/sparql-results+xml", ("application/xml", "text/xml"))
CSV = Format("csv", "text/csv")
TSV = Format("tsv", "text/tab-separated-values")
TURTLE = Format("turtle", "text/turtle", ("application/x-turtle",))
N_TRIPLES = Format("ntriples", "application/n-triples", ("text/plain",))
JSON_LD = Format("jsonld", "application/ld+json", ("application/json",))
RDF_XML = Format("rdfxml", "application/rdf+xml", ("application/xml", "text/xml"))
HTML = Format("html", "text/html", ("application/xhtml+xml",))

SOLUTION_FORMATS: tuple[Format, ...] = (SPARQL_JSON, SPARQL_XML, CSV, TSV)
"""Formats for SELECT results, in server preference order (the first is the default)."""
BOOLEAN_FORMATS: tuple[Format, ...] = (SPARQL_JSON, SPARQL_XML)
"""Formats for ASK results. CSV/TSV define no boolean form, so they are not offered for ASK."""
GRAPH_FORMATS: tuple[Format, ...] = (TURTLE, N_TRIPLES, JSON_LD, RDF_XML)
"""Formats for CONSTRUCT/DESCRIBE results and other RDF documents, in server preference order."""

_RDF_FORMATS = {
    TURTLE.name: ox.RdfFormat.TURTLE,
    N_TRIPLES.name: ox.RdfFormat.N_TRIPLES,
    JSON_LD.name: ox.RdfFormat.JSON_LD,
    RDF_XML.name: ox.RdfFormat.RDF_XML,
}


# -- content negotiation ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MediaRange:
    type: str
    subtype: str
    q: float

    def specificity(self, media_type: str) -> int | None:
        """How specifically this range matches ``media_type`` (2 exact, 1 ``type/*``, 0 ``*/*``), or
        None when it does not match."""
        t, _, s = media_type.partition("/")
        if self.type == "*" and self.subtype == "*":
            return 0
        if self.type == t and self.subtype == "*":
            return 1
        if self.type == t and self.subtype == s:
            return 2
        return None


def parse_accept(header: str | None) -> list[MediaRange]:
    """The media ranges of an HTTP ``Accept`` header (RFC 9110 §12.5.1). Malformed entries and
    unparsable q-values are skipped rather than failing the request; an empty header means ``*/*``."""
    if not header or not header.strip():
        return [MediaRange("*", "*", 1.0)]
    ranges = []
    for part in header.split(","):
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        if "/" not in media:
            continue
        t, _, s = media.partition("/")
        if not t or not s:
            continue
        q = 1.0
        for param in fields[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = min(max(float(value.strip()), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        ranges.append(MediaRange(t, s, q))
    return ranges


def negotiate(accept: str | None, offered: Sequence[Format]) -> Format | None:
    """The offered format the client prefers most (highest q of the most specific matching range;
    ties go to the server's order), or None when every offer is unacceptable (q=0 or unmatched)."""
    ranges = parse_accept(accept)
    best: tuple[float, int, Format] | None = None
    for rank, fmt in enumerate(offered):
        q_value: float | None = None
        for media_type in (fmt.media_type, *fmt.aliases):
            matches = [(r.specificity(media_type), r.q) for r in ranges]
            matches = [(spec, q) for spec, q in matches if spec is not None]
            if not matches:
                continue
            top = max(spec for spec, _ in matches)
            # An alias (e.g. application/json) counts only when named explicitly, so that */* still
            # picks the format's own media type; it does not lower a q already found.
            q = max(q for spec, q in matches if spec == top)
            if media_type != fmt.media_type and top < 2:
                continue
            q_value = q if q_value is None else max(q_value, q)
        if q_value is None or q_value <= 0:
            continue
        key = (q_value, -rank, fmt)
        if best is None or key[:2] > best[:2]:
            best = key
    return best[2] if best else None


# -- SELECT / ASK --------------------------------------------------------------------------------


def _json_term(term: object) -> str:
    """One RDF term as a SPARQL JSON term object, written as JSON text.

    Written by hand rather than built as dicts for :func:`json.dumps`: this is the per-term inner loop
    of every JSON response. The output is exactly what ``json.dumps(..., ensure_ascii=False)`` of the
    equivalent dict gives (same key order, separators and string escaping, by the same C encoder)."""
    if isinstance(term, NamedNode):
        return '{"type": "uri", "value": ' + _json_string(term.value) + "}"
    if isinstance(term, Literal):
        value = _json_string(term.value)
        language = term.language
        if language:
            return '{"type": "literal", "value": ' + value + ', "xml:lang": ' + _json_string(language) + "}"
        datatype = term.datatype.value
        if datatype != _XSD_STRING:
            return '{"type": "literal", "value": ' + value + ', "datatype": ' + _json_string(datatype) + "}"
        return '{"type": "literal", "value": ' + value + "}"
    if isinstance(term, BlankNode):
        return '{"type": "bnode", "value": ' + _json_string(term.value) + "}"
    if isinstance(term, Triple):  # RDF-star / RDF 1.2 triple term (SPARQL-star JSON form)
        return ('{"type": "triple", "value": {"subject": ' + _json_term(term.subject) + ', "predicate": '
                + _json_term(term.predicate) + ', "object": ' + _json_term(term.object) + "}}")
    raise TypeError(f"not an RDF term: {term!r}")


def solutions_json(variables: Sequence[str], rows: Sequence[Row], truncated: bool = False) -> bytes:
    """SPARQL 1.1 Query Results JSON; unbound variables are left out of a binding object.

    The same bytes as ``json.dumps({"head": ..., "results": {"bindings": [...]}}, ensure_ascii=False)``,
    written directly (see :func:`_json_term`)."""
    head = '{"vars": [' + ", ".join(_json_string(v) for v in variables) + "]"
    if truncated:
        head += ', "link": [' + _json_string(TRUNCATED_LINK) + "]"
    keys = [_json_string(v) + ": " for v in variables]
    bindings = ", ".join(
        "{" + ", ".join(key + _json_term(t) for key, t in zip(keys, row) if t is not None) + "}" for row in rows)
    return ('{"head": ' + head + '}, "results": {"bindings": [' + bindings + "]}}").encode()


def boolean_json(value: bool) -> bytes:
    return json.dumps({"head": {}, "boolean": value}).encode()


_XML_HEAD = '<?xml version="1.0" encoding="utf-8"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">\n'


def _xml_text(text: str) -> str:
    # XML 1.0 cannot carry most C0 control characters at all, even escaped; they are replaced by
    # U+FFFD so the document stays well-formed (the JSON format carries them exactly).
    cleaned = "".join(c if (c in "\t\n\r" or ord(c) >= 0x20) and c not in "\ufffe\uffff" else "\ufffd" for c in text)
    return escape(cleaned, {"\r": "&#13;"})


def _xml_term(term: object) -> str:
    if isinstance(term, NamedNode):
        return f"<uri>{_xml_text(term.value)}</uri>"
    if isinstance(term, BlankNode):
        return f"<bnode>{_xml_text(term.value)}</bnode>"
    if isinstance(term, Literal):
        if term.language:
            return f"<literal xml:lang={quoteattr(term.language)}>{_xml_text(term.value)}</literal>"
        if term.datatype.value != _XSD_STRING:
            return f"<literal datatype={quoteattr(term.datatype.value)}>{_xml_text(term.value)}</literal>"
        return f"<literal>{_xml_text(term.value)}</literal>"
    if isinstance(term, Triple):
        return (f"<triple><subject>{_xml_term(term.subject)}</subject><predicate>{_xml_term(term.predicate)}"
                f"</predicate><object>{_xml_term(term.object)}</object></triple>")
    raise TypeError(f"not an RDF term: {term!r}")


def solutions_xml(variables: Sequence[str], rows: Sequence[Row], truncated: bool = False) -> bytes:
    """SPARQL Query Results XML; unbound variables get no ``<binding>`` element."""
    out = [_XML_HEAD, "  <head>\n"]
    out += [f"    <variable name={quoteattr(v)}/>\n" for v in variables]
    if truncated:
        out.append(f"    <link href={quoteattr(TRUNCATED_LINK)}/>\n")
    out.append("  </head>\n  <results>\n")
    for row in rows:
        out.append("    <result>\n")
        for v, t in zip(variables, row):
            if t is not None:
                out.append(f"      <binding name={quoteattr(v)}>{_xml_term(t)}</binding>\n")
        out.append("    </result>\n")
    out.append("  </results>\n</sparql>\n")
    return "".join(out).encode()


def boolean_xml(value: bool) -> bytes:
    return (_XML_HEAD + f"  <head/>\n  <boolean>{'true' if value else 'false'}</boolean>\n</sparql>\n").encode()


def _csv_cell(term: object) -> str:
    # CSV carries only the lexical form: IRIs bare, literals without datatype or language, blank
    # nodes as _:label (CSV/TSV spec §3.1).
    if term is None:
        return ""
    if isinstance(term, BlankNode):
        return f"_:{term.value}"
    if isinstance(term, NamedNode | Literal):
        return term.value
    return str(term)


def solutions_csv(variables: Sequence[str], rows: Sequence[Row]) -> bytes:
    """SPARQL 1.1 CSV (RFC 4180: CRLF line ends, fields with comma, quote or line break quoted)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(variables)
    for row in rows:
        writer.writerow([_csv_cell(t) for t in row])
    return buffer.getvalue().encode()


def _tsv_cell(term: object) -> str:
    # TSV cells are RDF terms in Turtle/N-Triples syntax; pyoxigraph's str() is that syntax with
    # tabs and newlines escaped, so a cell never breaks the row.
    return "" if term is None else str(term)


def solutions_tsv(variables: Sequence[str], rows: Sequence[Row]) -> bytes:
    """SPARQL 1.1 TSV: header of ``?var`` names, LF line ends, terms in Turtle syntax."""
    lines = ["\t".join(f"?{v}" for v in variables)]
    lines += ["\t".join(_tsv_cell(t) for t in row) for row in rows]
    return ("\n".join(lines) + "\n").encode()


def serialize_solutions(fmt: Format, variables: Sequence[str], rows: Sequence[Row], truncated: bool) -> bytes:
    """SELECT results in one of :data:`SOLUTION_FORMATS`."""
    if fmt is SPARQL_JSON:
        return solutions_json(variables, rows, truncated)
    if fmt is SPARQL_XML:
        return solutions_xml(variables, rows, truncated)
    if fmt is CSV:
        return solutions_csv(variables, rows)
    if fmt is TSV:
        return solutions_tsv(variables, rows)
    raise ValueError(f"{fmt.media_type} is not a SELECT result format")


def serialize_boolean(fmt: Format, value: bool) -> bytes:
    """ASK results in one of :data:`BOOLEAN_FORMATS`."""
    if fmt is SPARQL_JSON:
        return boolean_json(value)
    if fmt is SPARQL_XML:
        return boolean_xml(value)
    raise ValueError(f"{fmt.media_type} is not an ASK result format")


def serialize_triples(fmt: Format, triples: Sequence[Triple], truncated: bool = False,
                      prefixes: dict[str, str] | None = None) -> bytes:
    """Triples in one of :data:`GRAPH_FORMATS` (pyoxigraph's serializers). Turtle and N-Triples of a
    truncated result start with a ``# `` comment saying so."""
    rdf_format = _RDF_FORMATS.get(fmt.name)
    if rdf_format is None:
        raise ValueError(f"{fmt.media_type} is not an RDF format")
    use_prefixes = (PREFIXES if prefixes is None else prefixes) if fmt is TURTLE else None
    body = ox.serialize(triples, format=rdf_format, prefixes=use_prefixes) or b""
    if truncated and fmt in (TURTLE, N_TRIPLES):
        body = f"# DLOM: results truncated at the row limit; see <{TRUNCATED_LINK}>\n".encode() + body
    return body
