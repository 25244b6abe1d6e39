"""The command line at its edges: bad values are one line and exit 2, before anything is
collected; regions; the default catalogue; init; --quiet, --debug; each --help."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from evidence.catalog.seed import seed_catalog_bytes
from evidence.cli import build_parser, main
from evidence.collect.run import CollectRequest
from evidence.errors import UsageError
from tests.conftest import REPO, REPO_CONTROLS, Aws

ONE = ("--only", "IAM-01")


def _one_line_exit_2(run: Any, *words: str) -> None:
    assert run.code == 2, run.out + run.err
    lines = run.err.strip().splitlines()
    assert len(lines) == 1, run.err
    assert "Traceback" not in run.err
    for word in words:
        assert word in lines[0], lines[0]
    assert [p for p in run.output_dir.rglob("*") if p.is_file()] == []
    assert run.packs == []


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--max-workers", "0"), ("--max-workers", "expected 1 to 256, got 0")),
        (("--max-attempts", "0"), ("--max-attempts", "expected 1 to 50, got 0")),
        (("--max-in-flight", "0"), ("--max-in-flight", "expected 1 to 64, got 0")),
        (("--max-in-flight", "-3"), ("--max-in-flight",)),
        (("--max-workers", "many"), ("expected a whole number, got 'many'",)),
        (("--max-workers", "\uff18"), ("expected a whole number",)),  # full-width 8
        (("--max-attempts", "\u0663"), ("expected a whole number",)),  # Arabic-Indic 3
        (("--region", "us-est-1"), ("unknown region 'us-est-1'", "did you mean")),
        (("--region", "us-east-1,mars-1"), ("unknown region 'mars-1'",)),
        (("--region", ","), ("expected a region name",)),
        (("--accounts", "12345"), ("not a 12-digit account id",)),
        (("--role-name", "bad role!"), ("--role-name", "not an IAM role name")),
        (("--endpoint-url", "localhost:4566"), ("expected an http:// or https:// URL",)),
        (("--share-mode", "public"), ("invalid choice: 'public'",)),
        (("--only", "NOPE-1"), ("--only: no control 'NOPE-1'",)),
        (("--organization", "--accounts", "111111111111"), ("cannot be used together",)),
        (("--colour",), ("unrecognized arguments: --colour",)),
    ],
)
def test_bad_collect_values_are_one_line_and_exit_2(
    aws: Aws, collect: Any, args: tuple[str, ...], words: tuple[str, ...]
) -> None:
    _one_line_exit_2(collect(*args), *words)


def test_an_output_that_is_a_file_or_cannot_be_written_is_exit_2(
    aws: Aws, cli: Any, tmp_path: Path
) -> None:
    afile = tmp_path / "afile"
    afile.write_text("x")
    for output, words in (
        (afile, "is a file, not a folder"),
        (afile / "below", "cannot write there"),
        (Path("/sys/soc-evidence-output"), "cannot write there"),  # read-only even for root
    ):
        run = cli("collect", "--controls", str(REPO_CONTROLS), *ONE, "--output", str(output))
        _one_line_exit_2(run, f"--output {output}", words)
    assert afile.read_text() == "x"


def test_zero_in_flight_is_refused_by_the_library_too_instead_of_hanging() -> None:
    with pytest.raises(UsageError, match="--max-in-flight: expected 1 to 64, got 0"):
        CollectRequest(controls_path=REPO_CONTROLS, max_in_flight=0)


def test_comma_separated_regions_are_two_regions(aws: Aws, collect: Any) -> None:
    run = collect("--only", "EC2-01", "--region", "us-east-1,eu-west-1", "--region", "us-east-1")
    assert run.code in (0, 1)
    assert run.results["run"]["regions"] == ["us-east-1", "eu-west-1"]


def test_aws_region_is_honoured(aws: Aws, collect: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    run = collect("--only", "EC2-01")
    assert run.results["run"]["regions"] == ["eu-west-1"]


def test_the_no_region_hint_names_what_works(
    aws: Aws, collect: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    run = collect("--only", "EC2-01")
    _one_line_exit_2(run, "AWS_REGION", "AWS_DEFAULT_REGION", "profile", "--region")


def test_an_unknown_region_from_the_environment_is_exit_2(
    aws: Aws, collect: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "mars-north-1")
    _one_line_exit_2(collect("--only", "EC2-01"), "unknown region 'mars-north-1'")


def test_a_closed_pipe_is_not_a_traceback(tmp_path: Path) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # `| head` that has already gone
    process = subprocess.run(
        [sys.executable, "-m", "evidence", "controls", "--controls", str(REPO_CONTROLS)],
        stdout=write_end,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    os.close(write_end)
    assert process.returncode == 141
    assert process.stderr == ""


# ---------------------------------------------------------------- the default catalogue, init


def test_without_controls_the_local_file_then_the_seed_is_used_and_said(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    seed = cli("controls")
    assert seed.code == 0
    assert "using the built-in seed catalogue" in seed.err
    assert "soc-evidence init" in seed.err
    assert "29 controls" in seed.out
    assert cli("init").code == 0
    assert (tmp_path / "controls.yaml").read_bytes() == seed_catalog_bytes()
    local = cli("controls")
    assert "using the catalogue controls.yaml" in local.err
    assert "controls from controls.yaml" in local.out
    assert cli("controls", "--quiet").err == ""


def test_init_refuses_to_overwrite_without_force(cli: Any, tmp_path: Path) -> None:
    target = tmp_path / "mine.yaml"
    target.write_text("my edits")
    run = cli("init", str(target))
    _one_line_exit_2(run, "already exists (--force to overwrite it)")
    assert target.read_text() == "my edits"
    assert cli("init", str(target), "--force").code == 0
    assert target.read_bytes() == seed_catalog_bytes()


def test_the_packaged_seed_is_the_repository_catalogue() -> None:
    assert seed_catalog_bytes() == REPO_CONTROLS.read_bytes()


# ---------------------------------------------------------------- conventions


def test_every_command_has_quiet_debug_exit_codes_and_an_example(
    capsys: pytest.CaptureFixture[str],
) -> None:
    parser = build_parser()
    (subcommands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    commands: dict[str, argparse.ArgumentParser] = subcommands.choices
    assert set(commands) >= {"collect", "demo", "verify", "export", "controls", "permissions"}
    for name in commands:
        assert main([name, "--help"]) == 0
        text = capsys.readouterr().out
        assert "--quiet" in text and "--debug" in text, name
        assert "exit codes:\n  0  " in text and "\n  2  " in text, name
        assert "example:\n  soc-evidence " + name in text, name
    main(["export", "--help"])
    assert "default: beside the pack" in " ".join(capsys.readouterr().out.split())
    main(["collect", "--help"])
    assert "--endpoint-url URL" in capsys.readouterr().out
    main(["demo", "--help"])
    demo_help = capsys.readouterr().out
    assert "--only ID" in demo_help and "--region REGION" in demo_help


def test_quiet_prints_the_pack_only_and_debug_logs_botocore(
    aws: Aws, collect: Any, cli: Any
) -> None:
    quiet = collect(*ONE, "--quiet")
    assert quiet.out.strip().splitlines() == [f"Pack: {quiet.pack}"]
    assert quiet.err == ""
    assert cli("verify", str(quiet.pack), "--quiet").out == ""
    debug = collect(*ONE, "--quiet", "--debug")
    assert "botocore" in debug.err and "GetAccountPasswordPolicy" in debug.err


def test_endpoint_url_sends_every_call_there(
    aws: Aws, collect: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    run = collect(*ONE, "--endpoint-url", aws.proxy.url)
    assert run.code in (0, 1)
    assert run.results["run"]["accounts"][0]["account_id"] == "123456789012"


def test_demo_takes_only_region_and_quiet_and_shows_progress(tmp_path: Path) -> None:
    def demo(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "evidence", "demo", "--output", str(tmp_path / "o"), *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            timeout=300,
        )

    shown = demo("--only", "EC2-01", "--region", "eu-west-1")
    assert shown.returncode == 0, shown.stderr
    assert "[1/" in shown.stderr and "eu-west-1/ec2.snapshots" in shown.stderr
    assert "us-east-1" not in shown.stderr
    bad = demo("--only", "NOPE-1", "--quiet")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
