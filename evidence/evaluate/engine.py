"""Evaluation: pure and re-runnable. Reads only the pack's raw/ files, the catalogue and as-of."""

from __future__ import annotations

from typing import Any, TypeVar

from ..catalog.loader import Catalog, Control
from ..catalog.params import params_to_json
from ..checks import CHECKS, NotCollected, ScopeContext
from ..checks.base import Exclusion
from ..model import GLOBAL_REGION, CollectionError, ControlResult, EvidenceFile, Item
from ..pack.builder import sha256_file
from ..pack.raw import RawSource, RawStore, raw_path
from ..pack.runinfo import RunInfo
from ..sources.base import Scope, Source
from .attachments import attached_files, attachment_evidence
from .exceptions import apply_exceptions
from .ipe import build_ipe
from .manual import evaluate_manual
from .period import control_period

T = TypeVar("T")


class EvidenceLookup:
    """Parses each raw file once for every check that reads it; remembers which files were read."""

    def __init__(self, store: RawStore, run: RunInfo) -> None:
        self._store = store
        self.pack_dir = store.pack_dir
        self._run = run
        self._parsed: dict[tuple[str, str, str], Any] = {}
        self._raw_meta: dict[str, RawSource] = {}
        self._digests: dict[str, str] = {}

    def raw(self, source: Source[Any], account: str, region: str) -> RawSource | None:
        path = raw_path(source.name, account, region)
        if path not in self._raw_meta:
            raw = self._store.get(source.name, account, region)
            if raw is None:
                return None
            self._raw_meta[path] = raw
        return self._raw_meta[path]

    def parsed(self, source: Source[T], account: str, region: str) -> T:
        key = (source.name, account, region)
        if key not in self._parsed:
            self._parsed[key] = self._load(source, account, region)
        outcome = self._parsed[key]
        if isinstance(outcome, CollectionError):
            raise NotCollected(outcome)
        return outcome  # type: ignore[no-any-return]

    def _load(self, source: Source[T], account: str, region: str) -> T | CollectionError:
        raw = self.raw(source, account, region)
        operation = source.actions[0].split(":", 1)[1]
        if raw is None:
            access = self._run.account(account).access_error
            if access is not None:
                return CollectionError(
                    account, region, access.operation, access.code, access.message
                )
            path = raw_path(source.name, account, region)
            return CollectionError(
                account, region, operation, "NotCollected", f"no evidence file {path}"
            )
        if raw.failure is not None:
            failure = raw.failure
            return CollectionError(
                account, region, failure.operation, failure.code, failure.message
            )
        try:
            return source.parse(raw)
        except (ValueError, KeyError, TypeError) as exc:
            return CollectionError(account, region, operation, "UnreadableEvidence", str(exc))

    def digest(self, path: str) -> str:
        if path not in self._digests:
            self._digests[path] = sha256_file(self._store.pack_dir / path)
        return self._digests[path]

    def evidence_file(
        self, path: str, source: Source[Any] | None, raw: RawSource | None
    ) -> EvidenceFile:
        own_time = None
        if raw is not None and source is not None and source.own_time and raw.complete:
            own_time = source.own_time(raw)
        collected = f"{raw.started} to {raw.finished}" if raw is not None else None
        return EvidenceFile(path, self.digest(path), collected, own_time)


class ControlLookup:
    """The SourceLookup one control's check sees: records every raw file it asks for."""

    def __init__(self, evidence: EvidenceLookup) -> None:
        self._evidence = evidence
        self._used: dict[str, tuple[Source[Any] | None, RawSource | None]] = {}

    def get(self, source: Source[T], account: str, region: str) -> T:
        self.raw(source, account, region)
        return self._evidence.parsed(source, account, region)

    def raw(self, source: Source[Any], account: str, region: str) -> RawSource | None:
        raw = self._evidence.raw(source, account, region)
        if raw is not None:
            self._used[raw_path(source.name, account, region)] = (source, raw)
            for extra in raw.extra_files:
                self._used[extra] = (None, None)
        return raw

    def used_raw(self) -> list[RawSource]:
        """Every raw file read so far, in path order."""
        return [raw for _, (_, raw) in sorted(self._used.items()) if raw is not None]

    def evidence_files(self) -> tuple[EvidenceFile, ...]:
        return tuple(
            self._evidence.evidence_file(path, *self._used[path]) for path in sorted(self._used)
        )


def evaluate(catalog: Catalog, store: RawStore, run: RunInfo) -> tuple[ControlResult, ...]:
    evidence = EvidenceLookup(store, run)
    return tuple(
        apply_exceptions(_evaluate_control(control, evidence, run), control.exceptions, run.as_of)
        for control in catalog.controls
    )


def _evaluate_control(control: Control, evidence: EvidenceLookup, run: RunInfo) -> ControlResult:
    if control.manual:
        return evaluate_manual(control, evidence.pack_dir)
    check = CHECKS[control.check]
    lookup = ControlLookup(evidence)
    items: list[Item] = []
    errors: list[CollectionError] = []
    exclusions: list[Exclusion] = []
    scopes: list[tuple[ScopeContext[Any], list[Item]]] = []  # for the period, if any
    for account in run.accounts:
        if account.access_error is not None:
            errors.append(account.access_error)  # nothing of this account could be collected
            continue
        if check.scope is Scope.GLOBAL:
            regions: tuple[str, ...] = (GLOBAL_REGION,)
        elif account.regions_error is not None:
            errors.append(account.regions_error)
            continue
        else:
            regions = account.regions
        for region in regions:
            ctx = ScopeContext(
                control.check,
                account.account_id,
                region,
                account.partition,
                control.params,
                run.as_of,
                lookup,
            )
            try:
                # A scope that fails midway contributes its error, not a partial population.
                outcome = list(check.evaluate(ctx))
            except NotCollected as exc:
                errors.append(exc.error)
                continue
            items.extend(o for o in outcome if isinstance(o, Item))
            errors.extend(o for o in outcome if isinstance(o, CollectionError))
            exclusions.extend(ctx.exclusions)
            scopes.append((ctx, [o for o in outcome if isinstance(o, Item)]))
    period = control_period(check, scopes, run) if run.period is not None else None
    # Before the evidence list: the IPE block reads independent counts and enabled regions.
    ipe = build_ipe(check, control.params, run.accounts, lookup, exclusions)
    attachments, missing = attached_files(control, evidence.pack_dir)  # supplementary evidence
    return control.result(
        params=params_to_json(control.params),
        procedure=check.procedure,
        items=items,
        errors=[*errors, *missing],
        evidence=(*lookup.evidence_files(), *attachment_evidence(attachments)),
        notes=check.notes,
        ipe=ipe,
        attachments=attachments,
        period=period,
        quantifier=str(check.quantifier),
    )
