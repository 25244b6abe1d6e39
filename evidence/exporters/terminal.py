"""The terminal summary printed at the end of a run (tabulate)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from tabulate import tabulate

from ..catalog.loader import Catalog
from ..catalog.params import params_to_json
from ..checks import CHECKS
from ..model import Status, account_statuses
from .statuses import STATE_WORDS, exception_scope, status_label


def results_table(controls: Sequence[dict[str, Any]]) -> str:
    rows = [
        (
            c["id"],
            _clip(c["title"], 48),
            status_label(c),
            c["population"],
            len(c["failing"]),
            sum(i["status"] == Status.EXCEPTION for i in c["items"]),
            len(c["errors"]),
        )
        for c in controls
    ]
    return tabulate(
        rows, headers=("control", "title", "status", "population", "failing", "excepted", "errors")
    )


def exception_notices(document: dict[str, Any]) -> list[str]:
    """One line per accepted exception that does not simply apply (expired, stale, not yet
    approved) or that runs more than a year: what a reviewer must act on."""
    lines = []
    file = document["run"].get("controls_file", "controls.yaml")
    for control in document["controls"]:
        for exception in control.get("exceptions", []):
            where = f"{file}:{exception['line']}: {control['id']} {exception_scope(exception)!r}"
            if exception["state"] != "applied":
                lines.append(f"exception {where}: {STATE_WORDS[exception['state']]}")
            if exception.get("warning"):
                lines.append(f"warning: exception {where}: {exception['warning']}")
    return lines


def per_account(document: dict[str, Any]) -> list[tuple[str, str, dict[str, int]]]:
    """(account, alias, controls per status in that account) for every account of the run."""
    rows = []
    for account in document["run"]["accounts"]:
        counts = Counter(
            str(account_statuses(c, account["account_id"])) for c in document["controls"]
        )
        rows.append((account["account_id"], account.get("alias") or "", dict(counts)))
    return rows


def accounts_table(document: dict[str, Any]) -> str:
    statuses = [str(s) for s in Status]
    rows = [
        (account, alias, *(counts.get(s, 0) for s in statuses))
        for account, alias, counts in per_account(document)
    ]
    return tabulate(rows, headers=("account", "alias", *statuses))


def catalog_table(catalog: Catalog) -> str:
    rows = []
    for control in catalog.controls:
        params = params_to_json(control.params)
        rows.append(
            (
                control.id,
                _clip(control.title, 44),
                ", ".join(control.criteria),
                control.check,
                "\n".join(f"{k}={v}" for k, v in params.items()) or "-",
            )
        )
    return tabulate(rows, headers=("id", "title", "criteria", "check", "params"))


def checks_table() -> str:
    rows = [(c.name, c.scope, ", ".join(c.actions_for(c.params()))) for c in CHECKS.values()]
    return tabulate(rows, headers=("check", "scope", "IAM actions"))


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
