"""upload PACK s3://bucket/prefix/ (Object Lock, compliance mode, SHA-256 checksums, never
overwriting) and verify s3://bucket/prefix/, on the moto server."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from evidence.audit.s3_location import S3Location
from evidence.errors import UsageError
from tests.conftest import ACCOUNT, Aws
from tests.test_checks_iam import COMPLIANT_POLICY
from tests.test_verify_meaning import POLICY_FILE, edit_json, set_min_length

LOCKED = "evidence-locked"


def locked_bucket(aws: Aws, name: str = LOCKED) -> Any:
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    return s3


def packed(aws: Aws, collect: Any) -> Path:
    aws.client("iam").update_account_password_policy(**COMPLIANT_POLICY)
    pack: Path = collect("--only", "IAM-01").pack
    return pack


def receipts(pack: Path) -> list[Path]:
    return sorted(pack.parent.glob(f"{pack.name}.upload-*.json"))


def test_upload_locks_every_file_in_compliance_mode_with_its_sha256(
    aws: Aws, collect: Any, cli: Any
) -> None:
    s3 = locked_bucket(aws)
    pack = packed(aws, collect)
    before = datetime.now(UTC)
    run = cli("upload", str(pack), f"s3://{LOCKED}/soc2/2026-q4/")
    assert run.code == 0, run.err
    prefix = f"soc2/2026-q4/{pack.name}/"
    assert f"s3://{LOCKED}/{prefix}" in run.out

    manifest = json.loads((pack / "manifest.json").read_text())
    listed = {e["path"]: e["sha256"] for e in manifest["files"]}
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=LOCKED)["Contents"]}
    assert keys == {prefix + p for p in [*listed, "manifest.json", "SHA256SUMS"]}
    for path, digest in listed.items():
        head = s3.head_object(Bucket=LOCKED, Key=prefix + path, ChecksumMode="ENABLED")
        assert head["ObjectLockMode"] == "COMPLIANCE"
        until = head["ObjectLockRetainUntilDate"]
        assert before + timedelta(days=399) < until < before + timedelta(days=401)
        assert base64.b64decode(head["ChecksumSHA256"]).hex() == digest

    (receipt_file,) = receipts(pack)
    assert receipt_file.parent == pack.parent  # beside the pack, not inside it
    receipt = json.loads(receipt_file.read_text())
    assert receipt["complete"] is True and receipt["destination"] == f"s3://{LOCKED}/{prefix}"
    assert receipt["object_lock"]["mode"] == "COMPLIANCE"
    objects = receipt["objects"]
    assert [o["path"] for o in objects][-2:] == ["manifest.json", "SHA256SUMS"]  # seal last
    for entry in objects:
        assert entry["key"] == prefix + entry["path"] and entry["version_id"]
        assert base64.b64decode(entry["checksum_sha256"]).hex() == entry["sha256"]
    assert cli("verify", str(pack)).code == 0  # the receipt is not inside the pack

    for location in (f"s3://{LOCKED}/soc2/2026-q4/", f"s3://{LOCKED}/{prefix}"):
        checked = cli("verify", location)
        assert checked.code == 0, checked.out + checked.err
        assert f"s3://{LOCKED}/{prefix}: intact" in checked.out
        assert "every object locked (COMPLIANCE)" in checked.out


def test_retain_days_sets_the_retention(aws: Aws, collect: Any, cli: Any) -> None:
    s3 = locked_bucket(aws)
    pack = packed(aws, collect)
    assert cli("upload", str(pack), f"s3://{LOCKED}/", "--retain-days", "30").code == 0
    head = s3.head_object(Bucket=LOCKED, Key=f"{pack.name}/manifest.json")
    days = (head["ObjectLockRetainUntilDate"] - datetime.now(UTC)).days
    assert days in (29, 30)
    assert cli("upload", str(pack), f"s3://{LOCKED}/x/", "--retain-days", "0").code == 2


def test_a_bucket_without_object_lock_is_refused(aws: Aws, collect: Any, cli: Any) -> None:
    aws.client("s3").create_bucket(Bucket="plain-bucket")
    pack = packed(aws, collect)
    run = cli("upload", str(pack), "s3://plain-bucket/packs/")
    assert run.code == 2
    assert "s3://plain-bucket has no S3 Object Lock" in run.err
    assert "KeyCount" in aws.client("s3").list_objects_v2(Bucket="plain-bucket")
    assert aws.client("s3").list_objects_v2(Bucket="plain-bucket")["KeyCount"] == 0
    assert receipts(pack) == []


def test_an_existing_key_is_never_overwritten(aws: Aws, collect: Any, cli: Any) -> None:
    s3 = locked_bucket(aws)
    pack = packed(aws, collect)
    key = f"packs/{pack.name}/results.json"
    s3.put_object(Bucket=LOCKED, Key=key, Body=b"{}")
    run = cli("upload", str(pack), f"s3://{LOCKED}/packs/")
    assert run.code == 2
    assert f"already holds {key}" in run.err and "never overwrites" in run.err
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=LOCKED)["Contents"]] == [key]
    assert receipts(pack) == []
    # The same pack uploaded twice: the second upload is refused the same way.
    assert cli("upload", str(pack), f"s3://{LOCKED}/again/").code == 0
    assert cli("upload", str(pack), f"s3://{LOCKED}/again/").code == 2


def test_verify_s3_finds_an_object_changed_after_upload(aws: Aws, collect: Any, cli: Any) -> None:
    """Compliance mode keeps the uploaded version, but a new version can be put on top of it:
    verify reads what an auditor would download, and says it changed."""
    s3 = locked_bucket(aws)
    pack = packed(aws, collect)
    assert cli("upload", str(pack), f"s3://{LOCKED}/").code == 0
    edit_json(pack / POLICY_FILE, lambda raw: set_min_length(raw, 4))  # a local copy, edited
    s3.put_object(
        Bucket=LOCKED, Key=f"{pack.name}/{POLICY_FILE}", Body=(pack / POLICY_FILE).read_bytes()
    )
    s3.delete_object(Bucket=LOCKED, Key=f"{pack.name}/README.txt")  # a delete marker

    run = cli("verify", f"s3://{LOCKED}/{pack.name}/")
    assert run.code == 1
    assert f"s3: {POLICY_FILE}: 2 versions: changed after upload" in run.out
    assert f"changed: {POLICY_FILE}" in run.out
    assert f"cited: {POLICY_FILE}: IAM-01" in run.out
    assert "s3: README.txt: deleted after upload (a delete marker)" in run.out
    assert "missing: README.txt" in run.out


def test_a_pack_that_does_not_verify_is_not_uploaded(aws: Aws, collect: Any, cli: Any) -> None:
    s3 = locked_bucket(aws)
    pack = packed(aws, collect)
    edit_json(pack / POLICY_FILE, lambda raw: set_min_length(raw, 4))
    run = cli("upload", str(pack), f"s3://{LOCKED}/")
    assert run.code == 2 and "refusing to upload it" in run.err
    assert s3.list_objects_v2(Bucket=LOCKED)["KeyCount"] == 0


def test_an_upload_stopped_midway_keeps_a_receipt_of_what_was_locked(
    aws: Aws, collect: Any, cli: Any
) -> None:
    locked_bucket(aws)
    pack = packed(aws, collect)
    aws.proxy.fail("PutObject", "InternalError", status=500, body_contains='"files": [')
    run = cli("upload", str(pack), f"s3://{LOCKED}/")
    assert run.code == 3
    assert "upload stopped at manifest.json" in run.err
    (receipt_file,) = receipts(pack)
    receipt = json.loads(receipt_file.read_text())
    assert receipt["complete"] is False and receipt["error"].startswith("manifest.json: ")
    assert "manifest.json" not in [o["path"] for o in receipt["objects"]]
    assert len(receipt["objects"]) == len(json.loads((pack / "manifest.json").read_text())["files"])
    # No manifest in the copy: it does not look like a pack.
    assert cli("verify", f"s3://{LOCKED}/{pack.name}/").code == 2


def test_verify_s3_of_an_empty_prefix_is_not_a_pack(aws: Aws, cli: Any) -> None:
    locked_bucket(aws)
    run = cli("verify", f"s3://{LOCKED}/nothing-here/")
    assert run.code == 2 and "no evidence pack" in run.err


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("s3://bucket", S3Location("bucket", "")),
        ("s3://bucket/", S3Location("bucket", "")),
        ("s3://bucket/a/b", S3Location("bucket", "a/b/")),
        ("s3://bucket/a/b/", S3Location("bucket", "a/b/")),
    ],
)
def test_s3_locations(text: str, expected: S3Location) -> None:
    assert S3Location.parse(text) == expected


@pytest.mark.parametrize(
    "text", ["bucket/prefix", "s3://B/", "s3://ab/", "s3://bucket/a//b", "s3://bucket/../x"]
)
def test_bad_s3_locations_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError):
        S3Location.parse(text)


def test_upload_names_the_account_nowhere_it_should_not(aws: Aws, collect: Any, cli: Any) -> None:
    """The receipt records where the copy went and through which endpoint."""
    locked_bucket(aws)
    pack = packed(aws, collect)
    assert cli("upload", str(pack), f"s3://{LOCKED}/").code == 0
    (receipt_file,) = receipts(pack)
    receipt = json.loads(receipt_file.read_text())
    assert receipt["endpoint"] == aws.proxy.url
    assert receipt["pack"] == pack.name and ACCOUNT in pack.name
