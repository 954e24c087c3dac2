"""``dlom bench``: measure real models (``run``) and whole grids of them (``sweep``)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from dlom.progress import RichProgress
from dlom.terminal import StoreOption, console, opened, print_error

bench_app = typer.Typer(help="Build, optimize and measure real models; write the results to the graph.",
                        no_args_is_help=True, pretty_exceptions_enable=False)
CacheOption = Annotated[Path | None, typer.Option("--cache-dir", help="Cache trained baselines here (default: $DLOM_HOME/bench/baselines).")]


def _cache_dir(option: Path | None) -> Path:
    from kg.config import dlom_home

    return option or dlom_home() / "bench" / "baselines"


def _result_table(result) -> Table:
    table = Table(title=result.spec.name or result.spec.describe(), show_header=False)
    lat = result.latency
    rows = [
        ("configuration", result.spec.describe()),
        ("model", result.key),
        (result.metric, f"{result.quality:.4f}" + (f" (variance over seeds {result.stability:.2e})" if result.stability is not None else "")),
        ("measured on", result.dataset),
        ("latency p50 / p90 / p99", f"{lat.p50_ms:.4f} / {lat.p90_ms:.4f} / {lat.p99_ms:.4f} ms (CV {lat.cv:.3f}, {lat.samples} calls)"),
        ("throughput", ", ".join(f"batch {b}: {b * s.throughput_ips:.1f}/s" for b, s in sorted(result.batch_latency.items()))),
        ("model size", f"{result.model_bytes / 1024:.1f} KiB"),
        ("parameters / MACs", f"{result.deployed_profile.parameters} / {result.deployed_profile.macs}"),
        ("peak memory", "not measured" if result.memory_mb is None else f"{result.memory_mb:.2f} MB (peak RSS delta)"),
        ("energy", "not measured" if result.energy_uj is None else f"{result.energy_uj:.1f} µJ/inference"),
        ("device", result.spec.setting.device_label(result.host)),
    ]
    for step in result.steps:
        rows.append((f"step {step.index}: {step.name}", "; ".join(step.outcome.notes)))
    for k, v in rows:
        table.add_row(k, v)
    return table


@bench_app.command("run")
def run(
    target: Annotated[str, typer.Argument(help="A spec file (YAML/JSON) or the IRI of a dlom:Model in the graph to re-measure.")],
    store: StoreOption = None,
    threads: Annotated[int | None, typer.Option(help="Override the intra-op thread count.")] = None,
    cores: Annotated[str | None, typer.Option(help="Override the pinned cores, e.g. '0' or '0,1'.")] = None,
    no_write: Annotated[bool, typer.Option("--no-write", help="Measure and print, but do not write to the graph.")] = False,
    cache_dir: CacheOption = None,
) -> None:
    """Measure one configuration and write the model and its measured performance to the graph."""
    from pyoxigraph import NamedNode

    from bench.graph import spec_from_model, write_result
    from bench.harness import run_benchmark
    from bench.spec import parse_spec, read_document

    with opened(store) as s:
        if Path(target).is_file():
            raw, source = read_document(Path(target)), target
        elif target.startswith(("http://", "https://")):
            raw, source = spec_from_model(s, NamedNode(target)), target
        else:
            print_error(f"{target}: not a spec file or a model IRI")
            raise typer.Exit(2)
        if threads is not None or cores is not None:
            runtime = dict(raw.get("runtime") or {}) if isinstance(raw, dict) else {}
            if threads is not None:
                runtime["threads"] = threads
            if cores is not None:
                try:
                    runtime["cores"] = [int(c) for c in cores.split(",") if c.strip()]
                except ValueError:
                    print_error(f"--cores: expected integers separated by commas, got {cores!r}")
                    raise typer.Exit(2) from None
            raw = {**raw, "runtime": runtime}
        spec = parse_spec(raw, source)
        with console.status(f"measuring {spec.describe()}"):
            result = run_benchmark(spec, cache_dir=_cache_dir(cache_dir))
        if not no_write:
            write_result(s, result)
    console.print(_result_table(result))
    if not no_write:
        from bench.graph import model_iri

        console.print(f"written: {model_iri(spec.network.name, result.key).value}")


@bench_app.command("sweep")
def sweep(
    grid_file: Annotated[Path, typer.Argument(help="Grid file (YAML/JSON): networks × combinations × runtimes.")],
    store: StoreOption = None,
    journal: Annotated[Path | None, typer.Option(help="Journal file (default: $DLOM_HOME/bench/<grid name>.journal.jsonl).")] = None,
    retry_failed: Annotated[bool, typer.Option("--retry-failed", help="Run items the journal lists as failed again.")] = False,
    cache_dir: CacheOption = None,
) -> None:
    """Run a grid; each result is written as it completes and a rerun resumes where it stopped."""
    from bench.sweep import load_grid, run_sweep
    from kg.config import dlom_home

    with opened(store) as s:
        grid = load_grid(grid_file)
        journal_path = journal or dlom_home() / "bench" / f"{grid.name}.journal.jsonl"

        def show(item, result) -> None:
            console.print(f"[green]done[/green] {item.name}: {result.metric} {result.quality:.4f}, "
                          f"p50 {result.latency.p50_ms:.4f} ms, {result.model_bytes / 1024:.1f} KiB")

        # the bar and the "done" lines share one console, so each line prints above the live bar
        with RichProgress(console=console) as progress:
            report = run_sweep(grid, s, journal_path, progress, cache_dir=_cache_dir(cache_dir),
                               retry_failed=retry_failed, on_result=show)
    console.print(f"{len(report.done)} measured, {len(report.skipped)} already done (skipped), {len(report.failed)} failed; "
                  f"journal {journal_path}")
    for name, reason in report.failed:
        console.print(f"  [yellow]failed[/yellow] {name}: {reason}")
