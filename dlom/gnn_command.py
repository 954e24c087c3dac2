"""``dlom gnn …`` (train, eval, predict, propose) and ``dlom loop``: the DL modeling network (§5.3).

Registered in :mod:`dlom.cli` as ``app.add_typer(gnn_app, name="gnn")`` and ``app.command("loop")(loop)``.
Every user mistake (unknown device, empty graph, no trained model, bad weight) is one clear error
line and exit code 1 (2 for a malformed option), never a traceback.
"""
from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from dlom.progress import RichProgress
from dlom.terminal import StoreOption, console, err, opened
from kg.errors import DlomError

gnn_app = typer.Typer(help="The DL modeling network: a GNN that predicts deployments' metrics and proposes new ones.",
                      no_args_is_help=True, pretty_exceptions_enable=False)
ModelOption = Annotated[Path | None, typer.Option("--model", help="Trained checkpoint (default: $DLOM_HOME/gnn/predictor.pt, else the shipped one).")]


class OutputFormat(str, Enum):
    """What a command prints: a table for people, JSON for programs (anything else is a usage error)."""

    table = "table"
    json = "json"


FormatOption = Annotated[OutputFormat, typer.Option("--format", help="table or json.")]
WeightOption = Annotated[list[str] | None, typer.Option("--weight", help="Eq.-1 weight as objective=value (performance, reliability, security, cost, latency, complexity); repeatable; default equal.")]


def _threads(threads: int | None) -> None:
    """Small full-batch graphs: on a shared CPU one thread beats several (measured: 28 ms vs 370 ms per step)."""
    import torch

    if not torch.cuda.is_available():
        torch.set_num_threads(threads or 1)


# The predictor reports a user's bad values (inconsistent techniques, a negative weight) as ValueError.
_ERRORS = (DlomError, ValueError)


def _parse_weights(items: list[str] | None) -> dict[str, float] | None:
    from decision.objectives import Objective

    if not items:
        return None
    out: dict[str, float] = {}
    known = ", ".join(o.value for o in Objective)
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise typer.BadParameter(f"{item!r}: expected objective=value, e.g. latency=3", param_hint="--weight")
        if name.strip().lower() not in {o.value for o in Objective}:
            raise typer.BadParameter(f"unknown objective {name!r}; known: {known}", param_hint="--weight")
        try:
            out[name.strip().lower()] = float(value)
        except ValueError:
            raise typer.BadParameter(f"{item!r}: the weight must be a number", param_hint="--weight") from None
    return out


def _load(model: Path | None):
    from gnn.paths import resolve_checkpoint
    from gnn.train import Ensemble

    return Ensemble.load(resolve_checkpoint(model))


@gnn_app.command()
def train(
    store: StoreOption = None,
    out: Annotated[Path | None, typer.Option("--out", help="Checkpoint to write (default: $DLOM_HOME/gnn/predictor.pt).")] = None,
    epochs: Annotated[int, typer.Option(min=1, help="Epochs per ensemble member.")] = 300,
    members: Annotated[int, typer.Option(min=1, help="Ensemble members (the uncertainty estimate needs ≥ 2).")] = 5,
    hidden: Annotated[int, typer.Option(min=4, help="Embedding width.")] = 64,
    seed: Annotated[int, typer.Option(help="Seed of the first member.")] = 0,
    onnx: Annotated[bool, typer.Option(help="Also write the ONNX scorer (predictor.onnx + .json) beside the checkpoint.")] = True,
    half: Annotated[bool, typer.Option("--half", help="Store float16 weights (half the size; how the shipped predictor is built).")] = False,
    threads: Annotated[int | None, typer.Option(help="CPU threads (default 1: fastest for small graphs on a shared CPU; with 2 on an idle 2-core CPU the grown shipped graph trained 5 × 300 epochs in 13.7 min).")] = None,
) -> None:
    """Train the GNN ensemble on every measured model in the store (GPU when there is one)."""
    from gnn.export import export_graph
    from gnn.model import ModelConfig
    from gnn.onnx_scorer import OnnxScorer
    from gnn.paths import user_checkpoint
    from gnn.train import train_ensemble

    _threads(threads)
    target = out or user_checkpoint()
    with opened(store, errors=_ERRORS) as s:
        graph = export_graph(s)
        with RichProgress() as progress:
            ens = train_ensemble(graph, config=ModelConfig(hidden=hidden, members=members, epochs=epochs, seed=seed),
                                 progress=progress)
        if half:
            ens.round_to_half()
        ens.save(target, half=half)
        if onnx:
            OnnxScorer.build(ens, graph).save(target.with_suffix(".onnx"))
    first = sum(h[0] for h in ens.losses) / len(ens.losses)
    last = sum(h[-1] for h in ens.losses) / len(ens.losses)
    console.print(f"trained {ens.version} on {ens.trained_on['models']} measured models in {ens.trained_on['seconds']} s "
                  f"({ens.trained_on['device']}); loss {first:.3f} → {last:.3f}")
    console.print(f"wrote {target}" + (f" and {target.with_suffix('.onnx')}" if onnx else ""))


@gnn_app.command("eval")
def eval_(
    store: StoreOption = None,
    splits: Annotated[str, typer.Option(help="Comma-separated: random, device, temporal.")] = "random,device,temporal",
    folds: Annotated[int, typer.Option(help="Folds of the device split (0 = one per device group).")] = 10,
    epochs: Annotated[int, typer.Option(min=1)] = 300,
    members: Annotated[int, typer.Option(min=1)] = 5,
    write_doc: Annotated[Path | None, typer.Option("--write-doc", help="Also write the table as Markdown to this file (e.g. docs/gnn-evaluation.md).")] = None,
    threads: Annotated[int | None, typer.Option(help="CPU threads (default 1).")] = None,
) -> None:
    """Evaluate the GNN beside baselines on the random, leave-devices-out and temporal splits."""
    from gnn.evaluate import SPLITS, evaluate_split, machine_description, run_date
    from gnn.export import export_graph
    from gnn.model import ModelConfig
    from gnn.report import markdown_report, split_table

    _threads(threads)
    wanted = [x.strip() for x in splits.split(",") if x.strip()]
    bad = [x for x in wanted if x not in SPLITS]
    if bad or not wanted:
        err.print(f"[red]error:[/red] unknown split(s) {', '.join(bad) or '(none)'}; known: {', '.join(SPLITS)}")
        raise typer.Exit(2)
    config = ModelConfig(members=members, epochs=epochs)
    results = []
    with opened(store, errors=_ERRORS) as s:
        graph = export_graph(s)
        for split in wanted:
            with RichProgress() as progress:
                results.append(evaluate_split(graph, split, config, folds=folds, progress=progress))
            console.print(split_table(results[-1]))
    machine, date = machine_description(), run_date()
    doc = markdown_report(results, graph, config, machine, date, folds)
    if write_doc is not None:
        write_doc.parent.mkdir(parents=True, exist_ok=True)
        write_doc.write_text(doc)
        console.print(f"wrote {write_doc}")
    for line in doc.split("## Verdict", 1)[-1].strip().splitlines():
        if line.strip():
            console.print(line.replace("**", ""))


@gnn_app.command()
def predict(
    dln: Annotated[str, typer.Option("--dln", help="DLN IRI or label.")],
    device: Annotated[str, typer.Option("--device", help="End device IRI or label.")],
    technique: Annotated[list[str] | None, typer.Option("--technique", help="Optimization technique IRI or label; repeatable.")] = None,
    fmt: FormatOption = OutputFormat.table,
    store: StoreOption = None,
    model: Annotated[Path | None, typer.Option("--model", help="Trained checkpoint, scored with torch (default: the ONNX scorer of $DLOM_HOME/gnn/predictor.pt, else of the shipped one).")] = None,
) -> None:
    """Predict latency, accuracy and energy (with uncertainty) of one configuration; works for a
    device that has no measurements (cold start from its attributes). Scored with onnxruntime
    (no torch) unless --model is given or the scorer was not built with one of its nodes."""
    from gnn.predict import predict_configuration

    with opened(store, errors=_ERRORS) as s:
        result = predict_configuration(s, dln, device, technique or [], checkpoint=model)
    if fmt == OutputFormat.json:
        sys.stdout.write(json.dumps(result, indent=2) + "\n")
        return
    p, u = result["predicted"], result["uncertainty"]

    def num(v: float | None, spec: str = ".4g") -> str:
        return "— (never measured in training)" if v is None else format(v, spec)

    table = Table("metric", "predicted", "±1σ range", title=f"{result['dln']['label']} on {result['device']['label']}")
    table.add_row("inference latency (ms)", num(p["inference_latency_ms"]),
                  " – ".join(num(v) for v in u["latency_ms_1sigma"]))
    table.add_row("accuracy", num(p["accuracy"], ".4f"), "± " + num(u["std_accuracy"], ".4f"))
    table.add_row("energy per inference (µJ)", num(p["energy_per_inference_uj"]),
                  " – ".join(num(v) for v in u["energy_uj_1sigma"]))
    console.print(table)
    for role, entity in [("DLN", result["dln"]), ("device", result["device"])] + [("technique", t) for t in result["techniques"]]:
        console.print(f"{role}: {entity['label']} <{entity['iri']}>" + (f" — {entity['detail']}" if entity["detail"] else ""),
                      soft_wrap=True, highlight=False, markup=False)
    console.print(f"confidence {result['confidence']:.2f}; {'cold start (device never measured)' if result['cold_start'] else str(result['measured_models_on_device']) + ' measured model(s) on this device'}; "
                  f"predictor {result['predictor_version']} ({result['scorer']}) — predicted, not measured")
    if result["scorer_graph"]:
        console.print(f"note: {result['scorer_graph']}")


@gnn_app.command()
def propose(
    top_k: Annotated[int, typer.Option("--top-k", min=1, help="How many proposals.")] = 10,
    weight: WeightOption = None,
    dln: Annotated[list[str] | None, typer.Option("--dln", help="Restrict to these DLNs (IRI or label); repeatable.")] = None,
    device: Annotated[list[str] | None, typer.Option("--device", help="Restrict to these devices (IRI or label); repeatable.")] = None,
    write: Annotated[bool, typer.Option(help="Record the proposals in the graph as predicted models.")] = True,
    fmt: FormatOption = OutputFormat.table,
    store: StoreOption = None,
    model: ModelOption = None,
) -> None:
    """Propose unseen configurations, ranked by Eq. 1 of their predicted metrics under your weights."""
    from gnn.entities import resolve
    from gnn.export import export_graph
    from gnn.propose import propose as make_proposals
    from gnn.propose import write_proposals

    _threads(None)
    weights = _parse_weights(weight)
    with opened(store, errors=_ERRORS) as s:
        dlns = [resolve(s, "dln", d).iri for d in dln] if dln else None
        devices = [resolve(s, "device", d).iri for d in device] if device else None
        ens = _load(model)
        graph = export_graph(s)
        proposals = make_proposals(graph, ens, weights, top_k,
                                   None if dlns is None else [graph.index["dln"][i] for i in dlns],
                                   None if devices is None else [graph.index["device"][i] for i in devices])
        written = write_proposals(s, proposals, ens.version) if write else []
    if fmt == OutputFormat.json:
        sys.stdout.write(json.dumps({"predictor_version": ens.version, "proposals": [p.to_json() for p in proposals],
                                     "written_models": written}, indent=2) + "\n")
        return
    table = Table("#", "DLN", "device", "techniques", "latency ms", "accuracy", "energy µJ", "σ ln lat", "score",
                  "memory fit", title=f"proposals by {ens.version} (predicted, not measured)")
    for p in proposals:
        table.add_row(str(p.rank), p.dln_label, p.device_label, ", ".join(p.technique_labels) or "—",
                      f"{p.latency_ms:.4g}", f"{p.accuracy:.3f}", f"{p.energy_uj:.4g}", f"{p.std['ln_latency_ms']:.2f}",
                      f"{p.score:.3f}", "unverified" if p.memory_fit is None else ("yes" if p.memory_fit else "no"))
    console.print(table)
    if not proposals:
        console.print("no unseen configuration is consistent with the ontology and the devices' memory")
    if written:
        console.print(f"recorded {len(written)} predicted model(s) in the graph")


def loop(
    top_k: Annotated[int, typer.Option("--top-k", min=1, help="Proposals per round.")] = 5,
    rounds: Annotated[int, typer.Option(min=1, help="Rounds to run.")] = 1,
    weight: WeightOption = None,
    store: StoreOption = None,
    model: ModelOption = None,
    out: Annotated[Path | None, typer.Option("--out", help="Where to save the retrained checkpoint (default: $DLOM_HOME/gnn/predictor.pt).")] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Close the loop: propose, measure what runs here (bench), write back, retrain, and report the
    prediction error on those configurations before and after. Every round is recorded in the graph."""
    from measure.loop import run_loop_round
    from gnn.paths import user_checkpoint

    _threads(None)
    weights = _parse_weights(weight)
    reports = []
    with opened(store, errors=_ERRORS) as s:
        ens = _load(model)
        for _ in range(rounds):
            with RichProgress() as progress:
                report, ens = run_loop_round(s, ens, top_k, weights, progress=progress)
            reports.append(report)
            if report.after_version:
                ens.save(out or user_checkpoint())
    if fmt == OutputFormat.json:
        sys.stdout.write(json.dumps([r.to_json() for r in reports], indent=2) + "\n")
        return
    for r in reports:
        console.print(f"round {r.round_iri}: {len(r.proposals)} proposal(s), {len(r.measured)} measured here, "
                      f"{len(r.not_runnable)} not runnable here")
        for label, reason in r.not_runnable:
            console.print(f"  [yellow]not measured[/yellow] {label}: {reason}")
        if r.measured:
            b, a = r.errors("before"), r.errors("after")
            console.print(f"  MAE ln latency before {b['mae_ln_latency']:.3f} → after {a['mae_ln_latency']:.3f}; "
                          f"MAE accuracy {b['mae_accuracy']:.4f} → {a['mae_accuracy']:.4f} (n={b['n']}); "
                          f"predictor {r.before_version} → {r.after_version}")


if __name__ == "__main__":  # pragma: no cover - direct use: python -m dlom.gnn_command
    root = typer.Typer()
    root.add_typer(gnn_app, name="gnn")
    root.command("loop")(loop)
    root()
