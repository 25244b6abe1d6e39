"""Security groups, EBS default encryption, EC2 AZ spread, RDS encryption, ELB listeners,
AWS Config and GuardDuty: pass, fail, error over HTTP."""

from __future__ import annotations

from typing import Any

from tests.conftest import Aws
from tests.test_checks_ec2_rds import database
from tests.test_checks_s3 import statuses

# GetDetector reports the foundational data sources as Features; moto echoes what it was given.
FOUNDATIONAL = [
    {"Name": name, "Status": "ENABLED"} for name in ("CLOUD_TRAIL", "DNS_LOGS", "FLOW_LOGS")
]


def group(aws: Aws, name: str, rules: list[dict[str, Any]], region: str = "us-east-1") -> str:
    ec2 = aws.client("ec2", region)
    group_id: str = ec2.create_security_group(GroupName=name, Description=name)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=rules)
    return group_id


def test_security_groups_open_to_the_world(aws: Aws, collect: Any) -> None:
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
    ssh = group(
        aws,
        "ssh",
        [
            {
                "IpProtocol": "tcp",
                "FromPort": 22,
                "ToPort": 22,
                "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
            }
        ],
    )
    group(
        aws,
        "rdp6",
        [
            {
                "IpProtocol": "tcp",
                "FromPort": 3000,
                "ToPort": 4000,
                "Ipv6Ranges": [{"CidrIpv6": "::/0"}],
            }
        ],
    )
    group(aws, "everything", [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    group(
        aws,
        "internal",
        [
            {
                "IpProtocol": "tcp",
                "FromPort": 22,
                "ToPort": 22,
                "IpRanges": [{"CidrIp": "10.0.0.0/8"}],
            }
        ],
    )
    aws.client("ec2").run_instances(
        ImageId="ami-12345678", MinCount=1, MaxCount=1, SecurityGroupIds=[ssh]
    )
    control = collect("--only", "NET-01", "--region", "us-east-1").control("NET-01")
    by_group = {i["attributes"]["group_name"]: i for i in control["items"]}
    assert by_group["web"]["status"] == "pass"
    assert by_group["internal"]["status"] == "pass"
    assert by_group["ssh"]["detail"] == (
        "port 22 open to 0.0.0.0/0; group attached to 1 network interface(s)"
    )
    assert by_group["ssh"]["attributes"]["attached"] is True
    assert by_group["rdp6"]["detail"].startswith("port 3389 open to ::/0; group not attached")
    assert by_group["everything"]["detail"].startswith("all ports open to 0.0.0.0/0")
    assert by_group["web"]["resource"].startswith("sgr-")
    assert web == by_group["web"]["attributes"]["group_id"]


def test_ebs_default_encryption_per_region_and_error(aws: Aws, collect: Any) -> None:
    aws.client("ec2", "us-east-1").enable_ebs_encryption_by_default()
    control = collect("--only", "ENC-01", "--region", "us-east-1", "--region", "eu-west-1").control(
        "ENC-01"
    )
    assert statuses(control) == {"us-east-1": "pass", "eu-west-1": "fail"}
    aws.proxy.fail("GetEbsEncryptionByDefault", "UnauthorizedOperation", status=403)
    error = collect("--only", "ENC-01", "--region", "us-east-1").control("ENC-01")
    assert error["status"] == "error"


def instance(aws: Aws, zone: str, workload: str | None, env: str = "production") -> None:
    tags = [{"Key": "Environment", "Value": env}]
    if workload:
        tags.append({"Key": "Workload", "Value": workload})
    aws.client("ec2").run_instances(
        ImageId="ami-12345678",
        MinCount=1,
        MaxCount=1,
        Placement={"AvailabilityZone": zone},
        TagSpecifications=[{"ResourceType": "instance", "Tags": tags}],
    )


def test_workloads_spread_over_zones(aws: Aws, collect: Any) -> None:
    instance(aws, "us-east-1a", "web")
    instance(aws, "us-east-1b", "web")
    instance(aws, "us-east-1a", "reports")
    instance(aws, "us-east-1a", None)
    instance(aws, "us-east-1c", "scratch", env="dev")  # out of scope
    control = collect("--only", "AVL-01", "--region", "us-east-1").control("AVL-01")
    found = statuses(control)
    assert found["Workload:web"] == "pass"
    assert found["Workload:reports"] == "fail"
    assert [k for k in found if k.startswith("instance:")]  # untagged: its own workload
    assert "Workload:scratch" not in found
    aws.proxy.fail("DescribeInstances", "UnauthorizedOperation", status=403)
    assert collect("--only", "AVL-01").control("AVL-01")["status"] == "error"


def test_rds_encryption(aws: Aws, collect: Any) -> None:
    database(aws, "encrypted", StorageEncrypted=True)
    database(aws, "plain")
    control = collect("--only", "ENC-02", "--region", "us-east-1").control("ENC-02")
    assert statuses(control) == {"encrypted": "pass", "plain": "fail"}
    aws.proxy.fail("DescribeDBInstances", "AccessDenied", status=403)
    assert collect("--only", "ENC-02").control("ENC-02")["status"] == "error"


def test_load_balancer_listeners(aws: Aws, collect: Any) -> None:
    ec2, elb = aws.client("ec2"), aws.client("elbv2")
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:2]
    target = elb.create_target_group(Name="tg", Protocol="HTTP", Port=80, VpcId=vpc)
    forward = [{"Type": "forward", "TargetGroupArn": target["TargetGroups"][0]["TargetGroupArn"]}]
    lb = elb.create_load_balancer(Name="web", Subnets=subnets)["LoadBalancers"][0][
        "LoadBalancerArn"
    ]
    cert = aws.client("acm").request_certificate(DomainName="example.com")["CertificateArn"]
    elb.create_listener(
        LoadBalancerArn=lb,
        Protocol="HTTPS",
        Port=443,
        DefaultActions=forward,
        Certificates=[{"CertificateArn": cert}],
        SslPolicy="ELBSecurityPolicy-2016-08",
    )
    elb.create_listener(
        LoadBalancerArn=lb,
        Protocol="HTTP",
        Port=80,
        DefaultActions=[
            {"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "StatusCode": "HTTP_301"}}
        ],
    )
    elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=8080, DefaultActions=forward)
    control = collect("--only", "TLS-02", "--region", "us-east-1").control("TLS-02")
    assert statuses(control) == {"web:443": "pass", "web:80": "pass", "web:8080": "fail"}
    aws.proxy.fail("DescribeLoadBalancers", "AccessDenied", status=400)
    assert collect("--only", "TLS-02").control("TLS-02")["status"] == "error"


def test_config_recorder_and_guardduty_per_region(aws: Aws, collect: Any) -> None:
    config = aws.client("config", "us-east-1")
    config.put_configuration_recorder(
        ConfigurationRecorder={
            "name": "default",
            "roleARN": "arn:aws:iam::123456789012:role/config",
            "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": True},
        }
    )
    aws.client("s3").create_bucket(Bucket="config-bucket")
    config.put_delivery_channel(
        DeliveryChannel={"name": "default", "s3BucketName": "config-bucket"}
    )
    config.start_configuration_recorder(ConfigurationRecorderName="default")
    partial = aws.client("config", "eu-west-1")
    partial.put_configuration_recorder(
        ConfigurationRecorder={
            "name": "partial",
            "roleARN": "arn:aws:iam::123456789012:role/config",
            "recordingGroup": {"allSupported": False, "resourceTypes": ["AWS::EC2::Instance"]},
        }
    )
    aws.client("guardduty", "us-east-1").create_detector(Enable=True, Features=FOUNDATIONAL)
    run = collect(
        "--only",
        "CHG-01",
        "--only",
        "THR-01",
        "--region",
        "us-east-1",
        "--region",
        "eu-west-1",
        "--region",
        "eu-west-2",
    )
    config_items = {(i["region"], i["resource"]): i for i in run.control("CHG-01")["items"]}
    assert config_items[("us-east-1", "default")]["status"] == "pass"
    assert config_items[("eu-west-1", "partial")]["detail"] == (
        "not recording; no delivery channel; does not record all resource types"
    )
    assert config_items[("eu-west-2", "eu-west-2")]["detail"] == "no configuration recorder"
    guardduty = {i["region"]: i["status"] for i in run.control("THR-01")["items"]}
    assert guardduty == {"us-east-1": "pass", "eu-west-1": "fail", "eu-west-2": "fail"}
    aws.proxy.fail("ListDetectors", "AccessDeniedException", status=403)
    aws.proxy.fail("DescribeConfigurationRecorders", "AccessDeniedException", status=400)
    denied = collect("--only", "CHG-01", "--only", "THR-01", "--region", "us-east-1")
    assert denied.control("CHG-01")["status"] == "error"
    assert denied.control("THR-01")["errors"][0]["operation"] == "ListDetectors"
