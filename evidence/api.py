"""The library API: collect a pack, re-evaluate one offline, verify one.

    from evidence.api import collect, evaluate_pack, verify_pack

    outcome = collect("controls.yaml", regions=["us-east-1"], output="output")
    print(outcome.path, outcome.exit_code)            # the sealed pack, and collect's exit code
    results = evaluate_pack(outcome.path)             # results.json as re-derived from raw/
    assert verify_pack(outcome.path).intact

Errors are EvidenceToolError subclasses (ConfigError, UsageError, CredentialsError,
NotAPackError) whose message is one line and whose `exit_code` is the CLI's. Typed (the package
ships py.typed), so `mypy --strict` checks code that uses it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .assemble.finish import PackOutcome, account_aliases
from .audit.pack_catalog import pack_catalog
from .catalog.loader import load_catalog
from .catalog.seed import choose_catalog
from .collect.accounts import DEFAULT_ROLE, Progress
from .collect.clients import AwsSettings
from .collect.run import CollectRequest
from .collect.run import collect as _collect
from .errors import ConfigError, CredentialsError, EvidenceToolError, NotAPackError, UsageError
from .evaluate.engine import evaluate
from .evaluate.results import results_document
from .pack.builder import SHARE_MODES
from .pack.raw import RawStore, utc_iso
from .pack.runinfo import RunInfo
from .pack.verify import VerifyReport
from .pack.verify import verify_pack as _verify_pack

__all__ = [
    "ConfigError",
    "CredentialsError",
    "EvidenceToolError",
    "NotAPackError",
    "PackOutcome",
    "UsageError",
    "VerifyReport",
    "collect",
    "evaluate_pack",
    "verify_pack",
]


def collect(
    controls: str | Path | None = None,
    *,
    output: str | Path = "output",
    regions: Sequence[str] = (),
    only: Sequence[str] = (),
    profile: str | None = None,
    endpoint_url: str | None = None,
    accounts: Sequence[str] = (),
    organization: bool = False,
    organizational_units: Sequence[str] = (),
    role_name: str = DEFAULT_ROLE,
    max_attempts: int = 10,
    max_workers: int | None = None,
    max_in_flight: int = 3,
    share_mode: str = "private",
    progress: Progress | None = None,
) -> PackOutcome:
    """Collect, evaluate and seal a pack, as `soc-evidence collect` does.

    `controls`: the catalogue (None: ./controls.yaml, else the built-in seed). `regions`: names,
    or ["all"]; empty: the session's region. `share_mode`: "private" (0700/0600), "group" or
    "world". Returns the pack's path, its results.json document and collect's exit code (0, 1
    or 3). Raises ConfigError / UsageError / CredentialsError before anything is written.
    """
    if share_mode not in SHARE_MODES:
        raise UsageError(f"share_mode: expected one of {', '.join(sorted(SHARE_MODES))}")
    chosen = choose_catalog(Path(controls) if controls is not None else None, Path.cwd())
    request = CollectRequest(
        controls_path=chosen.path,
        output_dir=Path(output),
        only=tuple(only),
        regions=tuple(regions),
        aws=AwsSettings(profile=profile, endpoint_url=endpoint_url, max_attempts=max_attempts),
        accounts=tuple(accounts),
        organization=organization,
        organizational_units=tuple(organizational_units),
        role_name=role_name,
        max_workers=max_workers,
        max_in_flight=max_in_flight,
        share_mode=SHARE_MODES[share_mode],
    )
    return _collect(request, progress)


def evaluate_pack(
    pack: str | Path, *, controls: str | Path | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """The results.json document re-derived offline from a pack's raw/ (nothing is written).

    The pack must verify (NotAPackError otherwise). `controls`: evaluate against this catalogue
    instead of the pack's own copy. Ages are computed against the pack's as-of time, so the
    result does not depend on when this runs; `now` only stamps `evaluated_at`.
    """
    pack_dir = Path(pack)
    report = _verify_pack(pack_dir)
    if not report.intact:
        names = ", ".join(report.changed + report.missing + report.extra)
        raise NotAPackError(f"{pack_dir}: does not verify ({names})")
    run = RunInfo.read(pack_dir)
    catalog = (
        pack_catalog(pack_dir, run)
        if controls is None
        else load_catalog(Path(controls)).select(list(run.control_ids))
    )
    store = RawStore(pack_dir)
    results = evaluate(catalog, store, run)
    evaluated_at = utc_iso(now or datetime.now(UTC))
    document = results_document(
        run, results, account_aliases(store, run), pack_dir.name, evaluated_at
    )
    return {**document, "export_failures": []}


def verify_pack(pack: str | Path) -> VerifyReport:
    """Every file of the pack checked against its manifest and SHA256SUMS: changed, missing and
    added files and symbolic links are listed (`intact` is True when there are none). Raises
    NotAPackError for a folder that is not a pack at all."""
    return _verify_pack(Path(pack))
