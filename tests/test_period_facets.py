"""Period verdicts of the checks read through the shared event table, from the trail's S3 log
files on the moto server: an item whose subject changed in the period passes or fails on what
the events show (facets AWS requires and leaves, the rest carried from the as-of reading), and
is `error` only where the events cannot say."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evidence.demo.trail_logs import record
from tests.conftest import ACCOUNT, Aws, write_controls
from tests.test_checks_iam import console_user
from tests.test_period_s3 import ADMIN, PERIOD, at, iso, seed_account, write_logs

IAM, RDS = "iam.amazonaws.com", "rds.amazonaws.com"
CONTROLS = """\
  - {id: IAM-03, title: Console MFA, criteria: [CC6.1], check: iam.user_mfa}
  - {id: RDS-02, title: Multi-AZ, criteria: [A1.2], check: rds.multi_az}
"""


def items_by_resource(run: Any, control: str) -> dict[str, dict[str, Any]]:
    return {i["resource"]: i for i in run.control(control)["period"]["items"]}


def test_changes_the_events_explain_pass_or_fail_not_error(
    aws: Aws, collect: Any, tmp_path: Path
) -> None:
    seed_account(aws)
    console_user(aws, "new.hire", mfa=True)  # joined in the period
    console_user(aws, "ops.reader", mfa=True)  # password reset in the period
    console_user(aws, "late.mfa", mfa=True)  # MFA enabled in the period: before it, unknown
    aws.client("rds", "eu-west-1").create_db_instance(
        DBInstanceIdentifier="orders",
        DBInstanceClass="db.m6g.large",
        Engine="postgres",
        MasterUsername="app",
        MasterUserPassword="Correct-Horse-9!",
        AllocatedStorage=100,
        MultiAZ=True,
    )

    def iam_call(day: int, hour: int, name: str, user: str) -> dict[str, Any]:
        return record(ADMIN, at(day, hour), "us-east-1", IAM, name, {"userName": user})

    changes = [
        iam_call(2, 9, "CreateUser", "new.hire"),
        iam_call(2, 10, "CreateLoginProfile", "new.hire"),
        iam_call(2, 12, "EnableMFADevice", "new.hire"),
        iam_call(3, 9, "DeleteLoginProfile", "ops.reader"),
        iam_call(3, 9, "CreateLoginProfile", "ops.reader"),
        iam_call(4, 9, "EnableMFADevice", "late.mfa"),
        # A user created and removed inside the period, never with a password.
        iam_call(5, 9, "CreateUser", "contractor"),
        iam_call(5, 11, "DeleteUser", "contractor"),
        # A change of backups: it does not touch Multi-AZ.
        record(
            ADMIN,
            at(6, 9),
            "eu-west-1",
            RDS,
            "ModifyDBInstance",
            {"dBInstanceIdentifier": "orders", "backupRetentionPeriod": 14},
        ),
    ]
    write_logs(aws, changes)
    controls = write_controls(tmp_path / "controls.yaml", CONTROLS)
    run = collect(
        "--period",
        PERIOD,
        "--events-from",
        "s3",
        "--region",
        "us-east-1",
        "--region",
        "eu-west-1",
        controls=controls,
    )
    assert run.code in (1, 3), run.err

    users = items_by_resource(run, "IAM-03")
    # Created without a password, given one at 10:00, MFA at 12:00: two hours without MFA.
    hire = users["new.hire"]
    assert hire["status"] == "fail", hire
    (gap,) = hire["deviations"]
    assert (gap["from"], gap["until"]) == (iso(at(2, 10)), iso(at(2, 12)))
    assert gap["started_by"]["event_name"] == "CreateLoginProfile"
    assert gap["ended_by"]["event_name"] == "EnableMFADevice"
    # Password deleted and recreated: MFA untouched all along (the as-of reading), so it passes.
    assert users["ops.reader"]["status"] == "pass", users["ops.reader"]
    assert users["contractor"]["status"] == "pass", users["contractor"]
    # MFA enabled mid-period with a password already set: before it, the events cannot say.
    late = users["late.mfa"]
    assert late["status"] == "error"
    assert late["unknown"] == [{"from": iso(at(0)), "until": iso(at(4, 9))}]

    (orders,) = run.control("RDS-02")["period"]["items"]
    assert orders["resource"] == "orders"
    assert orders["status"] == "pass", orders
    assert run.control("RDS-02")["period"]["status"] == "pass"
    (change,) = run.control("RDS-02")["period"]["changes"]
    assert (change["account"], change["event_name"]) == (ACCOUNT, "ModifyDBInstance")
