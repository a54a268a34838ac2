"""Progress of a long command: a live bar on a terminal, plain lines on stderr elsewhere.

A live bar needs a terminal; in a CI log, a notebook or under ``nohup`` it
would print nothing for minutes. There, each stage prints a line when it
starts, then one line per finished chunk (the first, then at most one every
:data:`LINE_EVERY_S` seconds, and the last where the total is known), with
the elapsed time, all on stderr so that stdout keeps only the command's data.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

__all__ = ["LINE_EVERY_S", "Stages", "stages"]

#: Fewest seconds between two plain progress lines of one stage (the last line always prints).
LINE_EVERY_S = 2.0

#: ``update(done, total=None)``: the stage has done ``done`` of ``total`` (default: the
#: total given to :meth:`Stages.stage`).
Update = Callable[..., None]


class Stages:
    """The stages of one command; :meth:`stage` starts one and returns its ``update``."""

    def __init__(self, console: Console, bar: Progress | None) -> None:
        self._console = console
        self._bar = bar

    def stage(
        self, description: str, total: int | None = None, counts: str = "{done}/{total}"
    ) -> Update:
        """Start a stage and return its update function.

        Parameters
        ----------
        description
            What the stage does, printed as is.
        total
            Chunks in all, if known now (``update`` may give it later).
        counts
            How a count is shown after the description, a format of ``done``
            and ``total`` (e.g. ``"day {done}"``).
        """
        stage_total = total
        if self._bar is not None:
            bar = self._bar
            self.finish()
            task = bar.add_task(description, total=total)

            def update_bar(done: int, total: int | None = None) -> None:
                total = stage_total if total is None else total
                text = counts.format(done=done, total=total)
                bar.update(task, description=f"{description}: {text}", total=total, completed=done)

            return update_bar
        start = time.monotonic()
        last = [-math.inf, -1]  # time and count of the last line: the first update prints
        self._line(description)

        def update_line(done: int, total: int | None = None) -> None:
            total = stage_total if total is None else total
            now = time.monotonic()
            final = total is not None and done >= total
            if done == last[1] or (not final and now - last[0] < LINE_EVERY_S):
                return
            last[:] = [now, done]
            text = counts.format(done=done, total=total)
            self._line(f"{description}: {text} ({now - start:.0f} s)")

        return update_line

    def finish(self) -> None:
        """Show the stages begun so far as done (a bar without a total stops pulsing)."""
        if self._bar is None:
            return
        for task in self._bar.tasks:
            if not task.finished:
                done = max(task.completed, 1)
                self._bar.update(task.id, total=done, completed=done)

    def _line(self, text: str) -> None:
        self._console.print(text, markup=False, highlight=False, soft_wrap=True)


@contextmanager
def stages(console: Console) -> Iterator[Stages]:
    """The progress display for ``console``: a rich bar if it is a terminal, else plain lines."""
    if not console.is_terminal:
        yield Stages(console, None)
        return
    bar = Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
    with bar:
        shown = Stages(console, bar)
        yield shown
        shown.finish()
