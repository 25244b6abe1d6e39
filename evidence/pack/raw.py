"""Raw evidence on disk: one JSON file per source, account and region, holding every call made.

Layout: raw/<account>/<region>/<source>.json (region is `global` for IAM and STS). The files are
written once, when their source finishes, and never edited; evaluation reads them back.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

RAW_DIR = "raw"
RAW_SCHEMA_VERSION = 1


def utc_iso(moment: datetime) -> str:
    """ISO 8601 in UTC with a Z, to the second (microseconds add noise, not evidence)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def parse_utc(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def jsonable(value: Any) -> Any:
    """botocore's parsed response as JSON: datetimes as ISO 8601 UTC, bytes as base64."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, bytes | bytearray):
        return {"$base64": base64.b64encode(bytes(value)).decode("ascii")}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def decode_bytes(value: Any) -> bytes:
    """The inverse of jsonable() for a bytes field."""
    if isinstance(value, dict) and "$base64" in value:
        return base64.b64decode(value["$base64"])
    if isinstance(value, str):
        return value.encode("utf-8")
    raise ValueError(f"not an encoded bytes value: {value!r}")


@dataclass(frozen=True)
class CallError:
    code: str
    message: str


@dataclass(frozen=True)
class RawCall:
    """One AWS API call as it was made and answered."""

    seq: int
    time: str
    service: str
    operation: str
    endpoint_region: str
    parameters: Mapping[str, Any]
    request_id: str | None
    http_status: int | None
    retry_attempts: int
    error: CallError | None
    response: Mapping[str, Any] | None
    # scheme://host[:port] the request went to ("" in packs made before it was recorded).
    endpoint: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "time": self.time,
            "service": self.service,
            "operation": self.operation,
            "endpoint_region": self.endpoint_region,
            "endpoint": self.endpoint,
            "parameters": self.parameters,
            "request_id": self.request_id,
            "http_status": self.http_status,
            "retry_attempts": self.retry_attempts,
            "error": None if self.error is None else vars(self.error),
            "response": self.response,
        }

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> RawCall:
        error = data.get("error")
        return RawCall(
            seq=data["seq"],
            time=data["time"],
            service=data["service"],
            operation=data["operation"],
            endpoint_region=data["endpoint_region"],
            parameters=data["parameters"],
            request_id=data.get("request_id"),
            http_status=data.get("http_status"),
            retry_attempts=data.get("retry_attempts", 0),
            error=None if error is None else CallError(error["code"], error["message"]),
            response=data.get("response"),
            endpoint=data.get("endpoint", ""),
        )


@dataclass(frozen=True)
class SourceFailure:
    """Why a source could not be collected in full: the call that failed and AWS's error code."""

    operation: str
    code: str
    message: str


@dataclass(frozen=True)
class ResourceFailure:
    """One resource of a source that could not be read (a bucket, a trail, a listener...), while
    the source's other resources were: the check shows it as an `error` item of its own.

    `kind` names the population (bucket, trail, listener); `resource` is its natural identifier.
    """

    kind: str
    resource: str
    operation: str
    code: str
    message: str


@dataclass(frozen=True)
class RawSource:
    """Everything one source fetched for one account and region."""

    source: str
    account: str
    region: str
    caller_arn: str
    started: str
    finished: str
    calls: tuple[RawCall, ...]
    failure: SourceFailure | None = None
    extra_files: tuple[str, ...] = field(default=())
    resource_failures: tuple[ResourceFailure, ...] = ()

    @property
    def complete(self) -> bool:
        """True when every call succeeded or failed in an expected way, and pagination ended."""
        return self.failure is None

    def failed_resources(self, kind: str) -> dict[str, ResourceFailure]:
        """The resources of one kind that could not be read, by identifier."""
        return {f.resource: f for f in self.resource_failures if f.kind == kind}

    def successful(self, operation: str) -> Iterator[RawCall]:
        for call in self.calls:
            if call.operation == operation and call.error is None and call.response is not None:
                yield call

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": RAW_SCHEMA_VERSION,
            "source": self.source,
            "account": self.account,
            "region": self.region,
            "caller_arn": self.caller_arn,
            "started": self.started,
            "finished": self.finished,
            "complete": self.complete,
            "failure": None if self.failure is None else vars(self.failure),
            "extra_files": list(self.extra_files),
            "resource_failures": [vars(f) for f in self.resource_failures],
            "call_count": len(self.calls),
            "calls": [call.to_json() for call in self.calls],
        }

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> RawSource:
        failure = data.get("failure")
        return RawSource(
            source=data["source"],
            account=data["account"],
            region=data["region"],
            caller_arn=data["caller_arn"],
            started=data["started"],
            finished=data["finished"],
            calls=tuple(RawCall.from_json(c) for c in data["calls"]),
            failure=None if failure is None else SourceFailure(**failure),
            extra_files=tuple(data.get("extra_files", ())),
            resource_failures=tuple(
                ResourceFailure(**f) for f in data.get("resource_failures", ())
            ),
        )


def raw_path(source: str, account: str, region: str) -> str:
    """Path of a source's file relative to the pack root."""
    return f"{RAW_DIR}/{account}/{region}/{source}.json"


def json_bytes(data: Any) -> bytes:
    """The one JSON form of every file the tool writes: UTF-8, indented, key order kept."""
    return (json.dumps(data, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


_STREAM_CHUNK = 1 << 16  # characters encoded before they are written out


def write_json_stream(data: Any, handle: BinaryIO) -> None:
    """`json_bytes(data)` written to `handle` as it is encoded, a few dozen KB at a time: a
    whole-organisation document is never held a second time as one string and its bytes."""
    pending: list[str] = []
    size = 0
    for chunk in _ENCODER.iterencode(data):
        pending.append(chunk)
        size += len(chunk)
        if size >= _STREAM_CHUNK:
            handle.write("".join(pending).encode("utf-8"))
            pending.clear()
            size = 0
    pending.append("\n")
    handle.write("".join(pending).encode("utf-8"))


# The encoder json.dumps(indent=1, ensure_ascii=False) uses: the same bytes either way.
_ENCODER = json.JSONEncoder(indent=1, ensure_ascii=False)


class RawStore:
    """Reads a pack's raw/ folder: the only input evaluation has besides controls and as-of."""

    def __init__(self, pack_dir: Path) -> None:
        self.pack_dir = pack_dir

    def path_of(self, source: str, account: str, region: str) -> str:
        return raw_path(source, account, region)

    def get(self, source: str, account: str, region: str) -> RawSource | None:
        file = self.pack_dir / raw_path(source, account, region)
        if not file.is_file():
            return None
        with file.open(encoding="utf-8") as handle:
            return RawSource.from_json(json.load(handle))

    def all_files(self) -> list[Path]:
        root = self.pack_dir / RAW_DIR
        return sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else []
