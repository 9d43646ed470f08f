"""Feedback on long work for the command line: a rich progress bar on a terminal, counted lines
otherwise (make, CI, a pipe), so that nobody stares at a silent prompt.

    with Progress("Seeding the demo conference") as progress:
        progress.total("cases", 12)
        progress.update("cases", 3)
        progress.item("case 3 would be anonymised")   # one line per item, above the bar

Only ids, counts and dates go through here: never a name, a BSN or note text."""

from __future__ import annotations

import sys
from types import TracebackType
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress


class Progress:
    def __init__(self, title: str, *, out: TextIO | None = None, interactive: bool | None = None) -> None:
        self.out = out or sys.stdout
        self.title = title
        tty = self.out.isatty() if interactive is None else interactive
        self._console = Console(file=self.out, highlight=False, soft_wrap=True, force_terminal=tty or None)
        self._rich: RichProgress | None = None
        if tty:
            self._rich = RichProgress(
                TextColumn("  {task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=self._console,
                transient=True,
            )
        self._tasks: dict[str, TaskID] = {}
        self._counts: dict[str, list[int]] = {}  # label -> [done, total, last printed step]

    def __enter__(self) -> Progress:
        self._line(f"{self.title} …")
        if self._rich is not None:
            self._rich.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, _tb: TracebackType | None
    ) -> None:
        if self._rich is not None:
            self._rich.stop()
        for label, (done, total, printed) in self._counts.items():
            if self._rich is not None or printed != done:
                self._line(f"  {label}: {done}/{total}")

    def _line(self, text: str) -> None:
        self._console.print(text, markup=False)
        self.out.flush()  # a pipe (make, CI) shows each line as it happens, not at exit

    def item(self, text: str) -> None:
        """One line that stays (e.g. what a dry run would do)."""
        self._line(f"  {text}")

    def total(self, label: str, total: int) -> None:
        self._counts[label] = [0, total, 0]
        if self._rich is not None:
            self._tasks[label] = self._rich.add_task(label, total=total)

    def update(self, label: str, done: int, total: int | None = None) -> None:
        if label not in self._counts:
            self.total(label, total if total is not None else done)
        state = self._counts[label]
        state[0] = done
        if total is not None:
            state[1] = total
        if self._rich is not None:
            self._rich.update(self._tasks[label], completed=done, total=state[1])
            return
        if done >= state[1] or done - state[2] >= _step(state[1]):
            self._line(f"  {label}: {done}/{state[1]}")
            state[2] = done


def _step(total: int) -> int:
    """Counted lines: about ten per task, whatever its size."""
    return max(1, -(-total // 10))
