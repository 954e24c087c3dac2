"""The ``dlom`` command: set up, import, query, export and serve the DLOM knowledge graph."""
from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from dlom.bench_command import bench_app
from dlom.effects_command import effects
from dlom.gnn_command import gnn_app, loop
from dlom.migrate_command import migrate
from dlom.recommend_command import recommend
from dlom.terminal import StoreOption, console, err, opened, print_error
from kg.results import BooleanResult, GraphResult, Solutions
from kg.terms import to_python

app = typer.Typer(help="DLOM: choose and discover deep-learning deployments on IoT and edge devices.",
                  no_args_is_help=True, pretty_exceptions_enable=False)


def _print_version(value: bool) -> None:
    if value:
        from api.build_info import version_text

        console.print(version_text(), soft_wrap=True, highlight=False)
        raise typer.Exit()


@app.callback()
def main(version: Annotated[bool, typer.Option("--version", callback=_print_version, is_eager=True,
                                               help="Package version, shipped-graph build and predictor, then exit.")] = False) -> None:
    """DLOM: choose and discover deep-learning deployments on IoT and edge devices."""


def requires_extra(*extras: str):
    """A command-group callback that stops with one line naming the extra to install when one of
    ``extras`` is missing (:func:`kg.extras.require_extra`), before any torch import is tried."""
    from kg.extras import MissingExtraError, require_extra

    def check() -> None:
        try:
            for extra in extras:
                require_extra(extra)
        except MissingExtraError as e:
            print_error(str(e))
            raise typer.Exit(1) from None

    return check


@app.command()
def init(store: StoreOption = None,
         without_shipped_graph: Annotated[bool, typer.Option(
             "--without-shipped-graph", help="Load only the ontology: a knowledge graph of your own data.")] = False,
         ) -> None:
    """Create the store and load the ontology and the shipped knowledge graph (once)."""
    from kg.bootstrap import ensure_initialized

    with opened(store, initialize=False) as s:
        if ensure_initialized(s, with_shipped_graph=not without_shipped_graph):
            what = "the DLOM ontology" + ("" if without_shipped_graph else " and shipped knowledge graph")
            err.print(f"[green]initialized[/green] {s.url} with {what}")
        console.print(f"{s.url}: {s.count()} quads")


@app.command("import")
def import_(
    fmt: Annotated[str, typer.Argument(metavar="FORMAT", help="mlperf-tiny | mlperf-inference | qai-hub-models | tags | rdf | records")],
    path: Annotated[Path | None, typer.Argument(help="File or directory to import (qai-hub-models: optional, the installed package).")] = None,
    store: StoreOption = None,
    round_name: Annotated[str | None, typer.Option("--round", help="mlperf-tiny / mlperf-inference: the round "
                                                   "(vX.Y) of a folder whose README and name do not say it.")] = None,
) -> None:
    """Validate and import data; all or nothing."""
    from dlom.progress import RichProgress
    from kg.importers import importers

    registry = importers()
    if fmt not in registry:
        err.print(f"[red]error:[/red] unknown format {fmt!r}; known: {', '.join(sorted(registry))}")
        raise typer.Exit(2)
    if path is None and not getattr(registry[fmt], "path_optional", False):
        err.print(f"[red]error:[/red] {fmt} needs a PATH to import")
        raise typer.Exit(2)
    with opened(store) as s, RichProgress() as progress:
        # only the MLPerf importers take a round; others get exactly the arguments they always did
        extra = {"round_name": round_name} if round_name is not None else {}
        report = registry[fmt](s, path, progress, **extra)
    console.print(f"imported {report.triples} triples from {report.source}")
    for kind, n in sorted(report.counts.items()):
        console.print(f"  {kind}: {n}")
    for file, reason in report.skipped:
        console.print(f"  [yellow]skipped[/yellow] {file}: {reason}")


@app.command()
def query(
    sparql: Annotated[str, typer.Argument(help="A SPARQL 1.1 query (or @file.rq).")],
    fmt: Annotated[str, typer.Option("--format", help="table | json | csv")] = "table",
    store: StoreOption = None,
) -> None:
    """Run a SPARQL query over the union of all repositories."""
    from kg.namespaces import SPARQL_PREFIXES

    text = Path(sparql[1:]).read_text() if sparql.startswith("@") else sparql
    if "prefix" not in text.lower():
        text = SPARQL_PREFIXES + text
    with opened(store) as s:
        result = s.query(text)
        if isinstance(result, BooleanResult):
            console.print(json.dumps(result.value) if fmt == "json" else str(result.value).lower())
            return
        if isinstance(result, GraphResult):
            for t in result.triples:
                sys.stdout.write(f"{t} .\n")
            return
        _print_solutions(result, fmt)


def _print_solutions(result: Solutions, fmt: str) -> None:
    rows = [[to_python(t) for t in row] for row in result.rows]
    if fmt == "json":
        sys.stdout.write(json.dumps([dict(zip(result.variables, r)) for r in rows], indent=2) + "\n")
    elif fmt == "csv":
        w = csv.writer(sys.stdout)
        w.writerow(result.variables)
        w.writerows(["" if v is None else v for v in r] for r in rows)
    else:
        table = Table(*result.variables)
        for r in rows:
            table.add_row(*("" if v is None else str(v) for v in r))
        console.print(table)
        console.print(f"{len(rows)} row(s)")


@app.command()
def stats(store: StoreOption = None) -> None:
    """Counts per repository and per class."""
    from kg.stats import graph_stats

    with opened(store) as s:
        st = graph_stats(s)
    table = Table("repository", "quads")
    for name, n in st.repositories.items():
        table.add_row(name, str(n))
    console.print(table)
    table = Table("class", "instances")
    for name, n in st.classes.items():
        table.add_row(name, str(n))
    console.print(table)
    console.print(f"total: {st.total} quads")


@app.command()
def export(path: Annotated[Path, typer.Argument(help="Output file (.nq or .nq.gz).")], store: StoreOption = None) -> None:
    """Dump everything as N-Quads."""
    from kg.dump import export_nquads

    with opened(store, initialize=False) as s:
        n = export_nquads(s, path)
    console.print(f"exported {n} quads to {path}")


@app.command()
def restore(
    path: Annotated[Path, typer.Argument(help="An N-Quads dump made by 'dlom export'.")],
    replace: Annotated[bool, typer.Option(help="Replace the store's content (in one transaction).")] = False,
    store: StoreOption = None,
) -> None:
    """Load a dump into an empty store (or replace the store's content with --replace)."""
    from kg.dump import restore_nquads

    with opened(store, initialize=False) as s:
        n = restore_nquads(s, path, replace=replace)
    console.print(f"restored {n} quads from {path}")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    store: StoreOption = None,
) -> None:
    """Serve the SPARQL endpoint, GraphQL, REST API and web UI."""
    try:
        from api.server import run
    except ImportError:
        err.print("[red]error:[/red] the API is not available in this build")
        raise typer.Exit(1) from None
    run(host=host, port=port, store_url=store)


def _register_subcommands() -> None:
    """Commands whose code lives beside the library they drive, one module each."""
    app.command()(recommend)
    app.command()(effects)
    app.command()(migrate)
    app.add_typer(gnn_app, name="gnn", help="Train, evaluate and use the GNN that predicts configurations.",
                  callback=requires_extra("gnn"))
    app.command("loop")(_with_extras(loop, "gnn", "bench"))
    app.add_typer(bench_app, name="bench", help="Materialize configurations for real and measure them.",
                  callback=requires_extra("bench"))


def _with_extras(command, *extras: str):
    """``command`` preceded by the :func:`requires_extra` check (for a single command, not a group)."""
    import functools

    check = requires_extra(*extras)

    @functools.wraps(command)
    def wrapped(*args, **kwargs):
        check()
        return command(*args, **kwargs)

    return wrapped


_register_subcommands()


if __name__ == "__main__":
    app()
