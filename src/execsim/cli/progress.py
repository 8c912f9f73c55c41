"""Progress display for long commands (rich, on stderr, hidden when stderr is not a terminal)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

__all__ = ["progress_bar"]


@contextmanager
def progress_bar(description: str, total: float | None) -> Iterator[Callable[[float], None]]:
    """Show a progress bar; yield ``advance(n)`` to move it forward by ``n`` units.

    The bar is drawn on stderr only when it is a terminal, so piped output stays clean.
    """
    console = Console(stderr=True)
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=not console.is_terminal,
        transient=False,
    ) as prog:
        task = prog.add_task(description, total=total)

        def advance(n: float) -> None:
            prog.advance(task, n)

        yield advance
