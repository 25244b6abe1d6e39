"""A moto server in its own process, seeded with an organisation for bench_org.

Run: python -m bench.org_server URL_FILE USERS SNAPSHOTS DATABASES
(counts per account; snapshots and databases are spread over the regions). Writes the server's
URL to URL_FILE once seeding is done, then serves until killed.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from typing import Any

os.environ["MOTO_EC2_LOAD_DEFAULT_AMIS"] = "false"

import boto3
from moto.server import ThreadedMotoServer

ACCOUNTS = ("123456789012", "111111111111", "222222222222")
REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")


def spread(total: int) -> list[int]:
    """How many of `total` resources each region gets (the first regions take the remainder)."""
    return [total // len(REGIONS) + (index < total % len(REGIONS)) for index in range(len(REGIONS))]


def client(url: str, service: str, region: str, credentials: dict[str, str]) -> Any:
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=url,  # type: ignore[call-overload]
        **credentials,
    )


BASE = {"aws_access_key_id": "bench", "aws_secret_access_key": "bench"}


def member_credentials(url: str, account: str) -> dict[str, str]:
    """Credentials in a member account: OrganizationAccountAccessRole assumed from the base."""
    answer = client(url, "sts", "us-east-1", BASE).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole",
        RoleSessionName="seed",
    )["Credentials"]
    return {
        "aws_access_key_id": answer["AccessKeyId"],
        "aws_secret_access_key": answer["SecretAccessKey"],
        "aws_session_token": answer["SessionToken"],
    }


def seed(url: str, account: str, users: int, snapshots: int, databases: int) -> None:
    credentials = BASE if account == ACCOUNTS[0] else member_credentials(url, account)
    iam = client(url, "iam", "us-east-1", credentials)
    iam.update_account_password_policy(MinimumPasswordLength=12)
    for n in range(users):
        iam.create_user(UserName=f"user-{n:05d}")
        if n % 3 == 0:
            iam.create_login_profile(UserName=f"user-{n:05d}", Password="Bench-Passw0rd!")
        if n % 5 == 0:
            iam.create_access_key(UserName=f"user-{n:05d}")
    for region, region_snapshots, region_databases in zip(
        REGIONS, spread(snapshots), spread(databases), strict=True
    ):
        ec2 = client(url, "ec2", region, credentials)
        volume = ec2.create_volume(AvailabilityZone=f"{region}a", Size=8)["VolumeId"]
        for _ in range(region_snapshots):
            ec2.create_snapshot(VolumeId=volume)
        rds = client(url, "rds", region, credentials)
        for n in range(region_databases):
            name = f"db-{region}-{n:03d}"
            rds.create_db_instance(
                DBInstanceIdentifier=name,
                DBInstanceClass="db.t3.micro",
                Engine="postgres",
                AllocatedStorage=20,
                MasterUsername="u",
                MasterUserPassword="password123",
                MultiAZ=n % 2 == 0,
            )
            rds.create_db_snapshot(DBInstanceIdentifier=name, DBSnapshotIdentifier=f"{name}-s")


def main() -> None:
    url_file, users, snapshots, databases = sys.argv[1], *map(int, sys.argv[2:5])
    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    started = time.perf_counter()
    for account in ACCOUNTS:
        seed(url, account, users, snapshots, databases)
    with open(url_file, "w") as handle:
        json.dump({"url": url, "seconds": time.perf_counter() - started}, handle)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
