"""Issue 9 over the moto server: configuration that is on but not working (kind 4), populations
that left resources out (kind 5), TLS-only policies read as IAM reads them (kind 2), and one
resource's failure isolated to that resource in every per-resource source (kind 3)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from evidence.checks import CHECKS, ScopeContext
from evidence.sources.iam import CREDENTIAL_REPORT, CredentialReport
from tests.conftest import ACCOUNT, Aws, write_controls
from tests.test_checks_ec2_rds import snapshot
from tests.test_checks_infrastructure import FOUNDATIONAL, group
from tests.test_checks_s3 import bucket, statuses

# ---------------------------------------------------------------- kind 2: TLS-only, over HTTP


def policy(aws: Aws, name: str, condition: dict[str, Any]) -> None:
    aws.client("s3").create_bucket(Bucket=name)
    aws.client("s3").put_bucket_policy(
        Bucket=name,
        Policy=json.dumps(
            {
                "Statement": [
                    {
                        "Sid": "DenyPlainHttp",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"],
                        "Condition": condition,
                    }
                ]
            }
        ),
    )


def test_issue_examples_tls_policies(aws: Aws, collect: Any) -> None:
    policy(aws, "lower-case-key", {"Bool": {"aws:securetransport": "false"}})
    policy(
        aws,
        "narrowed",
        {
            "Bool": {"aws:SecureTransport": "false"},
            "StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"},
        },
    )
    policy(aws, "json-false", {"Bool": {"aws:SecureTransport": False}})
    control = collect("--only", "TLS-01").control("TLS-01")
    found = {i["resource"]: i for i in control["items"]}
    assert found["lower-case-key"]["status"] == "pass"
    assert found["json-false"]["status"] == "pass"
    assert found["narrowed"]["status"] == "fail"
    assert "narrowed by StringNotEquals aws:sourcevpce vpce-1a2b3c4d" in found["narrowed"]["detail"]


# ---------------------------------------------------------------- kind 4: on but not working


def recorder(aws: Aws, region: str, *, channel: bool = True, start: bool = True) -> None:
    config = aws.client("config", region)
    config.put_configuration_recorder(
        ConfigurationRecorder={
            "name": "default",
            "roleARN": f"arn:aws:iam::{ACCOUNT}:role/config",
            "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": True},
        }
    )
    if channel:
        aws.client("s3").create_bucket(Bucket=f"config-{region}")
        config.put_delivery_channel(
            DeliveryChannel={"name": "default", "s3BucketName": f"config-{region}"}
        )
    if start:
        config.start_configuration_recorder(ConfigurationRecorderName="default")


def test_issue_example_recording_but_failing_recorder_fails_naming_the_code(
    aws: Aws, collect: Any
) -> None:
    recorder(aws, "us-east-1")
    recorder(aws, "eu-west-1")
    status = aws.backend("config", "eu-west-1").recorders["default"].status
    status.last_status = "FAILURE"  # moto cannot fail a recording: set it in its backend
    status.last_error_code = "AccessDeniedException"
    status.last_error_message = "role cannot write to the bucket"
    control = collect("--only", "CHG-01", "--region", "us-east-1", "--region", "eu-west-1").control(
        "CHG-01"
    )
    by_region = {i["region"]: i for i in control["items"]}
    assert by_region["us-east-1"]["status"] == "pass"
    failing = by_region["eu-west-1"]
    assert failing["status"] == "fail"
    assert failing["detail"] == (
        "last recording failed: AccessDeniedException (role cannot write to the bucket)"
    )
    assert failing["attributes"]["last_error_code"] == "AccessDeniedException"


def test_a_recorder_without_a_delivery_channel_fails(aws: Aws, collect: Any) -> None:
    recorder(aws, "us-east-1", channel=False, start=False)
    item = collect("--only", "CHG-01", "--region", "us-east-1").control("CHG-01")["items"][0]
    assert item["status"] == "fail"
    assert "no delivery channel" in item["detail"]


GUARDDUTY = """\
  - id: THR
    title: GuardDuty
    criteria: [CC7.2]
    check: guardduty.enabled
    params:
      required_features: {features}
"""


def test_guardduty_required_features_from_get_detector(
    aws: Aws, collect: Any, tmp_path: Path
) -> None:
    aws.client("guardduty", "us-east-1").create_detector(Enable=True, Features=FOUNDATIONAL)
    aws.client("guardduty", "eu-west-1").create_detector(Enable=True)  # reports none enabled
    regions = ("--region", "us-east-1", "--region", "eu-west-1")
    control = collect("--only", "THR-01", *regions).control("THR-01")
    by_region = {i["region"]: i for i in control["items"]}
    assert by_region["us-east-1"]["status"] == "pass"
    assert by_region["eu-west-1"]["status"] == "fail"
    assert "CLOUD_TRAIL disabled" in by_region["eu-west-1"]["detail"]
    assert by_region["us-east-1"]["attributes"]["features"]["DNS_LOGS"] == "ENABLED"
    s3 = write_controls(tmp_path / "c.yaml", GUARDDUTY.format(features="[S3_DATA_EVENTS]"))
    strict = collect("--region", "us-east-1", controls=s3).control("THR")
    assert strict["items"][0]["detail"] == (
        "required features not enabled: S3_DATA_EVENTS disabled"
    )


def test_unknown_guardduty_feature_is_a_configuration_error(collect: Any, tmp_path: Path) -> None:
    run = collect(controls=write_controls(tmp_path / "c.yaml", GUARDDUTY.format(features="[DNS]")))
    assert run.code == 2
    assert "unknown GuardDuty feature DNS" in run.err


def _report_context(generated: datetime, as_of: datetime) -> ScopeContext[Any]:
    class Lookup:
        def get(self, source: Any, account: str, region: str) -> Any:
            assert source is CREDENTIAL_REPORT
            return CredentialReport(generated.isoformat().replace("+00:00", "Z"), ())

    check = CHECKS["iam.user_mfa"]
    return ScopeContext(check.name, ACCOUNT, "global", "aws", check.params(), as_of, Lookup())


def test_credential_report_age_is_stated_when_older_than_four_hours() -> None:
    from evidence.checks.iam import report_age, report_attributes

    as_of = datetime(2026, 3, 1, 12, tzinfo=UTC)
    fresh = _report_context(as_of - timedelta(hours=3, minutes=59), as_of)
    stale = _report_context(as_of - timedelta(hours=5), as_of)
    assert report_age(fresh) == ""
    assert report_attributes(fresh)["credential_report_age_hours"] == 4.0
    assert report_age(stale) == (
        " [credential report generated 2026-03-01T07:00:00Z, 5 h before the as-of time:"
        " changes since then are not in it]"
    )


def test_every_credential_report_item_states_the_report_age(aws: Aws, collect: Any) -> None:
    aws.client("iam").create_user(UserName="alice")
    aws.client("iam").create_login_profile(UserName="alice", Password="Password-123!")
    item = collect("--only", "IAM-03").control("IAM-03")["items"][0]
    # moto's report always says it was generated in 2015: far older than 4 hours.
    assert "[credential report generated 2015-02-02T20:02:02Z" in item["detail"]
    assert item["attributes"]["credential_report_generated"] == "2015-02-02T20:02:02Z"


# ---------------------------------------------------------------- kind 5: whole populations


def load_balancer(aws: Aws) -> tuple[Any, str, list[dict[str, str]]]:
    ec2, elb = aws.client("ec2"), aws.client("elbv2")
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:2]
    target = elb.create_target_group(Name="tg", Protocol="HTTP", Port=80, VpcId=vpc)
    forward = [{"Type": "forward", "TargetGroupArn": target["TargetGroups"][0]["TargetGroupArn"]}]
    arn = elb.create_load_balancer(Name="web", Subnets=subnets)["LoadBalancers"][0][
        "LoadBalancerArn"
    ]
    return elb, arn, forward


REDIRECT = [{"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "StatusCode": "HTTP_301"}}]


def test_issue_example_listener_rule_forwarding_plain_http_fails(aws: Aws, collect: Any) -> None:
    elb, arn, forward = load_balancer(aws)
    legacy = elb.create_listener(
        LoadBalancerArn=arn, Protocol="HTTP", Port=80, DefaultActions=REDIRECT
    )
    elb.create_rule(
        ListenerArn=legacy["Listeners"][0]["ListenerArn"],
        Priority=1,
        Conditions=[{"Field": "path-pattern", "Values": ["/legacy/*"]}],
        Actions=forward,
    )
    clean = elb.create_listener(
        LoadBalancerArn=arn, Protocol="HTTP", Port=8080, DefaultActions=REDIRECT
    )
    elb.create_rule(
        ListenerArn=clean["Listeners"][0]["ListenerArn"],
        Priority=5,
        Conditions=[{"Field": "host-header", "Values": ["old.example.com"]}],
        Actions=REDIRECT,
    )
    control = collect("--only", "TLS-02", "--region", "us-east-1").control("TLS-02")
    found = {i["resource"]: i for i in control["items"]}
    assert found["web:80"]["status"] == "fail"
    assert found["web:80"]["detail"] == (
        "HTTP whose default redirects to HTTPS, but rule 1 (path-pattern /legacy/*) does forward"
    )
    assert found["web:8080"]["status"] == "pass"


def test_issue_example_classic_load_balancer_is_in_the_population(aws: Aws, collect: Any) -> None:
    aws.client("elb").create_load_balancer(
        LoadBalancerName="legacy-web",
        Listeners=[{"Protocol": "HTTP", "LoadBalancerPort": 80, "InstancePort": 80}],
        AvailabilityZones=["us-east-1a"],
    )
    control = collect("--only", "TLS-02", "--region", "us-east-1").control("TLS-02")
    assert control["status"] == "fail"
    (item,) = control["items"]
    assert item["resource"] == "legacy-web:80"
    assert item["detail"] == "HTTP on port 80 without TLS (classic load balancer)"


def test_a_load_balancer_whose_listeners_cannot_be_read_is_an_error_item(
    aws: Aws, collect: Any
) -> None:
    elb, arn, _ = load_balancer(aws)
    elb.create_listener(LoadBalancerArn=arn, Protocol="HTTP", Port=80, DefaultActions=REDIRECT)
    aws.proxy.fail("DescribeRules", "AccessDenied", status=400)
    control = collect("--only", "TLS-02", "--region", "us-east-1").control("TLS-02")
    assert control["status"] == "error"
    assert control["items"][0]["detail"].startswith(
        "could not be read: DescribeRules failed with AccessDenied"
    )


def prefix_list(aws: Aws, name: str, *cidrs: str) -> str:
    listed = aws.client("ec2").create_managed_prefix_list(
        PrefixListName=name,
        MaxEntries=5,
        AddressFamily="IPv4",
        Entries=[{"Cidr": c} for c in cidrs],
    )
    return str(listed["PrefixList"]["PrefixListId"])


def test_issue_example_prefix_list_holding_the_world_fails(aws: Aws, collect: Any) -> None:
    world = prefix_list(aws, "vendors", "0.0.0.0/0", "10.0.0.0/8")
    office = prefix_list(aws, "office", "203.0.113.0/24")
    web = group(
        aws,
        "web",
        [
            {
                "IpProtocol": "tcp",
                "FromPort": 443,
                "ToPort": 443,
                "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
            }
        ],
    )
    group(
        aws,
        "vendor-ssh",
        [
            {
                "IpProtocol": "tcp",
                "FromPort": 22,
                "ToPort": 22,
                "PrefixListIds": [{"PrefixListId": world}],
            }
        ],
    )
    group(
        aws,
        "office-ssh",
        [
            {
                "IpProtocol": "tcp",
                "FromPort": 22,
                "ToPort": 22,
                "PrefixListIds": [{"PrefixListId": office}],
            }
        ],
    )
    group(
        aws,
        "from-web",
        [
            {
                "IpProtocol": "tcp",
                "FromPort": 22,
                "ToPort": 22,
                "UserIdGroupPairs": [{"GroupId": web}],
            }
        ],
    )
    control = collect("--only", "NET-01", "--region", "us-east-1").control("NET-01")
    by_group = {i["attributes"]["group_name"]: i for i in control["items"]}
    assert by_group["vendor-ssh"]["status"] == "fail"
    assert by_group["vendor-ssh"]["detail"].startswith(
        f"port 22 open to 0.0.0.0/0 through prefix list {world} (vendors)"
    )
    assert by_group["office-ssh"]["status"] == "pass"
    assert by_group["from-web"]["status"] == "pass"  # a referenced group is not the internet


def test_an_unreadable_prefix_list_is_an_error_for_its_rules(aws: Aws, collect: Any) -> None:
    listed = prefix_list(aws, "vendors", "0.0.0.0/0")
    group(
        aws,
        "vendor-ssh",
        [
            {
                "IpProtocol": "tcp",
                "FromPort": 22,
                "ToPort": 22,
                "PrefixListIds": [{"PrefixListId": listed}],
            }
        ],
    )
    aws.proxy.fail("GetManagedPrefixListEntries", "UnauthorizedOperation", status=403)
    control = collect("--only", "NET-01", "--region", "us-east-1").control("NET-01")
    assert control["status"] == "error"
    assert (
        "GetManagedPrefixListEntries failed with UnauthorizedOperation"
        in control["items"][0]["detail"]
    )


ROOT_MFA = """\
  - id: ROOT
    title: Root MFA
    criteria: [CC6.1]
    check: iam.root_mfa
    params:
      require_hardware: {hardware}
"""


def root_mfa_on(aws: Aws, virtual: bool) -> None:
    """moto cannot turn root MFA on through its API: set it in the backend (as the demo does)."""
    backend = aws.backend("iam")
    backend.account_summary._account_mfa_enabled = 1
    if virtual:
        serial = aws.client("iam").create_virtual_mfa_device(
            VirtualMFADeviceName="root-account-mfa-device"
        )["VirtualMFADevice"]["SerialNumber"]
        backend.virtual_mfa_devices[serial].enable_date = datetime.now(UTC)


def test_root_mfa_require_hardware(aws: Aws, collect: Any, tmp_path: Path) -> None:
    root_mfa_on(aws, virtual=True)
    strict = write_controls(tmp_path / "strict.yaml", ROOT_MFA.format(hardware="true"))
    lenient = write_controls(tmp_path / "lenient.yaml", ROOT_MFA.format(hardware="false"))
    item = collect(controls=strict).control("ROOT")["items"][0]
    assert item["status"] == "fail"
    assert item["detail"].startswith(
        "root MFA enabled with a virtual MFA device (a hardware MFA device is required)"
    )
    relaxed = collect(controls=lenient).control("ROOT")["items"][0]
    assert relaxed["status"] == "pass" and relaxed["attributes"]["mfa_virtual"] is True


# ---------------------------------------------------------------- kind 3: one resource, one error


def test_one_unreadable_bucket_does_not_hide_the_others(aws: Aws, collect: Any) -> None:
    bucket(aws, "readable", encrypted=True, tls_only=True)
    bucket(aws, "forbidden", encrypted=True, tls_only=True)
    aws.proxy.fail("GetBucketPolicy", "AccessDenied", status=403, path_contains="/forbidden")
    aws.proxy.fail("GetBucketEncryption", "AccessDenied", status=403, path_contains="/forbidden")
    run = collect("--only", "TLS-01", "--only", "ENC-03")
    for control_id, operation in (("TLS-01", "GetBucketPolicy"), ("ENC-03", "GetBucketEncryption")):
        control = run.control(control_id)
        assert statuses(control) == {"readable": "pass", "forbidden": "error"}
        assert control["status"] == "error"
        assert control["errors"] == [
            {
                "account": ACCOUNT,
                "region": "global",
                "operation": operation,
                "code": "AccessDenied",
                "message": "bucket forbidden: injected by the test proxy",
            }
        ]


def test_one_unreadable_snapshot_does_not_hide_the_others(aws: Aws, collect: Any) -> None:
    first = snapshot(aws, public=True)
    second = snapshot(aws, public=True)
    aws.proxy.fail(
        "DescribeSnapshotAttribute", "UnauthorizedOperation", status=403, body_contains=first
    )
    control = collect("--only", "EC2-01", "--region", "us-east-1").control("EC2-01")
    assert statuses(control) == {first: "error", second: "fail"}
    assert control["status"] == "fail"  # a proven public snapshot fails, whatever is unread


def test_one_unreadable_detector_is_an_error_of_its_own(aws: Aws, collect: Any) -> None:
    detector = aws.client("guardduty", "us-east-1").create_detector(
        Enable=True, Features=FOUNDATIONAL
    )["DetectorId"]
    aws.proxy.fail("GetDetector", "AccessDeniedException", status=403, path_contains=detector)
    control = collect("--only", "THR-01", "--region", "us-east-1").control("THR-01")
    assert statuses(control) == {detector: "error"}
    assert control["errors"][0]["operation"] == "GetDetector"
