"""The terminal summary printed at the end of a run (tabulate)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tabulate import tabulate

from .catalog import Catalog
from .checks import CHECKS
from .params import params_to_json


def results_table(controls: Sequence[dict[str, Any]]) -> str:
    rows = [
        (
            c["id"],
            _clip(c["title"], 48),
            c["status"].upper(),
            c["population"],
            len(c["failing"]),
            len(c["errors"]),
        )
        for c in controls
    ]
    return tabulate(rows, headers=("control", "title", "status", "population", "failing", "errors"))


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
