"""S3 access logging, encryption, TLS-only, Block Public Access: pass, fail, error over HTTP."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import Aws, write_controls
from tests.test_checks_logging import trail

BLOCK = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


def bucket(
    aws: Aws,
    name: str,
    *,
    logging_to: str | None = None,
    encrypted: bool = False,
    tls_only: bool = False,
    blocked: bool = False,
    tags: dict[str, str] | None = None,
) -> None:
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=name)
    if logging_to:
        s3.put_bucket_acl(Bucket=logging_to, ACL="log-delivery-write")
        s3.put_bucket_logging(
            Bucket=name,
            BucketLoggingStatus={
                "LoggingEnabled": {"TargetBucket": logging_to, "TargetPrefix": f"{name}/"}
            },
        )
    if encrypted:
        s3.put_bucket_encryption(
            Bucket=name,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
        )
    if tls_only:
        s3.put_bucket_policy(
            Bucket=name,
            Policy=json.dumps(
                {
                    "Statement": [
                        {
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "s3:*",
                            "Resource": [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"],
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        }
                    ]
                }
            ),
        )
    if blocked:
        s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=BLOCK)
    if tags:
        s3.put_bucket_tagging(
            Bucket=name, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]}
        )


def statuses(control: dict[str, Any]) -> dict[str, str]:
    return {i["resource"]: i["status"] for i in control["items"]}


def test_access_logging_pass_and_fail(aws: Aws, collect: Any) -> None:
    bucket(aws, "log-target")
    bucket(aws, "logged", logging_to="log-target")
    control = collect("--only", "LOG-02").control("LOG-02")
    assert statuses(control) == {"log-target": "fail", "logged": "pass"}
    logged = next(i for i in control["items"] if i["resource"] == "logged")
    assert logged["attributes"]["log_target"] == "log-target/logged/"
    assert logged["arn"] == "arn:aws:s3:::logged"


def test_access_logging_tag_scope_keeps_the_cloudtrail_bucket(
    aws: Aws, collect: Any, tmp_path: Path
) -> None:
    bucket(aws, "prod-data", tags={"env": "prod"})
    bucket(aws, "dev-scratch", tags={"env": "dev"})
    trail(aws, "org-trail")  # its bucket, org-trail-bucket, has no tags
    controls = write_controls(
        tmp_path / "controls.yaml",
        """\
  - id: LOG
    title: Access logging on production buckets
    criteria: [CC7.2]
    check: s3.access_logging
    params:
      tags: {env: prod}
""",
    )
    run = collect(controls=controls)
    assert set(statuses(run.control("LOG"))) == {"prod-data", "org-trail-bucket"}
    assert run.results["run"]["calls_per_operation"]["s3:GetBucketTagging"] == 3


def test_encryption_tls_and_block_public_access(aws: Aws, collect: Any) -> None:
    bucket(aws, "good", encrypted=True, tls_only=True, blocked=True)
    bucket(aws, "bad")
    run = collect("--only", "ENC-03", "--only", "TLS-01", "--only", "S3-01")
    assert statuses(run.control("ENC-03")) == {"good": "pass", "bad": "fail"}
    assert statuses(run.control("TLS-01")) == {"good": "pass", "bad": "fail"}
    bad = next(i for i in run.control("TLS-01")["items"] if i["resource"] == "bad")
    assert bad["detail"] == "no bucket policy"
    # Account-level Block Public Access goes through S3 Control, whose endpoint puts the account
    # id in the host name: the emulator cannot be reached that way, so it cannot be collected.
    # Each bucket is still judged on its own settings, and the control is an error, not a pass.
    block = run.control("S3-01")
    assert block["status"] == "error"
    assert block["errors"][0]["operation"] == "GetPublicAccessBlock"
    assert statuses(block) == {"good": "pass", "bad": "error"}


def test_a_denied_per_bucket_call_is_an_error(aws: Aws, collect: Any) -> None:
    bucket(aws, "one")
    aws.proxy.fail("GetBucketEncryption", "AccessDenied", status=403)
    aws.proxy.fail("GetBucketPolicy", "AccessDenied", status=403)
    aws.proxy.fail("ListBuckets", "AccessDenied", status=403, times=0)  # only the settings fail
    run = collect("--only", "ENC-03", "--only", "TLS-01")
    for control_id, operation in (("ENC-03", "GetBucketEncryption"), ("TLS-01", "GetBucketPolicy")):
        control = run.control(control_id)
        assert control["status"] == "error"
        assert control["errors"][0]["operation"] == operation


def test_bucket_list_denied_is_an_error_for_every_bucket_control(aws: Aws, collect: Any) -> None:
    aws.proxy.fail("ListBuckets", "AccessDenied", status=403)
    run = collect("--only", "LOG-02", "--only", "ENC-03")
    for control_id in ("LOG-02", "ENC-03"):
        error = run.control(control_id)["errors"][0]
        assert (error["operation"], error["code"]) == ("ListBuckets", "AccessDenied")
    assert run.results["run"]["calls_per_operation"]["s3:ListBuckets"] == 1  # once for both
