"""Provenance: every call records the endpoint it reached; a pack not collected from AWS says so
on its cover, README.txt, workbook Summary and every PDF page."""

from __future__ import annotations

import json
from typing import Any

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from evidence.exporters.marking import DEMO_NOTICE, Provenance, readme_notices
from evidence.pack.provenance import endpoint_origin, is_aws_endpoint, not_aws
from tests.conftest import ACCOUNT, Aws


@pytest.mark.parametrize(
    ("url", "aws"),
    [
        ("https://iam.amazonaws.com", True),
        ("https://sts.us-east-1.amazonaws.com", True),
        ("https://my-bucket.s3.eu-west-1.amazonaws.com", True),
        ("https://s3.cn-north-1.amazonaws.com.cn", True),
        ("https://kms.us-east-1.api.aws", True),
        ("https://ec2.us-gov-west-1.amazonaws.com", True),
        ("https://vpce-0a1b.kms.us-east-1.vpce.amazonaws.com", True),
        ("http://iam.amazonaws.com", False),  # no TLS: nothing shows the answer came from AWS
        ("https://amazonaws.com.attacker.example", False),
        ("https://evilamazonaws.com", False),
        ("http://127.0.0.1:5000", False),
        ("https://localhost.localstack.cloud:4566", False),
        ("", False),
    ],
)
def test_aws_endpoints_are_https_under_a_partition_suffix(url: str, aws: bool) -> None:
    assert is_aws_endpoint(url) is aws


def test_endpoint_origin_keeps_scheme_host_and_port_only() -> None:
    assert endpoint_origin("https://IAM.amazonaws.com/?Action=GetUser") == (
        "https://iam.amazonaws.com"
    )
    assert endpoint_origin("http://user:pw@127.0.0.1:5000/bucket/key") == "http://127.0.0.1:5000"
    assert endpoint_origin("not a url") == ""
    assert not_aws(["https://iam.amazonaws.com", "http://b:1", "http://a:1", "http://a:1"]) == (
        "http://a:1",
        "http://b:1",
    )


def test_a_pack_from_aws_is_not_marked() -> None:
    run = {"endpoints": ["https://iam.amazonaws.com", "https://ec2.eu-west-1.amazonaws.com"]}
    assert Provenance.of(run).notices == ()
    assert readme_notices(Provenance.of(run)) == ""
    assert Provenance.of({}).notices == ()  # a pack made before endpoints were recorded


def test_a_demo_pack_from_aws_would_still_say_demo() -> None:
    notices = Provenance.of({"demo": True, "endpoints": ["https://iam.amazonaws.com"]}).notices
    assert notices == (DEMO_NOTICE,)


def test_every_call_records_its_endpoint_and_a_custom_one_is_said_everywhere(
    aws: Aws, collect: Any
) -> None:
    run = collect("--only", "IAM-01", "--only", "EC2-01", "--region", "us-east-1")
    pack, endpoint = run.pack, aws.proxy.url
    notice = f"Not collected from AWS: {endpoint}"
    for path in (pack / "raw").rglob("*.json"):
        if path.name != "run.json":
            for call in json.loads(path.read_text())["calls"]:
                assert call["endpoint"] == endpoint, path
    meta = run.results["run"]
    assert (meta["endpoints"], meta["demo"]) == ([endpoint], False)
    assert json.loads((pack / "raw/run.json").read_text())["endpoints"] == [endpoint]

    assert notice in (pack / "README.txt").read_text()
    (workbook,) = pack.glob("evidence_*.xlsx")
    # The label/value block is in columns A:B (the status counts sit beside it).
    summary = [
        list(row[:2])
        for row in load_workbook(workbook, read_only=True)["Summary"].iter_rows(values_only=True)
    ]
    assert ["PROVENANCE", notice] in summary[:3]
    (pdf,) = pack.glob("evidence_*.pdf")
    pages = [page.extract_text() for page in PdfReader(pdf).pages]
    assert len(pages) > 3
    for number, text in enumerate(pages, 1):
        assert notice in text, f"page {number}"
    assert " ".join(pages[0].split()).count(notice) == 2  # the page notice and the cover's box
    assert "DEMO" not in "".join(pages)
    assert notice in run.out  # and on the terminal


def test_a_call_that_never_got_an_answer_still_names_its_endpoint(aws: Aws, collect: Any) -> None:
    aws.proxy.fail("GetAccountPasswordPolicy", "InternalError", status=500)
    run = collect("--only", "IAM-01", "--max-attempts", "1")
    raw = json.loads((run.pack / f"raw/{ACCOUNT}/global/iam.password_policy.json").read_text())
    (call,) = raw["calls"]
    assert call["error"] is not None
    assert call["endpoint"] == aws.proxy.url
