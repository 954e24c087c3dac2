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

from decision.facet_index import current_index
from decision.requirement_table import BY_PATH, normalized_name
from decision.retrieval import BIND_LIMIT, CandidateSet
from kg.binding import values_rows
from kg.namespaces import SPARQL_PREFIXES
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


def variant_keys(store: Store, found: CandidateSet) -> list[VariantKey]:
    """Per candidate, the (DLN family, hardware, technique families) it is a variant of: from the
    store's facet index where it has a current one (:mod:`decision.facet_index`), else by two queries —
    the same keys (``tests/test_facet_index.py``)."""
    if not len(found):
        return []
    index = current_index(store)
    if index is not None and not index.irregular and all(i in index.rows for i in found.iris):
        rows = np.fromiter((index.rows[i] for i in found.iris), dtype=np.int64, count=len(found))
        labels = index.texts[BY_PATH["network.network"].var]  # type: ignore[index]
        # once per distinct (variant, DLN label) pair: the index holds a few hundred of them
        pairs = np.stack([index.variant.codes[rows], labels.codes[rows]], axis=1)
        distinct, which = np.unique(pairs, axis=0, return_inverse=True)
        names: list[tuple[str, frozenset[str]]] = []
        for variant_code, label_code in distinct.tolist():
            dln_iri, dln_families, hw = index.variant.values[variant_code]
            label = labels.values[label_code] if label_code >= 0 else None
            candidates = [_dln_name(dln_iri, f, None) for f in dln_families] or [_dln_name(dln_iri, None, label)]
            names.append((min(candidates), frozenset(hw)))
        per_candidate = [names[w] for w in which.ravel().tolist()]
        dln: list[str | None] = [name for name, _ in per_candidate]
        hardware: list[frozenset[str]] = [hw for _, hw in per_candidate]
    else:
        dln, hardware = _by_query(store, found)
    families_result = store.select(_FAMILIES)
    families = {f.value for (f,) in families_result.rows}  # type: ignore[union-attr]
    classes = found.technique_classes if len(found.technique_classes) == len(found) else [frozenset()] * len(found)
    applied = {c: frozenset(c & families) for c in set(classes)}  # candidates share a few distinct sets
    return [(name or iri, hw, applied[c]) for name, iri, hw, c in zip(dln, found.iris, hardware, classes)]


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


def group_variants(order: np.ndarray, keys: list[VariantKey], top_k: int) -> list[VariantGroup]:
    """The first ``top_k`` groups in ranking ``order`` (candidate indices, best first), each with all
    its members in rank order. Candidates whose key is unique form a group of one."""
    if not len(order):
        return []
    code_of: dict[VariantKey, int] = {}
    codes = np.fromiter((code_of.setdefault(k, len(code_of)) for k in keys), dtype=np.int64, count=len(keys))
    ranked = codes[np.asarray(order)]
    # a group is shown in the rank of its best member; the first top_k groups are shown
    first = np.full(len(code_of), len(ranked), dtype=np.int64)
    np.minimum.at(first, ranked, np.arange(len(ranked)))
    shown = np.argsort(first, kind="stable")[:top_k]
    shown = shown[first[shown] < len(ranked)]
    slot = np.full(len(code_of), -1, dtype=np.int64)
    slot[shown] = np.arange(len(shown))
    groups = [VariantGroup(int(order[first[c]])) for c in shown.tolist()]
    in_shown = np.flatnonzero(slot[ranked] >= 0)
    for position, g in zip(in_shown.tolist(), slot[ranked[in_shown]].tolist()):
        if position != first[shown[g]]:
            groups[g].members.append(int(order[position]))
    return groups
