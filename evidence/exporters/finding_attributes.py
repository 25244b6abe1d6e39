"""What a finding row shows besides resource and detail: the attributes its check declares as the
ones an owner needs to act (Check.finding_attributes), labelled for people, with the value the
control requires beside the actual one where the check says which parameter holds it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..checks import CHECKS
from .common import display

# Words written the way AWS writes them when an attribute name becomes a column label.
_WORDS = {
    "id": "ID",
    "ids": "IDs",
    "arn": "ARN",
    "mfa": "MFA",
    "kms": "KMS",
    "gib": "(GiB)",
    "az": "AZ",
    "tls": "TLS",
    "ssl": "SSL",
}


@dataclass(frozen=True)
class FindingColumn:
    attribute: str  # the key in an item's attributes
    label: str  # e.g. "Minimum length (required 8)"

    def value(self, item: Mapping[str, Any]) -> Any:
        return item.get("attributes", {}).get(self.attribute)


def label(attribute: str) -> str:
    """group_name -> "Group name"; volume_size_gib -> "Volume size (GiB)"; age_days -> "Age
    (days)"."""
    if attribute.endswith("_days"):
        return f"{label(attribute.removesuffix('_days'))} (days)"
    words = [_WORDS.get(w, w) for w in attribute.split("_") if w]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def finding_columns(control: Mapping[str, Any]) -> list[FindingColumn]:
    """The columns a control's finding rows show, in the check's order; none for manual controls
    or a check this version does not know."""
    check = CHECKS.get(control["check"])
    if check is None:
        return []
    columns = []
    for shown in check.shown:
        name = label(shown.attribute)
        if shown.required is not None:
            required = control.get("params", {}).get(shown.required)
            name += " (not required)" if required is None else f" (required {plain(required)})"
        columns.append(FindingColumn(shown.attribute, name))
    return columns


def plain(value: Any) -> str:
    """A value as a person reads it: yes/no, lists joined, nothing for None."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(display(value))


def key_attributes(columns: Sequence[FindingColumn], item: Mapping[str, Any]) -> str:
    """ "Group name: web; Ports: 22" for a findings list that spans controls."""
    parts = []
    for column in columns:
        value = plain(column.value(item))
        if value:
            parts.append(f"{column.label}: {value}")
    return "; ".join(parts)
