"""CloudTrail events for an audit period: the changes the checks declare, read two ways.

- `cloudtrail.lookup_events`: cloudtrail:LookupEvents, one paginated query per event name (the
  API takes one lookup attribute), at most 2 calls a second per account and region (AWS's limit
  for LookupEvents). Event history holds the last 90 days of management events.
- `cloudtrail.log_files`: the trail's own log files in S3
  (`[prefix/]AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/*.json.gz`, organisation trails
  under `AWSLogs/<org id>/<account>/...`), listed day by day and read object by object, several
  at once within the account and region's in-flight budget: an object is decompressed and each
  record matched on its parsed event source and name (only those two fields decoded); the raw
  file keeps every listing (key, ETag, size) and, per object read, its record count and its
  matching records whole.

Both are recorded like every other call. Parsing gives the same PeriodEvents either way, with the
gaps (days without log files, objects that could not be read) that keep a period from passing.
Events of global services (IAM, STS) are recorded in one region of each partition (us-east-1 in
the aws partition): the `global` variant reads those; from log files it reads every name there,
and that region's own variant nothing, so no object is read twice.
AWS docs: CloudTrail User Guide, "Viewing events with CloudTrail Event history" (90 days,
LookupEvents 2 requests per second per account per Region), "Finding your CloudTrail log files",
"CloudTrail record contents", "Understanding CloudTrail events" (global service events).
"""

from __future__ import annotations

import json
import re
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec

from ..pack.raw import RawSource, parse_utc
from .base import FetchContext, Scope, Source
from .cloudtrail import TRAILS, Trail

LOOKUP_EVENTS = "cloudtrail.lookup_events"
LOG_FILES = "cloudtrail.log_files"

# Global services deliver their events to us-east-1 (CloudTrail User Guide, "global service
# events"); their changes are read there once per account.
GLOBAL_EVENT_SOURCES = frozenset(
    {
        "iam.amazonaws.com",
        "sts.amazonaws.com",
        "organizations.amazonaws.com",
        "cloudfront.amazonaws.com",
        "route53.amazonaws.com",
    }
)
# Where each partition records them (CloudTrail User Guide: since November 2021 in US East (N.
# Virginia) for the aws partition; the first region of the China and GovCloud partitions).
GLOBAL_EVENTS_REGIONS = {"aws": "us-east-1", "aws-cn": "cn-north-1", "aws-us-gov": "us-gov-west-1"}
LOOKUP_CALLS_PER_SECOND = 2.0
_ORG_ID = re.compile(r"^o-[a-z0-9]{10,32}$")

EventName = tuple[str, str]  # (eventSource, eventName)


@dataclass(frozen=True)
class TrailEvent:
    """One CloudTrail record that changed (or tried to change) a checked resource."""

    event_id: str
    time: datetime
    source: str  # eventSource
    name: str  # eventName
    region: str  # awsRegion
    account: str  # recipientAccountId
    principal: str  # userIdentity ARN (or type and invokedBy for AWS services)
    source_ip: str
    user_agent: str
    request: Mapping[str, Any]  # requestParameters: what was asked for
    response: Mapping[str, Any]  # responseElements (e.g. new security group rule ids)
    error_code: str | None  # set when the call failed: it changed nothing

    @property
    def succeeded(self) -> bool:
        return self.error_code is None

    @staticmethod
    def from_record(record: Mapping[str, Any]) -> TrailEvent:
        identity = record.get("userIdentity") or {}
        principal = (
            identity.get("arn")
            or identity.get("invokedBy")
            or f"{identity.get('type', 'unknown')}:{identity.get('principalId', '')}"
        )
        return TrailEvent(
            event_id=str(record.get("eventID", "")),
            time=parse_utc(str(record["eventTime"])),
            source=str(record.get("eventSource", "")),
            name=str(record.get("eventName", "")),
            region=str(record.get("awsRegion", "")),
            account=str(record.get("recipientAccountId", "")),
            principal=str(principal),
            source_ip=str(record.get("sourceIPAddress", "")),
            user_agent=str(record.get("userAgent", "")),
            request=record.get("requestParameters") or {},
            response=record.get("responseElements") or {},
            error_code=record.get("errorCode"),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "time": self.time.isoformat().replace("+00:00", "Z"),
            "event_source": self.source,
            "event_name": self.name,
            "region": self.region,
            "principal": self.principal,
            "source_ip": self.source_ip,
            "user_agent": self.user_agent,
            "request_parameters": self.request,
            "error_code": self.error_code,
        }


@dataclass(frozen=True)
class PeriodEvents:
    """The events read for one account and region (or the global services), and what is missing.

    `gaps` name what could not be read: while any is set, no item may pass for the period.
    """

    mode: str  # "lookup" or "s3"
    events: tuple[TrailEvent, ...]
    read_from: datetime | None  # the window asked for
    read_until: datetime | None
    gaps: tuple[str, ...]
    objects_read: int = 0
    regions: tuple[str, ...] = ()  # log files: the regions whose files were listed

    def merged(self, other: PeriodEvents) -> PeriodEvents:
        starts = [t for t in (self.read_from, other.read_from) if t is not None]
        ends = [t for t in (self.read_until, other.read_until) if t is not None]
        seen = {e.event_id for e in self.events}
        return PeriodEvents(
            mode=self.mode,
            events=self.events + tuple(e for e in other.events if e.event_id not in seen),
            read_from=max(starts) if starts else None,
            read_until=min(ends) if ends else None,
            gaps=tuple(dict.fromkeys(self.gaps + other.gaps)),
            objects_read=self.objects_read + other.objects_read,
            regions=tuple(sorted(set(self.regions) | set(other.regions))),
        )


class CallRate:
    """At most `per_second` calls per key (account, region), shared by every thread of a run."""

    def __init__(
        self,
        per_second: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._interval = 1.0 / per_second
        self._clock = clock
        self._sleep = sleep
        self._next: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def wait(self, key: tuple[str, str]) -> None:
        with self._lock:
            now = self._clock()
            slot = max(now, self._next.get(key, now))
            self._next[key] = slot + self._interval
        if slot > now:
            self._sleep(slot - now)


# ---------------------------------------------------------------- which events where


def names_for(scope: Scope, wanted: Iterable[EventName]) -> tuple[EventName, ...]:
    """The events a variant reads: global services' in the global one, the rest per region."""
    is_global = scope is Scope.GLOBAL
    return tuple(sorted({e for e in wanted if (e[0] in GLOBAL_EVENT_SOURCES) == is_global}))


def global_events_region(ctx: FetchContext) -> str:
    """The region where the account's partition records global services' events."""
    partition = str(getattr(ctx.client("cloudtrail").meta, "partition", "aws"))
    return GLOBAL_EVENTS_REGIONS.get(partition, GLOBAL_EVENTS_REGIONS["aws"])


def regions_read(raw: RawSource) -> tuple[str, ...]:
    """The regions whose log files a log-file raw file listed (from its day prefixes)."""
    found = {
        str(call.parameters["Prefix"]).split("/CloudTrail/", 1)[1].split("/", 1)[0]
        for call in raw.calls
        if call.operation == "ListObjectsV2"
        and "Delimiter" not in call.parameters
        and "/CloudTrail/" in str(call.parameters.get("Prefix", ""))
    }
    return tuple(sorted(found))


# ---------------------------------------------------------------- LookupEvents


def _fetch_lookup(
    ctx: FetchContext, names: tuple[EventName, ...], start: datetime, rate: CallRate
) -> None:
    region = global_events_region(ctx) if ctx.region == "global" else ctx.region
    client = ctx.client("cloudtrail", region)
    end = datetime.now(UTC)
    for event_name in sorted({name for _, name in names}):
        token: str | None = None
        while True:
            rate.wait((ctx.account, region))
            params: dict[str, Any] = {
                "LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": event_name}],
                "StartTime": start,
                "EndTime": end,
                "MaxResults": 50,
            }
            if token:
                params["NextToken"] = token
            page = client.lookup_events(**params)
            token = page.get("NextToken")
            if not token:
                break


def _parse_lookup(raw: RawSource) -> PeriodEvents:
    events: dict[str, TrailEvent] = {}
    start = end = None
    for call in raw.successful("LookupEvents"):
        start = start or parse_utc(str(call.parameters["StartTime"]))
        end = end or parse_utc(str(call.parameters["EndTime"]))
        for found in (call.response or {}).get("Events", []):
            record = json.loads(found["CloudTrailEvent"])
            event = TrailEvent.from_record(record)
            events[event.event_id] = event
    ordered = tuple(sorted(events.values(), key=lambda e: (e.time, e.event_id)))
    return PeriodEvents("lookup", ordered, start, end, ())


def lookup_events_source(
    scope: Scope, names: tuple[EventName, ...], start: datetime, rate: CallRate
) -> Source[PeriodEvents]:
    """The LookupEvents source of one run: its event names, window start and shared rate."""
    return replace(
        LOOKUP_EVENTS_SOURCE,
        scope=scope,
        fetch=lambda ctx: _fetch_lookup(ctx, names, start, rate),
    )


LOOKUP_EVENTS_SOURCE: Source[PeriodEvents] = Source(
    name=LOOKUP_EVENTS,
    scope=Scope.REGIONAL,
    actions=("cloudtrail:LookupEvents",),
    fetch=lambda ctx: None,  # replaced per run: the names and window come from the request
    parse=_parse_lookup,
)


# ---------------------------------------------------------------- the trail's S3 log files


class NoTrailLogs(Exception):
    """No trail of the account delivers log files that can be read for the period."""


def delivering_trail(trails: Iterable[Trail]) -> Trail:
    """The trail whose log files hold the account's events: multi-region, delivering to S3,
    logging; an organisation trail or the first by name when several qualify."""
    candidates = [t for t in trails if t.s3_bucket and t.multi_region]
    if not candidates:
        raise NoTrailLogs("no multi-region trail delivers log files to S3")
    return sorted(candidates, key=lambda t: (t.is_logging is not True, t.name))[0]


def log_prefixes(ctx: FetchContext, trail: Trail, region: str) -> str:
    """`[prefix/]AWSLogs/[<org id>/]<account>/CloudTrail/<region>/` for this account."""
    base = f"{trail.s3_key_prefix.strip('/')}/AWSLogs/" if trail.s3_key_prefix else "AWSLogs/"
    if trail.organization_trail:
        s3 = ctx.client("s3")
        listing = s3.list_objects_v2(Bucket=trail.s3_bucket, Prefix=base, Delimiter="/")
        for common in listing.get("CommonPrefixes", []):
            org = str(common["Prefix"])[len(base) :].strip("/")
            if _ORG_ID.match(org):
                return f"{base}{org}/{ctx.account}/CloudTrail/{region}/"
    return f"{base}{ctx.account}/CloudTrail/{region}/"


def days(start: datetime, end: datetime) -> Iterator[date]:
    day = start.astimezone(UTC).date()
    while day <= end.astimezone(UTC).date():
        yield day
        day += timedelta(days=1)


def _fetch_log_files(
    ctx: FetchContext, names: tuple[EventName, ...], start: datetime, global_reads: bool
) -> None:
    """`global_reads`: a global variant runs for this account and reads the global events
    region's files for every name (regional ones included), so that region's regional variant
    reads nothing: each object is read once."""
    if global_reads and ctx.region == global_events_region(ctx):
        return
    trails: tuple[Trail, ...] = ctx.read(TRAILS)
    trail = delivering_trail(trails)
    region = global_events_region(ctx) if ctx.region == "global" else ctx.region
    prefix = log_prefixes(ctx, trail, region)
    matcher = RecordMatcher(names)
    s3 = ctx.client("s3")
    bucket = str(trail.s3_bucket)

    def read(listed: tuple[str, str]) -> None:
        key, etag = listed
        # IfMatch: the object read is the one listed (its ETag is in the evidence).
        answer = s3.get_object(Bucket=bucket, Key=key, IfMatch=etag)
        ctx.keep_body("GetObject", matcher.read(answer["Body"]), {"Key": key})

    def listed(day_prefix: str) -> list[tuple[str, str]]:
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=day_prefix)
        return [
            (str(found["Key"]), str(found["ETag"]))
            for page in pages
            for found in page.get("Contents", [])
            if str(found["Key"]).endswith(".json.gz")
        ]

    # Both steps through the per-resource fan-out, within the account and region's budget: the
    # days listed (a day that cannot be listed is a gap of its own), then the objects read, in
    # key order (which is time order); an object that cannot be read is a gap of its own.
    end = datetime.now(UTC)
    day_prefixes = {
        f"{prefix}{day:%Y/%m/%d}/": f"{prefix}{day:%Y/%m/%d}/" for day in days(start, end)
    }
    found = ctx.each_resource("log_day", day_prefixes, listed)
    objects = {key: (key, etag) for keys in found.values() for key, etag in keys}
    ctx.each_resource("log_file", objects, read)


class _Head(msgspec.Struct):
    """The two fields a record is matched on; msgspec skips the others without building them."""

    eventSource: str | None = None  # null or absent: not a wanted event, the file still read
    eventName: str | None = None


class _HeadLog(msgspec.Struct):
    Records: list[_Head]


class _RawLog(msgspec.Struct):
    Records: list[msgspec.Raw]  # each record's own JSON text, not decoded


_HEADS = msgspec.json.Decoder(_HeadLog)
_RAWS = msgspec.json.Decoder(_RawLog)


class RecordMatcher:
    """Streams one gzip CloudTrail log file and keeps the records of the wanted events.

    Every record is matched on its parsed `eventSource` and `eventName` (never on a text search),
    but only those two fields are decoded: msgspec walks the rest of the record in C without
    building Python objects. Only a file with a wanted record is walked a second time, to keep
    those records whole. Measured on one 1 MB file of 1,000 records (1.3 ms to gunzip): json
    11 to 19 ms, orjson 10 to 12 ms (building every record is the cost), msgspec 0.47 ms for
    the two fields of every record and 0.37 ms for the records' boundaries; the text search the
    first version ran before a full json parse took 0.66 ms with the record count, and a file
    with one match then cost 12 to 19 ms more.
    """

    def __init__(self, names: Iterable[EventName]) -> None:
        self._wanted = frozenset(names)

    def read(self, body: Any) -> dict[str, Any]:
        """{"records": n, "matching": [...]} for one object, or {"error": ...} naming why it
        could not be read (a gap for the period, never skipped silently)."""
        try:
            data = _gunzip(body)
        except (OSError, EOFError, zlib.error) as exc:
            return {"error": f"not a readable gzip file: {exc}"}
        try:
            heads = _HEADS.decode(data).Records
        except msgspec.DecodeError as exc:  # ValidationError is one: no Records list, say
            return {"error": f"not a CloudTrail log file: {exc}"}
        wanted = self._wanted
        hits = [i for i, head in enumerate(heads) if (head.eventSource, head.eventName) in wanted]
        matching: list[Any] = []
        if hits:
            records = _RAWS.decode(data).Records
            matching = [json.loads(bytes(records[i])) for i in hits]
        return {"records": len(heads), "matching": matching}


def _gunzip(body: Any, chunk: int = 1 << 20) -> bytes:
    """The decompressed object, read in chunks from the HTTP stream (never all compressed
    bytes and the output at once)."""
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
    parts: list[bytes] = []
    while True:
        piece = body.read(chunk)
        if not piece:
            break
        parts.append(inflate.decompress(piece))
        while inflate.eof and inflate.unused_data:  # concatenated gzip members
            rest = inflate.unused_data
            inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
            parts.append(inflate.decompress(rest))
    if not inflate.eof:
        raise EOFError("the gzip stream ends early")
    parts.append(inflate.flush())
    return b"".join(parts)


def _parse_log_files(raw: RawSource) -> PeriodEvents:
    events: dict[str, TrailEvent] = {}
    gaps: list[str] = []
    listed: dict[str, int] = {}
    start = end = None
    for call in raw.calls:
        if call.operation == "ListObjectsV2" and "Delimiter" not in call.parameters:
            day_prefix = str(call.parameters["Prefix"])
            if call.error is not None or call.response is None:
                gaps.append(f"could not list {day_prefix}: {call.error and call.error.code}")
                continue
            contents = [c for c in call.response.get("Contents", []) if c["Key"].endswith(".gz")]
            listed[day_prefix] = listed.get(day_prefix, 0) + len(contents)
        elif call.operation == "GetObject":
            key = str(call.parameters["Key"])
            body = (call.response or {}).get("Body")
            if call.error is not None or not isinstance(body, dict):
                code = call.error.code if call.error else "NotRead"
                gaps.append(f"could not read s3://{call.parameters['Bucket']}/{key}: {code}")
            elif "error" in body:
                gaps.append(f"s3://{call.parameters['Bucket']}/{key}: {body['error']}")
            else:
                for record in body["matching"]:
                    event = TrailEvent.from_record(record)
                    events[event.event_id] = event
    for day_prefix, count in sorted(listed.items()):
        moment = _day_of(day_prefix)
        start = moment if start is None or moment < start else start
        end = moment + timedelta(days=1) if end is None or moment >= end else end
        if count == 0:
            gaps.append(f"no CloudTrail log file for {moment:%Y-%m-%d} under {day_prefix}")
    if end is not None:
        end = min(end, parse_utc(raw.finished))
    ordered = tuple(sorted(events.values(), key=lambda e: (e.time, e.event_id)))
    objects = sum(1 for c in raw.calls if c.operation == "GetObject")
    return PeriodEvents("s3", ordered, start, end, tuple(gaps), objects, regions_read(raw))


def _day_of(day_prefix: str) -> datetime:
    year, month, day = day_prefix.rstrip("/").split("/")[-3:]
    return datetime(int(year), int(month), int(day), tzinfo=UTC)


def log_files_source(
    scope: Scope, names: tuple[EventName, ...], start: datetime, global_reads: bool = False
) -> Source[Any]:
    """The S3 log-file source of one run: its event names and window start (`global_reads`:
    see _fetch_log_files)."""
    return replace(
        LOG_FILES_SOURCE,
        scope=scope,
        fetch=lambda ctx: _fetch_log_files(ctx, names, start, global_reads),
    )


LOG_FILES_SOURCE: Source[PeriodEvents] = Source(
    name=LOG_FILES,
    scope=Scope.REGIONAL,
    actions=("s3:ListBucket", "s3:GetObject"),
    fetch=lambda ctx: None,  # replaced per run: the names and window come from the request
    parse=_parse_log_files,
    after=(TRAILS,),
)

EVENT_SOURCES: Mapping[str, Source[PeriodEvents]] = {
    LOOKUP_EVENTS: LOOKUP_EVENTS_SOURCE,
    LOG_FILES: LOG_FILES_SOURCE,
}
