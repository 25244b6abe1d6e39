"""A source fetches one kind of AWS data once; many checks read it.

Sources know nothing of controls. `fetch` makes calls through a recorded client (so what it gets
is kept by the recorder, not by the source); `parse` rebuilds typed data from the raw file alone,
so a pack can be re-evaluated offline.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, Protocol, TypeVar

from botocore.exceptions import ClientError

from ..rawstore import RawSource

T = TypeVar("T")


class FetchContext(Protocol):
    """What a source's fetch may use: recorded clients for one account and region."""

    @property
    def account(self) -> str: ...

    @property
    def region(self) -> str:
        """The region collected, or `global`."""
        ...

    def client(self, service: str) -> Any: ...


class Scope(StrEnum):
    GLOBAL = "global"  # once per account (IAM, STS)
    REGIONAL = "regional"  # once per account and region


@dataclass(frozen=True)
class Source(Generic[T]):
    name: str
    scope: Scope
    actions: tuple[
        str, ...
    ]  # IAM actions fetch needs: the least-privilege policy is built from them
    fetch: Callable[[FetchContext], None]
    parse: Callable[[RawSource], T]
    # Extra human-readable files derived from the raw file (name suffix -> bytes), e.g. a CSV.
    derived_files: Callable[[RawSource], Mapping[str, bytes]] | None = None
    # The source's own timestamp where it has one, e.g. the credential report's GeneratedTime.
    own_time: Callable[[RawSource], str | None] | None = None


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "Unknown"))


SOURCES: dict[str, Source[Any]] = {}


def register(source: Source[T]) -> Source[T]:
    if source.name in SOURCES:
        raise ValueError(f"source {source.name} registered twice")
    SOURCES[source.name] = source
    return source
