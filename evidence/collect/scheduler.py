"""A bounded worker pool for collection, gentle on production accounts.

Work may submit more work (an account, once opened, submits its sources). A task that reads
another source's evidence waits for it before taking its slot, and at most `max_in_flight` calls
are in flight at once per account and region: a task holds one slot of its account and region
while it runs, and a source that asks many resources the same question (per_resource.py) borrows
further free slots of the same budget for the helpers that share the work.

Deadlock-free: dependencies are submitted before their dependents (FIFO), and a task waits for
its dependencies before it takes a slot, never while holding one. A helper only ever adds to a
task that already makes progress on its own slot, and gives up waiting once the work is shared out.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any


class InFlight:
    """The calls in flight for one account and region: at most `limit` at once.

    Used as a context manager by a task (blocks until a slot is free) and through acquire and
    release by per-resource helpers, which stop waiting as soon as `give_up()` says there is no
    work left for them.
    """

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"at least one call in flight, not {limit}")
        self.limit = limit
        self._used = 0
        self._changed = threading.Condition()

    def acquire(self, give_up: Callable[[], bool] = lambda: False) -> bool:
        """Take a slot (True), or return False once `give_up()` is true while waiting."""
        with self._changed:
            self._changed.wait_for(lambda: self._used < self.limit or give_up())
            if self._used >= self.limit or give_up():
                return False
            self._used += 1
            return True

    def release(self) -> None:
        with self._changed:
            if self._used == 0:
                raise RuntimeError("released a slot that was not taken")
            self._used -= 1
            self._changed.notify_all()  # waiters with their own give_up test must all look

    def wake(self) -> None:
        """Make every waiter look at its give_up test again (the work was shared out)."""
        with self._changed:
            self._changed.notify_all()

    def __enter__(self) -> InFlight:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class Scheduler:
    def __init__(self, max_workers: int, max_in_flight: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="collect")
        self._lock = threading.Lock()
        self._pending: set[Future[Any]] = set()
        self._slots: dict[tuple[str, str], InFlight] = {}
        self._max_in_flight = max_in_flight

    def submit(self, work: Callable[..., Any], *args: Any) -> Future[Any]:
        with self._lock:
            future = self._pool.submit(work, *args)
            self._pending.add(future)
        return future

    def slot(self, account: str, region: str) -> InFlight:
        """The in-flight budget of one account and region (`global` for global services)."""
        with self._lock:
            key = (account, region)
            if key not in self._slots:
                self._slots[key] = InFlight(self._max_in_flight)
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
