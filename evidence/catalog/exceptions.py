"""A control's `exceptions` in controls.yaml: accepted risks, validated and located.

Each entry names what it covers (`resource`: an id or a glob; optional `account`, `region`), why
(`reason`), who owns the risk (`owner`), who accepted it (`approved_by`, `approved_on`) and until
when (`expires`), and optionally a `ticket`. A missing or malformed field is a configuration
error naming file, line and field. Whether an exception applies is decided at evaluation time
against the pack's as-of date (evaluate/exceptions.py), never here: an expired exception is a
finding, not a configuration error.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime

from ..errors import ConfigError
from ..model import AcceptedRisk
from .located_yaml import YamlNode

EXCEPTIONS_KEY = "exceptions"
_REQUIRED_TEXT = {
    "resource": "the resource id or glob it covers",
    "reason": "why the risk is accepted",
    "owner": "who owns the risk",
    "approved_by": "who approved it",
}
_REQUIRED_DATES = {
    "approved_on": "the date it was approved (YYYY-MM-DD)",
    "expires": "the date it expires (YYYY-MM-DD)",
}
_OPTIONAL = ("account", "region", "ticket")
_KEYS = {*_REQUIRED_TEXT, *_REQUIRED_DATES, *_OPTIONAL}
_ACCOUNT = re.compile(r"^[0-9*?\[\]!-]{1,12}$")


def parse_exceptions(node: YamlNode | None, file: str, path: str) -> tuple[AcceptedRisk, ...]:
    """The accepted risks listed under one control's `exceptions` (absent: none).

    Raises ConfigError (file, line, field) on a missing required field, an unknown key, a value
    of the wrong type, or an expiry before approval.
    """
    if node is None or node.value is None:
        return ()
    if not isinstance(node.value, list):
        raise ConfigError(file, node.line, path, "expected a list of exceptions")
    return tuple(_risk(child, file, f"{path}[{i}]") for i, child in enumerate(node.value))


def _risk(node: YamlNode, file: str, path: str) -> AcceptedRisk:
    if not isinstance(node.value, dict):
        raise ConfigError(file, node.line, path, "expected a mapping (resource, reason, ...)")
    fields: dict[str, YamlNode] = node.value
    for key in fields:
        if key not in _KEYS:
            allowed = ", ".join(sorted(_KEYS))
            raise ConfigError(
                file, node.key_lines[key], f"{path}.{key}", f"unknown key (allowed: {allowed})"
            )
    for key, meaning in {**_REQUIRED_TEXT, **_REQUIRED_DATES}.items():
        if key not in fields:
            raise ConfigError(file, node.line, f"{path}.{key}", f"missing: {meaning}")
    approved_on = _date(fields["approved_on"], file, f"{path}.approved_on")
    expires = _date(fields["expires"], file, f"{path}.expires")
    if expires < approved_on:
        raise ConfigError(
            file,
            fields["expires"].line,
            f"{path}.expires",
            f"{expires.isoformat()} is before approved_on {approved_on.isoformat()}",
        )
    text = {key: _text(fields[key], file, f"{path}.{key}") for key in _REQUIRED_TEXT}
    account = fields.get("account")
    region = fields.get("region")
    ticket = fields.get("ticket")
    return AcceptedRisk(
        resource=text["resource"],
        reason=text["reason"],
        owner=text["owner"],
        approved_by=text["approved_by"],
        approved_on=approved_on,
        expires=expires,
        account=None if account is None else _account(account, file, f"{path}.account"),
        region=None if region is None else _text(region, file, f"{path}.region"),
        ticket=None if ticket is None else _ticket(ticket, file, f"{path}.ticket"),
        line=node.line,
    )


def _text(node: YamlNode, file: str, path: str) -> str:
    if not isinstance(node.value, str) or not node.value.strip():
        raise ConfigError(file, node.line, path, f"expected text, got {node.value!r}")
    return node.value.strip()


def _date(node: YamlNode, file: str, path: str) -> date:
    value = node.value
    if isinstance(value, datetime):  # a date with a time of day: ambiguous about the day
        raise ConfigError(file, node.line, path, f"expected a date YYYY-MM-DD, got {value}")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ConfigError(file, node.line, path, f"expected a date YYYY-MM-DD, got {value!r}")


def _account(node: YamlNode, file: str, path: str) -> str:
    value = node.value
    # An unquoted 12-digit id is read as a number by YAML: take it when it is unambiguous.
    if isinstance(value, int) and not isinstance(value, bool) and 10**11 <= value < 10**12:
        return str(value)
    if isinstance(value, str) and _ACCOUNT.match(value.strip()):
        return value.strip()
    raise ConfigError(
        file, node.line, path, f"expected a 12-digit AWS account id as text, got {value!r}"
    )


def _ticket(node: YamlNode, file: str, path: str) -> str:
    if isinstance(node.value, int) and not isinstance(node.value, bool):
        return str(node.value)
    return _text(node, file, path)


def one_year_after(day: date) -> date:
    """The same calendar day a year later (29 February -> 28 February)."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


def long_lived(risk: AcceptedRisk) -> str | None:
    """A warning when the exception runs more than a year past its approval, else None.

    Accepted risks are reviewed at least yearly; a longer one is allowed but said out loud.
    """
    if risk.expires > one_year_after(risk.approved_on):
        return (
            f"expires {risk.expires.isoformat()}, more than a year after its approval on"
            f" {risk.approved_on.isoformat()}"
        )
    return None


def exception_warnings(file: str, risks: Iterable[tuple[str, AcceptedRisk]]) -> list[str]:
    """One line per long-lived exception: `file:line: control ID exception 'glob': ...`."""
    lines = []
    for control_id, risk in risks:
        problem = long_lived(risk)
        if problem:
            lines.append(
                f"{file}:{risk.line}: control {control_id} exception {risk.resource!r}: {problem}"
            )
    return lines
