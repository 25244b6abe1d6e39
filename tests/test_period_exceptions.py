"""Accepted exceptions over the audit period, on the moto server with the trail's S3 log files
(the path tests/test_period_s3.py exercises): a deviation inside the period of an item an
unexpired exception matches is `exception` for the period, as a failure at the as-of time is;
a control whose only deviations are excepted is `exception` (never `pass`) and exits 0."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from pypdf import PdfReader

from tests.conftest import Aws, write_controls
from tests.test_exceptions import exception
from tests.test_period_s3 import PERIOD, changes_in_period, seed_account, write_logs

EXCEPTED = {
    # The snapshot made public for two days in the period, private at the as-of time.
    "EBS-01": exception("snap-*", ticket="SEC-77"),
    # A rule open to the world for an hour, gone by the as-of time: an item of the period only.
    "NET-01": exception("sgr-0123456789abcdef0", region="eu-west-1"),
    # The password policy weakened for a day: its exception expired before the as-of date.
    "IAM-01": exception("*", approved=-400, expires=-5),
}


def catalogue(path: Path) -> Path:
    """The period tests' four controls, each with its exceptions (LOG-01 has none)."""
    controls = [
        ("LOG-01", "CloudTrail", "CC7.2", "cloudtrail.enabled"),
        ("IAM-01", "Password policy", "CC6.1", "iam.password_policy"),
        ("NET-01", "Admin ports closed", "CC6.6", "ec2.security_groups_open"),
        ("EBS-01", "Snapshots private", "CC6.1", "ec2.snapshot_public"),
    ]
    body = "".join(
        f"  - id: {id}\n    title: {title}\n    criteria: [{criteria}]\n    check: {check}\n"
        + (f"    exceptions:\n{EXCEPTED[id]}" if id in EXCEPTED else "")
        for id, title, criteria, check in controls
    )
    return write_controls(path, body)


def items(run: Any, control: str) -> dict[str, dict[str, Any]]:
    return {i["resource"]: i for i in run.control(control)["period"]["items"]}


def run_period(collect: Any, controls: Path, *only: str) -> Any:
    args = ["--period", PERIOD, "--events-from", "s3"]
    for control in only:
        args += ["--only", control]
    return collect(*args, "--region", "us-east-1", "--region", "eu-west-1", controls=controls)


def test_excepted_deviations_in_the_period(aws: Aws, collect: Any, tmp_path: Path) -> None:
    snapshot = seed_account(aws)
    write_logs(aws, changes_in_period(snapshot))
    run = run_period(collect, catalogue(tmp_path / "controls.yaml"))
    assert run.code == 1, run.err  # LOG-01's deviation has no exception

    # The snapshot passes at the as-of time; its two public days are excepted, not passed.
    snapshots = run.control("EBS-01")
    assert [i["status"] for i in snapshots["items"]] == ["pass"]
    assert (snapshots["status"], snapshots["period"]["status"]) == ("exception", "exception")
    public = items(run, "EBS-01")[snapshot]
    assert public["status"] == "exception" and public["deviations"]
    assert (public["exception"]["state"], public["exception"]["ticket"]) == ("applied", "SEC-77")
    assert [d["status"] for d in snapshots["period"]["deviations"]] == ["exception"]
    (register,) = snapshots["exceptions"]
    assert (register["state"], register["matched_items"]) == ("applied", [public["id"]])

    # A rule seen only in the period's events, matched by its id and region.
    network = run.control("NET-01")
    assert (network["status"], network["period"]["status"]) == ("exception", "exception")
    assert items(run, "NET-01")["sgr-0123456789abcdef0"]["status"] == "exception"
    assert network["exceptions"][0]["state"] == "applied"

    # Expired: the deviation fails again, saying why; LOG-01 (no exception) fails as before.
    policy = run.control("IAM-01")
    (weakened,) = [i for i in policy["period"]["items"] if i["deviations"]]
    assert (policy["status"], weakened["status"]) == ("fail", "fail")
    assert "exception expired on" in weakened["detail"]
    assert weakened["exception"]["state"] == "expired"
    assert policy["exceptions"][0]["state"] == "expired"
    assert run.control("LOG-01")["status"] == "fail"
    assert run.results["flags"]["items_excepted"] == 2
    assert "2 exceptions apply (to 2 items)" in run.out

    # Shown beside the deviation in the PDF and the workbook's period rows.
    (pdf,) = run.pack.glob("evidence_*.pdf")
    text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(pdf).pages)
    assert f"{snapshot}: " in text and "- EXCEPTION: SEC-77: Vendor appliance" in text
    (xlsx,) = run.pack.glob("evidence_*.xlsx")
    book = load_workbook(xlsx, read_only=True)
    rows = [r for sheet in book.worksheets for r in sheet.iter_rows(values_only=True)]
    header = next(r for r in rows if r and "Status (period)" in r)
    row = next(r for r in rows if r and r[0] == public["id"] and "exception" in r)
    assert str(row[header.index("Accepted exception")]).startswith("SEC-77: Vendor appliance")


def test_a_pack_whose_only_deviations_are_excepted_exits_0(
    aws: Aws, collect: Any, tmp_path: Path
) -> None:
    snapshot = seed_account(aws)
    write_logs(aws, changes_in_period(snapshot))
    run = run_period(collect, catalogue(tmp_path / "controls.yaml"), "EBS-01", "NET-01")
    assert run.code == 0, run.out + run.err
    assert run.results["summary"]["exception"] == 2
    assert run.results["summary"]["pass"] == 0
