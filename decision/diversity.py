"""Diverse top results: near-identical variants of one configuration are grouped, "n more like this".

Two candidates are variants of one configuration when they share

* the DLN family — the DLN's ``dlom:architectureFamily``, else its label compared as network names
  are (:func:`decision.requirement_table.normalized_name`: 'DS-CNN' = 'ds_cnn'), else the DLN itself;
* the hardware — the device's ``dlom:hardware`` (one physical product, whatever the submitter, round,
  power mode or constrained setting), else the device itself;
* the technique *families* applied (Quantization, Pruning, ... : the direct subclasses of
  dlom:OptimizationTechnique), so 'int8 static' and 'int8 dynamic' or 'prune 30 %' and 'prune 50 %'
  differ only in a minor variant, while 'int8' and 'pruned + int8' do not.

Runtime, precision within a family, round and submitter are such minor variants. The best-ranked
member of a group is shown; the others are counted (and listed) under it. Ranking and scores are
unchanged: grouping only chooses which candidates fill the top k.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from pyoxigraph import NamedNode

from decision.encoded_column import EncodedColumn, row_codes
from decision.facet_index import FacetIndex, current_index
from decision.requirement_table import BY_PATH, normalized_name
from decision.retrieval import BIND_LIMIT, CandidateSet
from kg.binding import values_rows
from kg.derived_results import derived
from kg.namespaces import DLOM_VOCABULARIES, SPARQL_PREFIXES
from kg.store import Store

_KEYS = SPARQL_PREFIXES + """SELECT ?m ?dln ?family ?dlnLabel ?dev ?hw WHERE { %s
  ?m dlom:usesDLN ?dln .
  OPTIONAL { ?dln dlom:architectureFamily ?family } OPTIONAL { ?dln rdfs:label ?dlnLabel }
  OPTIONAL { ?m dlom:deployedOn ?dev OPTIONAL { ?dev dlom:hardware ?hw } } }"""
_FAMILIES = SPARQL_PREFIXES + "SELECT ?f WHERE { ?f rdfs:subClassOf dlom:OptimizationTechnique }"

VariantKey = tuple[str, frozenset[str], frozenset[str]]


@dataclass
class VariantGroup:
    """One shown candidate (index into the candidate set) and its near-identical variants, best first."""

    representative: int
    members: list[int] = field(default_factory=list)


def _dln_name(dln: str, family: str | None, label: str | None) -> str:
    """What a DLN is a variant of: its architecture family, else its name, else the DLN itself."""
    return (f"family:{family.strip().lower()}" if family is not None
            else f"dln:{normalized_name(label)}" if label is not None else dln)


def variant_keys(store: Store, found: CandidateSet) -> EncodedColumn:
    """Per candidate, the (DLN family, hardware, technique families) it is a variant of, as a column of
    :data:`VariantKey`: from the store's facet index where it has a current one (:mod:`decision.facet_index`:
    every model's key worked out once per store generation, :func:`_keys_of_index`), else by two queries
    — the same keys (``tests/test_facet_index.py``)."""
    if not len(found):
        return EncodedColumn.of([])
    index = current_index(store)
    if index is not None and not index.irregular and (
            found.index_generation == index.generation or all(i in index.rows for i in found.iris)):
        rows = (found.index_rows if found.index_generation == index.generation and found.index_rows is not None
                else np.fromiter((index.rows[i] for i in found.iris), dtype=np.intp, count=len(found)))
        of_row, keys = derived(store, ("decision.variant_keys_of_index",), lambda: _keys_of_index(store, index),
                               DLOM_VOCABULARIES)
        return EncodedColumn(of_row[rows], keys, distinct_values=True)
    families = _technique_families(store)
    if len(found.technique_classes) == len(found):
        class_of, class_sets = found.technique_classes.distinct()
    else:
        class_of, class_sets = np.zeros(len(found), dtype=np.intp), [frozenset()]
    applied = [frozenset((c or frozenset()) & families) for c in class_sets]
    dln, hardware = _by_query(store, found)
    return EncodedColumn.of([(name or iri, hw, applied[c])
                             for name, iri, hw, c in zip(dln, found.iris, hardware, class_of.tolist())])


def _technique_families(store: Store) -> set[str]:
    return {f.value for (f,) in store.select(_FAMILIES).rows}  # type: ignore[union-attr]


def _keys_of_index(store: Store, index: FacetIndex) -> tuple[np.ndarray, list[VariantKey]]:
    """Per row of ``index``, the code of its variant key (equal keys, one code); the distinct keys. The
    DLN family is worked out once per distinct DLN, the hardware once per distinct variant, the
    technique families once per distinct set of technique classes."""
    labels = index.texts[BY_PATH["network.network"].var]  # type: ignore[index]
    dln = row_codes([index.texts["dln"].codes, labels.codes])
    family_of: dict[str, int] = {}
    dln_family = []
    for row in np.unique(dln, return_index=True)[1].tolist():  # a model of each distinct DLN (and label)
        iri, families, _ = index.variant[row]
        name = min([_dln_name(iri, f, None) for f in families] or [_dln_name(iri, None, labels[row])])
        dln_family.append(family_of.setdefault(name, len(family_of)))
    hardware_of: dict[frozenset[str], int] = {}
    variant_hardware = np.array([hardware_of.setdefault(frozenset(hw), len(hardware_of))
                                 for _, _, hw in index.variant.values] + [-1], dtype=np.intp)
    technique_families = _technique_families(store)
    class_of, class_sets = index.technique_classes.distinct()
    applied_of: dict[frozenset[str], int] = {}
    set_applied = np.array([applied_of.setdefault(frozenset((c or frozenset()) & technique_families), len(applied_of))
                            for c in class_sets], dtype=np.intp)
    family = np.array(dln_family, dtype=np.intp)[dln]
    hardware, applied = variant_hardware[index.variant.codes], set_applied[class_of]
    codes = row_codes([family, hardware, applied])
    first = np.unique(codes, return_index=True)[1]
    names, hardwares, applieds = list(family_of), list(hardware_of), list(applied_of)
    keys = [(names[f], hardwares[h], applieds[a])
            for f, h, a in zip(family[first].tolist(), hardware[first].tolist(), applied[first].tolist())]
    return codes.astype(np.int32), keys


def _by_query(store: Store, found: CandidateSet) -> tuple[list[str | None], list[frozenset[str]]]:
    scope = (values_rows(["m"], [(NamedNode(i),) for i in found.iris]) if len(found) <= BIND_LIMIT
             else "?m a dlom:Model .")
    result = store.select(_KEYS % scope)
    where = {iri: k for k, iri in enumerate(found.iris)}
    dln: list[str | None] = [None] * len(found)
    hardware: list[set[str]] = [set() for _ in found.iris]
    for m, dln_iri, family, label, dev, hw in result.rows:
        k = where.get(m.value)  # type: ignore[union-attr]
        if k is None:
            continue
        name = _dln_name(dln_iri.value, None if family is None else family.value,  # type: ignore[union-attr]
                         None if label is None else label.value)
        dln[k] = min(name, dln[k] or name)  # deterministic when a DLN carries several
        if dev is not None:
            hardware[k].add((hw or dev).value)
    return dln, [frozenset(h) for h in hardware]


_CONFIGURATION_KEYS = SPARQL_PREFIXES + """SELECT ?node ?family ?label ?hw ?techniqueFamily WHERE { %s
  OPTIONAL { ?node dlom:architectureFamily ?family } OPTIONAL { ?node rdfs:label ?label }
  OPTIONAL { ?node dlom:hardware ?hw }
  OPTIONAL { ?node a/rdfs:subClassOf* ?techniqueFamily . ?techniqueFamily rdfs:subClassOf dlom:OptimizationTechnique } }"""


def configuration_keys(store: Store, configurations: Sequence[tuple[str, str, Sequence[str]]]) -> list[VariantKey]:
    """The :func:`variant_keys` of configurations not (yet) in the graph as models — (DLN, device,
    techniques) IRIs, e.g. the prediction model's proposals — by the same rule: DLN family, the
    device's hardware, the technique families. One query."""
    nodes = sorted({n for dln, dev, ts in configurations for n in (dln, dev, *ts)})
    if not nodes:
        return []
    rows = store.select(_CONFIGURATION_KEYS % values_rows(["node"], [(NamedNode(n),) for n in nodes])).rows
    family: dict[str, str] = {}
    hardware: dict[str, str] = {}
    technique_families: dict[str, set[str]] = {}
    for node, fam, label, hw, tfam in rows:
        n = node.value  # type: ignore[union-attr]
        name = (f"family:{fam.value.strip().lower()}" if fam is not None
                else f"dln:{normalized_name(label.value)}" if label is not None else None)
        if name is not None:
            family[n] = min(name, family.get(n, name))
        if hw is not None:
            hardware[n] = min(hw.value, hardware.get(n, hw.value))
        if tfam is not None:
            technique_families.setdefault(n, set()).add(tfam.value)
    return [(family.get(dln, dln), frozenset({hardware.get(dev, dev)}),
             frozenset(f for t in ts for f in technique_families.get(t, ())))
            for dln, dev, ts in configurations]


def group_variants(order: np.ndarray, keys: Sequence[VariantKey] | None, top_k: int) -> list[VariantGroup]:
    """The first ``top_k`` groups in ranking ``order`` (candidate indices, best first), each with all
    its members in rank order. Candidates whose key is unique form a group of one; ``keys`` None: every
    candidate is one (no grouping)."""
    if not len(order):
        return []
    if keys is None:
        codes, n_keys = np.arange(int(np.max(order)) + 1), int(np.max(order)) + 1
    else:
        column = keys if isinstance(keys, EncodedColumn) else EncodedColumn.of(list(keys))
        if column.distinct_values and not (column.codes < 0).any():
            codes, n_keys = column.codes, len(column.values)  # a code is its key already
        else:
            codes, distinct = column.distinct()
            n_keys = len(distinct)
    ranked = codes[np.asarray(order)]
    # a group is shown in the rank of its best member; the first top_k groups are shown
    first = np.full(n_keys, len(ranked), dtype=np.int64)
    np.minimum.at(first, ranked, np.arange(len(ranked)))
    shown = np.argsort(first, kind="stable")[:top_k]
    shown = shown[first[shown] < len(ranked)]
    slot = np.full(n_keys, -1, dtype=np.int64)
    slot[shown] = np.arange(len(shown))
    groups = [VariantGroup(int(order[first[c]])) for c in shown.tolist()]
    in_shown = np.flatnonzero(slot[ranked] >= 0)
    for position, g in zip(in_shown.tolist(), slot[ranked[in_shown]].tolist()):
        if position != first[shown[g]]:
            groups[g].members.append(int(order[position]))
    return groups
