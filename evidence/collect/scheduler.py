"""A bounded worker pool for collection, gentle on production accounts.

Work may submit more work (an account, once opened, submits its sources). A task that reads
another source's evidence waits for it before taking its slot, and at most `max_in_flight` tasks
run at once per account and region; each task makes its calls one after another, so that is
also the bound on calls in flight per account and region.

Deadlock-free: dependencies are submitted before their dependents (FIFO), and a task waits for
its dependencies before it takes a slot, never while holding one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import AbstractContextManager
from typing import Any


class Scheduler:
    def __init__(self, max_workers: int, max_in_flight: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="collect")
        self._lock = threading.Lock()
        self._pending: set[Future[Any]] = set()
        self._slots: dict[tuple[str, str], threading.Semaphore] = {}
        self._max_in_flight = max_in_flight

    def submit(self, work: Callable[..., Any], *args: Any) -> Future[Any]:
        with self._lock:
            future = self._pool.submit(work, *args)
            self._pending.add(future)
        return future

    def slot(self, account: str, region: str) -> AbstractContextManager[Any]:
        with self._lock:
            key = (account, region)
            if key not in self._slots:
                self._slots[key] = threading.BoundedSemaphore(self._max_in_flight)
            return self._slots[key]

    @staticmethod
    def after(dependencies: Iterable[Future[Any]]) -> None:
        """Wait until the given tasks have finished (their errors surface in wait_all)."""
        wait(list(dependencies))

    def wait_all(self) -> None:
        """Until no work is left; a worker's unexpected exception is raised here."""
        try:
            while True:
                with self._lock:
                    pending = [f for f in self._pending if not f.done()]
                    finished = [f for f in self._pending if f.done()]
                    self._pending.difference_update(finished)
                for future in finished:
                    future.result()
                if not pending:
                    break
                wait(pending, return_when=FIRST_COMPLETED)
        except BaseException:
            # Interrupted or broken: don't wait for calls sleeping in retry back-off.
            self._pool.shutdown(wait=False, cancel_futures=True)
            raise
        self._pool.shutdown(wait=True)
