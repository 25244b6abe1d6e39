"""The demo's own additions to the catalogue it is run with: an accepted exception and an attached
file, so a newcomer's first pack shows the `exception` status, the exceptions register and an
attachment.

The additions name demo resources, so they stay out of the shipped controls.yaml: the demo writes
a copy of the chosen catalogue with them added, beside the attached file, into a folder of its
own and collects with that copy. The pack's controls.yaml is then the catalogue it was evaluated
with (verify derives the same results from it), and the attachment comes from the catalogue's
folder as every attachment does. Dates are relative to the run, so the exception never expires
in the demo. A control the chosen catalogue lacks, writes in flow style, or already gives the key
to, is left as it is.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from ..catalog.loader import load_catalog
from ..catalog.seed import SEED_NAME
from .company import ENGINEERS

ACCESS_REQUESTS = "demo-evidence/access-requests.csv"


@dataclass(frozen=True)
class Addition:
    """YAML lines added under `key` of control `control` (indented relative to the key)."""

    control: str
    key: str
    lines: tuple[str, ...]


def _quoted(text: str) -> str:
    return json.dumps(text)  # a JSON string is a YAML double-quoted scalar


def demo_additions(today: date) -> tuple[Addition, ...]:
    """The analytics database's single AZ as an accepted risk (RDS-02's only finding), and the
    quarter's access requests attached to the access-approval control (MAN-01)."""
    risk = {
        "resource": "analytics",
        "reason": "Internal analytics copy, rebuilt from the nightly snapshot within its 24-hour"
        " RTO; Multi-AZ not justified (risk register RR-14)",
        "owner": "grace.kim",
        "approved_by": "ciso",
        "approved_on": (today - timedelta(days=30)).isoformat(),
        "expires": (today + timedelta(days=150)).isoformat(),
        "ticket": "RISK-142",
    }
    first, *rest = (
        f"{key}: {value if key in ('approved_on', 'expires') else _quoted(value)}"
        for key, value in risk.items()
    )
    return (
        Addition("RDS-02", "exceptions", (f"- {first}", *(f"  {line}" for line in rest))),
        Addition("MAN-01", "attachments", (f"- {ACCESS_REQUESTS}",)),
    )


def access_requests_csv(today: date) -> str:
    """The quarter's access requests, each approved by a manager before access was given."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["request", "user", "role", "requested_on", "approved_by", "approved_on", "provisioned_on"]
    )
    for number, user in enumerate(ENGINEERS[:8], 1):
        requested = today - timedelta(days=80 - 9 * number)
        writer.writerow(
            [
                f"ACC-{1000 + number}",
                user,
                "engineer-readonly" if number % 3 else "platform-admins",
                requested.isoformat(),
                "maria.lopez (engineering manager)",
                (requested + timedelta(days=1)).isoformat(),
                (requested + timedelta(days=2)).isoformat(),
            ]
        )
    return out.getvalue()


def with_additions(text: str, additions: Sequence[Addition]) -> str:
    """`text` (a controls.yaml) with each addition put at the end of its control's block."""
    lines = text.splitlines()
    for addition in additions:
        lines = _added(lines, addition)
    return "\n".join(lines) + "\n"


def _added(lines: list[str], addition: Addition) -> list[str]:
    entry = re.compile(rf"^(\s*)- id: ['\"]?{re.escape(addition.control)}['\"]?\s*(#.*)?$")
    start = next((i for i, line in enumerate(lines) if entry.match(line)), None)
    if start is None:
        return lines
    match = entry.match(lines[start])
    assert match is not None
    dash = len(match.group(1))
    end = start + 1
    while end < len(lines) and not _ends_block(lines[end], dash):
        end += 1
    while end > start + 1 and (not lines[end - 1].strip() or _comment(lines[end - 1])):
        end -= 1  # a blank line or the next entry's comment stays after the block
    indent = " " * (dash + 2)
    if any(line.startswith(f"{indent}{addition.key}:") for line in lines[start + 1 : end]):
        return lines
    block = [f"{indent}{addition.key}:", *(f"{indent}  {line}" for line in addition.lines)]
    return [*lines[:end], *block, *lines[end:]]


def _comment(line: str) -> bool:
    return line.lstrip().startswith("#")


def _ends_block(line: str, dash: int) -> bool:
    if not line.strip() or _comment(line):
        return False
    return len(line) - len(line.lstrip()) <= dash


def write_demo_catalog(source: Path, folder: Path, today: date) -> Path:
    """The demo's catalogue in `folder`: `source` with the demo's additions, the files they
    attach, and the files `source` itself attaches (at the same relative paths). Returns its
    path. Raises ConfigError if `source` is not a valid catalogue."""
    text = source.read_text(encoding="utf-8")
    # The catalogue's own attachments are relative to its folder: copied to the same places.
    for control in load_catalog(source).controls:
        for written, resolved in control.attachments:
            if resolved.is_file():
                (folder / written).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(resolved, folder / written)
    target = folder / SEED_NAME
    target.write_text(with_additions(text, demo_additions(today)), encoding="utf-8")
    attachment = folder / ACCESS_REQUESTS
    attachment.parent.mkdir(parents=True, exist_ok=True)
    attachment.write_text(access_requests_csv(today), encoding="utf-8")
    return target
