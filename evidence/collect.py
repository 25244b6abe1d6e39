"""The collect command's flow: catalogue -> plan -> collectors -> raw/ -> evaluate -> pack."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import __version__
from .attachments import copy_attachments
from .aws import (
    CREDENTIAL_ERROR_CODES,
    CREDENTIAL_EXCEPTIONS,
    AccountClients,
    AwsSettings,
    make_session,
)
from .catalog import Catalog, load_catalog
from .checks import CHECKS
from .collector import PackDependencies, Progress, RawWriter, Task, run_source, run_tasks
from .errors import CredentialsError, EvidenceToolError, UsageError
from .model import GLOBAL_REGION
from .pack import PackBuilder
from .packbuild import PackOutcome, finish_pack
from .rawstore import RawSource, utc_iso
from .recorder import Recorder
from .runinfo import AccountRun, RunInfo
from .sources.account import ACCOUNT_ALIASES, CALLER_IDENTITY, ENABLED_REGIONS, CallerIdentity
from .sources.base import Scope, Source

ALL_REGIONS = "all"


@dataclass(frozen=True)
class CollectRequest:
    controls_path: Path
    output_dir: Path = Path("output")
    only: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()  # empty: the session's region; ("all",): every enabled region
    aws: AwsSettings = field(default_factory=AwsSettings)
    max_workers: int = 8


Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def select_controls(catalog: Catalog, only: Sequence[str]) -> Catalog:
    if not only:
        return catalog
    unknown = [control_id for control_id in only if control_id not in catalog.ids()]
    if unknown:
        raise UsageError(
            f"--only: no control {', '.join(map(repr, unknown))} in {catalog.path}"
            f" (known: {', '.join(catalog.ids())})"
        )
    return catalog.select(list(only))


def sources_for(catalog: Catalog) -> list[Source[Any]]:
    """Every source the selected controls read (and what those read first), each once:
    collect once, evaluate many."""
    needed: dict[str, Source[Any]] = {}
    for control in catalog.controls:
        if not control.manual:
            for source in CHECKS[control.check].sources_for(control.params):
                for each in source.with_dependencies():
                    needed[each.name] = each
    return list(needed.values())


def plan(sources: Iterable[Source[Any]], account: str, regions: Sequence[str]) -> list[Task]:
    tasks = [Task(ACCOUNT_ALIASES, account, GLOBAL_REGION)]
    for source in sources:
        if source.scope is Scope.GLOBAL:
            tasks.append(Task(source, account, GLOBAL_REGION))
        else:
            tasks.extend(Task(source, account, region) for region in regions)
    return tasks


def collect(
    request: CollectRequest, progress: Progress | None = None, clock: Clock = _utcnow
) -> PackOutcome:
    catalog = select_controls(load_catalog(request.controls_path), request.only)
    started = clock()
    session = make_session(request.aws)
    recorder = Recorder(clock)
    with PackBuilder(request.output_dir) as pack:
        writer = RawWriter(pack)
        explicit = [r for r in request.regions if r != ALL_REGIONS]
        home_region = session.region_name or (explicit[0] if explicit else "us-east-1")
        clients = AccountClients(session, request.aws, recorder, home_region)
        identity = identify(clients, recorder, writer)
        sources = sources_for(catalog)
        needs_regions = any(s.scope is Scope.REGIONAL for s in sources)
        regions = (
            resolve_regions(
                request.regions, session.region_name, clients, recorder, writer, identity
            )
            if needs_regions
            else ()
        )
        copy_attachments(catalog, pack)
        tasks = plan(sources, identity.account, regions)
        dependencies = PackDependencies(pack)
        run_tasks(
            tasks,
            contexts=lambda task: clients.context(task.account, task.region, dependencies),
            caller_arn=lambda _account: identity.arn,
            recorder=recorder,
            writer=writer,
            max_workers=request.max_workers,
            progress=progress,
        )
        run = RunInfo(
            tool_version=__version__,
            scope=identity.account,
            organisation=catalog.organisation,
            caller_arn=identity.arn,
            started=utc_iso(started),
            finished=utc_iso(clock()),
            accounts=(AccountRun(identity.account, identity.arn, identity.partition),),
            regions=tuple(regions),
            controls_file=Path(catalog.path).name,
            controls_sha256=catalog.sha256,
            control_ids=tuple(catalog.ids()),
            calls_per_operation=dict(recorder.calls_per_operation),
        )
        return finish_pack(pack, catalog, run, evaluated_at=clock())


def identify(clients: AccountClients, recorder: Recorder, writer: RawWriter) -> CallerIdentity:
    """GetCallerIdentity: proves the credentials work and names the account and the caller."""
    raw = run_source(CALLER_IDENTITY, clients.context("", GLOBAL_REGION), recorder, "")
    if raw.failure is not None:
        failure = raw.failure
        detail = f"{failure.operation} failed: {failure.code}: {failure.message}"
        if failure.code in CREDENTIAL_ERROR_CODES or failure.code in CREDENTIAL_EXCEPTIONS:
            raise CredentialsError(
                f"AWS credentials are missing, expired or invalid ({detail}); configure them"
                " (aws configure / aws sso login / --profile) or run `soc-evidence demo`"
            )
        raise EvidenceToolError(f"cannot reach AWS to identify the caller ({detail})")
    identity = CALLER_IDENTITY.parse(raw)
    writer.write(
        dataclasses.replace(raw, account=identity.account, caller_arn=identity.arn),
        CALLER_IDENTITY,
    )
    return identity


def resolve_regions(
    requested: Sequence[str],
    session_region: str | None,
    clients: AccountClients,
    recorder: Recorder,
    writer: RawWriter,
    identity: CallerIdentity,
) -> tuple[str, ...]:
    if ALL_REGIONS in requested:
        raw: RawSource = run_source(
            ENABLED_REGIONS,
            clients.context(identity.account, GLOBAL_REGION),
            recorder,
            identity.arn,
        )
        writer.write(raw, ENABLED_REGIONS)
        if raw.failure is not None:
            raise EvidenceToolError(
                f"--region all: cannot list the account's regions ({raw.failure.operation}:"
                f" {raw.failure.code}: {raw.failure.message}); name the regions instead"
            )
        return ENABLED_REGIONS.parse(raw)
    if requested:
        return tuple(dict.fromkeys(requested))
    if session_region:
        return (session_region,)
    raise UsageError("no region: pass --region (repeatable, or `all`) or set AWS_REGION")
