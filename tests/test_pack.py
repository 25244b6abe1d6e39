"""The pack: layout, results.json contract, raw evidence, verify, export, exit codes, faults."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from evidence.audit.pack_catalog import pack_catalog
from evidence.collect.clients import AwsSettings, client_config
from evidence.evaluate.engine import evaluate
from evidence.pack.raw import RawStore
from evidence.pack.runinfo import RunInfo
from tests.conftest import ACCOUNT, CORE, REPO, REPO_CONTROLS, Aws
from tests.test_checks_ec2_rds import database, snapshot
from tests.test_checks_iam import COMPLIANT_POLICY, console_user


def small_company(aws: Aws) -> None:
    aws.client("iam").create_account_alias(AccountAlias="test-co")
    aws.client("iam").update_account_password_policy(**COMPLIANT_POLICY)
    console_user(aws, "alice", mfa=True)
    console_user(aws, "bob", mfa=False)
    snapshot(aws, public=True)
    snapshot(aws)
    database(aws, "orders")


def test_pack_layout_and_results_contract(aws: Aws, collect: Any) -> None:
    small_company(aws)
    run = collect(*CORE, "--region", "us-east-1")
    assert run.code == 1
    pack = run.pack
    assert pack.name.startswith(f"{ACCOUNT}_") and pack.name.endswith("Z")
    names = {p.name for p in pack.iterdir()}
    assert {
        "raw",
        "results.json",
        "controls.yaml",
        "README.txt",
        "manifest.json",
        "SHA256SUMS",
    } <= names
    results = run.results
    assert results["schema_version"] == 1
    run_info = results["run"]
    for key in (
        "tool_version",
        "as_of",
        "started",
        "finished",
        "caller_arn",
        "accounts",
        "regions",
        "controls_sha256",
        "calls_per_operation",
    ):
        assert run_info[key], key
    assert run_info["accounts"][0] == {
        "account_id": ACCOUNT,
        "alias": "test-co",
        "partition": "aws",
        "caller_arn": run_info["caller_arn"],
        "regions": ["us-east-1"],
        "access_error": None,
        "regions_error": None,
    }
    assert run_info["regions"] == ["us-east-1"]
    assert run_info["calls_per_operation"]["sts:GetCallerIdentity"] == 1
    assert len(results["controls"]) == 7
    for control in results["controls"]:
        for key in (
            "id",
            "title",
            "check",
            "criteria",
            "status",
            "population",
            "items",
            "failing",
            "errors",
            "evidence",
        ):
            assert key in control, key
        assert control["population"] == len(control["items"])
        assert control["failing"] == [i for i in control["items"] if i["status"] == "fail"]
        for item in control["items"]:
            assert set(item) >= {"account", "region", "resource", "arn", "status", "detail"}
        for evidence in control["evidence"]:
            assert (pack / evidence["path"]).is_file()
    statuses = {c["id"]: c["status"] for c in results["controls"]}
    assert statuses == {
        "IAM-01": "pass",
        "IAM-02": "fail",
        "IAM-03": "fail",
        "IAM-04": "pass",
        "EC2-01": "fail",
        "RDS-01": "pass",
        "RDS-02": "pass",
    }
    assert "IAM-03" in run.out and "FAIL" in run.out and str(pack) in run.out


def test_every_raw_call_records_who_what_when_and_the_response(aws: Aws, collect: Any) -> None:
    small_company(aws)
    run = collect(*CORE, "--region", "us-east-1")
    files = sorted((run.pack / "raw").rglob("*.json"))
    assert len(files) > 5
    seen_operations: set[str] = set()
    for path in files:
        if path.name == "run.json":
            continue
        data = json.loads(path.read_text())
        if path.name == "rds.account_attributes.json":
            # moto lacks rds:DescribeAccountAttributes (HTTP 500): recorded as a failure, and
            # the RDS reconciliation says "not performed" (tests/test_ipe.py).
            assert data["complete"] is False
            seen_operations.update(call["operation"] for call in data["calls"])
            continue
        assert data["account"] == ACCOUNT
        assert data["region"] in ("global", "us-east-1")
        assert data["caller_arn"].startswith("arn:aws:")
        assert data["complete"] is True
        assert data["calls"], path
        for call in data["calls"]:
            assert call["time"].endswith("Z")
            assert call["service"] and call["operation"]
            assert isinstance(call["parameters"], dict)
            assert call["request_id"]
            assert call["response"] is not None or call["error"] is not None
            seen_operations.add(call["operation"])
    # Every call of the run is in raw/, and the run's call counts agree.
    counted = run.results["run"]["calls_per_operation"]
    assert {op.split(":")[1] for op in counted} == seen_operations


def test_only_collects_only_what_the_chosen_controls_need(aws: Aws, collect: Any) -> None:
    run = collect("--only", "IAM-01")
    files = sorted(p.relative_to(run.pack).as_posix() for p in (run.pack / "raw").rglob("*.json"))
    assert files == [
        f"raw/{ACCOUNT}/global/iam.account_aliases.json",
        f"raw/{ACCOUNT}/global/iam.password_policy.json",
        f"raw/{ACCOUNT}/global/sts.caller_identity.json",
        "raw/run.json",
    ]
    assert [c["id"] for c in run.results["controls"]] == ["IAM-01"]
    assert run.results["run"]["regions"] == []


def test_regional_controls_default_to_the_session_region(aws: Aws, collect: Any) -> None:
    run = collect("--only", "EC2-01")
    assert run.results["run"]["regions"] == ["us-east-1"]


def test_no_region_at_all_is_a_usage_error(
    aws: Aws, collect: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    run = collect("--only", "EC2-01")
    assert run.code == 2
    assert "no region" in run.err
    assert run.packs == []


def test_region_all_means_every_enabled_region(aws: Aws, collect: Any) -> None:
    database(aws, "eu-db", region="eu-west-1", multi_az=False)
    run = collect("--only", "RDS-02", "--region", "all")
    regions = run.results["run"]["regions"]
    assert {"us-east-1", "eu-west-1", "ap-southeast-2"} <= set(regions)
    assert (run.pack / f"raw/{ACCOUNT}/global/ec2.enabled_regions.json").is_file()
    assert run.control("RDS-02")["failing"][0]["region"] == "eu-west-1"


# ---------------------------------------------------------------- integrity


def test_pack_verifies_and_names_a_changed_missing_or_added_file(
    aws: Aws, collect: Any, cli: Any
) -> None:
    small_company(aws)
    pack = collect(*CORE, "--region", "us-east-1").pack
    verified = cli("verify", str(pack))
    assert verified.code == 0 and "intact" in verified.out
    sums = subprocess.run(
        ["sha256sum", "-c", "SHA256SUMS"], cwd=pack, capture_output=True, text=True
    )
    assert sums.returncode == 0, sums.stdout + sums.stderr

    target = pack / f"raw/{ACCOUNT}/global/iam.password_policy.json"
    content = bytearray(target.read_bytes())
    content[10] ^= 0x01  # one changed byte
    target.write_bytes(bytes(content))
    changed = cli("verify", str(pack))
    assert changed.code == 1
    assert f"changed: raw/{ACCOUNT}/global/iam.password_policy.json" in changed.out
    assert "SHA256SUMS" not in changed.out  # the seal itself is fine: only the file is named

    (pack / "results.json").unlink()
    (pack / "notes.txt").write_text("added later")
    report = cli("verify", str(pack))
    assert "missing: results.json" in report.out
    assert "added: notes.txt" in report.out


def test_verify_of_a_folder_that_is_not_a_pack_exits_2(cli: Any, tmp_path: Path) -> None:
    run = cli("verify", str(tmp_path))
    assert run.code == 2
    assert "not an evidence pack" in run.err


def test_results_can_be_re_derived_offline_from_raw(aws: Aws, collect: Any) -> None:
    small_company(aws)
    run = collect(*CORE, "--region", "us-east-1")
    pack = run.pack
    run_info = RunInfo.read(pack)
    again = evaluate(pack_catalog(pack, run_info), RawStore(pack), run_info)
    assert [c.to_json() for c in again] == run.results["controls"]


def test_export_writes_a_new_pack_and_leaves_the_original_untouched(
    aws: Aws, collect: Any, cli: Any
) -> None:
    small_company(aws)
    original = collect(*CORE, "--region", "us-east-1").pack
    before = {p: p.read_bytes() for p in original.rglob("*") if p.is_file()}
    exported = cli("export", str(original))
    assert exported.code == 1  # same findings, same exit code
    packs = sorted(p for p in original.parent.iterdir() if p.is_dir())
    assert len(packs) == 2
    new = next(p for p in packs if p != original)
    assert new.name.startswith(original.name + "_export_")
    assert {p: p.read_bytes() for p in original.rglob("*") if p.is_file()} == before
    assert cli("verify", str(new)).code == 0
    new_results = json.loads((new / "results.json").read_text())
    old_results = json.loads((original / "results.json").read_text())
    assert new_results["controls"] == old_results["controls"]
    assert new_results["run"]["as_of"] == old_results["run"]["as_of"]


def test_export_refuses_a_pack_that_does_not_verify(aws: Aws, collect: Any, cli: Any) -> None:
    pack = collect("--only", "IAM-01").pack
    (pack / "results.json").write_text("{}")
    run = cli("export", str(pack))
    assert run.code == 2
    assert "does not verify (changed: results.json" in run.err


# ---------------------------------------------------------------- exit codes and faults


def test_exit_0_when_everything_is_collected_and_passes(aws: Aws, collect: Any) -> None:
    aws.client("iam").update_account_password_policy(**COMPLIANT_POLICY)
    run = collect("--only", "IAM-01", "--only", "RDS-01")
    assert run.code == 0
    assert [c["status"] for c in run.results["controls"]] == ["pass", "pass"]


def test_no_credentials_is_a_clear_message_and_exit_2(
    aws: Aws, collect: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    run = collect("--only", "IAM-01")
    assert run.code == 2
    assert "credentials are missing, expired or invalid" in run.err
    assert "NoCredentialsError" in run.err
    assert "Traceback" not in run.err
    assert not (run.output_dir.exists() and any(run.output_dir.iterdir()))


def test_a_run_that_writes_no_pack_leaves_no_output_folder_behind(
    aws: Aws, collect: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """--output folders the run created are removed again when no pack comes of it; a folder
    that existed before the run is left as it was."""
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    deep = tmp_path / "audits" / "2026Q4" / "packs"
    assert collect("--only", "IAM-01", "--output", str(deep)).code == 2
    assert not (tmp_path / "audits").exists()
    existing = tmp_path / "kept"
    existing.mkdir()
    assert collect("--only", "IAM-01", "--output", str(existing / "new")).code == 2
    assert existing.is_dir() and not any(existing.iterdir())


def test_expired_token_is_a_clear_message_and_exit_2(aws: Aws, collect: Any) -> None:
    aws.proxy.fail(
        "GetCallerIdentity",
        "ExpiredToken",
        status=403,
        message="The security token included in the request is expired",
    )
    run = collect("--only", "IAM-01")
    assert run.code == 2
    assert "ExpiredToken" in run.err and "expired" in run.err
    assert run.packs == []


def test_retries_are_adaptive_and_bounded_by_default() -> None:
    retries = client_config(AwsSettings()).retries  # type: ignore[attr-defined]
    assert retries == {"mode": "adaptive", "total_max_attempts": 10}


def test_throttling_is_ridden_out_by_retries(aws: Aws, collect: Any) -> None:
    aws.client("iam").update_account_password_policy(**COMPLIANT_POLICY)
    aws.proxy.fail("GetAccountPasswordPolicy", "Throttling", times=2, message="Rate exceeded")
    run = collect("--only", "IAM-01", "--max-attempts", "3")
    assert (run.code, run.control("IAM-01")["status"]) == (0, "pass")
    raw = json.loads((run.pack / f"raw/{ACCOUNT}/global/iam.password_policy.json").read_text())
    (call,) = raw["calls"]
    assert call["retry_attempts"] == 2
    assert aws.proxy.injected["GetAccountPasswordPolicy"] == 2


def test_throttling_that_outlives_the_retries_is_an_error(aws: Aws, collect: Any) -> None:
    aws.proxy.fail("GetAccountPasswordPolicy", "Throttling", message="Rate exceeded")
    run = collect("--only", "IAM-01", "--only", "IAM-03", "--max-attempts", "2")
    assert run.code == 3
    error = run.control("IAM-01")["errors"][0]
    assert (error["operation"], error["code"]) == ("GetAccountPasswordPolicy", "Throttling")
    assert run.control("IAM-03")["status"] == "pass"
    assert aws.proxy.injected["GetAccountPasswordPolicy"] == 2  # bounded: exactly max attempts


def _spawn_collect(tmp_path: Path, *args: str) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "evidence",
        "collect",
        "--controls",
        str(REPO_CONTROLS),
        "--output",
        str(tmp_path / "output"),
        "--region",
        "us-east-1",
        *args,
    ]
    return subprocess.Popen(
        command,
        cwd=REPO,
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _visible_folders(output: Path) -> list[Path]:
    if not output.is_dir():
        return []
    return [p for p in output.iterdir() if p.is_dir() and not p.name.startswith(".")]


@pytest.mark.parametrize("delay", [0.4, 0.8, 1.2, 1.6, 2.0, 2.6])
def test_a_run_killed_at_any_moment_leaves_no_finished_looking_pack(
    aws: Aws, cli: Any, tmp_path: Path, delay: float
) -> None:
    for _ in range(40):
        snapshot(aws)
    process = _spawn_collect(tmp_path)
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    process.wait()
    output = tmp_path / "output"
    for folder in _visible_folders(output):
        assert cli("verify", str(folder)).code == 0  # a visible folder is a complete pack
    for partial in output.glob(".partial-*") if output.is_dir() else []:
        assert not (partial / "manifest.json").exists()


def test_a_terminated_run_removes_its_partial_folder(aws: Aws, tmp_path: Path) -> None:
    for _ in range(40):
        snapshot(aws)
    aws.proxy.fail("GetAccountPasswordPolicy", "Throttling")  # keeps the run busy retrying
    process = _spawn_collect(tmp_path, "--max-attempts", "10")
    output = tmp_path / "output"
    deadline = time.time() + 20
    while time.time() < deadline and not list(output.glob(".partial-*/raw")):
        time.sleep(0.05)
    assert list(output.glob(".partial-*")), "the run never started writing"
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 128 + signal.SIGTERM
    # Nothing left: no partial folder, and the --output folder the run created is gone too.
    assert not output.exists() or list(output.iterdir()) == []


# SIGTERM arrives while the workbook exporter is saving (the signal is real, sent by the process
# to itself from inside openpyxl's save).
_TERMINATED_IN_EXPORT = """
import os, signal, sys, time
import openpyxl.workbook.workbook as book
def save(self, *args, **kwargs):
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(10)
book.Workbook.save = save
from evidence.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_termination_during_the_exports_is_not_an_export_failure(
    aws: Aws, tmp_path: Path
) -> None:
    """It once sealed the pack with "export failed: workbook: Terminated"."""
    output = tmp_path / "output"
    command = [sys.executable, "-c", _TERMINATED_IN_EXPORT, "collect", "--controls"]
    command += [str(REPO_CONTROLS), "--output", str(output), "--region", "us-east-1"]
    command += ["--only", "IAM-01"]
    done = subprocess.run(
        command, cwd=REPO, env=dict(os.environ), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 128 + signal.SIGTERM, done.stderr
    assert "export failed" not in done.stderr and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].endswith("interrupted; no pack was written")
    # Nothing left: no partial folder, and the --output folder the run created is gone too.
    assert not output.exists() or list(output.iterdir()) == []


def test_packs_finishing_in_the_same_second_each_name_their_own_folder(
    aws: Aws, tmp_path: Path
) -> None:
    from datetime import UTC, datetime

    from evidence.collect.run import CollectRequest, collect

    moment = datetime(2026, 11, 22, 9, 0, 0, tzinfo=UTC)
    request = CollectRequest(
        controls_path=REPO_CONTROLS, output_dir=tmp_path / "output", only=("IAM-01",)
    )
    first = collect(request, clock=lambda: moment).path
    second = collect(request, clock=lambda: moment).path
    assert (first.name, second.name) == (
        f"{ACCOUNT}_20261122T090000Z",
        f"{ACCOUNT}_20261122T090000Z-2",
    )
    for pack in (first, second):
        assert json.loads((pack / "results.json").read_text())["run"]["pack"] == pack.name
        assert json.loads((pack / "manifest.json").read_text())["pack"] == pack.name
        assert f"cd {pack.name} && sha256sum -c SHA256SUMS" in (pack / "README.txt").read_text()
