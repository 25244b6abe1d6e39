"""Seeds the demo company's infrastructure: logging, alarms, buckets, network, services.

Each control gets resources that pass and resources that fail, as a real account would have.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from .server import DEMO_ACCOUNT, config_backend

TRAIL_BUCKET = "example-corp-cloudtrail"
LOG_BUCKET = "example-corp-access-logs"
LOG_GROUP = "cloudtrail/example-corp"
ALARMED = {  # metric filters that have an alarm; security_group_changes has a filter only
    "RootAccountUse": '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS'
    ' && $.eventType != "AwsServiceEvent" }',
    "UnauthorizedAPICalls": '{ ($.errorCode = "*UnauthorizedOperation") ||'
    ' ($.errorCode = "AccessDenied*") }',
    "ConsoleSigninWithoutMFA": '{ ($.eventName = "ConsoleLogin") &&'
    ' ($.additionalEventData.MFAUsed != "Yes") }',
    "IAMPolicyChanges": "{ ($.eventName=DeleteGroupPolicy) || ($.eventName=DeleteRolePolicy) ||"
    " ($.eventName=DeleteUserPolicy) || ($.eventName=PutGroupPolicy) ||"
    " ($.eventName=PutRolePolicy) || ($.eventName=PutUserPolicy) || ($.eventName=CreatePolicy) ||"
    " ($.eventName=DeletePolicy) || ($.eventName=CreatePolicyVersion) ||"
    " ($.eventName=DeletePolicyVersion) || ($.eventName=AttachRolePolicy) ||"
    " ($.eventName=DetachRolePolicy) || ($.eventName=AttachUserPolicy) ||"
    " ($.eventName=DetachUserPolicy) || ($.eventName=AttachGroupPolicy) ||"
    " ($.eventName=DetachGroupPolicy) }",
    "CloudTrailChanges": "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) ||"
    " ($.eventName = DeleteTrail) || ($.eventName = StartLogging) ||"
    " ($.eventName = StopLogging) }",
}
UNALARMED = {
    "SecurityGroupChanges": "{ ($.eventName = AuthorizeSecurityGroupIngress) ||"
    " ($.eventName = AuthorizeSecurityGroupEgress) || ($.eventName = RevokeSecurityGroupIngress)"
    " || ($.eventName = RevokeSecurityGroupEgress) || ($.eventName = CreateSecurityGroup) ||"
    " ($.eventName = DeleteSecurityGroup) }",
}


class Clients(Protocol):
    def client(self, service: str, region: str = "us-east-1") -> Any: ...


def seed_infrastructure(clients: Clients, regions: tuple[str, ...]) -> None:
    _seed_buckets(clients)
    _seed_trail_and_alarms(clients)
    for region in regions:
        _seed_network(clients, region)
        _seed_services(clients, region)


# A deny someone narrowed to traffic outside the VPC endpoint: plain HTTP through the endpoint
# is not denied (conditions are ANDed), so the bucket fails s3.tls_only.
NARROWED_TLS_BUCKET = "example-corp-data-exports"


def _tls_only_policy(bucket: str, narrowed: bool = False) -> str:
    condition: dict[str, Any] = {"Bool": {"aws:SecureTransport": "false"}}
    if narrowed:
        condition["StringNotEquals"] = {"aws:SourceVpce": "vpce-0a1b2c3d4e5f67890"}
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyPlainHttp",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                    "Condition": condition,
                }
            ],
        }
    )


def _seed_buckets(clients: Clients) -> None:
    s3 = clients.client("s3")
    block = {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    buckets = {
        # name: (access logging, default encryption, TLS-only policy, Block Public Access)
        # No TLS-only policy here: the demo reads the trail's log files from the emulator over
        # plain HTTP, which such a policy would (rightly) refuse.
        TRAIL_BUCKET: (True, True, False, True),
        LOG_BUCKET: (False, True, True, True),
        "example-corp-backups": (True, True, True, True),
        "example-corp-marketing-assets": (False, False, False, False),
        NARROWED_TLS_BUCKET: (True, True, True, True),
    }
    for name in buckets:
        s3.create_bucket(Bucket=name)
    s3.put_bucket_acl(Bucket=LOG_BUCKET, ACL="log-delivery-write")  # S3 may deliver logs there
    # Logging first: moto's check of the target bucket's policy fails on a "*" principal.
    for name, (logging, *_) in buckets.items():
        if logging:
            s3.put_bucket_logging(
                Bucket=name,
                BucketLoggingStatus={
                    "LoggingEnabled": {"TargetBucket": LOG_BUCKET, "TargetPrefix": f"{name}/"}
                },
            )
    for name, (_, encryption, tls_only, public_block) in buckets.items():
        s3.put_bucket_tagging(
            Bucket=name, Tagging={"TagSet": [{"Key": "Environment", "Value": "production"}]}
        )
        if encryption:
            s3.put_bucket_encryption(
                Bucket=name,
                ServerSideEncryptionConfiguration={
                    "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]
                },
            )
        if tls_only:
            narrowed = name == NARROWED_TLS_BUCKET
            s3.put_bucket_policy(Bucket=name, Policy=_tls_only_policy(name, narrowed))
        if public_block:
            s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=block)


def _seed_trail_and_alarms(clients: Clients) -> None:
    logs = clients.client("logs")
    logs.create_log_group(logGroupName=LOG_GROUP)
    group_arn = f"arn:aws:logs:us-east-1:{DEMO_ACCOUNT}:log-group:{LOG_GROUP}:*"
    trail = clients.client("cloudtrail")
    trail.create_trail(
        Name="example-corp-trail",
        S3BucketName=TRAIL_BUCKET,
        IsMultiRegionTrail=True,
        EnableLogFileValidation=True,
        CloudWatchLogsLogGroupArn=group_arn,
        CloudWatchLogsRoleArn=f"arn:aws:iam::{DEMO_ACCOUNT}:role/cloudtrail-to-logs",
    )
    trail.put_event_selectors(
        TrailName="example-corp-trail",
        EventSelectors=[{"ReadWriteType": "All", "IncludeManagementEvents": True}],
    )
    trail.start_logging(Name="example-corp-trail")
    # An old single-region trail someone forgot: not the one that satisfies the control.
    trail.create_trail(Name="legacy-dev-trail", S3BucketName=TRAIL_BUCKET)
    sns = clients.client("sns")
    topic = sns.create_topic(Name="security-alerts")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="cto@example-corp.com")
    cloudwatch = clients.client("cloudwatch")
    for metric, pattern in {**ALARMED, **UNALARMED}.items():
        logs.put_metric_filter(
            logGroupName=LOG_GROUP,
            filterName=metric,
            filterPattern=pattern,
            metricTransformations=[
                {"metricName": metric, "metricNamespace": "CISBenchmark", "metricValue": "1"}
            ],
        )
    for metric in ALARMED:
        cloudwatch.put_metric_alarm(
            AlarmName=f"cis-{metric}",
            MetricName=metric,
            Namespace="CISBenchmark",
            Statistic="Sum",
            Period=300,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
            AlarmActions=[topic],
        )


def _seed_network(clients: Clients, region: str) -> None:
    ec2 = clients.client("ec2", region)
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    subnets = sorted(ec2.describe_subnets()["Subnets"], key=lambda s: s["AvailabilityZone"])

    def group(name: str, rules: list[dict[str, Any]]) -> str:
        group_id: str = ec2.create_security_group(
            GroupName=name, Description=f"{name} tier", VpcId=vpc
        )["GroupId"]
        if rules:
            ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=rules)
        return group_id

    web = group(
        "web",
        [
            {
                "IpProtocol": "tcp",
                "FromPort": 443,
                "ToPort": 443,
                "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "HTTPS"}],
            }
        ],
    )
    database = group(
        "database",
        [
            {
                "IpProtocol": "tcp",
                "FromPort": 5432,
                "ToPort": 5432,
                "UserIdGroupPairs": [{"GroupId": web}],
            }
        ],
    )
    bastion = web
    if region == "us-east-1":
        bastion = group(
            "bastion",
            [
                {
                    "IpProtocol": "tcp",
                    "FromPort": 22,
                    "ToPort": 22,
                    "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "temporary vendor access"}],
                }
            ],
        )
        # A vendor prefix list someone widened to everything while debugging: a rule that
        # names the list, not 0.0.0.0/0, still opens SSH to the internet.
        vendors = ec2.create_managed_prefix_list(
            PrefixListName="vendor-support",
            MaxEntries=5,
            AddressFamily="IPv4",
            Entries=[
                {"Cidr": "198.51.100.0/24", "Description": "vendor office"},
                {"Cidr": "0.0.0.0/0", "Description": "temporary"},
            ],
        )["PrefixList"]["PrefixListId"]
        group(
            "vendor-ssh",
            [
                {
                    "IpProtocol": "tcp",
                    "FromPort": 22,
                    "ToPort": 22,
                    "PrefixListIds": [{"PrefixListId": vendors, "Description": "vendors"}],
                }
            ],
        )
        group(
            "legacy-rdp",
            [
                {
                    "IpProtocol": "tcp",
                    "FromPort": 3389,
                    "ToPort": 3389,
                    "Ipv6Ranges": [{"CidrIpv6": "::/0"}],
                }
            ],
        )

    def instances(workload: str, zones: list[dict[str, Any]], groups: list[str]) -> None:
        for subnet in zones:
            ec2.run_instances(
                ImageId="ami-12345678",
                MinCount=1,
                MaxCount=1,
                InstanceType="t3.medium",
                SubnetId=subnet["SubnetId"],
                SecurityGroupIds=groups,
                TagSpecifications=[
                    {
                        "ResourceType": "instance",
                        "Tags": [
                            {"Key": "Environment", "Value": "production"},
                            {"Key": "Workload", "Value": workload},
                        ],
                    }
                ],
            )

    instances("web", subnets[:2], [web])
    instances("api", subnets[:3], [web, database])
    if region == "us-east-1":
        instances("reporting", subnets[:1], [database])  # one zone only: a finding
        instances("bastion", subnets[:1] * 2, [bastion])  # two instances, same zone
    _seed_load_balancers(clients, region, vpc, subnets, web)


def _seed_load_balancers(
    clients: Clients, region: str, vpc: str, subnets: list[dict[str, Any]], group: str
) -> None:
    elb = clients.client("elbv2", region)
    certificate = clients.client("acm", region).request_certificate(
        DomainName="www.example-corp.com"
    )["CertificateArn"]
    pair = [subnets[0]["SubnetId"], subnets[1]["SubnetId"]]
    public = elb.create_load_balancer(Name="public-web", Subnets=pair, SecurityGroups=[group])
    target = elb.create_target_group(Name=f"web-{region}", Protocol="HTTP", Port=80, VpcId=vpc)
    forward = [{"Type": "forward", "TargetGroupArn": target["TargetGroups"][0]["TargetGroupArn"]}]
    arn = public["LoadBalancers"][0]["LoadBalancerArn"]
    elb.create_listener(
        LoadBalancerArn=arn,
        Protocol="HTTPS",
        Port=443,
        SslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06",
        Certificates=[{"CertificateArn": certificate}],
        DefaultActions=forward,
    )
    plain = elb.create_listener(
        LoadBalancerArn=arn,
        Protocol="HTTP",
        Port=80,
        DefaultActions=[
            {
                "Type": "redirect",
                "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"},
            }
        ],
    )
    if region == "us-east-1":
        # The default redirects, but an old rule still serves /legacy/* over plain HTTP.
        elb.create_rule(
            ListenerArn=plain["Listeners"][0]["ListenerArn"],
            Priority=1,
            Conditions=[{"Field": "path-pattern", "Values": ["/legacy/*"]}],
            Actions=forward,
        )
        # A Classic Load Balancer left over from before the migration, on plain HTTP.
        clients.client("elb", region).create_load_balancer(
            LoadBalancerName="legacy-api",
            Listeners=[{"Protocol": "HTTP", "LoadBalancerPort": 80, "InstancePort": 8080}],
            AvailabilityZones=[subnets[0]["AvailabilityZone"]],
        )
        internal = elb.create_load_balancer(
            Name="internal-tools", Subnets=pair, Scheme="internal", SecurityGroups=[group]
        )
        elb.create_listener(
            LoadBalancerArn=internal["LoadBalancers"][0]["LoadBalancerArn"],
            Protocol="HTTP",
            Port=8080,
            DefaultActions=forward,
        )


# GetDetector reports the foundational data sources (CloudTrail, DNS and VPC flow logs) as
# Features; the emulator reports what the detector was created with.
FOUNDATIONAL_FEATURES = [
    {"Name": name, "Status": "ENABLED"} for name in ("CLOUD_TRAIL", "DNS_LOGS", "FLOW_LOGS")
]


def _seed_services(clients: Clients, region: str) -> None:
    if region != "us-east-1":
        _seed_failing_recorder(clients, region)
        return  # GuardDuty and EBS default encryption were never turned on here
    clients.client("ec2", region).enable_ebs_encryption_by_default()
    config = clients.client("config", region)
    config.put_configuration_recorder(
        ConfigurationRecorder={
            "name": "default",
            "roleARN": f"arn:aws:iam::{DEMO_ACCOUNT}:role/aws-config",
            "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": True},
        }
    )
    config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": TRAIL_BUCKET})
    config.start_configuration_recorder(ConfigurationRecorderName="default")
    clients.client("guardduty", region).create_detector(Enable=True, Features=FOUNDATIONAL_FEATURES)


def _seed_failing_recorder(clients: Clients, region: str) -> None:
    """A recorder that is on but not working: its role cannot write to the bucket, so AWS
    Config reports lastStatus Failure. The emulator cannot fail a recording through its API:
    the state is set in its in-process backend, as for root MFA."""
    config = clients.client("config", region)
    config.put_configuration_recorder(
        ConfigurationRecorder={
            "name": "default",
            "roleARN": f"arn:aws:iam::{DEMO_ACCOUNT}:role/aws-config-eu",
            "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": False},
        }
    )
    config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": TRAIL_BUCKET})
    config.start_configuration_recorder(ConfigurationRecorderName="default")
    status = config_backend(region).recorders["default"].status
    status.last_status = "FAILURE"
    status.last_error_code = "AccessDenied"
    status.last_error_message = "Config role cannot write to s3://" + TRAIL_BUCKET
