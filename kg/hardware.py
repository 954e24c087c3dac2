"""Hardware entities: one ``dlom:Hardware`` node per physical product, whichever source measured it.

Every importer that describes a device or a server (MLPerf Tiny, MLPerf Inference, AI Hub Models,
DLOM's own benchmark hosts) links each ``dlom:EndDevice`` / ``dlom:CloudConfiguration`` it writes to
the hardware it is a configuration of (``dlom:hardware``, and ``dlom:hasConfiguration`` back). The
hardware IRI is derived from a *match key* alone, so two sources that derive the same key name the
same node without reading the store, and imports stay independent and idempotent.

A match key is ``kind`` + a normalized product name. :func:`normalize_product_name` is deliberately
conservative: it folds case, punctuation, vendor-neutral filler words and trademark signs, nothing
else — deciding that two *different* strings are one product (e.g. a board renamed between rounds)
is the job of an importer's explicit, tested rule table, and where a rule is unsure it writes two
entities linked by ``dlom:possiblySameHardwareAs`` instead (:func:`hardware_triples`).
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from pyoxigraph import Literal, NamedNode, Triple

from kg.namespaces import DLOM, RDF, RDFS, entity

HARDWARE_KINDS = ("board", "soc", "module", "phone", "laptop", "vehicle-platform", "xr-headset", "server",
                  "accelerator-card", "cpu", "host")

# Words that name no product: marketing and packaging filler that sources add or drop freely.
_FILLER = re.compile(r"\b(the|development|dev|kit|board|evaluation|eval|platform|reference|design|mobile|"
                     r"edition|series)\b")


def normalize_product_name(name: str) -> str:
    """The product name folded for matching: NFKD ASCII, lower case, ™/®/© and punctuation removed,
    filler words (board, kit, platform, …) dropped, whitespace collapsed. ``""`` when nothing is left.

    >>> normalize_product_name("NUCLEO-L4R5ZI")
    'nucleo l4r5zi'
    >>> normalize_product_name("Snapdragon® 8 Gen 3 Mobile Platform")
    'snapdragon 8 gen 3'
    """
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"\((?:tm|r|c)\)", " ", text)
    text = re.sub(r"[^a-z0-9.+]+", " ", text)
    text = _FILLER.sub(" ", text)
    return re.sub(r"\s+", " ", text).strip(" .")


def match_key(kind: str, name: str) -> str:
    """``kind:normalized-name``; raises ``ValueError`` for an unknown kind or a name that normalizes to nothing."""
    if kind not in HARDWARE_KINDS:
        raise ValueError(f"unknown hardware kind {kind!r} (one of {', '.join(HARDWARE_KINDS)})")
    normalized = normalize_product_name(name)
    if not normalized:
        raise ValueError(f"hardware name {name!r} has nothing left to match on")
    return f"{kind}:{normalized}"


def hardware_iri(key: str) -> NamedNode:
    """The IRI of the hardware entity with this match key (see :func:`match_key`)."""
    kind, _, name = key.partition(":")
    return entity("hardware", kind, name)


def hardware_triples(key: str, label: str, configurations: Iterable[NamedNode],
                     possibly_same_as: Iterable[str] = (), vendor: str | None = None) -> list[Triple]:
    """The triples of one hardware entity and its links both ways to ``configurations`` (device or
    cloud-configuration IRIs), plus ``dlom:possiblySameHardwareAs`` to the entities of ``possibly_same_as``
    (match keys) in both directions."""
    hw = hardware_iri(key)
    kind = key.partition(":")[0]
    out = [Triple(hw, RDF.type, DLOM.Hardware), Triple(hw, RDFS.label, Literal(label)),
           Triple(hw, DLOM.hardwareKind, Literal(kind)), Triple(hw, DLOM.matchKey, Literal(key))]
    if vendor:
        out.append(Triple(hw, DLOM.vendor, Literal(vendor)))
    for c in configurations:
        out += [Triple(c, DLOM.hardware, hw), Triple(hw, DLOM.hasConfiguration, c)]
    for other in possibly_same_as:
        o = hardware_iri(other)
        if o != hw:
            out += [Triple(hw, DLOM.possiblySameHardwareAs, o), Triple(o, DLOM.possiblySameHardwareAs, hw)]
    return out
