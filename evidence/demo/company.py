"""Seeds the demo account: a small company in which some controls pass and some fail.

Everything goes in over HTTP with boto3, as a user would create it; only what moto's API cannot
express (root MFA, key and password ages) is set in its in-process backend.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from .infrastructure import seed_infrastructure
from .server import DEMO_ACCOUNT, iam_backend

REGIONS = ("us-east-1", "eu-west-1")
DEMO_ALIAS = "example-corp-demo"
PARTNER_ACCOUNT = "210987654321"

ENGINEERS = (
    "alice.martin",
    "bob.chen",
    "carol.diaz",
    "dan.okafor",
    "erin.walsh",
    "farid.haddad",
    "grace.kim",
    "hugo.lefevre",
    "ines.silva",
    "jack.novak",
    "kara.singh",
    "liam.obrien",
    "maya.rossi",
    "noah.berg",
    "olga.ivanova",
    "pedro.alves",
    "quinn.taylor",
    "rosa.moreno",
)
WITHOUT_MFA = ("jack.novak", "rosa.moreno")  # console users who never set up MFA: findings
SERVICE_USERS = ("ci-deploy", "backup-agent", "metrics-exporter", "log-shipper", "terraform")
STALE_KEYS = {"backup-agent": 212, "terraform": 133}  # key ages in days: findings
FRESH_KEY_AGES = {"ci-deploy": 12, "metrics-exporter": 45, "log-shipper": 77}


@dataclass(frozen=True)
class DemoClients:
    endpoint: str

    def client(self, service: str, region: str = "us-east-1") -> Any:
        return boto3.client(
            service,  # type: ignore[call-overload]
            region_name=region,
            endpoint_url=self.endpoint,
            aws_access_key_id="demo",
            aws_secret_access_key="demo",
        )


def seed_company(endpoint: str, now: datetime | None = None) -> None:
    now = now or datetime.now(UTC)
    clients = DemoClients(endpoint)
    _seed_iam(clients, now)
    _seed_administrators(clients)
    for region in REGIONS:
        _seed_snapshots(clients, region)
        _seed_databases(clients, region)
    seed_infrastructure(clients, REGIONS)


ADMIN_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"


def _seed_administrators(clients: DemoClients) -> None:
    iam = clients.client("iam")
    iam.create_group(GroupName="platform-admins")
    iam.attach_group_policy(GroupName="platform-admins", PolicyArn=ADMIN_POLICY)
    for name in ("alice.martin", "bob.chen"):
        iam.add_user_to_group(GroupName="platform-admins", UserName=name)
    # Someone granted themselves everything with an inline policy: not on the approved list.
    iam.put_user_policy(
        UserName="jack.novak",
        PolicyName="temp-debug",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
            }
        ),
    )
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::999988887777:root"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )
    iam.create_role(RoleName="OrganizationAccountAccessRole", AssumeRolePolicyDocument=trust)
    iam.attach_role_policy(RoleName="OrganizationAccountAccessRole", PolicyArn=ADMIN_POLICY)
    iam.create_role(RoleName="ci-deployer", AssumeRolePolicyDocument=trust)
    iam.attach_role_policy(RoleName="ci-deployer", PolicyArn=ADMIN_POLICY)  # unapproved


def _seed_iam(clients: DemoClients, now: datetime) -> None:
    iam = clients.client("iam")
    # The alias says demo: nobody may take this account's pack for real evidence.
    iam.create_account_alias(AccountAlias=DEMO_ALIAS)
    iam.update_account_password_policy(
        MinimumPasswordLength=12,
        RequireSymbols=True,
        RequireNumbers=True,
        RequireUppercaseCharacters=True,
        RequireLowercaseCharacters=True,
        MaxPasswordAge=90,
        PasswordReusePrevention=12,
    )
    for group in ("engineering", "platform", "read-only"):
        iam.create_group(GroupName=group)
    for index, name in enumerate(ENGINEERS):
        iam.create_user(UserName=name, Tags=[{"Key": "team", "Value": "engineering"}])
        iam.add_user_to_group(GroupName="engineering", UserName=name)
        iam.create_login_profile(UserName=name, Password=f"Demo-Passw0rd!{index}")
        if name not in WITHOUT_MFA:
            serial = iam.create_virtual_mfa_device(VirtualMFADeviceName=name)
            iam.enable_mfa_device(
                UserName=name,
                SerialNumber=serial["VirtualMFADevice"]["SerialNumber"],
                AuthenticationCode1="123456",
                AuthenticationCode2="654321",
            )
    for name in SERVICE_USERS:
        iam.create_user(UserName=name, Tags=[{"Key": "kind", "Value": "service"}])
        iam.create_access_key(UserName=name)
    backend = iam_backend(DEMO_ACCOUNT)
    # Root MFA is on in this company; moto's API has no way to say so.
    backend.account_summary._account_mfa_enabled = 1
    for name, days in {**STALE_KEYS, **FRESH_KEY_AGES}.items():
        backend.users[name].access_keys[0].create_date = (now - timedelta(days=days)).replace(
            tzinfo=None
        )
    for offset, name in enumerate(ENGINEERS + SERVICE_USERS):
        backend.users[name].create_date = (now - timedelta(days=400 - 9 * offset)).replace(
            tzinfo=None
        )
    # Two engineers left the team months ago; their logins were never disabled.
    dormant = {"olga.ivanova": 140, "pedro.alves": 121}
    for offset, name in enumerate(ENGINEERS):
        if name in dormant:
            backend.users[name].password_last_used = (now - timedelta(days=dormant[name])).replace(
                tzinfo=None
            )
            continue
        backend.users[name].password_last_used = (now - timedelta(hours=3 + 7 * offset)).replace(
            tzinfo=None
        )


def _seed_snapshots(clients: DemoClients, region: str) -> None:
    ec2 = clients.client("ec2", region)
    zone = f"{region}a"
    names: tuple[str, ...] = ("orders-db-data", "web-root", "build-cache", "logs-archive")
    if region == "eu-west-1":
        names = ("eu-customers-data", "eu-web-root", "marketing-site")
    for name in names:
        volume = ec2.create_volume(AvailabilityZone=zone, Size=50, Encrypted=name != "build-cache")
        for day in (1, 2):
            snapshot = ec2.create_snapshot(
                VolumeId=volume["VolumeId"],
                Description=f"{name} nightly backup day -{day}",
                TagSpecifications=[
                    {"ResourceType": "snapshot", "Tags": [{"Key": "Name", "Value": name}]}
                ],
            )
            if name == "marketing-site" and day == 1:
                # Someone shared a snapshot publicly to hand it to an agency: a finding.
                ec2.modify_snapshot_attribute(
                    SnapshotId=snapshot["SnapshotId"],
                    Attribute="createVolumePermission",
                    OperationType="add",
                    GroupNames=["all"],
                )
            if name == "orders-db-data" and day == 1:
                ec2.modify_snapshot_attribute(
                    SnapshotId=snapshot["SnapshotId"],
                    Attribute="createVolumePermission",
                    OperationType="add",
                    UserIds=[PARTNER_ACCOUNT],
                )


def _seed_databases(clients: DemoClients, region: str) -> None:
    rds = clients.client("rds", region)
    databases = {
        "us-east-1": (
            ("orders-prod", True, "production"),
            ("users-prod", True, "production"),
            ("analytics", False, "internal"),
        ),
        "eu-west-1": (("eu-customers-prod", True, "production"),),
    }[region]
    for identifier, multi_az, environment in databases:
        rds.create_db_instance(
            DBInstanceIdentifier=identifier,
            DBInstanceClass="db.m6g.large",
            Engine="postgres",
            AllocatedStorage=100,
            MasterUsername="app",
            MasterUserPassword="demo-password-1",
            MultiAZ=multi_az,
            StorageEncrypted=identifier != "analytics",  # the analytics copy was never encrypted
            Tags=[{"Key": "Environment", "Value": environment}],
        )
        rds.create_db_snapshot(
            DBInstanceIdentifier=identifier, DBSnapshotIdentifier=f"{identifier}-pre-migration"
        )
    if region == "us-east-1":
        rds.modify_db_snapshot_attribute(
            DBSnapshotIdentifier="orders-prod-pre-migration",
            AttributeName="restore",
            ValuesToAdd=[PARTNER_ACCOUNT],
        )
        rds.create_db_cluster(
            DBClusterIdentifier="billing-aurora",
            Engine="aurora-postgresql",
            MasterUsername="app",
            MasterUserPassword="demo-password-1",
            StorageEncrypted=True,
            Tags=[{"Key": "Environment", "Value": "production"}],
        )
        for suffix, zone in (("1", "us-east-1a"), ("2", "us-east-1b")):
            rds.create_db_instance(
                DBInstanceIdentifier=f"billing-aurora-{suffix}",
                DBInstanceClass="db.r6g.large",
                Engine="aurora-postgresql",
                DBClusterIdentifier="billing-aurora",
                AvailabilityZone=zone,
                Tags=[{"Key": "Environment", "Value": "production"}],
            )
        rds.create_db_cluster_snapshot(
            DBClusterIdentifier="billing-aurora", DBClusterSnapshotIdentifier="billing-aurora-q3"
        )
