"""CloudTrail log files in AWS's format, written into a trail's bucket: for the demo's period,
and for tests and the benchmark (moto delivers no log files of its own).

Each file is gzip JSON `{"Records": [...]}` under
`[prefix/]AWSLogs/[<org id>/]<account>/CloudTrail/<region>/YYYY/MM/DD/` named as AWS names them
(`<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<16 chars>.json.gz`); records carry the fields of
the CloudTrail record contents reference (eventVersion 1.08).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

_AGENTS = (
    "aws-cli/2.15.30 Python/3.11.8 Linux/6.1 exe/x86_64.amzn.2023 prompt/off",
    "Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#6.1 md/arch#x86_64 lang/python#3.11.8",
    "console.amazonaws.com",
    "terraform/1.7.5 (+https://www.terraform.io) terraform-provider-aws/5.42.0",
)
# Read-only calls that fill real log files: none of them is a change event.
NOISE = (
    ("ec2.amazonaws.com", "DescribeInstances"),
    ("ec2.amazonaws.com", "DescribeSecurityGroups"),
    ("s3.amazonaws.com", "GetBucketLocation"),
    ("sts.amazonaws.com", "AssumeRole"),
    ("kms.amazonaws.com", "Decrypt"),
    ("logs.amazonaws.com", "DescribeLogStreams"),
    ("iam.amazonaws.com", "GetRole"),
    ("monitoring.amazonaws.com", "GetMetricData"),
)


@dataclass(frozen=True)
class Actor:
    """Who made a call: an IAM user or an assumed role."""

    arn: str
    account: str
    ip: str = "203.0.113.24"
    agent: str = _AGENTS[0]

    def identity(self) -> dict[str, Any]:
        kind = "AssumedRole" if ":assumed-role/" in self.arn else "IAMUser"
        if self.arn.endswith(":root"):
            kind = "Root"
        identity: dict[str, Any] = {
            "type": kind,
            "principalId": "AIDA" + hashlib.sha1(self.arn.encode()).hexdigest()[:17].upper(),
            "arn": self.arn,
            "accountId": self.account,
            "accessKeyId": "AKIA" + hashlib.md5(self.arn.encode()).hexdigest()[:16].upper(),
        }
        if kind == "IAMUser":
            identity["userName"] = self.arn.rsplit("/", 1)[-1]
        return identity


def record(
    actor: Actor,
    when: datetime,
    region: str,
    source: str,
    name: str,
    request: Mapping[str, Any] | None = None,
    response: Mapping[str, Any] | None = None,
    *,
    read_only: bool = False,
    error_code: str | None = None,
    event_id: str | None = None,
) -> dict[str, Any]:
    """One CloudTrail record as AWS writes it."""
    entry: dict[str, Any] = {
        "eventVersion": "1.08",
        "userIdentity": actor.identity(),
        "eventTime": when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": source,
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": actor.ip,
        "userAgent": actor.agent,
        "requestParameters": dict(request) if request is not None else None,
        "responseElements": dict(response) if response is not None else None,
        "requestID": str(uuid.uuid4()),
        "eventID": event_id or str(uuid.uuid4()),
        "readOnly": read_only,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": actor.account,
        "eventCategory": "Management",
        "tlsDetails": {
            "tlsVersion": "TLSv1.3",
            "cipherSuite": "TLS_AES_128_GCM_SHA256",
            "clientProvidedHostHeader": source.replace(
                ".amazonaws.com", f".{region}.amazonaws.com"
            ),
        },
    }
    if error_code:
        entry["errorCode"] = error_code
        entry["errorMessage"] = f"User: {actor.arn} is not authorized to perform this operation"
    return entry


def noise(actor: Actor, when: datetime, region: str, index: int) -> dict[str, Any]:
    """A read-only record of realistic size (about 1.3 KB): what most of a log file holds."""
    source, name = NOISE[index % len(NOISE)]
    request = {
        "filterSet": {
            "items": [{"name": "tag:Environment", "valueSet": {"items": [{"value": "prod"}]}}]
        },
        "instancesSet": {"items": [{"instanceId": f"i-{index:017x}"}]},
        "maxResults": 1000,
    }
    return record(actor, when, region, source, name, request, None, read_only=True)


@dataclass
class LogBucket:
    """Where a trail delivers: bucket, optional key prefix, optional organisation id."""

    s3: Any  # a boto3 S3 client, or anything with put_object(Bucket, Key, Body)
    bucket: str
    prefix: str = ""
    org_id: str | None = None
    written: list[str] = field(default_factory=list)

    def folder(self, account: str, region: str, day: datetime) -> str:
        base = f"{self.prefix.strip('/')}/AWSLogs/" if self.prefix else "AWSLogs/"
        org = f"{self.org_id}/" if self.org_id else ""
        return f"{base}{org}{account}/CloudTrail/{region}/{day:%Y/%m/%d}/"

    def write(
        self, account: str, region: str, delivered: datetime, records: Sequence[Mapping[str, Any]]
    ) -> str:
        """One gzip log file; returns its key."""
        digest = hashlib.sha1(f"{account}{region}{delivered.isoformat()}".encode()).hexdigest()
        key = (
            self.folder(account, region, delivered)
            + f"{account}_CloudTrail_{region}_{delivered:%Y%m%dT%H%MZ}_{digest[:16]}.json.gz"
        )
        body = gzip.compress(
            json.dumps({"Records": list(records)}, separators=(",", ":")).encode(), 6
        )
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body)
        self.written.append(key)
        return key


def hours(
    start: datetime, end: datetime, step: timedelta = timedelta(hours=1)
) -> Iterator[datetime]:
    moment = start
    while moment < end:
        yield moment
        moment += step
