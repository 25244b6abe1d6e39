"""Provenance: every call records the endpoint it reached; a pack not collected from AWS says so
on its cover, README.txt, workbook Summary and every PDF page."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import botocore.session
import pytest
from botocore.config import Config
from openpyxl import load_workbook
from pypdf import PdfReader

from evidence.collect.recorder import Recorder
from evidence.exporters.marking import DEMO_NOTICE, Provenance, readme_notices
from evidence.pack.provenance import endpoint_origin, is_aws_endpoint, not_aws
from tests.conftest import ACCOUNT, Aws


def _operation(service: str, operation: str) -> Any:
    return botocore.session.get_session().get_service_model(service).operation_model(operation)


@pytest.mark.parametrize(
    ("url", "service", "operation", "parameters", "region", "aws"),
    [
        ("https://iam.amazonaws.com", "iam", "ListUsers", {}, "us-east-1", True),
        ("https://iam.amazonaws.com", "iam", "ListUsers", {}, "eu-west-1", True),
        ("https://ec2.eu-west-1.amazonaws.com", "ec2", "DescribeVpcs", {}, "eu-west-1", True),
        ("https://ec2-fips.us-east-1.amazonaws.com", "ec2", "DescribeVpcs", {}, "us-east-1", True),
        ("https://ec2.us-east-1.api.aws", "ec2", "DescribeVpcs", {}, "us-east-1", True),
        ("https://sts.us-east-1.amazonaws.com", "sts", "GetCallerIdentity", {}, "us-east-1", True),
        ("https://sts.amazonaws.com", "sts", "GetCallerIdentity", {}, "us-east-1", True),
        ("https://s3.cn-north-1.amazonaws.com.cn", "s3", "ListBuckets", {}, "cn-north-1", True),
        (
            "https://ec2.us-gov-west-1.amazonaws.com",
            "ec2",
            "DescribeVpcs",
            {},
            "us-gov-west-1",
            True,
        ),
        (
            "https://my-bucket.s3.eu-west-1.amazonaws.com",
            "s3",
            "GetBucketPolicy",
            {"Bucket": "my-bucket"},
            "eu-west-1",
            True,
        ),
        (  # path-style addressing (a profile's `addressing_style = path`)
            "https://s3.eu-west-1.amazonaws.com",
            "s3",
            "GetBucketPolicy",
            {"Bucket": "my-bucket"},
            "eu-west-1",
            True,
        ),
        # Customer-served hosts with AWS certificates under amazonaws.com: not AWS's API.
        (
            "https://abc123.execute-api.us-east-1.amazonaws.com",
            "iam",
            "ListUsers",
            {},
            "us-east-1",
            False,
        ),
        (
            "https://my-alb-1.us-east-1.elb.amazonaws.com",
            "ec2",
            "DescribeVpcs",
            {},
            "us-east-1",
            False,
        ),
        (
            "https://abcd1234.lambda-url.us-east-1.on.aws",
            "sts",
            "GetCallerIdentity",
            {},
            "us-east-1",
            False,
        ),
        (
            "https://my-bucket.s3-website-us-east-1.amazonaws.com",
            "s3",
            "ListBuckets",
            {},
            "us-east-1",
            False,
        ),
        ("https://d111111abcdef8.cloudfront.net", "iam", "ListUsers", {}, "us-east-1", False),
        # Another service's or another region's endpoint is not this call's.
        ("https://kms.us-east-1.amazonaws.com", "iam", "ListUsers", {}, "us-east-1", False),
        ("https://ec2.us-west-2.amazonaws.com", "ec2", "DescribeVpcs", {}, "eu-west-1", False),
        (
            "https://other-bucket.s3.eu-west-1.amazonaws.com",
            "s3",
            "GetBucketPolicy",
            {"Bucket": "my-bucket"},
            "eu-west-1",
            False,
        ),
        ("http://iam.amazonaws.com", "iam", "ListUsers", {}, "us-east-1", False),  # no TLS
        ("https://amazonaws.com.attacker.example", "iam", "ListUsers", {}, "us-east-1", False),
        ("http://127.0.0.1:5000", "iam", "ListUsers", {}, "us-east-1", False),
        ("", "iam", "ListUsers", {}, "us-east-1", False),
    ],
)
def test_aws_endpoints_are_those_botocore_resolves_for_the_call(
    url: str, service: str, operation: str, parameters: dict[str, Any], region: str, aws: bool
) -> None:
    assert is_aws_endpoint(url, _operation(service, operation), parameters, region) is aws


def test_the_recorder_judges_each_call_by_its_service_and_region() -> None:
    """No network here: each call fails to connect, and is still recorded with the endpoint it
    was sent to, judged against what botocore resolves for it."""
    recorder = Recorder()
    config = Config(retries={"total_max_attempts": 1}, connect_timeout=1)
    session = botocore.session.get_session()
    spoof = "https://abc123.execute-api.us-east-1.amazonaws.com"
    own: Any = session.create_client("iam", "us-east-1", config=config)
    spoofed: Any = session.create_client("iam", "us-east-1", endpoint_url=spoof, config=config)
    for client in (own, spoofed):
        recorder.attach(client)
        with recorder.recording("iam", ACCOUNT, "global", "arn"), contextlib.suppress(Exception):
            client.list_users()
    assert recorder.endpoints == {"https://iam.amazonaws.com", spoof}
    assert recorder.not_aws_endpoints == {spoof}


def test_endpoint_origin_keeps_scheme_host_and_port_only() -> None:
    assert endpoint_origin("https://IAM.amazonaws.com/?Action=GetUser") == (
        "https://iam.amazonaws.com"
    )
    assert endpoint_origin("http://user:pw@127.0.0.1:5000/bucket/key") == "http://127.0.0.1:5000"
    assert endpoint_origin("not a url") == ""
    assert not_aws(["http://b:1", "", "http://a:1", "http://a:1"]) == (
        "http://a:1",
        "http://b:1",
    )


def test_a_pack_from_aws_is_not_marked() -> None:
    endpoints = ["https://iam.amazonaws.com", "https://ec2.eu-west-1.amazonaws.com"]
    run = {"endpoints": endpoints, "not_aws_endpoints": []}
    assert Provenance.of(run).notices == ()
    assert readme_notices(Provenance.of(run)) == ""
    assert Provenance.of({}).notices == ()  # a pack made before endpoints were recorded
    # Made before each call was judged: nothing shows any endpoint was AWS's own.
    assert Provenance.of({"endpoints": endpoints}).not_aws == tuple(sorted(endpoints))


def test_a_spoofed_endpoint_is_marked_by_what_the_run_judged() -> None:
    spoof = "https://abc123.execute-api.us-east-1.amazonaws.com"
    run = {"endpoints": ["https://iam.amazonaws.com", spoof], "not_aws_endpoints": [spoof]}
    assert Provenance.of(run).notices == (f"Not collected from AWS: {spoof}",)


def test_a_demo_pack_from_aws_would_still_say_demo() -> None:
    run = {"demo": True, "endpoints": ["https://iam.amazonaws.com"], "not_aws_endpoints": []}
    notices = Provenance.of(run).notices
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
    assert meta["not_aws_endpoints"] == [endpoint]
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
