"""``dlom effects``: the measured effect of each precision against float, from the graph.

For each quantization precision, the distribution (n, median, quartiles) of the latency ratio, the
memory ratio and the accuracy change against float on the same network, component, device, runtime
and release — :func:`decision.measured_effects.measured_effects`. ``--format json`` prints the full
result (with the accuracy change per metric).
"""
from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from dlom.terminal import StoreOption, console, opened

if TYPE_CHECKING:  # imported where the command runs: every dlom command imports this module
    from decision.measured_effects import Distribution


def _cell(d: Distribution, digits: int = 2) -> str:
    if not d.n:
        return "–"
    return f"{d.median:.{digits}f} [{d.q1:.{digits}f}–{d.q3:.{digits}f}] n={d.n}"


def effects(
    runtime: Annotated[str | None, typer.Option(help="Only pairs on this runtime, e.g. tflite, qnn_dlc, onnx.")] = None,
    form_factor: Annotated[str | None, typer.Option(help="Only pairs on devices of this form factor, e.g. IoT, Phone, Auto.")] = None,
    precision: Annotated[list[str] | None, typer.Option(help="Only these precisions (repeatable), e.g. w8a8.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table | json")] = "table",
    store: StoreOption = None,
) -> None:
    """Measured effects of each precision against float (latency ratio, memory ratio, accuracy change)."""
    from decision.measured_effects import measured_effects

    with opened(store) as s:
        result = measured_effects(s, runtime=runtime, form_factor=form_factor, precisions=precision)
    if fmt == "json":
        sys.stdout.write(json.dumps([e.as_dict() for e in result], indent=2, ensure_ascii=False) + "\n")
        return
    table = Table("precision", "latency ratio median [q1–q3]", "memory ratio median [q1–q3]",
                  "top-1 change, points median [q1–q3]", title="Measured effects against float (same network, device, runtime, release)")
    for e in result:
        table.add_row(e.precision, _cell(e.latency_ratio), _cell(e.memory_ratio), _cell(e.accuracy_change, 1))
    console.print(table)
    if not result:
        console.print("no precision has a float measurement to pair with in this graph")
