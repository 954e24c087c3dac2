"""A rich progress bar that implements :class:`kg.progress.Progress`, the one progress interface of
importers, migration, sweeps, GNN training and the loop."""
from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn


class RichProgress:
    """One bar (label, bar, done/total, elapsed) on ``console`` (default: stdout) while the ``with``
    block runs; ``transient`` erases it at the end. Calls before :meth:`start` are ignored."""

    def __init__(self, console: Console | None = None, transient: bool = False) -> None:
        self._progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=console, transient=transient,
        )
        self._task: TaskID | None = None

    def __enter__(self) -> RichProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def start(self, total: int, description: str) -> None:
        self._task = self._progress.add_task(description, total=total)

    def advance(self, n: int = 1) -> None:
        if self._task is not None:
            self._progress.advance(self._task, n)

    def describe(self, description: str) -> None:
        if self._task is not None:
            self._progress.update(self._task, description=description)
