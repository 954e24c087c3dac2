"""The catalog's model listings answered over the facet index (issue 18).

:func:`kg.catalog.queries.find_models` — the GraphQL listing — orders every model that satisfies a
:class:`~kg.catalog.queries.ModelFilter` by one store query (1.9–2.9 s on the shipped graph for the first
page of a new listing). The facet index (:mod:`decision.facet_index`) holds what that query filters and
sorts by, read with its semantics (:data:`decision.facet_index.LISTING_TEXTS`); this module evaluates the
filter there with numpy masks, one text test per distinct value, and sorts with numpy.
:func:`list_models_through_index` registers :func:`listing_from_index` as a listing source of
:mod:`kg.catalog.queries`, which asks it first and queries the store when it answers None: the store has
no current index (never asked for one, a rebuild is running), or a model the listing columns cannot
stand for (:attr:`FacetIndex.unlisted`). ``tests/test_catalog_listing.py`` holds the two paths to the
same pages.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, overload

import numpy as np

from decision.encoded_column import EncodedColumn
from decision.facet_index import FacetIndex, current_index
from kg.catalog.queries import (FIGURE_FIELDS, IRI_TEXT, SORT_FIGURE, DeviceClass, ModelFilter, ModelRow, ModelSortKey,
                                add_listing_source, figure_ranges, listed_figures, precision_matches)
from kg.store import Store


@dataclass(frozen=True, eq=False)
class ListedModels(Sequence[ModelRow]):
    """A listing in its order, as rows of the index: each :class:`ModelRow` is made when it is read, so a
    page of a listing of tens of thousands of models makes only the page's."""

    source: FacetIndex
    rows: np.ndarray
    figures: tuple[str, ...]  # the figures the rows show (kg.catalog.queries.listed_figures); the others are None

    def __len__(self) -> int:
        return len(self.rows)

    @overload
    def __getitem__(self, i: int) -> ModelRow: ...
    @overload
    def __getitem__(self, i: slice) -> list[ModelRow]: ...

    def __getitem__(self, i: int | slice) -> ModelRow | list[ModelRow]:
        if isinstance(i, slice):
            return [self._row(r) for r in self.rows[i].tolist()]
        return self._row(int(self.rows[i]))

    def _row(self, r: int) -> ModelRow:
        index = self.source
        shown: dict[str, Any] = {}
        for name in self.figures:
            value = float(index.listing_numbers[name][r])
            shown[FIGURE_FIELDS[name]] = None if np.isnan(value) else (int(value) if name == "year" else value)
        return ModelRow(iri=index.iris[r], label=index.listing_texts["label"][r], **shown)


def _any(column: EncodedColumn, test: Callable[[str], bool]) -> np.ndarray:
    """The rows whose set of values has one that passes ``test`` (tested once per distinct set)."""
    return column.test(lambda values: any(test(v) for v in values))


def matching_rows(index: FacetIndex, flt: ModelFilter) -> np.ndarray:
    """The mask of the index's models that satisfy ``flt``, by the rules of
    :func:`kg.catalog.queries.model_list_query`."""
    t = index.listing_texts
    keep = np.ones(len(index), dtype=bool)
    for column, wanted in (("devices", flt.devices), ("dlns", flt.dlns)):
        if wanted:
            chosen = frozenset(wanted)
            keep &= t[column].test(lambda values: not chosen.isdisjoint(values))
    for family in dict.fromkeys(flt.technique_families):
        keep &= t["families"].test(lambda values, f=family.value: f in values)
    for column, text in (("areas", flt.application_area), ("purposes", flt.purpose), ("labels", flt.label_contains)):
        if text:
            needle = text.lower()
            keep &= _any(t[column], lambda v: needle in v)
    for column, exact in (("scenarios", flt.scenario), ("compute_units", flt.compute_unit)):
        if exact is not None:
            keep &= t[column].test(lambda values: exact in values)
    if isinstance(flt.device_class, DeviceClass):
        keep &= t["device_classes"].test(lambda values, c=flt.device_class.value: c in values)
    for column, text in (("runtimes", flt.runtime), ("form_factors", flt.form_factor)):
        if text:
            wanted_text = text.lower()
            keep &= t[column].test(lambda values: wanted_text in values)
    if flt.precision:
        wanted_precision = flt.precision.lower()
        keep &= _any(t["precisions"], lambda v: precision_matches(v, wanted_precision))
    if flt.accelerator and IRI_TEXT.match(flt.accelerator):
        keep &= t["hardware"].test(lambda values, hw=flt.accelerator: hw in values)
    elif flt.accelerator:
        part = flt.accelerator.lower()
        keep &= _any(t["accelerators"], lambda v: part in v)
    with np.errstate(invalid="ignore"):  # NaN (no figure) fails every bound, as an unbound MIN does
        for name, rng in figure_ranges(flt).items():
            column = index.listing_numbers[name]
            if rng.minimum is not None:
                keep &= column >= rng.minimum
            if rng.maximum is not None:
                keep &= column <= rng.maximum
    return keep


def ordered_listing(index: FacetIndex, flt: ModelFilter, sort: ModelSortKey, descending: bool) -> ListedModels:
    """Every model of ``index`` satisfying ``flt`` in the order :func:`kg.catalog.queries.find_models`
    gives: by the sort figure (labels case-folded), those without it last, ties by IRI (the index's row
    order, kept by a stable sort)."""
    rows = np.flatnonzero(matching_rows(index, flt))
    if sort is ModelSortKey.LABEL:
        key = index.label_order[rows]
    else:
        key = index.listing_numbers[SORT_FIGURE[sort]][rows]
    present = ~np.isnan(key)
    shown, missing = rows[present], rows[~present]
    order = np.argsort(-key[present] if descending else key[present], kind="stable")
    return ListedModels(index, np.concatenate([shown[order], missing]), tuple(sorted(listed_figures(flt, sort))))


def listing_from_index(store: Store, flt: ModelFilter, sort: ModelSortKey, descending: bool) -> ListedModels | None:
    """The listing through the store's current facet index, or None where the index cannot give it (the
    store query answers): no current index (:func:`decision.facet_index.current_index`), or models the
    listing columns cannot stand for."""
    index = current_index(store)
    if index is None or index.unlisted:
        return None
    return ordered_listing(index, flt, sort, descending)


def list_models_through_index() -> None:
    """Have :func:`kg.catalog.queries.find_models` ask :func:`listing_from_index` first (idempotent; the
    server does at start-up, :func:`api.app.create_app`)."""
    add_listing_source(listing_from_index)
