"""README.txt lists what the pack holds, and nothing it does not."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.conftest import Aws, write_controls

API_ONLY = """\
  - id: IAM-01
    title: Password policy
    criteria: [CC6.1]
    check: iam.password_policy
"""

WITH_ATTACHMENT = (
    API_ONLY
    + """\
  - id: MAN-1
    title: Access requests approved
    criteria: [CC6.2]
    check: manual
    attachments: [forms.pdf]
"""
)


def listed(readme: str) -> set[str]:
    """The names in README.txt's "What is in this folder" list."""
    part = readme.split("What is in this folder\n----------------------\n")[1].split("\n\n")[0]
    return {m.group(1) for m in re.finditer(r"^(\S+)", part, re.MULTILINE)}


def test_readme_lists_only_what_the_pack_contains(aws: Aws, collect: Any, tmp_path: Path) -> None:
    run = collect(controls=write_controls(tmp_path / "controls.yaml", API_ONLY))
    readme = (run.pack / "README.txt").read_text()
    names = listed(readme)
    on_disk = {p.name + ("/" if p.is_dir() else "") for p in run.pack.iterdir()}
    assert names == on_disk - {"README.txt"}
    assert "attachments/" not in names  # no manual control, no attachments folder
    assert "decoded, as CSV" not in readme  # no credential report was collected

    (tmp_path / "forms.pdf").write_bytes(b"%PDF-1.4 signed")
    controls = write_controls(tmp_path / "with.yaml", WITH_ATTACHMENT)
    run = collect("--only", "IAM-01", "--only", "MAN-1", controls=controls)
    pack = run.packs[-1]
    names = listed((pack / "README.txt").read_text())
    assert "attachments/" in names
    assert names == {p.name + ("/" if p.is_dir() else "") for p in pack.iterdir()} - {"README.txt"}
