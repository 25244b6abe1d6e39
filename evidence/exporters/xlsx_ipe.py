"""The workbook's IPE rows: label / value rows added to each control sheet's header block, and
the Summary's statement of enabled regions not collected."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .ipe_text import (
    exclusion_lines,
    ipe_of,
    pack_regions_notice,
    query_lines,
    reconciliation_lines,
    region_lines,
)

QUERY_ROWS_SHOWN = 200  # beyond this, results.json holds every query and Sources every call


def ipe_block(control: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """One row per query line, reconciliation, exclusion reason and account's regions."""
    ipe = ipe_of(control)
    if ipe is None:
        return []
    lines = query_lines(ipe)
    incomplete = sum(1 for line in lines if line.incomplete)
    rows: list[tuple[str, Any]] = [
        (
            "IPE: queries as made",
            f"{len(ipe['queries'])} queries, {sum(q['pages'] for q in ipe['queries'])} pages;"
            + (
                f" {incomplete} line(s) did NOT run to the end"
                if incomplete
                else " every one ran to the end"
            ),
        )
    ]
    rows += [("IPE: query", line.text) for line in lines[:QUERY_ROWS_SHOWN]]
    if len(lines) > QUERY_ROWS_SHOWN:
        rows.append(
            ("IPE: query", f"{len(lines) - QUERY_ROWS_SHOWN} more: see results.json (ipe.queries)")
        )
    reconciliations = reconciliation_lines(ipe)
    rows += [("IPE: reconciliation", line.text) for line in reconciliations] or [
        ("IPE: reconciliation", "AWS offers no independent count for this evidence")
    ]
    exclusions = exclusion_lines(ipe)
    rows += [("IPE: excluded", line.text) for line in exclusions] or [
        ("IPE: excluded", "nothing: every record read is in the population")
    ]
    rows += [("IPE: regions", line) for line in region_lines(ipe)]
    return rows


def summary_rows(controls: Sequence[Mapping[str, Any]]) -> list[tuple[str, Any]]:
    notice = pack_regions_notice(controls)
    return [("Regions not collected", notice or "none: every enabled region was collected")]
