"""The one way a source makes calls per resource (per bucket, per trail, per listener...).

AWS answers some questions only one resource at a time. One resource that cannot be read (a
bucket whose policy is denied, a trail deleted between listing and reading, an organization trail
a member account cannot query) must not hide the others: its failure is recorded for that
resource alone, in the source's raw file (`resource_failures`), and the check shows it as an
`error` item while still judging the rest.

Every per-resource call of every source goes through `each_resource`, which is also where they
overlap: at real AWS latency (30 to 150 ms a call) a source with a hundred buckets would
otherwise wait for a hundred answers one after another. The calls fan out within the account
and region's in-flight budget (--max-in-flight), shared with the other sources of that account
and region, so the production-safe bound still holds. Each resource's calls are recorded apart
and added to the source's recording in the order of the resources' names once all are done, so
a raw file's order does not depend on which answer came back first.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar, cast

from botocore.exceptions import BotoCoreError, ClientError

from ..pack.raw import ResourceFailure
from ..sources.base import error_code
from .failures import CREDENTIAL_ERROR_CODES, describe_failure
from .recorder import Recorder, Recording
from .scheduler import InFlight

R = TypeVar("R")
T = TypeVar("T")


@dataclass
class _Outcome(Generic[T]):
    """What one resource's call left: its calls, and its answer or why there is none."""

    part: Recording
    answer: T | None = None
    answered: bool = False
    failure: ResourceFailure | None = None
    stop: BaseException | None = None  # credentials gone or a bug: ends the source


class _Shares:
    """Hands out the resources' positions, one at a time, until all are taken or work stops."""

    def __init__(self, count: int) -> None:
        self._next = 0
        self._count = count
        self._stopped = False
        self._lock = threading.Lock()

    def take(self) -> int | None:
        with self._lock:
            if self._stopped or self._next >= self._count:
                return None
            self._next += 1
            return self._next - 1

    def exhausted(self) -> bool:
        with self._lock:
            return self._stopped or self._next >= self._count

    def stop(self) -> None:
        with self._lock:
            self._stopped = True


def each_resource(
    recorder: Recorder,
    kind: str,
    resources: Mapping[str, R],
    call: Callable[[R], T],
    budget: InFlight | None = None,
) -> dict[str, T]:
    """`call` once per resource; the answers of those that could be read, by name (sorted).

    A ClientError or transport error on one resource is recorded against that resource (kind,
    name, operation, AWS error code) and the others carry on. Credentials that stop working end
    the whole source: every later call would fail the same way, so no new resource is started
    and the error is raised once the calls under way are recorded. Any other exception (a bug)
    is not swallowed either.

    With a `budget` (the account and region's in-flight slots, one of which the calling thread
    holds), up to `budget.limit - 1` helper threads take further resources, each while holding
    a slot of its own; without one, the calls are made one after another. `call` runs in a copy
    of the caller's context and must not share unguarded state with other resources' calls: it
    should return what it found. The calls are recorded in the order of the resources' names
    whatever the order in which they were answered.
    """
    ordered = sorted(resources.items(), key=lambda named: named[0])
    outcomes: list[_Outcome[T] | None] = [None] * len(ordered)
    shares = _Shares(len(ordered))

    def work(index: int) -> None:
        name, resource = ordered[index]
        with recorder.part() as part:
            outcome: _Outcome[T] = _Outcome(part)
            try:
                outcome.answer, outcome.answered = call(resource), True
            except (ClientError, BotoCoreError) as exc:
                if isinstance(exc, ClientError) and error_code(exc) in CREDENTIAL_ERROR_CODES:
                    outcome.stop = exc
                else:
                    operation, code, message = describe_failure(exc, part.calls)
                    outcome.failure = ResourceFailure(kind, name, operation, code, message)
            except BaseException as exc:  # a bug: recorded calls kept, then raised as is
                outcome.stop = exc
        outcomes[index] = outcome
        if outcome.stop is not None:
            shares.stop()

    def helper(slots: InFlight) -> None:
        while slots.acquire(give_up=shares.exhausted):
            try:
                index = shares.take()
                if index is None:
                    return
                work(index)
            finally:
                slots.release()

    helpers = 0 if budget is None else min(budget.limit - 1, len(ordered) - 1)
    pool = ThreadPoolExecutor(helpers, "per-resource") if budget and helpers > 0 else None
    try:
        if pool is not None and budget is not None:
            for _ in range(helpers):
                # A copy of this thread's context: the helper's calls belong to this source.
                pool.submit(contextvars.copy_context().run, helper, budget)
        while (index := shares.take()) is not None:
            work(index)
    finally:
        if pool is not None and budget is not None:
            budget.wake()  # helpers still waiting for a slot: nothing is left for them
            pool.shutdown(wait=True)
    return _merge(recorder.current(), ordered, outcomes)


def _merge(
    whole: Recording, ordered: list[tuple[str, R]], outcomes: list[_Outcome[T] | None]
) -> dict[str, T]:
    """Add every resource's calls and failures to the source's recording, in name order; raise
    the first exception that ended the work, after its calls are recorded."""
    answers: dict[str, T] = {}
    stop: BaseException | None = None
    for (name, _), outcome in zip(ordered, outcomes, strict=True):
        if outcome is None:  # never started: the work stopped before it
            continue
        whole.calls.extend(outcome.part.calls)
        whole.resource_failures.extend(outcome.part.resource_failures)
        if outcome.answered:
            answers[name] = cast(T, outcome.answer)  # answered: the call's own value
        elif outcome.failure is not None:
            whole.resource_failures.append(outcome.failure)
        elif stop is None:
            stop = outcome.stop
    if stop is not None:
        raise stop
    return answers
