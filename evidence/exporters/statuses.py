"""How statuses, their flags and accepted exceptions read in every export (terminal, workbook,
PDF, README.txt), from a results.json document: one wording, so no view says less than another.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

INCOMPLETE = "INCOMPLETE"
NO_EVIDENCE = "NO EVIDENCE"

# Fill and ink of labels that are more than a plain status (those keep their own colours):
# statuses with flags, and the states of accepted exceptions.
LABEL_COLOURS = {
    "fail - incomplete": ("FFC7CE", "9C0006"),
    "manual - no evidence": ("F8CBAD", "833C0B"),
    "error - no evidence": ("FFEB9C", "9C5700"),
    "applied": ("DDEBF7", "1F4E78"),
    "expired": ("FFC7CE", "9C0006"),
    "stale": ("F8CBAD", "833C0B"),
    "not yet approved": ("F8CBAD", "833C0B"),
}

STATUS_LEGEND = (
    "Statuses: PASS; FAIL (a resource breaks the control); FAIL - INCOMPLETE (failing, and some"
    " evidence could not be collected, so there may be more failures); ERROR (evidence could not"
    " be collected: the operation and AWS error code are named; never counted as a pass); MANUAL"
    " (procedural control: its evidence is the attached files); MANUAL - NO EVIDENCE (procedural"
    " control with nothing attached: not evidenced); ERROR - NO EVIDENCE (procedural control whose"
    " attached files are all missing, each named); EXCEPTION (every failure is covered by an"
    " accepted, unexpired exception: never a pass)."
)


def status_label(control: Mapping[str, Any]) -> str:
    """The control's status with its flags: `FAIL - INCOMPLETE`, `MANUAL - NO EVIDENCE`."""
    label = str(control["status"]).upper()
    if control.get("incomplete"):
        label += f" - {INCOMPLETE}"
    if control.get("evidence_missing"):
        label += f" - {NO_EVIDENCE}"
    return label


def summary_line(document: Mapping[str, Any]) -> str:
    """`19 controls: 10 pass, 3 fail (1 incomplete), ...; 2 exceptions apply (to 5 items)`."""
    flags = document.get("flags", {})
    controls = document["controls"]
    incomplete = sum(1 for c in controls if c["status"] == "fail" and c.get("incomplete"))
    no_evidence = sum(1 for c in controls if c["status"] == "manual" and c.get("evidence_missing"))
    parts = []
    for status, count in document["summary"].items():
        if not count:
            continue
        part = f"{count} {status}"
        if status == "fail" and incomplete:
            part += f" ({incomplete} incomplete)"
        if status == "manual" and no_evidence:
            part += f" ({no_evidence} with no evidence)"
        parts.append(part)
    count = len(document["controls"])
    line = f"{count} control{'s' if count != 1 else ''}: {', '.join(parts) or 'none'}"
    applied = flags.get("exceptions_applied", 0)
    if applied or flags.get("items_excepted"):
        items = flags.get("items_excepted", 0)
        verb = "applies" if applied == 1 else "apply"
        noun = "exception" if applied == 1 else "exceptions"
        line += f"; {applied} {noun} {verb} (to {items} item{'s' if items != 1 else ''})"
    for state, words in (
        ("expired", "expired"),
        ("not_yet_approved", "not yet approved"),
        ("stale", "stale"),
    ):
        if flags.get(f"exceptions_{state}"):
            line += f"; {flags[f'exceptions_{state}']} {words}"
    return line


def exception_text(exception: Mapping[str, Any]) -> str:
    """An accepted risk in one line, as shown beside the item it covers."""
    ticket = f"{exception['ticket']}: " if exception.get("ticket") else ""
    prefix = _NOT_APPLIED.get(exception.get("state", "applied"), "")
    return (
        f"{prefix}{ticket}{exception['reason']} (owner {exception['owner']}; approved by"
        f" {exception['approved_by']} on {exception['approved_on']}; expires"
        f" {exception['expires']})"
    )


def exception_scope(exception: Mapping[str, Any]) -> str:
    """What an exception covers: `legacy-*`, `legacy-* in 123456789012 / eu-west-1`."""
    where = " / ".join(x for x in (exception.get("account"), exception.get("region")) if x)
    return str(exception["resource"]) + (f" in {where}" if where else "")


_NOT_APPLIED = {
    "expired": "EXPIRED, not applied: ",
    "not_yet_approved": "NOT YET APPROVED at the as-of date, not applied: ",
}

STATE_WORDS = {
    "applied": "applies",
    "expired": "EXPIRED: the items it matches fail",
    "not_yet_approved": "not yet approved at the as-of date: does not apply",
    "stale": "STALE: matches no failing item",
}


def exception_register(document: Mapping[str, Any]) -> list[tuple[Mapping[str, Any], Any]]:
    """(control, exception) for every accepted exception of every control, in catalogue order."""
    return [(c, e) for c in document["controls"] for e in c.get("exceptions", [])]
