"""EC2 checks: EBS snapshots are not public."""

from __future__ import annotations

from collections.abc import Iterator

from ..model import Item, Status
from ..params import NoParams
from ..sources.ec2 import EBS_SNAPSHOTS
from .base import ScopeContext, check


@check(
    "ec2.snapshot_public",
    summary="No EBS snapshot owned by the account is public.",
    procedure=(
        "In each region, list the account's own snapshots (ec2:DescribeSnapshots OwnerIds=self),"
        " list those AWS reports as restorable by all (RestorableByUserIds=all), and confirm each"
        " of these from its createVolumePermission attribute (ec2:DescribeSnapshotAttribute)."
        " A snapshot whose permission includes the group `all` fails."
    ),
    params=NoParams,
    sources=(EBS_SNAPSHOTS,),
)
def snapshot_public(ctx: ScopeContext[NoParams]) -> Iterator[Item]:
    data = ctx.get(EBS_SNAPSHOTS)
    for snapshot in data.snapshots:
        snapshot_id = str(snapshot["SnapshotId"])
        permissions = data.permissions.get(snapshot_id)
        if snapshot_id in data.candidates and permissions is None:
            status, detail = Status.ERROR, "listed as restorable by all, attribute not read"
        elif permissions is not None and permissions.public:
            status, detail = Status.FAIL, "public: any AWS account can create a volume from it"
        else:
            status, detail = Status.PASS, "private"
        shared = permissions.shared_with if permissions else ()
        if shared and status is Status.PASS:
            detail += f" (shared with {', '.join(shared)})"
        yield ctx.item(
            snapshot_id,
            status,
            detail,
            f"arn:{ctx.partition}:ec2:{ctx.region}::snapshot/{snapshot_id}",
            volume_id=snapshot.get("VolumeId"),
            start_time=snapshot.get("StartTime"),
            encrypted=snapshot.get("Encrypted"),
            description=snapshot.get("Description", ""),
            shared_with=list(shared),
            attribute_checked=permissions is not None,
        )
