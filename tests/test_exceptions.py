"""Accepted exceptions: matched by resource, glob, ARN, id, account and region; applied, expired,
not yet approved or stale at the pack's as-of date; bad entries are configuration errors; shown in
results.json, the terminal, the workbook's Exceptions and Findings sheets and the PDF."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from evidence.audit.export import export_pack
from evidence.catalog.exceptions import long_lived, one_year_after
from evidence.evaluate.exceptions import apply_exceptions, covers, state_on
from evidence.model import AcceptedRisk, ControlResult, ExceptionState, Item, Status
from tests.conftest import ACCOUNT, Aws, write_controls
from tests.test_checks_ec2_rds import snapshot
from tests.test_checks_iam import console_user

TODAY = datetime.now(UTC).date()


def _day(offset: int) -> str:
    return (TODAY + timedelta(days=offset)).isoformat()


def exception(resource: str, *, approved: int = -30, expires: int = 60, **extra: str) -> str:
    """One `exceptions:` entry, dated relative to today (the as-of date of a fresh pack)."""
    lines = [
        f'      - resource: "{resource}"',
        "        reason: Vendor appliance cannot use MFA; compensating control NET-07",
        "        owner: jane.doe",
        "        approved_by: ciso",
        f"        approved_on: {_day(approved)}",
        f"        expires: {_day(expires)}",
        *(f"        {key}: {value}" for key, value in extra.items()),
    ]
    return "\n".join(lines) + "\n"


def mfa_control(*exceptions: str) -> str:
    body = """\
  - id: IAM-03
    title: Console users have MFA
    criteria: [CC6.1]
    check: iam.user_mfa
"""
    return body + ("    exceptions:\n" + "".join(exceptions) if exceptions else "")


def seed_users(aws: Aws, *without_mfa: str) -> None:
    console_user(aws, "alice", mfa=True)
    for name in without_mfa:
        console_user(aws, name, mfa=False)


def items_by_resource(control: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["resource"]: i for i in control["items"]}


# ---------------------------------------------------------------- matching, pure


def _risk(resource: str, **kwargs: Any) -> AcceptedRisk:
    return AcceptedRisk(resource, "r", "o", "a", date(2026, 1, 1), date(2026, 6, 30), **kwargs)


def _item(resource: str, account: str = ACCOUNT, region: str = "global") -> Item:
    arn = f"arn:aws:iam::{account}:user/{resource}"
    return Item(account, region, resource, arn, Status.FAIL, "no MFA", id="0123456789abcdef")


def test_patterns_match_resource_arn_or_id_scoped_by_account_and_region() -> None:
    assert covers(_risk("legacy-*"), _item("legacy-vpn"))
    assert not covers(_risk("legacy-*"), _item("Legacy-vpn"))  # AWS ids are case sensitive
    assert covers(_risk("legacy-vpn"), _item("legacy-vpn"))
    assert not covers(_risk("legacy"), _item("legacy-vpn"))  # an id is matched whole
    assert covers(_risk("arn:aws:iam::*:user/legacy-*"), _item("legacy-vpn"))
    assert covers(_risk("0123456789abcdef"), _item("anything"))  # the stable item id
    assert covers(_risk("*", account=ACCOUNT), _item("x"))
    assert not covers(_risk("*", account="210987654321"), _item("x"))
    assert covers(_risk("*", region="eu-*"), _item("x", region="eu-west-1"))
    assert not covers(_risk("*", region="eu-*"), _item("x", region="us-east-1"))


def test_an_exception_holds_from_approval_through_its_expiry_day() -> None:
    risk = _risk("x")
    assert state_on(risk, date(2025, 12, 31)) is ExceptionState.NOT_YET_APPROVED
    assert state_on(risk, date(2026, 1, 1)) is ExceptionState.APPLIED
    assert state_on(risk, date(2026, 6, 30)) is ExceptionState.APPLIED
    assert state_on(risk, date(2026, 7, 1)) is ExceptionState.EXPIRED


def test_more_than_a_year_is_a_warning_a_year_is_not() -> None:
    approved = date(2026, 6, 1)
    year = AcceptedRisk("x", "r", "o", "a", approved, date(2027, 6, 1))
    longer = AcceptedRisk("x", "r", "o", "a", approved, date(2027, 6, 2))
    assert long_lived(year) is None
    assert (
        long_lived(longer)
        == "expires 2027-06-02, more than a year after its approval on 2026-06-01"
    )
    assert one_year_after(date(2028, 2, 29)) == date(2029, 2, 28)


def _period_entry(item: Item, status: str = "fail") -> dict[str, Any]:
    """A period item as evaluate/period.py writes it, with one deviation when failing."""
    deviation = {"from": "2026-02-01T00:00:00Z", "until": "2026-02-02T00:00:00Z", "what": "w"}
    return {
        "id": item.id,
        "account": item.account,
        "region": item.region,
        "resource": item.resource,
        "status": status,
        "detail": "d",
        "deviations": [deviation] if status == "fail" else [],
    }


def _period(*entries: dict[str, Any], gaps: tuple[str, ...] = ()) -> dict[str, Any]:
    statuses = {e["status"] for e in entries}
    status = "fail" if "fail" in statuses else "error" if gaps or "error" in statuses else "pass"
    return {"status": status, "items": list(entries), "errors": [], "gaps": list(gaps)}


def test_an_exception_covers_a_deviation_of_the_items_it_matches_only() -> None:
    """The same matching over the period's items: the excepted item's deviation is `exception`;
    a deviation of another item still fails the control; what the events cannot show is still
    an error."""
    item = _item("legacy-vpn")
    result = ControlResult(
        "IAM-03", "t", "", "iam.user_mfa", ("CC6.1",), {}, {}, "", Status.FAIL, (item,), (), (),
        period=_period(_period_entry(item)),
    )  # fmt: skip
    risk = _risk("legacy-*")
    as_of = datetime(2026, 3, 1, tzinfo=UTC)
    excepted = apply_exceptions(result, [risk], as_of)
    assert excepted.status is Status.EXCEPTION
    assert excepted.items[0].status is Status.EXCEPTION
    assert excepted.period is not None
    (entry,) = excepted.period["items"]
    assert (entry["status"], entry["exception"]["state"]) == ("exception", "applied")
    assert [d["status"] for d in excepted.period["deviations"]] == ["exception"]
    assert excepted.exceptions[0].matched == (item.id,)  # once, though matched twice

    other = Item(ACCOUNT, "global", "bob", "", Status.FAIL, "no MFA", id="fedcba9876543210")
    deviated = dataclasses.replace(
        result, period=_period(_period_entry(item), _period_entry(other))
    )
    assert apply_exceptions(deviated, [risk], as_of).status is Status.FAIL
    without_period = dataclasses.replace(result, period=None)
    assert apply_exceptions(without_period, [risk], as_of).status is Status.EXCEPTION
    unknown = dataclasses.replace(result, period=_period(_period_entry(item), gaps=("no log",)))
    assert apply_exceptions(unknown, [risk], as_of).status is Status.ERROR
    expired = apply_exceptions(result, [risk], datetime(2026, 7, 1, tzinfo=UTC))
    assert expired.status is Status.FAIL and expired.period is not None
    assert "exception expired on 2026-06-30" in expired.period["items"][0]["detail"]


# ---------------------------------------------------------------- over a real pack


def test_a_glob_excepts_matching_failures_and_the_rest_still_fail(
    aws: Aws, collect: Any, tmp_path: Path
) -> None:
    seed_users(aws, "legacy-vpn", "legacy-fax", "bob")
    controls = write_controls(
        tmp_path / "controls.yaml", mfa_control(exception("legacy-*", ticket="SEC-1234"))
    )
    run = collect(controls=controls)
    control = run.control("IAM-03")
    users = items_by_resource(control)
    assert (run.code, control["status"]) == (1, "fail")
    assert [i["resource"] for i in control["failing"]] == ["bob"]
    for name in ("legacy-vpn", "legacy-fax"):
        assert users[name]["status"] == "exception"  # never pass
        assert users[name]["exception"]["ticket"] == "SEC-1234"
        assert users[name]["exception"]["state"] == "applied"
        assert users[name]["detail"] == users["bob"]["detail"]  # the finding itself unchanged
    assert users["alice"]["status"] == "pass" and "exception" not in users["alice"]
    (entry,) = control["exceptions"]
    assert entry["state"] == "applied" and entry["days_left"] == 60
    assert sorted(entry["matched_items"]) == sorted(
        users[n]["id"] for n in ("legacy-vpn", "legacy-fax")
    )
    assert run.results["flags"]["items_excepted"] == 2
    assert "1 exception applies (to 2 items)" in run.out


def test_only_excepted_findings_exit_0_and_say_how_many_apply(
    aws: Aws, collect: Any, tmp_path: Path
) -> None:
    seed_users(aws, "legacy-vpn", "bob")
    body = mfa_control(exception("legacy-*"), exception("bob", ticket="SEC-9"))
    run = collect(controls=write_controls(tmp_path / "controls.yaml", body))
    control = run.control("IAM-03")
    assert (run.code, control["status"], control["failing"]) == (0, "exception", [])
    assert run.results["summary"]["exception"] == 1
    assert "1 exception; 2 exceptions apply (to 2 items)" in run.out
    assert "EXCEPTION" in run.out.splitlines()[2]  # the control's row in the table
    readme = (run.pack / "README.txt").read_text()
    assert "2 exceptions apply (to 2 items)" in readme


def test_arn_and_item_id_patterns(aws: Aws, collect: Any, tmp_path: Path) -> None:
    seed_users(aws, "legacy-vpn", "bob")
    first = collect("--only", "IAM-03").control("IAM-03")
    bob_id = items_by_resource(first)["bob"]["id"]
    body = mfa_control(
        exception(f"arn:aws:iam::{ACCOUNT}:user/legacy-*"), exception(bob_id, ticket="SEC-2")
    )
    run = collect(controls=write_controls(tmp_path / "controls.yaml", body))
    users = items_by_resource(run.control("IAM-03"))
    assert users["legacy-vpn"]["status"] == users["bob"]["status"] == "exception"
    assert users["bob"]["exception"]["ticket"] == "SEC-2"


def test_account_and_region_scope(aws: Aws, collect: Any, tmp_path: Path) -> None:
    seed_users(aws, "legacy-vpn")
    east = snapshot(aws, "us-east-1", public=True)
    west = snapshot(aws, "eu-west-1", public=True)
    body = mfa_control(exception("legacy-*", account="'210987654321'")) + (
        """\
  - id: EC2-01
    title: EBS snapshots are private
    criteria: [CC6.1]
    check: ec2.snapshot_public
    exceptions:
"""
        + exception("snap-*", region="eu-west-1", account=ACCOUNT)
    )
    run = collect(
        "--region", "us-east-1", "--region", "eu-west-1",
        controls=write_controls(tmp_path / "controls.yaml", body),
    )  # fmt: skip
    users = items_by_resource(run.control("IAM-03"))
    assert users["legacy-vpn"]["status"] == "fail"  # another account's exception
    assert run.control("IAM-03")["exceptions"][0]["state"] == "stale"
    snapshots = items_by_resource(run.control("EC2-01"))
    assert snapshots[west]["status"] == "exception"
    assert snapshots[east]["status"] == "fail"
    assert run.control("EC2-01")["status"] == "fail"


def test_an_expired_exception_fails_again_with_the_reason(
    aws: Aws, collect: Any, tmp_path: Path
) -> None:
    seed_users(aws, "legacy-vpn")
    body = mfa_control(exception("legacy-*", approved=-400, expires=-1))
    run = collect(controls=write_controls(tmp_path / "controls.yaml", body))
    control = run.control("IAM-03")
    (user,) = control["failing"]
    assert (run.code, control["status"], user["status"]) == (1, "fail", "fail")
    assert user["detail"].endswith(f"; exception expired on {_day(-1)}")
    assert user["exception"]["state"] == "expired"
    (entry,) = control["exceptions"]
    assert (entry["state"], entry["days_left"]) == ("expired", -1)
    assert f"{ACCOUNT}" not in entry["matched_items"] and len(entry["matched_items"]) == 1
    assert "1 expired" in run.out
    assert "EXPIRED: the items it matches fail" in run.out
    (path,) = run.pack.glob("evidence_*.xlsx")
    sheet = load_workbook(path)["IAM-03"]
    header_row = int(sheet.freeze_panes[1:]) - 1
    row = next(r for r in sheet.iter_rows(min_row=header_row + 1) if r[0].value == "legacy-vpn")
    assert row[2].value == "FAIL" and row[-1].value.startswith("EXPIRED, not applied: Vendor")


def test_an_exception_approved_after_the_as_of_date_does_not_apply(
    aws: Aws, collect: Any, tmp_path: Path
) -> None:
    seed_users(aws, "legacy-vpn")
    body = mfa_control(exception("legacy-*", approved=2, expires=30))
    run = collect(controls=write_controls(tmp_path / "controls.yaml", body))
    (user,) = run.control("IAM-03")["failing"]
    assert "after the as-of date" in user["detail"]
    assert run.control("IAM-03")["exceptions"][0]["state"] == "not_yet_approved"


def test_an_exception_matching_nothing_is_stale(aws: Aws, collect: Any, tmp_path: Path) -> None:
    seed_users(aws, "bob")
    body = mfa_control(exception("decommissioned-*"), exception("alice"))
    run = collect(controls=write_controls(tmp_path / "controls.yaml", body))
    states = [e["state"] for e in run.control("IAM-03")["exceptions"]]
    assert states == ["stale", "stale"]  # alice passes: nothing of hers to except
    assert run.code == 1 and run.results["flags"]["exceptions_stale"] == 2
    assert "IAM-03 'decommissioned-*': STALE: matches no failing item" in run.out


def test_expiry_is_judged_at_the_pack_as_of_date_on_re_evaluation(
    aws: Aws, collect: Any, tmp_path: Path
) -> None:
    seed_users(aws, "legacy-vpn")
    body = mfa_control(exception("legacy-*", approved=-5, expires=0))  # last day: today
    pack = collect(controls=write_controls(tmp_path / "controls.yaml", body)).pack
    later = datetime.now(UTC) + timedelta(days=400)
    outcome = export_pack(pack, tmp_path / "exports", later)
    (control,) = outcome.results["controls"]
    assert control["status"] == "exception" and control["exceptions"][0]["days_left"] == 0
    assert outcome.exit_code == 0


def test_long_lived_exception_warns_and_still_applies(
    aws: Aws, collect: Any, cli: Any, tmp_path: Path
) -> None:
    seed_users(aws, "legacy-vpn")
    body = mfa_control(exception("legacy-*", approved=-10, expires=400))
    run = collect(controls=write_controls(tmp_path / "controls.yaml", body))
    assert run.code == 0
    warning = f"warning: exception controls.yaml:9: IAM-03 'legacy-*': expires {_day(400)}"
    assert warning in run.out and "more than a year after its approval" in run.out
    assert run.control("IAM-03")["exceptions"][0]["warning"].startswith("expires")
    listed = cli("controls", "--controls", str(tmp_path / "controls.yaml"))
    assert listed.code == 0
    assert f"controls.yaml:9: control IAM-03 exception 'legacy-*': expires {_day(400)}" in (
        listed.err
    )


# ---------------------------------------------------------------- bad entries


REQUIRED = ("resource", "reason", "owner", "approved_by", "approved_on", "expires")


@pytest.mark.parametrize("field", REQUIRED)
def test_each_missing_field_is_a_configuration_error(
    collect: Any, tmp_path: Path, field: str
) -> None:
    entry = "".join(
        line + "\n"
        for line in exception("legacy-*").splitlines()
        if not line.strip().lstrip("- ").startswith(f"{field}:")
    )
    if field == "resource":  # the list item now starts on the next key
        entry = entry.replace("        reason:", "      - reason:", 1)
    run = collect(controls=write_controls(tmp_path / "controls.yaml", mfa_control(entry)))
    assert run.code == 2
    (line,) = run.err.strip().splitlines()
    assert f"controls.yaml:9: controls[0].exceptions[0].{field}: missing" in line
    assert "Traceback" not in run.err and run.packs == []


@pytest.mark.parametrize(
    ("extra", "line", "field", "words"),
    [
        ("        colour: red\n", 15, "exceptions[0].colour", "unknown key"),
        ("        account: 42\n", 15, "exceptions[0].account", "12-digit AWS account id"),
    ],
)
def test_unknown_and_malformed_fields(
    collect: Any, tmp_path: Path, extra: str, line: int, field: str, words: str
) -> None:
    body = mfa_control(exception("legacy-*") + extra)
    run = collect(controls=write_controls(tmp_path / "controls.yaml", body))
    assert run.code == 2 and run.packs == []
    assert f"controls.yaml:{line}: controls[0].{field}" in run.err and words in run.err


def test_bad_dates_name_their_line(collect: Any, tmp_path: Path) -> None:
    body = mfa_control(exception("legacy-*").replace(f"expires: {_day(60)}", "expires: soon"))
    run = collect(controls=write_controls(tmp_path / "controls.yaml", body))
    assert run.code == 2
    assert "controls.yaml:14: controls[0].exceptions[0].expires: expected a date" in run.err
    body = mfa_control(exception("legacy-*", approved=0, expires=-1))
    run = collect(controls=write_controls(tmp_path / "controls.yaml", body))
    assert run.code == 2
    assert f"expires: {_day(-1)} is before approved_on {_day(0)}" in run.err
    run = collect(controls=write_controls(tmp_path / "controls.yaml", mfa_control("      x\n")))
    assert run.code == 2 and "controls[0].exceptions: expected a list" in run.err


# ---------------------------------------------------------------- the exports


def test_workbook_register_findings_and_the_exception_beside_each_item(
    aws: Aws, collect: Any, tmp_path: Path
) -> None:
    seed_users(aws, "legacy-vpn", "bob")
    body = mfa_control(
        exception("legacy-*", ticket="SEC-1234"), exception("ghost-*", approved=-400, expires=-3)
    )
    run = collect(controls=write_controls(tmp_path / "controls.yaml", body))
    (path,) = run.pack.glob("evidence_*.xlsx")
    book = load_workbook(path)
    assert book.sheetnames[-3:] == ["Findings", "Exceptions", "Sources"]
    register = book["Exceptions"]
    header_row = int(register.freeze_panes[1:]) - 1
    headers = [c.value for c in register[header_row]]
    assert headers[:10] == [
        "Control",
        "Resource",
        "Reason",
        "Owner",
        "Approver",
        "Approved",
        "Expires",
        "Days left",
        "State",
        "Matched items",
    ]
    rows = [[c.value for c in row] for row in register.iter_rows(min_row=header_row + 1)]
    assert [r[0] for r in rows] == ["IAM-03", "IAM-03"]
    applied, stale = rows
    assert applied[1] == "legacy-*" and applied[3] == "jane.doe" and applied[4] == "ciso"
    assert (applied[7], applied[8], applied[9]) == (60, "APPLIED", 1)
    assert applied[11] == "SEC-1234"
    assert (stale[7], stale[8], stale[9]) == (-3, "STALE", 0)
    rules = {str(cf.sqref): cf.rules for cf in register.conditional_formatting}
    state_rules = rules[f"I{header_row + 1}:I{header_row + 2}"]
    colours = {r.formula[0]: r.dxf.fill.fgColor.rgb[-6:] for r in state_rules}
    assert (colours['"APPLIED"'], colours['"STALE"']) == ("DDEBF7", "F8CBAD")
    assert register.cell(header_row + 1, 1).hyperlink.location == "'IAM-03'!A1"

    findings = book["Findings"]
    found = {r[4].value: r for r in findings.iter_rows(min_row=2)}
    assert found["bob"][7].value == "FAIL" and found["bob"][8].value is None
    excepted = found["legacy-vpn"]
    assert excepted[7].value == "EXCEPTION"
    assert (excepted[8].value, excepted[10].value) == ("jane.doe", "SEC-1234")
    assert excepted[9].value.startswith("Accepted risk: SEC-1234: Vendor appliance")

    sheet = book["IAM-03"]
    header_row = int(sheet.freeze_panes[1:]) - 1
    headers = [c.value for c in sheet[header_row]]
    assert headers[-1] == "Exception"
    users = {r[0].value: r for r in sheet.iter_rows(min_row=header_row + 1)}
    assert users["legacy-vpn"][2].value == "EXCEPTION"
    assert users["legacy-vpn"][-1].value.startswith("SEC-1234: Vendor appliance cannot use MFA")
    assert users["bob"][-1].value is None
    labels = [sheet.cell(r, 1).value for r in range(1, header_row)]
    exceptions_text = sheet.cell(labels.index("Accepted exceptions") + 1, 2).value
    assert "legacy-*: applies; 1 matched" in exceptions_text
    assert "ghost-*: STALE" in exceptions_text


def test_pdf_exceptions_section_and_excepted_items(aws: Aws, collect: Any, tmp_path: Path) -> None:
    seed_users(aws, "legacy-vpn", "bob")
    body = mfa_control(exception("legacy-*", ticket="SEC-1234"), exception("ghost-*"))
    run = collect(controls=write_controls(tmp_path / "controls.yaml", body))
    (path,) = run.pack.glob("evidence_*.pdf")
    texts = [page.extract_text() for page in PdfReader(path).pages]
    register = next(t for t in texts if t.splitlines()[0] == "Exceptions (accepted risks)")
    assert "legacy-*" in register and "jane.doe" in register and "APPLIED" in register
    assert "ghost-*" in register and "STALE" in register
    section = "\n".join(t for t in texts if "IAM-03: Console users have MFA" in t)
    assert "Excepted items (1)" in section
    flat = section.replace("\n", " ")
    user_id = items_by_resource(run.control("IAM-03"))["legacy-vpn"]["id"]
    assert user_id in flat.replace(" ", "")
    assert "SEC-1234: Vendor appliance" in flat
    assert "Accepted exceptions (2)" in section
    outline = [str(e.title) for e in PdfReader(path).outline if not isinstance(e, list)]
    assert "Exceptions (accepted risks)" in outline
