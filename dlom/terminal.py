"""What every ``dlom`` command shares with the terminal: the two consoles, the ``--store`` option and
the store opened with DLOM errors reported as one line.

:mod:`dlom.cli` and each ``dlom/*_command.py`` import this module and nothing imports them back, so
the command modules never import :mod:`dlom.cli` (which registers them).
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from kg.errors import DlomError
from kg.store import Store, open_store

console = Console()
err = Console(stderr=True, soft_wrap=True)  # an error stays one line, whatever the terminal width

StoreOption = Annotated[str | None, typer.Option("--store", help="Store URL (default: $DLOM_STORE or the embedded store under $DLOM_HOME).")]


def print_error(message: str) -> None:
    """The error line on stderr: ``error: message`` (``message`` is text, never rich markup)."""
    err.print(f"[red]error:[/red] {escape(message)}")


@contextmanager
def opened(url: str | None, initialize: bool = True,
           errors: tuple[type[Exception], ...] = (DlomError,)) -> Iterator[Store]:
    """The store at ``url``, closed on exit. With ``initialize``, the ontology and shipped graph are
    loaded on first use (one notice on stderr). An exception of ``errors`` (DLOM's own by default; a
    command adds the ``ValueError`` of a library that reports bad values so) raised while opening or
    inside the block becomes one :func:`print_error` line and exit code 1, never a traceback."""
    from kg.bootstrap import ensure_initialized

    try:
        store = open_store(url)
    except errors as e:
        print_error(str(e))
        raise typer.Exit(1) from None
    try:
        if initialize and ensure_initialized(store):
            err.print(f"[green]initialized[/green] {store.url} with the DLOM ontology and shipped knowledge graph")
        yield store
    except errors as e:
        print_error(str(e))
        raise typer.Exit(1) from None
    finally:
        store.close()
