"""The collect command's flow: catalogue -> caller -> accounts -> sources -> raw/ -> pack."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import __version__
from ..assemble.finish import PackOutcome, finish_pack, stamp
from ..catalog.loader import Catalog, load_catalog
from ..catalog.requests import load_request_list
from ..checks import CHECKS
from ..errors import CredentialsError, EvidenceToolError, UsageError
from ..exporters import EXPORTERS, Exporter
from ..model import GLOBAL_REGION
from ..pack.builder import PRIVATE, PackBuilder, PackMode, SealedPacks
from ..pack.period import EventsFrom, Period, plan_events
from ..pack.raw import utc_iso
from ..pack.runinfo import RunInfo
from ..pack.signing import Signer
from ..sources.account import CALLER_IDENTITY, PARENT_ID, CallerIdentity
from ..sources.base import Scope, Source
from .accounts import DEFAULT_ROLE, AccountCollection, Progress, resolve_targets
from .attachments import copy_attachments
from .clients import (
    CREDENTIAL_ERROR_CODES,
    CREDENTIAL_EXCEPTIONS,
    AccountClients,
    AwsSettings,
    make_session,
)
from .period_sources import period_sources
from .recorder import Recorder
from .regions import ALL_REGIONS, NO_REGION_HINT, check_regions, split_regions
from .runner import RawWriter, run_source
from .scheduler import Scheduler


@dataclass(frozen=True)
class CollectRequest:
    controls_path: Path
    output_dir: Path = Path("output")
    only: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()  # empty: the session's region; ("all",): every enabled region
    aws: AwsSettings = field(default_factory=AwsSettings)
    accounts: tuple[str, ...] = ()  # empty: the caller's own account
    organization: bool = False  # every active account of the AWS Organization
    # Or the active accounts under these organizational units (and the units below them).
    organizational_units: tuple[str, ...] = ()
    role_name: str = DEFAULT_ROLE
    max_workers: int | None = None  # None: sized for the run (default_workers)
    max_in_flight: int = 3  # per account and region: production-safe
    demo: bool = False  # the embedded emulated account: the pack is marked DEMO everywhere
    signer: Signer | None = field(default=None, compare=False)  # signs manifest.json
    requests: Path | None = None  # the auditor's request list (CSV or xlsx), mapped to controls
    period: Period | None = None  # a Type II pack's audit period; None: point in time
    events_from: str = EventsFrom.AUTO
    share_mode: PackMode = PRIVATE  # the pack's folder and file permissions
    ledger: SealedPacks | None = None  # told about the pack as it is sealed (interruptions)
    # The exporters run on the evaluated pack; one that fails leaves the pack sealed (exit 3).
    exporters: tuple[Exporter, ...] = EXPORTERS

    def __post_init__(self) -> None:
        """UsageError for a value that cannot work, before anything is collected."""
        for option, value in (
            ("max_workers", self.max_workers),
            ("max_in_flight", self.max_in_flight),
        ):
            if value is None:
                continue
            low, high = LIMITS[option]
            if not low <= value <= high:
                flag = "--" + option.replace("_", "-")
                raise UsageError(f"{flag}: expected {low} to {high}, got {value}")
        low, high = LIMITS["max_attempts"]
        if not low <= self.aws.max_attempts <= high:
            raise UsageError(
                f"--max-attempts: expected {low} to {high}, got {self.aws.max_attempts}"
            )
        object.__setattr__(self, "regions", split_regions(self.regions))
        check_regions(self.regions)
        if not ROLE_NAME.fullmatch(self.role_name):
            raise UsageError(
                f"--role-name: {self.role_name!r} is not an IAM role name ({ROLE_NAME_RULE})"
            )
        bad = [a for a in self.accounts if not ACCOUNT_ID.fullmatch(a)]
        if bad:
            raise UsageError(f"--accounts: not a 12-digit account id: {', '.join(bad)}")
        if self.accounts and self.organization:
            raise UsageError("--accounts and --organization cannot be used together")
        if self.accounts and self.organizational_units:
            raise UsageError("--accounts and --organizational-unit cannot be used together")
        object.__setattr__(self, "organizational_units", tuple(self.organizational_units))
        bad = [u for u in self.organizational_units if not PARENT_ID.fullmatch(u)]
        if bad:
            raise UsageError(
                f"--organizational-unit: not an organizational unit id (ou-xxxx-xxxxxxxx) or a"
                f" root id (r-xxxx): {', '.join(bad)}"
            )


# Inclusive bounds of the numeric options: one is the least that works; the most protects the
# audited account (and this machine) from a typo.
LIMITS = {"max_workers": (1, 256), "max_in_flight": (1, 64), "max_attempts": (1, 50)}
ACCOUNT_ID = re.compile(r"\d{12}")
# IAM role names: 1 to 64 of letters, digits and +=,.@_- (IAM API Reference, CreateRole RoleName).
ROLE_NAME = re.compile(r"[\w+=,.@-]{1,64}", re.ASCII)
ROLE_NAME_RULE = "1 to 64 letters, digits and +=,.@_-"


# Defaults of --max-workers, measured with bench/bench_scale.py (README, Benchmarks): a worker
# runs one source at a time, so an organisation needs many; past DEFAULT_WORKERS_CAP the run is
# bound by this process's CPU (request signing, parsing, recording), not by AWS's latency.
DEFAULT_WORKERS_FLOOR = 8
DEFAULT_WORKERS_CAP = 64
# `--region all`: the regions a new account has enabled (opt-in regions add to it).
REGIONS_ENABLED_BY_DEFAULT = 17


def default_workers(accounts: int, regions: int, max_in_flight: int) -> int:
    """--max-workers when not given: enough to keep every account and region's in-flight budget
    busy (its regions plus the global scope, max_in_flight each), between DEFAULT_WORKERS_FLOOR
    and DEFAULT_WORKERS_CAP. The per account-and-region budget is what protects production;
    the pool only bounds this process's threads."""
    wanted = accounts * (regions + 1) * max_in_flight
    return max(DEFAULT_WORKERS_FLOOR, min(DEFAULT_WORKERS_CAP, wanted))


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


def collect(
    request: CollectRequest, progress: Progress | None = None, clock: Clock = _utcnow
) -> PackOutcome:
    catalog = select_controls(load_catalog(request.controls_path), request.only)
    request_list = load_request_list(request.requests) if request.requests else None
    started = clock()
    events = plan_events(request.period, request.events_from, started) if request.period else None
    session = make_session(request.aws)
    sources = sources_for(catalog)
    if events is not None:
        sources = period_sources(catalog, sources, events)
    if any(s.scope is Scope.REGIONAL for s in sources) and not (
        request.regions or session.region_name
    ):
        raise UsageError(NO_REGION_HINT)
    if session.region_name:
        check_regions([session.region_name], "the AWS region from the environment or profile")
    recorder = Recorder(clock)
    with PackBuilder(request.output_dir, request.share_mode, request.ledger) as pack:
        writer = RawWriter(pack)
        explicit = [r for r in request.regions if r != ALL_REGIONS]
        home_region = session.region_name or (explicit[0] if explicit else "us-east-1")
        base = AccountClients(session, request.aws, recorder, home_region)
        caller = identify(base, recorder, writer)
        targets = resolve_targets(
            request.accounts,
            request.organization,
            base,
            caller,
            recorder,
            writer,
            request.organizational_units,
        )
        copy_attachments(catalog, pack)
        if request_list is not None:
            pack.write_bytes(request_list.pack_path, request_list.content)
        workers = workers_for(request, len(targets.accounts))
        collection = AccountCollection(
            sources=sources,
            regions=request.regions,
            session_region=session.region_name,
            settings=request.aws,
            base=base,
            caller=caller,
            recorder=recorder,
            writer=writer,
            scheduler=Scheduler(workers, request.max_in_flight),
            role_name=request.role_name,
            session_name=f"soc-evidence-{stamp(started)}",
            progress=progress,
            accounts_at_once=accounts_at_once(workers, regions_per_account(request), request),
        )
        accounts = collection.run(targets.accounts)
        run = RunInfo(
            tool_version=__version__,
            scope=targets.scope,
            organisation=catalog.organisation,
            caller_arn=caller.arn,
            started=utc_iso(started),
            finished=utc_iso(clock()),
            accounts=tuple(accounts),
            regions=tuple(dict.fromkeys(r for a in accounts for r in a.regions)),
            controls_file=Path(catalog.path).name,
            controls_sha256=catalog.sha256,
            control_ids=tuple(catalog.ids()),
            calls_per_operation=dict(recorder.calls_per_operation),
            endpoints=tuple(sorted(recorder.endpoints)),
            not_aws_endpoints=tuple(sorted(recorder.not_aws_endpoints)),
            demo=request.demo,
            period=request.period,
            events=events,
        )
        return finish_pack(
            pack,
            catalog,
            run,
            evaluated_at=clock(),
            exporters=request.exporters,
            signer=request.signer,
        )


def regions_per_account(request: CollectRequest) -> int:
    """The regions each account is expected to be collected in (`all`: those enabled by default)."""
    explicit = [r for r in request.regions if r != ALL_REGIONS]
    return REGIONS_ENABLED_BY_DEFAULT if ALL_REGIONS in request.regions else len(explicit) or 1


def workers_for(request: CollectRequest, accounts: int) -> int:
    """--max-workers as given, or sized for the accounts and regions of this run."""
    if request.max_workers is not None:
        return request.max_workers
    return default_workers(accounts, regions_per_account(request), request.max_in_flight)


def accounts_at_once(workers: int, regions: int, request: CollectRequest) -> int:
    """Accounts open at once: enough in-flight slots ((regions + 1) x --max-in-flight each) for
    twice the workers, so a worker always finds a free slot while a few accounts finish their
    slowest sources; at least 2. Bounds memory and the age of assumed-role credentials
    (AccountCollection.accounts_at_once); measured with bench/bench_scale.py."""
    per_account = (regions + 1) * request.max_in_flight
    return max(2, -(-2 * workers // per_account))


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
