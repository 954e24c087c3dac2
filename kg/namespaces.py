"""IRIs of the vocabularies DLOM uses and the scheme for naming DLOM's own entities."""
from __future__ import annotations

import functools
import re
import unicodedata

from pyoxigraph import NamedNode


class Namespace(str):
    """A namespace IRI; ``NS.term`` and ``NS["term"]`` give a :class:`pyoxigraph.NamedNode`."""

    def __getattr__(self, name: str) -> NamedNode:
        if name.startswith("__"):
            raise AttributeError(name)
        # kept as an attribute: importers name the same terms millions of times, and the next lookup
        # finds it without calling this
        node = self.__dict__[name] = NamedNode(self + name)
        return node

    def __getitem__(self, name: str) -> NamedNode:  # type: ignore[override]
        return NamedNode(self + name)


DLOM = Namespace("https://w3id.org/dlom#")
DLOM_ID = "https://w3id.org/dlom/id/"
RDF = Namespace("http://www.w3.org/1999/02/22-rdf-syntax-ns#")
RDFS = Namespace("http://www.w3.org/2000/01/rdf-schema#")
OWL = Namespace("http://www.w3.org/2002/07/owl#")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")
PROV = Namespace("http://www.w3.org/ns/prov#")
SCHEMA = Namespace("https://schema.org/")
SH = Namespace("http://www.w3.org/ns/shacl#")

PREFIXES: dict[str, str] = {
    "dlom": str(DLOM),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "owl": str(OWL),
    "xsd": str(XSD),
    "prov": str(PROV),
    "schema": str(SCHEMA),
}

DLOM_VOCABULARIES: tuple[str, ...] = tuple(PREFIXES.values())
"""The vocabularies DLOM's own reads match (every predicate of the catalog, retrieval and rating queries
is in one of these, written with :data:`SPARQL_PREFIXES`): a write of other predicates cannot change
what they answer (:func:`kg.derived_results.derived`)."""

SPARQL_PREFIXES = "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIXES.items())


_NOT_SLUG = re.compile(r"[^a-z0-9]+")


@functools.lru_cache(maxsize=1 << 16)  # an import slugs the same device, model and round names again and again
def slug(text: str) -> str:
    """A lower-case, IRI-safe slug of ``text`` (stable: the same text always gives the same slug)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    s = _NOT_SLUG.sub("-", ascii_text.lower()).strip("-")
    return s or "x"


def entity(kind: str, *parts: str) -> NamedNode:
    """The IRI of a DLOM instance, e.g. ``entity("device", "v1.0", "stm", "nucleo")``.

    IRIs are derived from the identifying parts only, so re-importing the same source gives the
    same IRIs and imports are idempotent.
    """
    return NamedNode(DLOM_ID + kind + "/" + "/".join(slug(p) for p in parts))
