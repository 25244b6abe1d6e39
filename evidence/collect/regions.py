"""Region names checked against botocore's own partition data, before anything is collected.

A region botocore does not know would only fail later as an endpoint error per source; a typo
(`us-est-1`) is a usage error naming it, with the closest known names.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from functools import cache

import botocore
import botocore.loaders

from ..errors import UsageError

ALL_REGIONS = "all"


@cache
def known_regions() -> frozenset[str]:
    """Every region of every partition in the installed botocore (endpoints.json, and
    partitions.json where this botocore has it); pseudo-regions such as aws-global left out."""
    loader = botocore.loaders.create_loader()
    names: set[str] = set()
    for partition in loader.load_data("endpoints")["partitions"]:
        names.update(partition.get("regions", {}))
    try:
        for partition in loader.load_data("partitions")["partitions"]:
            names.update(partition.get("regions", {}))
    except botocore.exceptions.DataNotFoundError:
        pass
    return frozenset(name for name in names if not name.endswith("-global"))


def region_problem(name: str) -> str | None:
    """Why `name` is not a region this tool can collect, or None."""
    if name == ALL_REGIONS or name in known_regions():
        return None
    close = difflib.get_close_matches(name, sorted(known_regions()), n=2)
    hint = f"did you mean {' or '.join(close)}?" if close else "see `aws ec2 describe-regions`"
    return (
        f"unknown region {name!r} ({hint}; botocore {botocore.__version__} knows"
        f" {len(known_regions())} regions: upgrade it for newer ones)"
    )


def split_regions(values: Iterable[str]) -> tuple[str, ...]:
    """`--region a,b --region c` as (a, b, c), in order, each once."""
    parts = (part.strip() for value in values for part in value.split(","))
    return tuple(dict.fromkeys(part for part in parts if part))


def check_regions(regions: Iterable[str], where: str = "--region") -> None:
    """UsageError naming the first unknown region."""
    for name in regions:
        problem = region_problem(name)
        if problem:
            raise UsageError(f"{where}: {problem}")


NO_REGION_HINT = (
    "no region: pass --region REGION (repeatable or comma-separated; `all` = every enabled"
    " region), or set AWS_REGION or AWS_DEFAULT_REGION, or `region` in your AWS profile"
)
