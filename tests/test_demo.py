"""The demo, end to end in its own process: a verified pack of the whole catalogue, and the
least-privilege policy covering every call it made."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from evidence.catalog.loader import load_catalog
from evidence.catalog.permissions import iam_action, required_actions
from tests.conftest import REPO_CONTROLS


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return subprocess.run(
        [sys.executable, "-m", "evidence", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    tmp = tmp_path_factory.mktemp("demo")
    result = _run(
        "demo", "--output", str(tmp / "output"), "--controls", str(REPO_CONTROLS), cwd=tmp
    )
    assert result.returncode == 0, result.stderr
    (pack,) = [p for p in (tmp / "output").iterdir() if not p.name.startswith(".")]
    return result, pack


def test_demo_writes_a_verified_pack_with_findings(demo: Any) -> None:
    result, pack = demo
    assert f"Pack: {pack}" in result.stdout
    assert "Traceback" not in result.stderr
    assert _run("verify", str(pack), cwd=pack.parent).returncode == 0
    results = json.loads((pack / "results.json").read_text())
    controls = {c["id"]: c for c in results["controls"]}
    assert {c["status"] for c in controls.values()} == {
        "pass",
        "fail",
        "error",
        "manual",
        "exception",
    }
    assert results["run"]["regions"] == ["us-east-1", "eu-west-1"]
    assert controls["IAM-03"]["population"] >= 15 and controls["EC2-01"]["population"] >= 10
    # Every API check shows a passing resource (root access keys: one item, and it is clean).
    for control in controls.values():
        if control["check"] not in ("manual", "support.service_limits", "iam.root_access_keys"):
            assert "pass" in {i["status"] for i in control["items"]}, control["id"]
    # Every item has a stable id, unique within its control.
    for control in controls.values():
        ids = [i["id"] for i in control["items"]]
        assert all(ids) and len(set(ids)) == len(ids), control["id"]
    # ...and most show a failing one too: the demo is there to show findings.
    failing = [c for c in controls.values() if c["failing"]]
    assert len(failing) >= 15
    # The only errors are the two operations the emulator cannot serve, named as such.
    errors = {
        c["id"]: {(e["operation"], e["code"]) for e in c["errors"]}
        for c in controls.values()
        if c["errors"]
    }
    # Each Trusted Advisor check is read on its own: every one is an error item of its own.
    assert errors == {
        "S3-01": {("GetPublicAccessBlock", "EndpointConnectionError")},
        "CAP-01": {("DescribeTrustedAdvisorCheckResult", "500")},
    }
    assert sorted(p.name for p in pack.glob("evidence_*")) == [
        f"evidence_{pack.name}.pdf",
        f"evidence_{pack.name}.xlsx",
    ]


def test_permissions_cover_every_call_the_demo_made(demo: Any, tmp_path: Path) -> None:
    _, pack = demo
    printed = _run("permissions", "--controls", str(REPO_CONTROLS), cwd=tmp_path)
    assert printed.returncode == 0, printed.stderr
    policy = json.loads(printed.stdout)
    (statement,) = policy["Statement"]
    allowed = set(statement["Action"])
    assert statement["Effect"] == "Allow" and statement["Resource"] == "*"
    assert all(not a.endswith("*") and ":" in a for a in allowed)  # read-only, named actions
    made: set[tuple[str, str]] = set()
    for raw in (pack / "raw").rglob("*.json"):
        if raw.name != "run.json":
            made.update(
                (c["service"], c["operation"]) for c in json.loads(raw.read_text())["calls"]
            )
    missing = sorted(iam_action(s, o) for s, o in made if iam_action(s, o) not in allowed)
    assert missing == []
    assert len(made) >= 35


def test_permissions_for_selected_controls_only(tmp_path: Path) -> None:
    catalog = load_catalog(REPO_CONTROLS).select(["IAM-01"])
    # With what a period pack reads too: LookupEvents, or the trail's S3 log files.
    assert required_actions(catalog) == [
        "cloudtrail:DescribeTrails",
        "cloudtrail:GetEventSelectors",
        "cloudtrail:GetTrailStatus",
        "cloudtrail:LookupEvents",
        "ec2:DescribeRegions",
        "iam:GetAccountPasswordPolicy",
        "iam:ListAccountAliases",
        "s3:GetObject",
        "s3:ListBucket",
        "sts:GetCallerIdentity",
    ]
    printed = _run(
        "permissions", "--controls", str(REPO_CONTROLS), "--only", "LOG-02", cwd=tmp_path
    )
    actions = json.loads(printed.stdout)["Statement"][0]["Action"]
    assert {"s3:ListAllMyBuckets", "s3:GetBucketLogging"} <= set(actions)
    assert "s3:GetBucketTagging" not in actions  # only needed when scoping buckets by tag


def test_demo_pack_is_marked_demo_everywhere(demo: Any, tmp_path: Path) -> None:
    """Nobody may mistake the demo for evidence: run.demo, the alias, README.txt, the workbook's
    Summary, the PDF cover, and a watermark plus a notice on every PDF page."""
    from openpyxl import load_workbook
    from PIL import Image
    from pypdf import PdfReader

    from evidence.exporters.marking import DEMO_NOTICE

    result, pack = demo
    run = json.loads((pack / "results.json").read_text())["run"]
    assert run["demo"] is True
    assert "demo" in run["accounts"][0]["alias"]
    # The emulator (and the S3 Control host it makes up, which does not resolve).
    assert all("127.0.0.1:" in e for e in run["endpoints"])
    readme = (pack / "README.txt").read_text()
    head = readme.split("Organisation:")[0]
    assert DEMO_NOTICE in head
    assert f"Not collected from AWS: {', '.join(run['endpoints'])}" in head
    assert DEMO_NOTICE in result.stdout
    (workbook,) = pack.glob("evidence_*.xlsx")
    summary = load_workbook(workbook, read_only=True)["Summary"]
    rows = [list(row[:2]) for row in summary.iter_rows(values_only=True)]  # the A:B block
    assert rows[0] == ["DEMO PACK", DEMO_NOTICE]
    (pdf,) = pack.glob("evidence_*.pdf")
    pages = PdfReader(pdf).pages
    for number, page in enumerate(pages, 1):
        text = page.extract_text()
        assert DEMO_NOTICE in text and "NOT EVIDENCE" in text, f"page {number}"
    cover = " ".join(pages[0].extract_text().split())
    assert cover.count(DEMO_NOTICE) == 2  # the page notice and the cover's box
    # The watermark is drawn, not only present as text: the middle of a page turns pink.
    if shutil.which("pdftoppm") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("pdftoppm is missing: .ci/run installs poppler-utils")
        return
    subprocess.run(
        ["pdftoppm", "-r", "30", "-png", "-f", "2", "-l", "2", str(pdf), str(tmp_path / "p")],
        check=True,
    )
    (png,) = tmp_path.glob("p-*.png")
    image = Image.open(png).convert("RGB")
    width, height = image.size
    middle = image.crop((width // 4, height // 3, 3 * width // 4, 2 * height // 3))
    data = middle.tobytes()
    pixels = zip(data[0::3], data[1::3], data[2::3], strict=True)
    pink = sum(1 for r, g, b in pixels if r > 230 and r - g > 15 and r - b > 10)
    assert pink > middle.size[0] * middle.size[1] // 20


def test_demo_shows_the_issue_9_findings(demo: Any) -> None:
    _, pack = demo
    controls = {c["id"]: c for c in json.loads((pack / "results.json").read_text())["controls"]}
    failing = {
        (control_id, i["resource"]): i["detail"]
        for control_id, control in controls.items()
        for i in control["failing"]
    }
    narrowed = failing[("TLS-01", "example-corp-data-exports")]
    assert "narrowed by StringNotEquals aws:sourcevpce" in narrowed
    assert "rule 1 (path-pattern /legacy/*) does forward" in failing[("TLS-02", "public-web:80")]
    assert "classic load balancer" in failing[("TLS-02", "legacy-api:80")]
    assert failing[("CHG-01", "default")].startswith("last recording failed: AccessDenied")
    assert any("through prefix list" in d for (c, _), d in failing.items() if c == "NET-01")
    assert controls["LOG-01"]["status"] == "pass" and controls["LOG-01"]["quantifier"] == "some"


def test_demo_shows_an_accepted_exception_and_an_attachment(demo: Any) -> None:
    """The demo's own additions (demo/catalog.py), never the shipped catalogue: the analytics
    database's single AZ accepted (RDS-02 is `exception` at the as-of time and over the period),
    shown in the terminal, the Exceptions sheet and the PDF register; the quarter's access
    requests attached to MAN-01, copied, hashed and listed."""
    from openpyxl import load_workbook
    from pypdf import PdfReader

    result, pack = demo
    assert "exceptions:" not in REPO_CONTROLS.read_text()
    document = json.loads((pack / "results.json").read_text())
    controls = {c["id"]: c for c in document["controls"]}
    rds = controls["RDS-02"]
    assert (rds["status"], rds["period"]["status"]) == ("exception", "exception")
    (excepted,) = [i for i in rds["items"] if i["status"] == "exception"]
    assert excepted["resource"] == "analytics"
    assert excepted["exception"]["ticket"] == "RISK-142"
    (register,) = rds["exceptions"]
    assert register["state"] == "applied" and register["days_left"] > 100
    assert "1 exception applies (to 1 item)" in result.stdout
    assert "RISK-142" in (pack / "controls.yaml").read_text()  # the catalogue it was judged by

    manual = controls["MAN-01"]
    assert (manual["status"], manual["evidence_missing"]) == ("manual", False)
    (attached,) = manual["evidence"]
    assert attached["path"] == "attachments/MAN-01/access-requests.csv"
    content = (pack / attached["path"]).read_text()
    assert content.startswith("request,user,role,requested_on,approved_by")
    sums = (pack / "SHA256SUMS").read_text()
    assert f"{attached['sha256']}  {attached['path']}" in sums

    (workbook,) = pack.glob("evidence_*.xlsx")
    sheet = load_workbook(workbook, read_only=True)["Exceptions"]
    rows = [r for r in sheet.iter_rows(values_only=True) if r and r[0] == "RDS-02"]
    assert len(rows) == 1 and "analytics" in rows[0] and "APPLIED" in rows[0]
    (pdf,) = pack.glob("evidence_*.pdf")
    text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(pdf).pages)
    assert "Exceptions (accepted risks)" in text and "RISK-142" in text
    assert "Attached evidence (1)" in text and attached["sha256"] in text  # the path wraps


def test_a_second_demo_run_links_to_the_first_and_differs_only_by_time(
    demo: Any, tmp_path: Path
) -> None:
    """The emulator's ids are seeded (demo/server.py), so the same demo resources keep their
    stable item ids: `diff` of two runs shows no new failing item, only the automated RDS
    snapshots AWS names by time; the second pack records the first in its hash chain."""
    _, first = demo
    output = tmp_path / "output"
    shutil.copytree(first.parent, output)
    again = _run("demo", "--output", str(output), "--controls", str(REPO_CONTROLS), cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    (second,) = [p for p in output.iterdir() if p.name not in (first.name,) and p.is_dir()]
    run = json.loads((second / "results.json").read_text())["run"]
    assert run["previous_pack"]["name"] == first.name
    compared = _run("diff", str(output / first.name), str(second), "--json", cwd=tmp_path)
    assert compared.returncode == 0, compared.stdout + compared.stderr
    controls = json.loads(compared.stdout)["controls"]
    assert all(c["old_status"] == c["new_status"] for c in controls)
    changes = [(c["id"], x["change"]) for c in controls for x in c["changes"]]
    # rds:<db>-<YYYY-MM-DD-HH-MM>: a new automated snapshot each run (none within one minute)
    assert {change for change in changes if change[0] != "RDS-01"} == set()
    assert {kind for _, kind in changes} <= {"added", "removed"}


def test_demo_additions_only_where_the_catalogue_can_take_them(tmp_path: Path) -> None:
    """Added at the end of a block-style control's entry; a control that already has the key,
    is written in flow style, or is absent is left as it is; the result loads."""
    from datetime import date

    from evidence.demo.catalog import write_demo_catalog

    source = tmp_path / "mine.yaml"
    source.write_text(
        "organisation: {name: Mine}\n"
        "controls:\n"
        "  - id: MAN-01\n"
        "    title: Access approved\n"
        "    criteria: [CC6.2]\n"
        "    check: manual\n"
        "    attachments: [ours.txt]\n"
        "\n"
        "  # the next one\n"
        "  - id: RDS-02\n"
        "    title: Multi-AZ\n"
        "    criteria: [A1.2]\n"
        "    check: rds.multi_az\n"
        "\n"
        "  - {id: IAM-03, title: MFA, criteria: [CC6.1], check: iam.user_mfa}\n"
    )
    (tmp_path / "ours.txt").write_text("ours\n")
    folder = tmp_path / "demo"
    folder.mkdir()
    catalog = load_catalog(write_demo_catalog(source, folder, date(2026, 12, 1)))
    controls = {c.id: c for c in catalog.controls}
    assert [written for written, _ in controls["MAN-01"].attachments] == ["ours.txt"]
    (risk,) = controls["RDS-02"].exceptions
    assert (risk.resource, risk.approved_on, risk.expires) == (
        "analytics",
        date(2026, 11, 1),
        date(2027, 4, 30),
    )
    assert controls["IAM-03"].exceptions == ()
    text = (folder / "controls.yaml").read_text()
    assert text.index("# the next one") < text.index("exceptions:") < text.index("- {id: IAM-03")
    assert (folder / "ours.txt").read_text() == "ours\n"  # the catalogue's own attachment
