"""Provenance: which endpoint each call reached, and whether that endpoint is AWS's own.

An auditor asks first whether a listing comes from the system claimed (AUDITOR.md, IPE (1)). A
custom `AWS_ENDPOINT_URL` (an emulator, a proxy, a mock) can answer every call plausibly, so the
endpoint actually used is recorded per call and any that is not AWS's is said on every page.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from urllib.parse import urlsplit

import botocore.loaders


def endpoint_origin(url: str) -> str:
    """`scheme://host[:port]` of a request URL (path, query and any user info dropped), lower
    case; "" when the URL has no scheme or host."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.hostname:
        return ""
    host = parts.netloc.rsplit("@", 1)[-1]
    return f"{parts.scheme}://{host}".lower()


@functools.cache
def aws_dns_suffixes() -> tuple[str, ...]:
    """Every AWS partition's DNS suffixes (amazonaws.com, api.aws, amazonaws.com.cn, ...), read
    from botocore's own partition data, so a new partition needs no change here."""
    data = botocore.loaders.create_loader().load_data("partitions")
    suffixes: set[str] = set()
    for partition in data["partitions"]:
        outputs = partition.get("outputs", {})
        for key in ("dnsSuffix", "dualStackDnsSuffix"):
            if outputs.get(key):
                suffixes.add(str(outputs[key]).lower())
    return tuple(sorted(suffixes))


def is_aws_endpoint(url: str) -> bool:
    """True when the endpoint is HTTPS on a host under an AWS partition's DNS suffix.

    Plain HTTP is not counted as AWS even on an AWS host name: without TLS nothing shows the
    answer came from AWS (every AWS API endpoint serves HTTPS).
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().rstrip(".")
    if parts.scheme.lower() != "https" or not host:
        return False
    return any(host == suffix or host.endswith("." + suffix) for suffix in aws_dns_suffixes())


def not_aws(endpoints: Iterable[str]) -> tuple[str, ...]:
    """The endpoints (sorted, each once) that are not AWS's own."""
    return tuple(sorted({e for e in endpoints if e and not is_aws_endpoint(e)}))
