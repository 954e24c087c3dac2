"""A dictionary-encoded column: per row an int code into a list of distinct values (as Arrow's
dictionary arrays are). Candidates share a few hundred distinct technique sets, texts or variant keys
among tens of thousands of rows, so a test or a lookup runs once per distinct value and a subset of rows
is an array operation, never a Python object per row. It reads as the sequence of its values (a code
of -1 reads as None), so code that indexes or iterates a plain list works on it unchanged."""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, overload

import numpy as np


@dataclass(frozen=True, eq=False)
class EncodedColumn(Sequence[Any]):
    """``codes[i]`` indexes ``values`` (-1: not recorded). Values need not be all used, nor distinct
    unless ``distinct_values`` says so (then a code is its value's identity: equal codes, equal values)."""

    codes: np.ndarray
    values: list[Any]
    distinct_values: bool = False

    @classmethod
    def of(cls, items: Sequence[Any]) -> EncodedColumn:
        """The column of ``items`` (None: not recorded), its values distinct, in order of first use."""
        vocabulary: dict[Any, int] = {}
        codes = np.fromiter((-1 if x is None else vocabulary.setdefault(x, len(vocabulary)) for x in items),
                            dtype=np.int32, count=len(items))
        return cls(codes, list(vocabulary), distinct_values=True)

    def test(self, match: Callable[[Any], object]) -> np.ndarray:
        """Rows whose value ``match(value)`` accepts (computed once per distinct value; never for None)."""
        ok = np.array([bool(match(v)) for v in self.values] + [False], dtype=bool)
        return ok[self.codes]  # code -1 reads the trailing False

    def map(self, function: Callable[[Any], Any]) -> EncodedColumn:
        """The column of ``function(value)`` for each row's value (computed once per distinct value; a row
        without a value stays without)."""
        return EncodedColumn(self.codes, [function(v) for v in self.values])

    def take(self, rows: np.ndarray) -> list[Any]:
        """The values of ``rows``, as a list."""
        values = self.values
        return [values[c] if c >= 0 else None for c in self.codes[rows].tolist()]

    def subset(self, rows: np.ndarray) -> EncodedColumn:
        """The column of ``rows`` (an array operation: the values are shared)."""
        return EncodedColumn(self.codes[rows], self.values, self.distinct_values)

    @cached_property
    def _distinct(self) -> tuple[np.ndarray, list[Any]]:
        used, inverse = np.unique(self.codes, return_inverse=True)
        index: dict[Any, int] = {}
        remap = np.array([index.setdefault(self.values[c] if c >= 0 else None, len(index)) for c in used.tolist()],
                         dtype=np.intp)
        return remap[inverse.ravel()], list(index)

    def distinct(self) -> tuple[np.ndarray, list[Any]]:
        """(per row, the index of its value among the distinct values; the distinct values used, None
        among them for code -1): equal values get one index even where ``values`` repeats one. Worked
        out once per column (a column is not changed once made)."""
        return self._distinct

    def __len__(self) -> int:
        return len(self.codes)

    @overload
    def __getitem__(self, i: int) -> Any: ...
    @overload
    def __getitem__(self, i: slice) -> list[Any]: ...

    def __getitem__(self, i: int | slice) -> Any:
        if isinstance(i, slice):
            return self.take(np.arange(len(self))[i])
        c = int(self.codes[i])
        return self.values[c] if c >= 0 else None

    def __iter__(self) -> Iterator[Any]:
        return iter(self.take(np.arange(len(self))))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str):
            return NotImplemented
        return len(self) == len(other) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]  # (mutable contents, compared by value)


def row_codes(columns: list[np.ndarray]) -> np.ndarray:
    """One code (0, 1, ...) per distinct row of ``columns``: int codes ≥ -1, of equal length."""
    key = np.zeros(len(columns[0]), dtype=np.int64)
    for c in columns:
        radix = int(c.max(initial=-1)) + 2
        if int(key.max(initial=0)) >= (1 << 62) // radix:  # renumber before the key could overflow
            key = np.unique(key, return_inverse=True)[1].astype(np.int64)
        key = key * radix + (c + 1)
    return np.unique(key, return_inverse=True)[1].astype(np.intp)
