"""Evaluation: pure and re-runnable. Reads only the pack's raw/ files, the catalogue and as-of."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
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
from .queries import Query, queries_of

T = TypeVar("T")


@dataclass(frozen=True)
class RawFacts:
    """What a control's evidence list and IPE block need of a raw file once it is parsed: not
    its calls (an organisation's raw/ is never held in memory whole)."""

    started: str
    finished: str
    extra_files: tuple[str, ...]
    own_time: str | None  # the source's own timestamp (complete files only)
    queries: tuple[Query, ...]  # the file's queries as made (IPE)


class EvidenceLookup:
    """Reads and parses each raw file once for every check that reads it, keeping its parsed
    data and a few facts (queries included) but not its calls: memory is bounded by what the
    checks keep, not by raw/'s size. The few raw files read again whole (IPE reconciliations
    count their records) come from a small cache of the latest ones."""

    RECENT_RAW = 16

    def __init__(self, store: RawStore, run: RunInfo) -> None:
        self._store = store
        self.pack_dir = store.pack_dir
        self._run = run
        self._parsed: dict[tuple[str, str, str], Any] = {}
        self._facts: dict[tuple[str, str, str], RawFacts | None] = {}
        self._recent: OrderedDict[tuple[str, str, str], RawSource | None] = OrderedDict()
        self._digests: dict[str, str] = {}

    def facts(self, source: Source[Any], account: str, region: str) -> RawFacts | None:
        """None when the pack holds no such file."""
        key = (source.name, account, region)
        if key not in self._facts:
            self._read(source, account, region)
        return self._facts[key]

    def raw(self, source: Source[Any], account: str, region: str) -> RawSource | None:
        """The whole raw file (calls included), None when the pack holds no such file."""
        key = (source.name, account, region)
        if key in self._recent:
            self._recent.move_to_end(key)
            return self._recent[key]
        return self._read(source, account, region)

    def parsed(self, source: Source[T], account: str, region: str) -> T:
        key = (source.name, account, region)
        if key not in self._parsed:
            raw = self.raw(source, account, region)  # just read, as a rule: still cached
            self._parsed[key] = self._outcome(source, account, region, raw)
        outcome = self._parsed[key]
        if isinstance(outcome, CollectionError):
            raise NotCollected(outcome)
        return outcome  # type: ignore[no-any-return]

    def _read(self, source: Source[Any], account: str, region: str) -> RawSource | None:
        key = (source.name, account, region)
        raw = self._store.get(source.name, account, region)
        if key not in self._facts:
            self._facts[key] = None
            if raw is not None:
                own_time = source.own_time(raw) if source.own_time and raw.complete else None
                self._facts[key] = RawFacts(
                    raw.started, raw.finished, raw.extra_files, own_time, tuple(queries_of(raw))
                )
        self._recent[key] = raw
        while len(self._recent) > self.RECENT_RAW:
            self._recent.popitem(last=False)
        return raw

    def _outcome(
        self, source: Source[T], account: str, region: str, raw: RawSource | None
    ) -> T | CollectionError:
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

    def evidence_file(self, path: str, facts: RawFacts | None) -> EvidenceFile:
        if facts is None:  # a derived file (a CSV beside its raw file)
            return EvidenceFile(path, self.digest(path), None, None)
        collected = f"{facts.started} to {facts.finished}"
        return EvidenceFile(path, self.digest(path), collected, facts.own_time)


class ControlLookup:
    """The SourceLookup one control's check sees: records every raw file it asks for."""

    def __init__(self, evidence: EvidenceLookup) -> None:
        self._evidence = evidence
        self._used: dict[str, RawFacts | None] = {}

    def get(self, source: Source[T], account: str, region: str) -> T:
        self.use(source, account, region)
        return self._evidence.parsed(source, account, region)

    def use(self, source: Source[Any], account: str, region: str) -> None:
        """Count the file among the control's evidence, read or not (a check that stopped at a
        failed source still shows the listing it had and the query that failed)."""
        facts = self._evidence.facts(source, account, region)
        if facts is not None:
            self._used[raw_path(source.name, account, region)] = facts
            for extra in facts.extra_files:
                self._used[extra] = None

    def raw(self, source: Source[Any], account: str, region: str) -> RawSource | None:
        self.use(source, account, region)
        return self._evidence.raw(source, account, region)

    def used_queries(self) -> list[Query]:
        """The queries of every raw file read so far, in path order."""
        return [q for _, facts in sorted(self._used.items()) if facts for q in facts.queries]

    def evidence_files(self) -> tuple[EvidenceFile, ...]:
        return tuple(
            self._evidence.evidence_file(path, self._used[path]) for path in sorted(self._used)
        )


def evaluate(catalog: Catalog, store: RawStore, run: RunInfo) -> tuple[ControlResult, ...]:
    return tuple(evaluate_each(catalog, store, run))


def evaluate_each(catalog: Catalog, store: RawStore, run: RunInfo) -> Iterator[ControlResult]:
    """Each control's result in catalogue order, one at a time (results.json turns each into
    JSON before the next is made)."""
    evidence = EvidenceLookup(store, run)
    for control in catalog.controls:
        yield apply_exceptions(
            _evaluate_control(control, evidence, run), control.exceptions, run.as_of
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
