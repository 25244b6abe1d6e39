"""Queries as made: a raw file's calls grouped by operation and parameter set, with the pages
received, the records returned and whether pagination ran to the end.

Derived from the recorded calls alone, read through botocore's own paginator models (data
installed with botocore: nothing is fetched), so every source gets the same account of its
queries without declaring anything. Two listings of one operation with different parameters are
two queries; the pages of one listing (the same parameters but the page token) are one.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

import botocore.session
import jmespath  # type: ignore[import-untyped]
from botocore.exceptions import DataNotFoundError, UnknownServiceError

from ..pack.raw import RawCall, RawSource, decode_bytes, raw_path


@dataclass(frozen=True)
class Query:
    """One query exactly as made: an operation with one parameter set, and every page of it."""

    account: str
    region: str  # the region collected (`global` for IAM and other global sources)
    endpoint_region: str  # the region whose endpoint answered
    service: str
    operation: str
    parameters: Mapping[str, Any]  # as the tool passed them, page tokens left out
    paginated: bool  # the operation pages its results (botocore's paginator model)
    pages: int  # calls made with these parameters: one per page, polls and failures included
    records: Mapping[str, int]  # records returned per result list, over every page
    complete: bool  # every page answered and, for a listing, no page token left
    errors: tuple[str, ...]  # AWS error code of each call that failed
    first_call: str  # UTC
    last_call: str
    raw_file: str

    @property
    def items(self) -> int:
        """Records returned in all; a single-object answer (a setting) counts as one."""
        if self.records:
            return sum(self.records.values())
        return 0 if self.errors and self.pages == len(self.errors) else 1

    def to_json(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "region": self.region,
            "endpoint_region": self.endpoint_region,
            "service": self.service,
            "operation": self.operation,
            "parameters": dict(self.parameters),
            "paginated": self.paginated,
            "pages": self.pages,
            "items": self.items,
            "records": dict(self.records),
            "complete": self.complete,
            "errors": list(self.errors),
            "first_call": self.first_call,
            "last_call": self.last_call,
            "raw_file": self.raw_file,
        }


def queries_of(raw: RawSource) -> list[Query]:
    """The queries one raw file holds, in the order they were first made."""
    groups: dict[tuple[str, str, str, str], list[RawCall]] = {}
    for call in raw.calls:
        paging = _paging(call.service, call.operation)
        parameters = _without_tokens(call.parameters, paging)
        key = (
            call.endpoint_region,
            call.service,
            call.operation,
            json.dumps(parameters, sort_keys=True, default=str),
        )
        groups.setdefault(key, []).append(call)
    last_seq = raw.calls[-1].seq if raw.calls else None
    return [
        _query(raw, calls, stopped_source=raw.failure is not None and calls[-1].seq == last_seq)
        for calls in groups.values()
    ]


def queries_of_all(raws: Iterable[RawSource]) -> list[Query]:
    return [query for raw in raws for query in queries_of(raw)]


def _query(raw: RawSource, calls: Sequence[RawCall], stopped_source: bool) -> Query:
    first, last = calls[0], calls[-1]
    paging = _paging(first.service, first.operation)
    answered = [c for c in calls if c.error is None and c.response is not None]
    if paging is not None:
        records = _sum_records(answered, paging)
        complete = last.error is None and last.response is not None and _ended(last, paging)
    else:
        records = _single_records(first.service, first.operation, answered)
        complete = not stopped_source and (last.error is None or _not_configured(last))
    return Query(
        account=raw.account,
        region=raw.region,
        endpoint_region=first.endpoint_region,
        service=first.service,
        operation=first.operation,
        parameters=_without_tokens(first.parameters, paging),
        paginated=paging is not None,
        pages=len(calls),
        records=records,
        complete=complete,
        errors=tuple(c.error.code for c in calls if c.error is not None),
        first_call=first.time,
        last_call=last.time,
        raw_file=raw_path(raw.source, raw.account, raw.region),
    )


def _not_configured(call: RawCall) -> bool:
    """AWS answered that the thing asked about does not exist (NoSuchEntity for the password
    policy, NoSuchBucketPolicy, ServerSideEncryptionConfigurationNotFoundError: HTTP 404): an
    answer, and evidence. A refusal (403), throttling or a server error is not."""
    return call.http_status == 404


# ---------------------------------------------------------------- botocore's models


@lru_cache(maxsize=1)
def _botocore() -> botocore.session.Session:
    return botocore.session.get_session()


@cache
def _paginator_model(service: str) -> Any:
    try:
        return _botocore().get_paginator_model(service)
    except (DataNotFoundError, UnknownServiceError):
        return None


@cache
def _paging(service: str, operation: str) -> Mapping[str, Any] | None:
    """botocore's pagination config of an operation (input/output tokens, result keys), or None
    when the operation does not page."""
    model = _paginator_model(service)
    if model is None:
        return None
    try:
        return dict(model.get_paginator(operation))
    except ValueError:
        return None


def _names(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or ())


def _without_tokens(
    parameters: Mapping[str, Any], paging: Mapping[str, Any] | None
) -> dict[str, Any]:
    tokens = set(_names(paging.get("input_token"))) if paging else set()
    return {k: v for k, v in parameters.items() if k not in tokens}


def _ended(call: RawCall, paging: Mapping[str, Any]) -> bool:
    """True when the page says there is no next page (botocore's own stopping rule)."""
    response = call.response or {}
    more = paging.get("more_results")
    if more is not None and not jmespath.search(more, response):
        return True
    return all(not jmespath.search(token, response) for token in _names(paging["output_token"]))


def _sum_records(calls: Sequence[RawCall], paging: Mapping[str, Any]) -> dict[str, int]:
    counts = {key: 0 for key in _names(paging.get("result_key"))}
    for call in calls:
        for key in counts:
            found = jmespath.search(key, call.response or {})
            counts[key] += len(found) if isinstance(found, list) else 0
    return counts


# Answers whose records are not a list in the response: counted from the content itself.
def _credential_report_rows(response: Mapping[str, Any]) -> dict[str, int]:
    text = decode_bytes(response.get("Content", "")).decode("utf-8")
    return {"rows": sum(1 for _ in csv.DictReader(io.StringIO(text)))}


_CONTENT_RECORDS = {("iam", "GetCredentialReport"): _credential_report_rows}


def _single_records(service: str, operation: str, calls: Sequence[RawCall]) -> dict[str, int]:
    """Records of a non-paginated query: from its last answer (repeated calls are polls, not
    pages)."""
    if not calls:
        return {}
    response = calls[-1].response or {}
    special = _CONTENT_RECORDS.get((service, operation))
    if special is not None:
        return special(response)
    # The answer's own top-level lists (trailList, Regions, ...). Read from the answer rather than
    # from botocore's service model: loading every service model costs ~40 MB and 0.7 s, and
    # the parsed answers already hold empty lists as [].
    return {
        name: len(value)
        for name, value in response.items()
        if isinstance(value, list) and name != "ResponseMetadata"
    }
