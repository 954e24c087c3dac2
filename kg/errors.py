"""Errors the knowledge-graph core raises; each says what went wrong and where."""
from __future__ import annotations

from dataclasses import dataclass, field


class DlomError(Exception):
    """Base class of every error DLOM reports to a user."""


class StoreLockedError(DlomError):
    """Another process holds the on-disk store open."""


class StoreURLError(DlomError):
    """A store URL names an unknown scheme or is malformed."""


class QueryError(DlomError):
    """A query or update could not be parsed or evaluated."""


class QueryTimeoutError(QueryError):
    """A query ran past its time limit and was stopped."""


@dataclass(frozen=True)
class FieldError:
    """One problem with one input field: where (a dotted path, e.g. ``techniques[0].bitWidth``) and why.
    The one field-error type of DLOM: submissions, requirements and every API answer use it."""

    field: str
    message: str


@dataclass(frozen=True)
class Violation:
    """One SHACL violation: the focus node, the property path, and the reason."""

    focus: str
    path: str | None
    message: str
    value: str | None = None

    def __str__(self) -> str:
        where = f"<{self.focus}>" + (f" {self.path}" if self.path else "")
        return f"{where}: {self.message}" + (f" (value {self.value})" if self.value is not None else "")


@dataclass
class ValidationError(DlomError):
    """A write was refused because records violate the SHACL shapes; nothing was written."""

    violations: list[Violation] = field(default_factory=list)
    source: str | None = None

    def __str__(self) -> str:
        head = f"{self.source}: " if self.source else ""
        lines = [f"{head}{len(self.violations)} SHACL violation(s); nothing was written"]
        lines += [f"  - {v}" for v in self.violations[:50]]
        if len(self.violations) > 50:
            lines.append(f"  ... and {len(self.violations) - 50} more")
        return "\n".join(lines)


@dataclass
class InputError(DlomError):
    """Bad input to an importer: names the file, and the line or field where it can."""

    file: str
    reason: str
    line: int | None = None
    field_name: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
        if self.field_name:
            where += f" [{self.field_name}]"
        return f"{where}: {self.reason}"
