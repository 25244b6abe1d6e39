"""results.json: the run, and one entry per control (DESIGN.md's contract, schema_version 1)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .. import TOOL_NAME
from ..errors import EXIT_FAILING, EXIT_INCOMPLETE, EXIT_OK
from ..model import ControlResult, ExceptionState, Status
from ..pack.runinfo import RunInfo

RESULTS_FILE = "results.json"
SCHEMA_VERSION = 1


def results_document(
    run: RunInfo,
    controls: Iterable[ControlResult],
    aliases: Mapping[str, str | None],
    pack_name: str,
    evaluated_at: str,
) -> dict[str, Any]:
    """The results.json document. `controls` may be a generator: each result is turned into its
    JSON entry and let go, so an organisation's evaluated items are held once, as JSON."""
    entries = [control.to_json() for control in controls]
    return {
        "schema_version": SCHEMA_VERSION,
        "run": {
            "tool": TOOL_NAME,
            "tool_version": run.tool_version,
            "pack": pack_name,
            "scope": run.scope,
            "organisation": run.organisation,
            "as_of": run.finished,
            "started": run.started,
            "finished": run.finished,
            "evaluated_at": evaluated_at,
            "caller_arn": run.caller_arn,
            "accounts": [{**a.to_json(), "alias": aliases.get(a.account_id)} for a in run.accounts],
            "regions": list(run.regions),
            "controls_file": run.controls_file,
            "controls_sha256": run.controls_sha256,
            "calls_per_operation": dict(sorted(run.calls_per_operation.items())),
            "total_calls": sum(run.calls_per_operation.values()),
            "endpoints": list(run.endpoints),
            **run.not_aws_json(),
            "demo": run.demo,
            "period": run.period_json(),
        },
        "summary": status_counts(entries),
        "flags": flag_counts(entries),
        "controls": entries,
    }


def status_counts(controls: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Controls per status, from their results.json entries."""
    counts = Counter(str(control["status"]) for control in controls)
    return {str(status): counts.get(str(status), 0) for status in Status}


def flag_counts(controls: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """What the statuses alone do not say: controls failing with evidence missing, manual
    controls with nothing attached, and accepted exceptions by state at the as-of date
    (from the controls' results.json entries)."""
    outcomes = [str(e["state"]) for c in controls for e in c["exceptions"]]
    return {
        "incomplete": sum(bool(c["incomplete"]) for c in controls),
        "evidence_missing": sum(bool(c["evidence_missing"]) for c in controls),
        "items_excepted": sum(len(_excepted_ids(c)) for c in controls),
        **{f"exceptions_{state}": outcomes.count(state) for state in ExceptionState},
    }


def _excepted_ids(control: Mapping[str, Any]) -> set[str]:
    """Ids of the control's items covered by an applied exception, at the as-of time or over
    the period (an item excepted in both counts once)."""
    period = control.get("period") or {}
    return {
        i["id"]
        for i in (*control["items"], *period.get("items", ()))
        if i["status"] == Status.EXCEPTION
    }


def exit_code(controls: Sequence[Mapping[str, Any]]) -> int:
    """DESIGN.md: 3 if anything could not be collected (failures or not), else 1 if anything
    fails, else 0. A failing control can also hold errors, so errors are looked at directly."""
    if any(c["status"] == Status.ERROR or c["errors"] for c in controls):
        return EXIT_INCOMPLETE
    if any(c["status"] == Status.FAIL for c in controls):
        return EXIT_FAILING
    return EXIT_OK


def read_results(pack_dir: Path) -> dict[str, Any]:
    with (pack_dir / RESULTS_FILE).open(encoding="utf-8") as handle:
        document: dict[str, Any] = json.load(handle)
    return document
