"""Fuzzing the two inputs a user types: controls.yaml and the command line.

Hypothesis mutates a valid catalogue with mutations that each make it invalid (a kind of mistake
apiece: a missing or unknown key, a wrong type, an unsafe id, a bound crossed, an attachment out
of the folder, bytes that are not UTF-8, a control character, an unclosed bracket, an alias bomb)
and builds argument lists with one bad value among good ones. Every one must end the same way:
exit 2, one line on stderr, no traceback, nothing written under output/. In-process and
derandomized, so CI runs the same 1,200 cases each time in well under a minute.
"""

from __future__ import annotations

import contextlib
import copy
import io
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evidence.cli import main

BASE: dict[str, Any] = {
    "organisation": {"name": "Fuzz Co"},
    "controls": [
        {
            "id": "IAM-01",
            "title": "Password policy",
            "description": "Passwords are long.",
            "criteria": ["CC6.1"],
            "check": "iam.password_policy",
            "params": {"min_length": 14, "max_age_days": 90, "require_symbols": True},
        },
        {
            "id": "NET-01",
            "title": "No open admin ports",
            "criteria": ["CC6.6"],
            "check": "ec2.security_groups_open",
            "params": {"ports": [22, 3389]},
        },
        {
            "id": "MAN-01",
            "title": "Access reviews",
            "criteria": ["CC6.2"],
            "check": "manual",
            "attachments": ["evidence/review.csv"],
        },
    ],
}
INT_PARAMS = {  # control index -> (param, lowest, highest)
    0: ("min_length", 1, 128),
    1: ("ports", 0, 65535),
}
SAFE_ID = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")
EXAMPLES = 600  # per test: 1,200 cases in all


@contextlib.contextmanager
def _workspace() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "evidence").mkdir()
        (root / "evidence" / "review.csv").write_text("reviewed\n")
        yield root


@pytest.fixture(autouse=True)
def _no_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Nothing here may reach AWS: no credentials, and a closed port as the endpoint."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


def _run(args: list[str], root: Path) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    cwd = os.getcwd()
    os.chdir(root)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(args)
    finally:
        os.chdir(cwd)
    return code, err.getvalue()


def _assert_refused(code: int, err: str, root: Path, args: list[str]) -> None:
    assert code == 2, (args, err)
    assert "Traceback" not in err, (args, err)
    assert len(err.strip().splitlines()) == 1, (args, err)
    output = root / "output"
    written = [p for p in output.rglob("*") if p.is_file()] if output.exists() else []
    assert written == [], (args, written)


# ---------------------------------------------------------------- catalogue mutations


def _control(data: dict[str, Any], draw: st.DrawFn) -> dict[str, Any]:
    controls: list[dict[str, Any]] = data["controls"]
    return controls[draw(st.integers(0, len(controls) - 1))]


@st.composite
def _unsafe_id(draw: st.DrawFn) -> str:
    text = draw(st.text(min_size=0, max_size=70))
    if text and set(text) <= SAFE_ID and text[0].isalnum() and len(text) <= 64:
        text = draw(st.sampled_from(["..", "/", " ", "é", "\\", ":"])) + text
    return text


@st.composite
def _mutated_data(draw: st.DrawFn) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    kind = draw(
        st.sampled_from(
            [
                "drop-required",
                "unknown-key",
                "unsafe-id",
                "out-of-bounds",
                "wrong-type",
                "unknown-check",
                "duplicate",
                "attachment-outside",
                "no-controls",
                "criteria",
            ]
        )
    )
    if kind == "drop-required":
        where = draw(st.sampled_from(["organisation", "name", "controls", "control"]))
        if where == "control":
            del _control(data, draw)[draw(st.sampled_from(["id", "title", "criteria", "check"]))]
        elif where == "name":
            del data["organisation"]["name"]
        else:
            del data[where]
    elif kind == "unknown-key":
        key = draw(st.text(min_size=1, max_size=12).filter(lambda k: k not in {"name", "id"}))
        target = draw(st.sampled_from(["top", "organisation", "control", "params"]))
        value = draw(st.one_of(st.integers(), st.text(max_size=10), st.booleans()))
        known = {"organisation", "controls", "title", "description", "criteria", "check"}
        known |= {"params", "attachments", "references", "min_length", "max_age_days", "ports"}
        known |= {"require_symbols", "require_numbers", "require_uppercase", "require_lowercase"}
        known |= {"reuse_prevention"}
        key = key if key not in known else key + "_x"
        if target == "top":
            data[key] = value
        elif target == "organisation":
            data["organisation"][key] = value
        elif target == "control":
            _control(data, draw)[key] = value
        else:
            data["controls"][draw(st.integers(0, 1))]["params"][key] = value
    elif kind == "unsafe-id":
        _control(data, draw)["id"] = draw(_unsafe_id())
    elif kind == "out-of-bounds":
        index = draw(st.sampled_from(sorted(INT_PARAMS)))
        param, low, high = INT_PARAMS[index]
        bad = draw(st.one_of(st.integers(max_value=low - 1), st.integers(min_value=high + 1)))
        data["controls"][index]["params"][param] = [bad] if param == "ports" else bad
    elif kind == "wrong-type":
        params = data["controls"][0]["params"]
        field = draw(st.sampled_from(["min_length", "require_symbols"]))
        params[field] = draw(
            st.one_of(st.text(max_size=8), st.lists(st.integers(), max_size=3))
            if field == "min_length"
            else st.one_of(st.integers(), st.text(max_size=8))
        )
    elif kind == "unknown-check":
        name = draw(st.text(min_size=1, max_size=20))
        from evidence.checks import CHECKS

        _control(data, draw)["check"] = name if name not in CHECKS and name != "manual" else "x."
    elif kind == "duplicate":
        data["controls"].append(copy.deepcopy(_control(data, draw)))
    elif kind == "attachment-outside":
        data["controls"][2]["attachments"] = [
            draw(st.sampled_from(["/etc/passwd", "../secret", "evidence/../../x", "/"]))
        ]
    elif kind == "no-controls":
        data["controls"] = draw(st.sampled_from([[], None, "all", 3, {"a": 1}]))
    else:
        data["controls"][draw(st.integers(0, 2))]["criteria"] = draw(
            st.sampled_from([[], None, "CC6.1", 6.1, [[]]])
        )
    return data


@st.composite
def _mutated_bytes(draw: st.DrawFn) -> bytes:
    text = yaml.safe_dump(draw(_mutated_data()), sort_keys=False).encode("utf-8")
    layer = draw(st.sampled_from(["none", "none", "bad-utf8", "control", "unclosed", "bomb"]))
    if layer == "none":
        return text
    base = yaml.safe_dump(BASE, sort_keys=False).encode("utf-8") if draw(st.booleans()) else text
    at = draw(st.integers(0, len(base)))
    if layer == "bad-utf8":
        return (
            base[:at] + draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xe9", b"\x80"])) + base[at:]
        )
    if layer == "control":
        return base[:at] + draw(st.sampled_from([b"\x00", b"\x01", b"\x1b", b"\x7f"])) + base[at:]
    if layer == "unclosed":
        return base + draw(
            st.sampled_from([b"extra: [1, 2\n", b'extra: "open\n', b"extra: {a: 1\n"])
        )
    laughs = ["l0: &a0 [x, x, x, x, x, x, x, x, x]"]
    laughs += [f"l{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 9)]
    return base + ("bomb:\n" + "".join(f"  {line}\n" for line in laughs)).encode()


COMMANDS = (
    ["controls"],
    ["permissions"],
    ["collect", "--region", "us-east-1", "--output", "output"],
    ["demo", "--output", "output"],
)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(content=_mutated_bytes(), command=st.sampled_from(COMMANDS))
def test_mutated_catalogues_are_one_line_and_exit_2(content: bytes, command: list[str]) -> None:
    with _workspace() as root:
        (root / "controls.yaml").write_bytes(content)
        args = [*command, "--controls", "controls.yaml"]
        code, err = _run(args, root)
        _assert_refused(code, err, root, args)


def test_the_unmutated_base_catalogue_is_valid() -> None:
    with _workspace() as root:
        (root / "controls.yaml").write_text(yaml.safe_dump(BASE, sort_keys=False))
        assert _run(["controls", "--controls", "controls.yaml"], root)[0] == 0


# ---------------------------------------------------------------- argument lists


GOOD_OPTIONS = {
    "collect": [
        ["--region", "us-east-1"],
        ["--region", "eu-west-1,us-east-1"],
        ["--max-workers", "4"],
        ["--max-attempts", "3"],
        ["--max-in-flight", "2"],
        ["--quiet"],
        ["--share-mode", "group"],
        ["--only", "IAM-01"],
        ["--role-name", "Audit"],
    ],
    "demo": [["--region", "us-east-1"], ["--quiet"], ["--only", "NET-01"]],
    "permissions": [["--only", "IAM-01"], ["--quiet"]],
    "controls": [["--quiet"]],
    "verify": [["--quiet"]],
    "export": [["--quiet"], ["--share-mode", "world"]],
}


@st.composite
def _bad_argument(draw: st.DrawFn, command: str) -> list[str]:
    numbers = ("--max-workers", "--max-attempts", "--max-in-flight")
    choices: list[str] = ["unknown-option", "missing-value"]
    if command == "collect":
        choices += ["number", "region", "accounts", "role", "endpoint", "share", "only", "output"]
    if command == "demo":
        choices += ["region", "only", "share", "output"]
    if command == "permissions":
        choices += ["only"]
    if command in ("controls", "permissions", "collect", "demo"):
        choices += ["controls"]
    if command in ("verify", "export"):
        choices = ["unknown-option", "pack"]
    kind = draw(st.sampled_from(choices))
    if kind == "unknown-option":
        return ["--" + draw(st.from_regex(r"[a-z]{3,10}", fullmatch=True)) + "zz"]
    if kind == "missing-value":
        option = {"verify": "--quiet", "export": "--output"}.get(command, "--controls")
        return [option] if option != "--quiet" else ["--share-mode"]
    if kind == "number":
        value = draw(
            st.one_of(
                st.integers(max_value=0).map(str),
                st.integers(min_value=300).map(str),
                st.text(alphabet="abcxyz.,", min_size=1, max_size=5),
            )
        )
        return [draw(st.sampled_from(numbers)), value]
    if kind == "region":
        return ["--region", draw(st.from_regex(r"[a-z]{2}-[a-z]{3,9}-[0-9]{2}", fullmatch=True))]
    if kind == "accounts":
        digits = draw(
            st.from_regex(r"[0-9]{1,11}|[0-9]{13,15}|[0-9]{6}[a-z][0-9]{5}", fullmatch=True)
        )
        return ["--accounts", digits]
    if kind == "role":
        return ["--role-name", draw(st.from_regex(r"[a-z]{1,8}[ !#$%&*/:;<>?]", fullmatch=True))]
    if kind == "endpoint":
        return ["--endpoint-url", draw(st.from_regex(r"[a-z]{1,10}(:[0-9]{2,5})?", fullmatch=True))]
    if kind == "share":
        return ["--share-mode", draw(st.sampled_from(["public", "0777", "", "PRIVATE"]))]
    if kind == "only":
        return ["--only", "NOPE-" + str(draw(st.integers(0, 999)))]
    if kind == "output":
        return ["--output", draw(st.sampled_from(["afile", "afile/below", "/sys/soc-out"]))]
    if kind == "controls":
        return ["--controls", draw(st.sampled_from(["absent.yaml", "evidence", "afile"]))]
    return [draw(st.sampled_from(["absent-pack", "afile", "evidence"]))]  # pack


@st.composite
def _argv(draw: st.DrawFn) -> list[str]:
    command = draw(st.sampled_from(sorted(GOOD_OPTIONS)))
    good = draw(st.lists(st.sampled_from(GOOD_OPTIONS[command]), max_size=3))
    bad = draw(_bad_argument(command))
    pieces = [*good, bad] if draw(st.booleans()) else [bad, *good]
    if bad and bad[-1:] in (["--controls"], ["--output"], ["--share-mode"]) and len(bad) == 1:
        pieces = [*good, bad]  # a missing value: the option must come last
    argv = [command]
    if command in ("verify", "export") and bad[0].startswith("--"):
        argv.append("absent-pack")
    for piece in pieces:
        argv.extend(piece)
    if command in ("controls", "permissions", "collect", "demo") and "--controls" not in argv:
        argv += ["--controls", "controls.yaml"] if bad[0] != "--controls" or len(bad) > 1 else []
    return argv


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(argv=_argv())
def test_argument_lists_with_a_bad_value_are_one_line_and_exit_2(argv: list[str]) -> None:
    with _workspace() as root:
        (root / "controls.yaml").write_text(yaml.safe_dump(BASE, sort_keys=False))
        (root / "afile").write_text("not a folder")
        code, err = _run(argv, root)
        _assert_refused(code, err, root, argv)
