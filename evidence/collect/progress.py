"""Progress while collecting: a bar on a terminal (rich), plain lines otherwise, or nothing."""

from __future__ import annotations

import sys
import threading
from typing import Any, TextIO

from ..pack.raw import RawSource
from .runner import Task


class PlainProgress:
    """One line per source collected: readable in CI logs and files."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self._total = 0
        self._done = 0

    def planned(self, tasks: int) -> None:
        with self._lock:
            self._total += tasks

    def finished(self, task: Task, raw: RawSource) -> None:
        with self._lock:
            self._done += 1
            outcome = "ok" if raw.failure is None else f"not collected: {raw.failure.code}"
            print(
                f"[{self._done}/{self._total}] {task.label}: {outcome}",
                file=self._stream,
                flush=True,
            )


class BarProgress:
    """A progress bar whose total grows as accounts are opened."""

    def __init__(self, stream: TextIO) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self._bar: Any = Progress(
            TextColumn("collecting"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            console=Console(file=stream),
            transient=True,
        )
        self._task = self._bar.add_task("", total=0)
        self._bar.start()

    def planned(self, tasks: int) -> None:
        self._bar.update(self._task, total=self._bar.tasks[0].total + tasks)

    def finished(self, task: Task, raw: RawSource) -> None:
        self._bar.update(self._task, advance=1, description=task.label)

    def close(self) -> None:
        self._bar.stop()


def progress_for(quiet: bool, stream: TextIO | None = None) -> PlainProgress | BarProgress | None:
    if quiet:
        return None
    stream = stream or sys.stderr  # looked up now: the caller may have redirected it
    return BarProgress(stream) if stream.isatty() else PlainProgress(stream)
