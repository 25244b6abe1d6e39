"""controls.yaml errors: one line naming file, line and field; exit 2; no traceback; no pack."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from evidence.catalog.loader import load_catalog
from evidence.checks import CHECKS
from tests.conftest import REPO_CONTROLS, write_controls

GOOD_CONTROL = """\
  - id: PW-1
    title: Password policy
    criteria: [CC6.1]
    check: iam.password_policy
"""


def _assert_config_error(run: Any, line: int, field: str, words: str) -> None:
    assert run.code == 2
    lines = run.err.strip().splitlines()
    assert len(lines) == 1, run.err
    message = lines[0]
    assert f"controls.yaml:{line}:" in message
    assert field in message
    assert words in message
    assert "Traceback" not in run.err
    assert run.packs == []


@pytest.mark.parametrize(
    ("body", "line", "field", "words"),
    [
        # Unclosed: the line where the bracket was opened, not the end of the file.
        (GOOD_CONTROL + "    params: {min_length: [8\n", 8, "", "flow sequence opened here"),
        (GOOD_CONTROL + "    colour: blue\n", 8, "controls[0].colour", "unknown key"),
        (
            GOOD_CONTROL.replace("iam.password_policy", "iam.pasword_policy"),
            7,
            "controls[0].check",
            "unknown check 'iam.pasword_policy'",
        ),
        (
            GOOD_CONTROL + "    params:\n      min_length: eight\n",
            9,
            "controls[0].params.min_length",
            "expected integer, got 'eight'",
        ),
        (
            GOOD_CONTROL + "    params:\n      require_symbols: 1\n",
            9,
            "controls[0].params.require_symbols",
            "expected boolean",
        ),
        (
            GOOD_CONTROL + "    params:\n      lockout_attempts: 5\n",
            9,
            "controls[0].params.lockout_attempts",
            "unknown parameter",
        ),
        (GOOD_CONTROL + GOOD_CONTROL, 8, "controls[1].id", "duplicate id 'PW-1' (first on line 4)"),
        (GOOD_CONTROL + "    title: Again\n", 8, "controls[0].title", "duplicate key"),
        (GOOD_CONTROL.replace("    criteria: [CC6.1]\n", ""), 4, "controls[0].criteria", "missing"),
        (GOOD_CONTROL.replace("PW-1", "1.5"), 4, "controls[0].id", "expected text (quote it)"),
    ],
    ids=[
        "not-yaml",
        "unknown-key",
        "unknown-check",
        "wrong-int",
        "wrong-bool",
        "unknown-param",
        "duplicate-id",
        "duplicate-key",
        "missing-field",
        "numeric-id",
    ],
)
def test_bad_catalogue_is_one_located_line_and_exit_2(
    collect: Any, tmp_path: Path, body: str, line: int, field: str, words: str
) -> None:
    controls = write_controls(tmp_path / "controls.yaml", body)
    _assert_config_error(collect(controls=controls), line, field, words)


def test_unknown_top_level_key(collect: Any, tmp_path: Path) -> None:
    controls = write_controls(tmp_path / "controls.yaml", GOOD_CONTROL)
    controls.write_text(controls.read_text() + "extra: 1\n")
    _assert_config_error(collect(controls=controls), 8, "extra", "unknown key")


def test_missing_file_is_a_configuration_error(collect: Any, tmp_path: Path) -> None:
    run = collect(controls=tmp_path / "absent.yaml")
    assert run.code == 2
    assert "absent.yaml: file not found" in run.err


def test_unknown_only_id_is_a_usage_error(collect: Any) -> None:
    run = collect("--only", "NOPE-1")
    assert run.code == 2
    assert "--only: no control 'NOPE-1'" in run.err
    assert run.packs == []


def test_shipped_catalogue_uses_every_check_with_mappings() -> None:
    catalog = load_catalog(REPO_CONTROLS)
    used = {control.check for control in catalog.controls}
    assert used == set(CHECKS) | {"manual"}
    assert len([c for c in catalog.controls if c.manual]) >= 5  # the seed list's procedures
    # None in AUDITOR.md; privileged access with approved administrators is not CIS 1.16 / IAM.1
    # (they allow no full-administrator policy at all): tests/test_checks_references.py.
    no_reference = {"ec2.multi_az", "support.service_limits", "manual", "iam.privileged_access"}
    for control in catalog.controls:
        assert control.criteria, control.id
        assert control.references or control.check in no_reference, control.id
    password = next(c for c in catalog.controls if c.check == "iam.password_policy")
    assert (password.params.min_length, password.params.max_age_days) == (8, 90)
    keys = next(c for c in catalog.controls if c.check == "iam.access_key_rotation")
    assert keys.params.max_age_days == 90


def test_controls_command_lists_the_catalogue(cli: Any) -> None:
    run = cli("controls", "--controls", str(REPO_CONTROLS))
    assert run.code == 0
    assert "iam.password_policy" in run.out
    assert "min_length=8" in run.out
    assert "CC6.1" in run.out
