"""Hostile catalogues: every one is a single located line, exit 2, no traceback, nothing written.

Attachments stay inside the catalogue's folder, control ids are safe path components, the YAML
loader is bounded in size and alias expansion, and every check parameter is bounded by its
schema.
"""

from __future__ import annotations

import dataclasses
import os
import resource
import time
import typing
from pathlib import Path
from typing import Any

import pytest

from evidence.catalog.loader import load_catalog
from evidence.catalog.located_yaml import ALIAS_BUDGET, MAX_BYTES
from evidence.catalog.params import describe_params
from evidence.checks import CHECKS
from evidence.checks.bounds import Bounds
from evidence.collect.attachments import copy_attachments
from evidence.pack.builder import PackBuilder
from tests.conftest import Aws, write_controls
from tests.test_catalog import GOOD_CONTROL, _assert_config_error

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def _manual(attachment: str, control_id: str = "MAN-1") -> str:
    return f"""\
  - id: '{control_id}'
    title: Access reviews
    criteria: [CC6.2]
    check: manual
    attachments:
      - {attachment}
"""


def _fake_home(tmp_path: Path) -> Path:
    credentials = tmp_path / "fakehome" / ".aws" / "credentials"
    credentials.parent.mkdir(parents=True)
    credentials.write_text(f"[default]\naws_secret_access_key = {SECRET}\n")
    return credentials


def _no_secret_anywhere(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            assert SECRET.encode() not in path.read_bytes(), path


# ---------------------------------------------------------------- attachments


def test_an_attachment_escaping_with_dotdot_is_refused_and_nothing_is_collected(
    aws: Aws, collect: Any, tmp_path: Path
) -> None:
    _fake_home(tmp_path)
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    controls = write_controls(catalog / "controls.yaml", _manual("../fakehome/.aws/credentials"))
    run = collect(controls=controls)
    _assert_config_error(run, 9, "controls[0].attachments[0]", "leads out of the catalogue")
    output = tmp_path / "output"
    assert not output.exists() or [p for p in output.rglob("*") if p.is_file()] == []
    _no_secret_anywhere(tmp_path / "catalog")


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda tmp, home: str(home), "an absolute path"),
        (lambda tmp, home: "evidence/../../fakehome/.aws/credentials", "'..' leads out"),
        (lambda tmp, home: "./../fakehome/.aws/credentials", "'..' leads out"),
        (lambda tmp, home: _link(tmp / "catalog" / "creds.txt", home), "through a symbolic link"),
        (
            lambda tmp, home: _link(tmp / "catalog" / "aws", home.parent) + "/credentials",
            "through a symbolic link",
        ),
    ],
    ids=["absolute", "dotdot-inside-path", "dot-dotdot", "symlink-file", "symlink-folder"],
)
def test_attachments_outside_the_catalogue_folder_are_configuration_errors(
    cli: Any, tmp_path: Path, make: Any, words: str
) -> None:
    home = _fake_home(tmp_path)
    (tmp_path / "catalog").mkdir()
    controls = write_controls(tmp_path / "catalog" / "controls.yaml", _manual(make(tmp_path, home)))
    run = cli("controls", "--controls", str(controls))
    _assert_config_error(run, 9, "controls[0].attachments[0]", words)


def _fifo(folder: Path) -> str:
    os.mkfifo(folder / "pipe")
    return "pipe"


def _folder(folder: Path) -> str:
    (folder / "reviews").mkdir()
    (folder / "reviews" / "q3.pdf").write_bytes(b"%PDF")
    return "reviews"


def _glob(folder: Path) -> str:
    (folder / "sub").mkdir()
    (folder / "sub" / "q3.pdf").write_bytes(b"%PDF")
    return "'sub/*'"


def _home(folder: Path) -> str:
    return "~/reviews/q3.pdf"


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (_fifo, "a FIFO (named pipe), not a regular file"),
        (_folder, "a folder, not a regular file"),
        (_glob, "globs are not expanded; list each file"),
        (lambda folder: "'q?.pdf'", "globs are not expanded"),
        (_home, "'~' is not expanded"),
        (lambda folder: _link(folder / "zero", Path("/dev/zero")), "through a symbolic link"),
    ],
    ids=["fifo", "folder", "glob-star", "glob-question", "tilde", "dev-zero-link"],
)
def test_attachments_that_are_not_one_named_regular_file_say_why(
    cli: Any, tmp_path: Path, make: Any, words: str
) -> None:
    """Each once gave "FileNotFound ... was not found"."""
    folder = tmp_path / "catalog"
    folder.mkdir()
    controls = write_controls(folder / "controls.yaml", _manual(make(folder)))
    run = cli("controls", "--controls", str(controls))
    _assert_config_error(run, 9, "controls[0].attachments[0]", words)


def test_a_file_literally_named_like_a_glob_or_tilde_is_attached(tmp_path: Path) -> None:
    folder = tmp_path / "catalog"
    (folder / "~").mkdir(parents=True)
    (folder / "~" / "q3.pdf").write_bytes(b"%PDF")
    (folder / "review[1].pdf").write_bytes(b"%PDF")
    for written in ("~/q3.pdf", "'review[1].pdf'"):
        catalog = load_catalog(write_controls(folder / "controls.yaml", _manual(written)))
        assert catalog.controls[0].attachments[0][1].is_file()


def _link(link: Path, target: Path) -> str:
    link.symlink_to(target)
    return link.name


def test_a_symlink_that_stays_inside_the_folder_is_fine(tmp_path: Path) -> None:
    folder = tmp_path / "catalog"
    (folder / "evidence").mkdir(parents=True)
    (folder / "evidence" / "review.pdf").write_bytes(b"%PDF")
    (folder / "latest.pdf").symlink_to(folder / "evidence" / "review.pdf")
    catalog = load_catalog(write_controls(folder / "controls.yaml", _manual("latest.pdf")))
    assert catalog.controls[0].attachments[0][1] == (folder / "evidence" / "review.pdf")


def test_a_file_swapped_for_an_outside_link_after_loading_is_not_copied(tmp_path: Path) -> None:
    home = _fake_home(tmp_path)
    folder = tmp_path / "catalog"
    folder.mkdir()
    (folder / "review.txt").write_text("reviewed")
    catalog = load_catalog(write_controls(folder / "controls.yaml", _manual("review.txt")))
    (folder / "review.txt").unlink()
    (folder / "review.txt").symlink_to(home)
    pack = PackBuilder(tmp_path / "output")
    copy_attachments(catalog, pack)
    assert list(pack.dir.rglob("*")) == []
    pack.discard()


# ---------------------------------------------------------------- control ids


@pytest.mark.parametrize(
    "control_id",
    ["..", ".", "a/b", "../x", "-rf", "IAM 01", "IAM-01\\x", "é1", "x" * 65, "_x"],
)
def test_control_ids_must_be_safe_path_components(
    cli: Any, tmp_path: Path, control_id: str
) -> None:
    body = GOOD_CONTROL.replace("PW-1", f"'{control_id}'")
    run = cli("controls", "--controls", str(write_controls(tmp_path / "controls.yaml", body)))
    _assert_config_error(run, 4, "controls[0].id", "a control id is 1 to 64 letters, digits")


def test_ids_differing_only_in_case_are_duplicates(cli: Any, tmp_path: Path) -> None:
    body = GOOD_CONTROL + GOOD_CONTROL.replace("PW-1", "pw-1")
    run = cli("controls", "--controls", str(write_controls(tmp_path / "controls.yaml", body)))
    _assert_config_error(run, 8, "controls[1].id", "as 'PW-1': ids are compared ignoring case")


# ---------------------------------------------------------------- bounded YAML


def _laughs(levels: int = 9) -> str:
    lines = ['lol0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for n in range(1, levels + 1):
        refs = ", ".join([f"*a{n - 1}"] * 9)
        lines.append(f"lol{n}: &a{n} [{refs}]")
    return "\n".join(lines) + "\n"


def test_a_billion_laughs_under_an_unknown_key_is_refused_fast_and_small(
    cli: Any, tmp_path: Path
) -> None:
    controls = write_controls(tmp_path / "controls.yaml", GOOD_CONTROL)
    bomb = "    params:\n" + "".join(f"      {line}\n" for line in _laughs().splitlines())
    controls.write_text(controls.read_text() + bomb)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    run = cli("controls", "--controls", str(controls))
    assert time.perf_counter() - started < 5
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000  # KiB
    assert run.code == 2
    (line,) = run.err.strip().splitlines()
    assert f"aliases expand past {ALIAS_BUDGET:,} values" in line
    assert "controls.yaml:" in line


def test_aliases_within_the_budget_still_work(tmp_path: Path) -> None:
    body = """\
  - id: S3-1
    title: Logging
    criteria: &criteria [CC7.2]
    check: s3.access_logging
    params: {buckets: &buckets [logs, audit]}
  - id: S3-2
    title: Encryption
    criteria: *criteria
    check: s3.encryption
    params: {buckets: *buckets}
"""
    catalog = load_catalog(write_controls(tmp_path / "controls.yaml", body))
    assert catalog.controls[1].params.buckets == ("logs", "audit")


def test_a_catalogue_over_the_size_limit_is_refused_before_parsing(
    cli: Any, tmp_path: Path
) -> None:
    controls = write_controls(tmp_path / "controls.yaml", GOOD_CONTROL)
    with controls.open("a") as handle:
        handle.write("# " + "x" * MAX_BYTES + "\n")
    run = cli("controls", "--controls", str(controls))
    assert run.code == 2
    (line,) = run.err.strip().splitlines()
    assert "controls.yaml: larger than 1 MiB" in line


@pytest.mark.parametrize(
    ("content", "line", "words"),
    [
        (b"organisation:\n  name: Caf\xe9 Co\ncontrols: []\n", 2, "not UTF-8 text (byte 0xe9)"),
        (b"organisation:\n  name: Co\n\n\n  x: \x00\n", 5, "control character #x0000"),
        (
            b'organisation:\n  name: "Co\ncontrols:\n  - id: X\n',
            2,
            "quoted scalar opened here",
        ),
        (
            b"organisation:\n  name: Co\ncontrols: [\n  a, b\n\n",
            3,
            "flow sequence opened here",
        ),
        (b"organisation:\n  name: Co\n  x: 2024-13-45\n", 3, "not a valid value"),
        (b"organisation:\n  name: Co\nx: " + b"[" * 20000, None, "nested too deeply"),
        (b"organisation:\n  name: Co\n? [a, b]\n: 1\n", 3, "a key is a list or mapping"),
        (b"\xef\xbb\xbforganisation:\n  name: Co\ncontrols: []\n", 3, "at least one control"),
        (b"organisation:\n  name: Co\ncontrols:\n", 3, "at least one control"),
    ],
    ids=[
        "latin-1",
        "nul",
        "unclosed-quote",
        "unclosed-flow",
        "bad-date",
        "deep",
        "complex-key",
        "bom-empty",
        "null",
    ],
)
def test_broken_files_are_located(
    cli: Any, tmp_path: Path, content: bytes, line: int | None, words: str
) -> None:
    controls = tmp_path / "controls.yaml"
    controls.write_bytes(content)
    run = cli("controls", "--controls", str(controls))
    assert run.code == 2, run.err
    (message,) = run.err.strip().splitlines()
    assert "Traceback" not in run.err
    where = f"controls.yaml:{line}:" if line else "controls.yaml:"
    assert where in message and words in message, message


# ---------------------------------------------------------------- parameter bounds


@pytest.mark.parametrize(
    ("check", "params", "field", "words"),
    [
        ("iam.password_policy", "min_length: 0", "min_length", "expected 1 to 128"),
        ("iam.password_policy", "min_length: 200", "min_length", "at most 128 characters"),
        ("iam.password_policy", "max_age_days: 0", "max_age_days", "integer 1 to 36500 or null"),
        ("iam.password_policy", "reuse_prevention: 25", "reuse_prevention", "1 to 24"),
        ("iam.access_key_rotation", "max_age_days: -5", "max_age_days", "expected 1 to 36500"),
        ("iam.unused_credentials", "max_unused_days: 0", "max_unused_days", "1 to 36500"),
        ("ec2.security_groups_open", "ports: [22, 70000]", "ports[1]", "0 to 65535"),
        ("ec2.security_groups_open", "ports: [-1]", "ports[0]", "0 to 65535"),
        ("elb.tls_listeners", "allowed_plain_ports: [65536]", "allowed_plain_ports[0]", "65535"),
        ("support.service_limits", "threshold_percent: 150", "threshold_percent", "1 to 100"),
        ("support.service_limits", "threshold_percent: 0", "threshold_percent", "1 to 100"),
        ("ec2.multi_az", "min_zones: 0", "min_zones", "1 to 32"),
    ],
)
def test_parameters_out_of_bounds_are_configuration_errors(
    cli: Any, tmp_path: Path, check: str, params: str, field: str, words: str
) -> None:
    body = f"""\
  - id: P-1
    title: Bounded
    criteria: [CC6.1]
    check: {check}
    params:
      {params}
"""
    run = cli("controls", "--controls", str(write_controls(tmp_path / "controls.yaml", body)))
    _assert_config_error(run, 9, f"controls[0].params.{field}", words)


def _mentions_int(hint: Any) -> bool:
    if hint is int:
        return True
    if typing.get_origin(hint) is typing.Annotated:
        return False  # bounded: checked below
    return any(_mentions_int(arg) for arg in typing.get_args(hint))


def _bounded_ints(hint: Any) -> bool:
    """Every int inside the hint is Annotated with Bounds."""
    if typing.get_origin(hint) is typing.Annotated:
        base, *extras = typing.get_args(hint)
        return base is not int or any(isinstance(e, Bounds) for e in extras)
    return not _mentions_int(hint) and all(_bounded_ints(a) for a in typing.get_args(hint))


def test_every_integer_parameter_of_every_check_declares_its_bounds() -> None:
    unbounded = [
        f"{name}.{f.name}"
        for name, check in CHECKS.items()
        for f in dataclasses.fields(check.params)
        if not _bounded_ints(typing.get_type_hints(check.params, include_extras=True)[f.name])
    ]
    assert unbounded == []


def test_the_parameter_documentation_shows_the_bounds() -> None:
    described = {n: t for n, t, _ in describe_params(CHECKS["iam.password_policy"].params)}
    assert described["min_length"] == "integer 1 to 128"
    assert described["max_age_days"] == "integer 1 to 36500 or null"
