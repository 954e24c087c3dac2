"""``dlom recommend``: the decision support system from the command line.

Requirements and preferences come from a JSON or YAML file (the same shape as the body of
``POST /api/recommend``), from flags, or both (flags override the file). Prints a table of the ranked
models with scores and explanations, or the full result with ``--format json``.

Comparisons are written ``MORE>LESS:LEVEL`` (e.g. ``performance>cost:stronger``), ``LESS<MORE:LEVEL``,
or ``A=B`` for equal importance; levels: equal, weak, stronger, absolute.
"""
from __future__ import annotations

import functools
import inspect
import json
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
import yaml
from rich.table import Table

from decision.requirement_table import REQUIREMENTS, Requirement
from dlom.terminal import StoreOption, console, opened, print_error

if TYPE_CHECKING:  # imported where the command runs: every dlom command imports this module
    from decision.recommend import Recommendation

_COMPARISON = re.compile(r"^\s*([a-z]+)\s*([<>=])\s*([a-z]+)\s*(?::\s*([a-z]+))?\s*$")
_MARK = {"rating": "r", "derived": "d", "measured-effects": "m", "effects": "e", "missing": "–"}


def parse_comparison(text: str) -> dict[str, str]:
    """``performance>cost:stronger`` → {"more": "performance", "less": "cost", "level": "stronger"}."""
    m = _COMPARISON.match(text.lower())
    if not m:
        raise typer.BadParameter(f"{text!r}: write MORE>LESS:LEVEL, LESS<MORE:LEVEL or A=B")
    a, op, b, level = m.groups()
    if op == "=":
        if level not in (None, "equal"):
            raise typer.BadParameter(f"{text!r}: '=' means equal importance; use '>' with a level")
        return {"more": a, "less": b, "level": "equal"}
    if level is None:
        raise typer.BadParameter(f"{text!r}: give the level, e.g. {a}{op}{b}:weak")
    return {"more": a, "less": b, "level": level} if op == ">" else {"more": b, "less": a, "level": level}


def parse_weight(text: str) -> tuple[str, float]:
    name, sep, value = text.partition("=")
    try:
        if not sep:
            raise ValueError
        return name.strip().lower(), float(value)
    except ValueError:
        raise typer.BadParameter(f"{text!r}: write OBJECTIVE=WEIGHT, e.g. performance=0.4") from None


def load_requirements_file(path: Path) -> dict[str, Any]:
    """The mapping in a JSON or YAML file (an error names the file and, for syntax errors, the line)."""
    from kg.errors import InputError

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise InputError(str(path), f"cannot read: {e.strerror or e}") from None
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except json.JSONDecodeError as e:
        raise InputError(str(path), f"invalid JSON: {e.msg}", line=e.lineno) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise InputError(str(path), f"invalid YAML: {getattr(e, 'problem', None) or e}",
                         line=mark.line + 1 if mark else None) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError(str(path), "the file must hold a mapping of requirement sections")
    return data


def _set(data: dict[str, Any], path: str, value: Any) -> None:
    if value is None:
        return
    section, name = path.split(".")
    data.setdefault(section, {})
    if not isinstance(data[section], dict):
        data[section] = {}
    data[section][name] = value


def _option_name(row: Requirement) -> str:
    return row.path.replace(".", "__")


def _with_requirement_options(command: Callable[..., None]) -> Callable[..., None]:
    """``command`` with one option per requirement row that has one (:data:`REQUIREMENTS`: its
    ``option`` and ``help``), after ``--requirements``; it gets the stated flags as ``flags``, a mapping
    of dotted requirement paths to values (None: not given)."""
    rows = [r for r in REQUIREMENTS if r.option is not None]
    signature = inspect.signature(command, eval_str=True)
    own = [p for p in signature.parameters.values() if p.name != "flags"]
    options = [inspect.Parameter(_option_name(r), inspect.Parameter.KEYWORD_ONLY, default=None,
                                 annotation=Annotated[r.type | None, typer.Option(r.option, help=r.help)])
               for r in rows]
    parameters = own[:1] + options + own[1:]

    @functools.wraps(command)
    def with_options(**kwargs: Any) -> None:
        flags = {r.path: kwargs.pop(_option_name(r)) for r in rows}
        command(flags=flags, **kwargs)

    with_options.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in parameters])
    with_options.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": None}
    return with_options


@_with_requirement_options
def recommend(
    requirements: Annotated[Path | None, typer.Option("--requirements", "-r", help="JSON or YAML file of requirements and preferences.")] = None,
    compare: Annotated[list[str] | None, typer.Option("--compare", "-c", help="Pairwise comparison, e.g. performance>cost:stronger (repeatable).")] = None,
    weight: Annotated[list[str] | None, typer.Option("--weight", "-w", help="Explicit weight, e.g. performance=0.5 (repeatable; instead of comparisons).")] = None,
    allow_unknown: Annotated[bool, typer.Option(help="Keep models whose value for a stated constraint is unknown.")] = False,
    include_predicted: Annotated[bool, typer.Option(help="Also consider models with only predicted performance.")] = False,
    top: Annotated[int, typer.Option(help="How many recommendations to explain.", min=1, max=100)] = 5,
    fmt: Annotated[str, typer.Option("--format", help="table | json")] = "table",
    store: StoreOption = None,
    flags: Mapping[str, Any] | None = None,
) -> None:
    """Recommend deployed models for your requirements, ranked by your preferences (Eq. 1), with explanations.

    Exit status: 0 with recommendations, 2 for invalid requirements or preferences, 3 when no model
    matches (the prediction model is not available yet)."""
    from decision.elicitation import PreferenceError
    from decision.recommend import recommend as run_recommend
    from decision.requirements import RequirementsError
    from kg.errors import DlomError

    if fmt not in ("table", "json"):
        print_error(f"--format must be table or json, not {fmt!r}")
        raise typer.Exit(2)
    try:
        data: dict[str, Any] = load_requirements_file(requirements) if requirements else {}
    except DlomError as e:
        print_error(str(e))
        raise typer.Exit(2) from None
    for path, value in (flags or {}).items():  # the requirement options (flags override the file)
        _set(data, path, value if value != [] else None)
    if compare:
        data.setdefault("preferences", {})["comparisons"] = [parse_comparison(c) for c in compare]
    if weight:
        data.setdefault("preferences", {})["weights"] = dict(parse_weight(w) for w in weight)
    if allow_unknown:
        data["allow_unknown"] = True
    if include_predicted:
        data["include_predicted"] = True

    with opened(store) as s:
        try:
            rec = run_recommend(s, data, top_k=top)
        except RequirementsError as e:
            for fe in e.errors:
                print_error(f"{fe.field}: {fe.message}")
            raise typer.Exit(2) from None
        except PreferenceError as e:
            print_error(f"preferences: {e}")
            raise typer.Exit(2) from None
    if fmt == "json":
        sys.stdout.write(json.dumps(rec.to_dict(), indent=2, default=str) + "\n")
    else:
        print_recommendation(rec)
    if rec.status != "ok":
        raise typer.Exit(3)


def print_recommendation(rec: Recommendation) -> None:
    """The result as rich tables: ranking with explanations, weights and consistency, sensitivity."""
    console.print(f"[bold]{rec.message}[/bold]")
    for a in rec.requirements_applied:
        if not a.applied:
            console.print(f"[yellow]not applied[/yellow] {a.field}: {a.reason}")
    weights = "  ".join(f"{k} {v:.3f}" for k, v in rec.weights.items())
    console.print(f"weights: {weights}")
    if rec.preference is not None:
        note = rec.preference.note()
        console.print(f"consistency ratio {rec.preference.consistency_ratio:.3f}"
                      + (" [red](inconsistent)[/red]" if not rec.preference.consistent else "") + (f" — {note}" if note else ""))
    if rec.status != "ok":
        for p in rec.predictions:
            console.print(f"  [yellow]predicted[/yellow] {p.label} (confidence {p.confidence:.2f}, {p.predictor_version}): {p.metrics}")
        return
    table = Table("#", "Model", "Score", "Perf", "Rel", "Sec", "Cost", "Lat", "Cmp", "Pareto")
    for e in rec.recommendations:
        cells = [f"{v.value:.2f}{_MARK[v.source.value]}" for v in e.values]
        table.add_row(str(e.rank), e.label + (" [yellow](predicted)[/yellow]" if e.predicted else ""),
                      f"{e.score:.3f}", *cells, "yes" if e.on_pareto_front else "")
    console.print(table)
    for e in rec.recommendations:
        console.print(f"[bold]#{e.rank} {e.label}[/bold] — score {e.score:.3f}"
                      + (f" ({e.similar_count} more like this)" if e.similar_count else ""))
        terms = sorted(e.contributions, key=lambda c: -c.contribution)
        console.print("  contributions: " + ", ".join(
            f"{c.objective.value} {c.weight:.2f}×{c.value:.2f}={c.contribution:.2f}" for c in terms))
        for r in e.requirements:
            mark = {"met": "✓", "unknown": "?", "not_applied": "–"}.get(r.status, "✗")
            console.print(f"  {mark} {r.describe()}")
        for ev in e.evidence[:3]:
            where = "; ".join(filter(None, [ev.kind, f"round {ev.round}" if ev.round else None,
                                            ", ".join(ev.submitters), ", ".join(ev.source_files[:3])]))
            console.print(f"  evidence: {where}")
        if e.predicted:
            console.print("  [yellow]PREDICTED performance, not measured[/yellow]")
    console.print("values: r = mean user rating, d = derived from measurements, m = from the measured effects of "
                  "the precision applied (paired measurements vs float), e = from Table 1 effects of the "
                  "techniques applied, – = no data (neutral 3)")
    if rec.pareto_front:
        console.print(f"Pareto front: {len(rec.pareto_front)} model(s) — "
                      + ", ".join(f"{p['label']} (#{p['rank']})" for p in rec.pareto_front[:10])
                      + (" …" if len(rec.pareto_front) > 10 else ""))
    if rec.sensitivity:
        st = Table("Objective", "Weight", "Top stays top for weight in", "Overtaken by (below / above)")
        for s in rec.sensitivity:
            below = rec.sensitivity_labels.get(s.overtaken_below_by) if s.overtaken_below_by is not None else "—"
            above = rec.sensitivity_labels.get(s.overtaken_above_by) if s.overtaken_above_by is not None else "—"
            st.add_row(s.objective.value, f"{s.weight:.3f}", f"[{s.lowest_weight:.3f}, {s.highest_weight:.3f}]", f"{below} / {above}")
        console.print(st)
