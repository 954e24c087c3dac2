"""``dlom migrate --from URL --to URL``: copy the knowledge graph between stores (register in dlom/cli.py)."""
from __future__ import annotations

from typing import Annotated

import typer

from dlom.progress import RichProgress
from dlom.terminal import console, err, print_error
from kg.errors import DlomError
from kg.migrate import DEFAULT_BATCH
from kg.migrate import migrate as migrate_stores
from kg.store import open_store


def migrate(
    from_url: Annotated[str, typer.Option("--from", help="Source store URL, e.g. oxigraph:///var/dlom/store.")],
    to_url: Annotated[str, typer.Option("--to", help="Target store URL, e.g. neo4j://localhost:7687.")],
    replace: Annotated[bool, typer.Option("--replace", help="Clear a non-empty target first.")] = False,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Quads per target transaction.")] = DEFAULT_BATCH,
) -> None:
    """Copy every quad from one store to another, then verify counts and a canonical SHA-256."""
    try:
        source = open_store(from_url)
    except DlomError as e:
        print_error(f"source: {e}")
        raise typer.Exit(1) from None
    try:
        target = open_store(to_url)
    except DlomError as e:
        source.close()
        print_error(f"target: {e}")
        raise typer.Exit(1) from None
    try:
        # on stderr and erased at the end: stdout keeps only the report
        with RichProgress(console=err, transient=True) as progress:
            report = migrate_stores(source, target, replace=replace, batch_size=batch_size, progress=progress)
    except DlomError as e:
        print_error(str(e))
        raise typer.Exit(1) from None
    finally:
        source.close()
        target.close()
    console.print(f"copied {report.target.quads} quads in {report.batches} batch(es) from {from_url} to {to_url}")
    console.print(f"verified: counts equal, sha256 {report.target.sha256}")
