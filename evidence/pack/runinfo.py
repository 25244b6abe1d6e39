"""What a collection run was: written to raw/run.json when collection ends, read by evaluation."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..model import CollectionError
from .period import EventsPlan, Period
from .raw import RAW_DIR, parse_utc

RUN_FILE = f"{RAW_DIR}/run.json"


@dataclass(frozen=True)
class AccountRun:
    account_id: str
    caller_arn: str
    partition: str = "aws"
    regions: tuple[str, ...] = ()  # the regions collected in this account
    # Set when the account could not be reached at all (e.g. its role could not be assumed).
    access_error: CollectionError | None = None
    # Set when its enabled regions could not be listed (--region all): regional controls err.
    regions_error: CollectionError | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "caller_arn": self.caller_arn,
            "partition": self.partition,
            "regions": list(self.regions),
            "access_error": None if self.access_error is None else self.access_error.to_json(),
            "regions_error": None if self.regions_error is None else self.regions_error.to_json(),
        }

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> AccountRun:
        access, regions = data.get("access_error"), data.get("regions_error")
        return AccountRun(
            account_id=data["account_id"],
            caller_arn=data["caller_arn"],
            partition=data.get("partition", "aws"),
            regions=tuple(data.get("regions", ())),
            access_error=None if access is None else CollectionError(**access),
            regions_error=None if regions is None else CollectionError(**regions),
        )


@dataclass(frozen=True)
class RunInfo:
    tool_version: str
    scope: str
    organisation: str
    caller_arn: str
    started: str
    finished: str  # when collection ended: the pack's as-of time
    accounts: tuple[AccountRun, ...]
    regions: tuple[str, ...]
    controls_file: str
    controls_sha256: str
    control_ids: tuple[str, ...]  # the controls collected for (all, or those given with --only)
    calls_per_operation: Mapping[str, int] = field(default_factory=dict)
    endpoints: tuple[str, ...] = ()  # every endpoint a call reached (scheme://host[:port])
    # The endpoints among them that are not the one botocore resolves for the call's service and
    # region (provenance.is_aws_endpoint); None: a pack made before this was judged per call.
    not_aws_endpoints: tuple[str, ...] | None = None
    demo: bool = False  # collected from the embedded emulated demo account
    # A Type II pack's audit period, and how its CloudTrail events were read; None: point in time.
    period: Period | None = None
    events: EventsPlan | None = None

    @property
    def as_of(self) -> datetime:
        return parse_utc(self.finished)

    def account(self, account_id: str) -> AccountRun:
        return next(a for a in self.accounts if a.account_id == account_id)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": 1,
            "tool_version": self.tool_version,
            "scope": self.scope,
            "organisation": self.organisation,
            "caller_arn": self.caller_arn,
            "started": self.started,
            "finished": self.finished,
            "as_of": self.finished,
            "accounts": [a.to_json() for a in self.accounts],
            "regions": list(self.regions),
            "controls_file": self.controls_file,
            "controls_sha256": self.controls_sha256,
            "control_ids": list(self.control_ids),
            "calls_per_operation": dict(sorted(self.calls_per_operation.items())),
            "total_calls": sum(self.calls_per_operation.values()),
            "endpoints": list(self.endpoints),
            **self.not_aws_json(),
            "demo": self.demo,
            "period": self.period_json(),
        }

    def not_aws_json(self) -> dict[str, Any]:
        """`not_aws_endpoints` when it was judged (absent in older packs)."""
        if self.not_aws_endpoints is None:
            return {}
        return {"not_aws_endpoints": list(self.not_aws_endpoints)}

    def period_json(self) -> dict[str, Any] | None:
        """results.json's `run.period`: the period and how its events were read, or None."""
        if self.period is None:
            return None
        events = None if self.events is None else self.events.to_json()
        return {**self.period.to_json(), "events": events}

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> RunInfo:
        return RunInfo(
            tool_version=data["tool_version"],
            scope=data["scope"],
            organisation=data["organisation"],
            caller_arn=data["caller_arn"],
            started=data["started"],
            finished=data["finished"],
            accounts=tuple(AccountRun.from_json(a) for a in data["accounts"]),
            regions=tuple(data["regions"]),
            controls_file=data["controls_file"],
            controls_sha256=data["controls_sha256"],
            control_ids=tuple(data["control_ids"]),
            calls_per_operation=dict(data.get("calls_per_operation", {})),
            endpoints=tuple(data.get("endpoints", ())),
            not_aws_endpoints=tuple(data["not_aws_endpoints"])
            if "not_aws_endpoints" in data
            else None,
            demo=bool(data.get("demo", False)),
            period=Period.from_json(period) if (period := data.get("period")) else None,
            events=EventsPlan.from_json(period["events"])
            if period and period.get("events")
            else None,
        )

    @staticmethod
    def read(pack_dir: Path) -> RunInfo:
        with (pack_dir / RUN_FILE).open(encoding="utf-8") as handle:
            return RunInfo.from_json(json.load(handle))
