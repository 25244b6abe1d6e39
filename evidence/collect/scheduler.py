"""A bounded worker pool for collection, gentle on production accounts.

Work may submit more work (an account, once opened, submits its sources). At most
`max_in_flight` calls are in flight at once per account and region: a source's task holds one
slot of its account and region while it runs, and a source that asks many resources the same
question (per_resource.py) borrows further free slots of the same budget for the helpers that
share the work.

A task waits for its slot and for the sources whose evidence it reads in a queue of its account
and region, not in a worker: it reaches the pool only once both are there. (A worker that waited
for a slot itself would sit idle while other accounts had free slots: an organisation's sources
are submitted account by account, so 64 workers took the tasks of two accounts, 18 slots, and
most of them waited, 8 to 12 times the ideal wall at 50 ms a call: bench_scale.)

Deadlock-free: dependencies are submitted before their dependents and a task is queued only
once they have finished, so it never holds a slot while waiting. A helper only ever adds to a
task that already makes progress on its own slot, and gives up waiting once the work is shared out.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any


class InFlight:
    """The calls in flight for one account and region: at most `limit` at once.

    Used as a context manager by a task (blocks until a slot is free) and through acquire and
    release by per-resource helpers, which stop waiting as soon as `give_up()` says there is no
    work left for them.
    """

    def __init__(self, limit: int, on_release: Callable[[], None] = lambda: None) -> None:
        if limit < 1:
            raise ValueError(f"at least one call in flight, not {limit}")
        self.limit = limit
        self._used = 0
        self._changed = threading.Condition()
        self._on_release = on_release  # called after a slot is freed (outside the lock)

    def acquire(self, give_up: Callable[[], bool] = lambda: False) -> bool:
        """Take a slot (True), or return False once `give_up()` is true while waiting."""
        with self._changed:
            self._changed.wait_for(lambda: self._used < self.limit or give_up())
            if self._used >= self.limit or give_up():
                return False
            self._used += 1
            return True

    def try_acquire(self) -> bool:
        """Take a slot if one is free now (True), without waiting."""
        with self._changed:
            if self._used >= self.limit:
                return False
            self._used += 1
            return True

    def release(self) -> None:
        with self._changed:
            if self._used == 0:
                raise RuntimeError("released a slot that was not taken")
            self._used -= 1
            self._changed.notify_all()  # waiters with their own give_up test must all look
        self._on_release()

    def wake(self) -> None:
        """Make every waiter look at its give_up test again (the work was shared out)."""
        with self._changed:
            self._changed.notify_all()

    def __enter__(self) -> InFlight:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


Job = tuple["Future[Any]", Callable[..., Any], tuple[Any, ...]]


class Scheduler:
    def __init__(self, max_workers: int, max_in_flight: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="collect")
        self._lock = threading.Lock()
        self._pending: set[Future[Any]] = set()
        self._slots: dict[tuple[str, str], InFlight] = {}
        self._queued: dict[tuple[str, str], deque[Job]] = {}
        self._max_in_flight = max_in_flight

    def submit(self, work: Callable[..., Any], *args: Any) -> Future[Any]:
        with self._lock:
            future = self._pool.submit(work, *args)
            self._pending.add(future)
        return future

    def submit_in_slot(
        self,
        account: str,
        region: str,
        work: Callable[..., Any],
        *args: Any,
        after: Sequence[Future[Any]] = (),
    ) -> Future[Any]:
        """Run `work(budget, *args)` holding one slot of the account and region's in-flight
        budget (released when it returns), once the tasks `after` have finished (their errors
        surface in wait_all). Until then it waits in a queue, not in a worker."""
        result: Future[Any] = Future()
        with self._lock:
            self._pending.add(result)
        key = (account, region)
        job: Job = (result, work, args)
        remaining = [len(after)]

        def one_done(_: Future[Any]) -> None:
            with self._lock:
                remaining[0] -= 1
                ready = remaining[0] == 0
            if ready:
                self._queue(key, job)

        if not after:
            self._queue(key, job)
        for dependency in after:
            dependency.add_done_callback(one_done)
        return result

    def slot(self, account: str, region: str) -> InFlight:
        """The in-flight budget of one account and region (`global` for global services)."""
        with self._lock:
            return self._slot((account, region))

    def _slot(self, key: tuple[str, str]) -> InFlight:
        if key not in self._slots:
            self._slots[key] = InFlight(self._max_in_flight, lambda: self._start(key))
        return self._slots[key]

    def _queue(self, key: tuple[str, str], job: Job) -> None:
        with self._lock:
            self._queued.setdefault(key, deque()).append(job)
        self._start(key)

    def _start(self, key: tuple[str, str]) -> None:
        """Hand queued tasks of the account and region to the pool while it has free slots."""
        while True:
            with self._lock:
                queued = self._queued.get(key)
                budget = self._slot(key)
                if not queued or not budget.try_acquire():
                    return
                job = queued.popleft()
            try:
                self._pool.submit(self._run, budget, job)
            except RuntimeError as exc:  # the pool was shut down: interrupted
                job[0].set_exception(exc)
                budget.release()
                return

    @staticmethod
    def _run(budget: InFlight, job: Job) -> None:
        result, work, args = job
        try:
            if result.set_running_or_notify_cancel():
                try:
                    value = work(budget, *args)
                except BaseException as exc:
                    result.set_exception(exc)
                else:
                    result.set_result(value)
        finally:
            budget.release()

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
