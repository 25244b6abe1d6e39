"""Collection across accounts: open each account (assume its role), resolve its regions, then
collect its sources, all on one bounded scheduler. An account or region that fails is recorded
as such; every other one completes."""

from __future__ import annotations

import dataclasses
import re
import threading
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import EvidenceToolError, UsageError
from ..model import GLOBAL_REGION, CollectionError
from ..pack.raw import RawSource
from ..pack.runinfo import AccountRun
from ..sources.account import (
    ACCOUNT_ALIASES,
    ENABLED_REGIONS,
    ORGANIZATION,
    CallerIdentity,
    organizational_units,
)
from ..sources.base import FetchContext, Scope, Source
from .clients import AccountClients, AwsSettings, StaticCredentials, make_session
from .recorder import Recorder
from .regions import ALL_REGIONS, NO_REGION_HINT
from .runner import PackDependencies, RawWriter, Task, run_source
from .scheduler import InFlight, Scheduler

DEFAULT_ROLE = "OrganizationAccountAccessRole"
_ACCOUNT_ID = re.compile(r"^\d{12}$")


class Progress(Protocol):
    def planned(self, tasks: int) -> None: ...

    def finished(self, task: Task, raw: RawSource) -> None: ...


@dataclass(frozen=True)
class Targets:
    accounts: tuple[str, ...]
    scope: str  # the pack's scope: an account id, org-<management id> or accounts-<caller id>


def resolve_targets(
    accounts: Sequence[str],
    organization: bool,
    clients: AccountClients,
    caller: CallerIdentity,
    recorder: Recorder,
    writer: RawWriter,
    units: Sequence[str] = (),
) -> Targets:
    """The accounts of the run and the pack's scope: `units` (organizational units, each with
    the units below it) give the scope org-<management id>-<unit>[+<unit>...], so each part of
    an organisation split by unit keeps a chain of its own."""
    if units:
        source = organizational_units(tuple(dict.fromkeys(units)))
        raw = run_source(
            source, clients.context(caller.account, GLOBAL_REGION), recorder, caller.arn
        )
        writer.write(raw, source)
        if raw.failure is not None:
            raise EvidenceToolError(
                f"--organizational-unit: cannot list the accounts under {', '.join(units)}"
                f" ({raw.failure.operation}: {raw.failure.code}: {raw.failure.message}); run"
                " from the management account or a delegated administrator"
            )
        org = source.parse(raw)
        scope = f"org-{org.management_account}-{'+'.join(dict.fromkeys(units))}"
        return Targets(org.active, scope)
    if organization:
        raw = run_source(
            ORGANIZATION, clients.context(caller.account, GLOBAL_REGION), recorder, caller.arn
        )
        writer.write(raw, ORGANIZATION)
        if raw.failure is not None:
            raise EvidenceToolError(
                f"--organization: cannot list the organization's accounts ({raw.failure.operation}"
                f": {raw.failure.code}: {raw.failure.message}); run from the management account or"
                " a delegated administrator, or name the accounts with --accounts"
            )
        org = ORGANIZATION.parse(raw)
        return Targets(org.active, f"org-{org.management_account}")
    if accounts:
        bad = [a for a in accounts if not _ACCOUNT_ID.match(a)]
        if bad:
            raise UsageError(f"--accounts: not a 12-digit account id: {', '.join(bad)}")
        unique = tuple(dict.fromkeys(accounts))
        scope = unique[0] if len(unique) == 1 else f"accounts-{caller.account}"
        return Targets(unique, scope)
    return Targets((caller.account,), caller.account)


@dataclass
class AccountCollection:
    """Everything one run needs to open accounts and collect their sources."""

    sources: Sequence[Source[Any]]
    regions: Sequence[str]  # as requested: explicit names, ["all"], or [] for the session's
    session_region: str | None
    settings: AwsSettings
    base: AccountClients
    caller: CallerIdentity
    recorder: Recorder
    writer: RawWriter
    scheduler: Scheduler
    role_name: str
    session_name: str
    progress: Progress | None = None
    # Accounts open at once (0: all). Each open account holds its clients (botocore clients
    # weigh about half a megabyte each, some fifteen per account) and its assumed role's
    # credentials, which expire an hour after they are issued: opened as earlier accounts
    # finish, an organisation's memory stays that of a few accounts and no account's
    # credentials are issued long before its sources run.
    accounts_at_once: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._accounts: dict[str, AccountRun] = {}
        self._unopened: deque[str] = deque()
        self._tasks_left: dict[str, int] = {}
        self._dependencies = PackDependencies(self.writer.pack)
        self._needs_regions = any(s.scope is Scope.REGIONAL for s in self.sources)

    def run(self, accounts: Sequence[str]) -> list[AccountRun]:
        self._unopened.extend(accounts)
        for _ in range(self.accounts_at_once or len(accounts)):
            self._open_next()
        self.scheduler.wait_all()
        return [self._accounts[a] for a in accounts]

    def _open_next(self) -> None:
        """Submit the next account's opening, if one is left. Called from within running work
        (an account's last task), so wait_all sees the new work before that task ends."""
        with self._lock:
            account = self._unopened.popleft() if self._unopened else None
        if account is not None:
            self.scheduler.submit(self._open, account)

    def _task_done(self, account: str) -> None:
        with self._lock:
            self._tasks_left[account] -= 1
            finished = self._tasks_left[account] == 0
        if finished:
            self._open_next()

    # ------------------------------------------------------------ opening an account

    def _open(self, account: str) -> None:
        submitted = False
        try:
            submitted = self._open_account(account)
        finally:
            if not submitted:  # nothing of this account will run: the next one may
                self._open_next()

    def _open_account(self, account: str) -> bool:
        """Open the account and submit its sources (True), or record why it cannot be."""
        if account == self.caller.account:
            clients, arn = self.base, self.caller.arn
        else:
            opened = self._assume(account)
            if isinstance(opened, CollectionError):
                self._record(
                    AccountRun(account, self.caller.arn, self.caller.partition, access_error=opened)
                )
                return False
            clients, arn = opened
        regions, regions_error = self._regions(account, clients, arn)
        self._record(
            AccountRun(account, arn, self.caller.partition, regions, regions_error=regions_error)
        )
        self._submit_sources(account, clients, arn, regions)
        return True

    def _assume(self, account: str) -> tuple[AccountClients, str] | CollectionError:
        role = f"arn:{self.caller.partition}:iam::{account}:role/{self.role_name}"
        answer: dict[str, Any] = {}

        def fetch(ctx: FetchContext) -> None:
            answer.update(
                ctx.client("sts").assume_role(
                    RoleArn=role, RoleSessionName=self.session_name, DurationSeconds=3600
                )
            )

        # Recorded like any call (credentials redacted), under the account it opens.
        source: Source[None] = Source(
            "sts.assume_role", Scope.GLOBAL, ("sts:AssumeRole",), fetch, lambda raw: None
        )
        raw = run_source(
            source, self.base.context(account, GLOBAL_REGION), self.recorder, self.caller.arn
        )
        self.writer.write(raw, source)
        if raw.failure is not None:
            failure = raw.failure
            return CollectionError(
                account,
                GLOBAL_REGION,
                failure.operation,
                failure.code,
                f"cannot assume {role}: {failure.message}",
            )
        credentials = answer["Credentials"]
        session = make_session(
            dataclasses.replace(
                self.settings,
                profile=None,
                credentials=StaticCredentials(
                    credentials["AccessKeyId"],
                    credentials["SecretAccessKey"],
                    credentials["SessionToken"],
                ),
            ),
            share_models_with=self.base.session,
        )
        clients = AccountClients(session, self.settings, self.recorder, self.base.home_region)
        return clients, str(answer["AssumedRoleUser"]["Arn"])

    def _regions(
        self, account: str, clients: AccountClients, arn: str
    ) -> tuple[tuple[str, ...], CollectionError | None]:
        if not self._needs_regions:
            return (), None
        explicit = tuple(dict.fromkeys(r for r in self.regions if r != ALL_REGIONS))
        if not explicit and ALL_REGIONS not in self.regions and not self.session_region:
            raise UsageError(NO_REGION_HINT)
        # Listed on every run, not only for `all`: each regional control's IPE block compares
        # the regions collected with those enabled, and names any left out.
        raw = run_source(
            ENABLED_REGIONS, clients.context(account, GLOBAL_REGION), self.recorder, arn
        )
        self.writer.write(raw, ENABLED_REGIONS)
        if ALL_REGIONS not in self.regions:
            # A failure here is the IPE block's to report; the regions asked for still run.
            return explicit or (str(self.session_region),), None
        if raw.failure is not None:
            failure = raw.failure
            return (), CollectionError(
                account,
                GLOBAL_REGION,
                failure.operation,
                failure.code,
                f"cannot list the account's regions: {failure.message}",
            )
        return ENABLED_REGIONS.parse(raw), None

    def _record(self, account: AccountRun) -> None:
        with self._lock:
            self._accounts[account.account_id] = account

    # ------------------------------------------------------------ collecting its sources

    def _submit_sources(
        self, account: str, clients: AccountClients, arn: str, regions: Sequence[str]
    ) -> None:
        tasks = plan(self.sources, account, regions)
        with self._lock:
            self._tasks_left[account] = len(tasks)
        if self.progress is not None:
            self.progress.planned(len(tasks))
        submitted: dict[tuple[str, str], Future[Any]] = {}
        for task in sorted(tasks, key=lambda t: t.source.depth):  # dependencies first
            waits = [
                submitted[
                    (
                        dependency.name,
                        task.region if dependency.scope is Scope.REGIONAL else GLOBAL_REGION,
                    )
                ]
                for dependency in task.source.after
            ]
            submitted[(task.source.name, task.region)] = self.scheduler.submit_in_slot(
                task.account, task.region, self._collect, task, clients, arn, after=waits
            )

    def _collect(self, budget: InFlight, task: Task, clients: AccountClients, arn: str) -> None:
        """One source of one account and region, holding a slot of its in-flight `budget`."""
        try:
            context = clients.context(task.account, task.region, self._dependencies, budget)
            raw = run_source(task.source, context, self.recorder, arn)
            self.writer.write(raw, task.source)
            if self.progress is not None:
                self.progress.finished(task, dataclasses.replace(raw, calls=()))
        finally:
            self._task_done(task.account)


def plan(sources: Sequence[Source[Any]], account: str, regions: Sequence[str]) -> list[Task]:
    """One task per global source, one per regional source and region, plus the alias."""
    tasks = [Task(ACCOUNT_ALIASES, account, GLOBAL_REGION)]
    for source in sources:
        if source.scope is Scope.GLOBAL:
            tasks.append(Task(source, account, GLOBAL_REGION))
        else:
            tasks.extend(Task(source, account, region) for region in regions)
    return tasks
