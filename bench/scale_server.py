"""A moto server in its own process, seeded with an AWS Organization for bench_scale.

Run: python -m bench.scale_server URL_FILE ACCOUNTS [--seeders N]
Creates the organisation (the default account is its management account) and ACCOUNTS member
accounts, then seeds each member through its OrganizationAccountAccessRole, in both REGIONS.
Per member account, varied around these averages: 30 IAM users (a third with a console password,
a fifth with an access key), 20 EBS snapshots spread over the regions (exactly one public),
5 S3 buckets, 2 DB instances (one per region, every other one Multi-AZ, each with a manual DB
snapshot), 3 security groups per region (one open to the world on SSH in every fourth account).
Writes the server's URL and the seeding figures to URL_FILE when done, then serves until killed.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor

os.environ["MOTO_EC2_LOAD_DEFAULT_AMIS"] = "false"

from moto.server import ThreadedMotoServer

from bench.org_server import BASE, client, member_credentials

REGIONS = ("us-east-1", "eu-west-1")


def varied(average: int, index: int, spread: int) -> int:
    """`average` give or take `spread`, deterministic per account, averaging out over accounts."""
    return average + (index * 7) % (2 * spread + 1) - spread


def create_members(url: str, count: int) -> list[str]:
    organizations = client(url, "organizations", "us-east-1", BASE)
    organizations.create_organization(FeatureSet="ALL")
    members = []
    for index in range(count):
        status = organizations.create_account(
            Email=f"member-{index:04d}@example.com", AccountName=f"member-{index:04d}"
        )["CreateAccountStatus"]
        members.append(str(status["AccountId"]))
    return members


def seed_account(url: str, account: str, index: int) -> int:
    """Seed one member account; returns the calls made."""
    credentials = member_credentials(url, account)
    calls = 1
    iam = client(url, "iam", "us-east-1", credentials)
    iam.update_account_password_policy(MinimumPasswordLength=8 + index % 8)
    for n in range(varied(30, index, 10)):
        name = f"user-{n:03d}"
        iam.create_user(UserName=name)
        calls += 1
        if n % 3 == 0:
            iam.create_login_profile(UserName=name, Password="Bench-Passw0rd!")
            calls += 1
        if n % 5 == 0:
            iam.create_access_key(UserName=name)
            calls += 1
    s3 = client(url, "s3", "us-east-1", credentials)
    for n in range(varied(5, index, 2)):
        s3.create_bucket(Bucket=f"bench-{account}-{n}")
        calls += 1
    snapshots = varied(20, index, 6)
    for position, region in enumerate(REGIONS):
        ec2 = client(url, "ec2", region, credentials)
        volume = ec2.create_volume(AvailabilityZone=f"{region}a", Size=8)["VolumeId"]
        for n in range(snapshots // len(REGIONS) + (position < snapshots % len(REGIONS))):
            snapshot = ec2.create_snapshot(VolumeId=volume)["SnapshotId"]
            calls += 1
            if position == 0 and n == 0:  # exactly one public snapshot per account
                ec2.modify_snapshot_attribute(
                    SnapshotId=snapshot,
                    Attribute="createVolumePermission",
                    OperationType="add",
                    GroupNames=["all"],
                )
                calls += 1
        for n in range(3):
            group = ec2.create_security_group(GroupName=f"app-{n}", Description="bench")["GroupId"]
            calls += 1
            if n == 0 and index % 4 == 0:
                ec2.authorize_security_group_ingress(
                    GroupId=group, IpProtocol="tcp", FromPort=22, ToPort=22, CidrIp="0.0.0.0/0"
                )
                calls += 1
        rds = client(url, "rds", region, credentials)
        name = f"db-{position}"
        rds.create_db_instance(
            DBInstanceIdentifier=name,
            DBInstanceClass="db.t3.micro",
            Engine="postgres",
            AllocatedStorage=20,
            MasterUsername="bench",
            MasterUserPassword="password123",
            MultiAZ=(index + position) % 2 == 0,
        )
        rds.create_db_snapshot(DBInstanceIdentifier=name, DBSnapshotIdentifier=f"{name}-manual")
        calls += 2
    return calls


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url_file")
    parser.add_argument("accounts", type=int)
    parser.add_argument("--seeders", type=int, default=4)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    started = time.perf_counter()
    members = create_members(url, args.accounts)
    with ThreadPoolExecutor(args.seeders) as pool:
        calls = sum(pool.map(lambda pair: seed_account(url, pair[1], pair[0]), enumerate(members)))
    partial = f"{args.url_file}.partial"
    with open(partial, "w") as handle:
        json.dump(
            {
                "url": url,
                "members": members,
                "seed_calls": calls,
                "seconds": time.perf_counter() - started,
            },
            handle,
        )
    os.replace(partial, args.url_file)  # whole or not at all: the bench polls for it
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
