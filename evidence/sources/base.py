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

from ..pack.raw import RawSource

T = TypeVar("T")
R = TypeVar("R")


class FetchContext(Protocol):
    """What a source's fetch may use: recorded clients for one account and region, and the
    parsed data of the sources it runs after."""

    @property
    def account(self) -> str: ...

    @property
    def region(self) -> str:
        """The region collected, or `global`."""
        ...

    def client(self, service: str, region: str | None = None) -> Any:
        """A recorded client; `region` only for calls that must go elsewhere (a trail's log
        group in its own region, Support in us-east-1)."""
        ...

    def keep_body(self, operation: str, body: Any, parameters: Mapping[str, Any]) -> None:
        """Keep, as the body of this source's last `operation` call with these `parameters`,
        what the evidence needs of a streamed response (a CloudTrail log file's matching
        records, not the whole file)."""
        ...

    def read(self, source: Source[T]) -> T:
        """The parsed result of a dependency (one of this source's `after`), already collected
        for this account; raises DependencyFailed if it could not be."""
        ...

    def each_resource(
        self, kind: str, resources: Mapping[str, R], call: Callable[[R], T]
    ) -> dict[str, T]:
        """`call` once per resource (name -> resource); the answers of those read, by name.

        Every call a source makes per resource goes through here: a resource that cannot be
        read is recorded as a ResourceFailure of `kind` for that name alone (parse() reads it
        back with RawSource.failed_resources(kind)) and the other resources carry on."""
        ...


class DependencyFailed(Exception):
    def __init__(self, source: str, operation: str, code: str, message: str) -> None:
        super().__init__(f"needs {source}, which could not be collected: {message}")
        self.source = source
        self.operation = operation
        self.code = code


class Scope(StrEnum):
    GLOBAL = "global"  # once per account (IAM, STS)
    REGIONAL = "regional"  # once per account and region


@dataclass(frozen=True)
class Source(Generic[T]):
    name: str
    scope: Scope
    # The IAM actions fetch needs: the least-privilege policy is built from them.
    actions: tuple[str, ...]
    fetch: Callable[[FetchContext], None]
    parse: Callable[[RawSource], T]
    # Extra human-readable files derived from the raw file (name suffix -> bytes), e.g. a CSV.
    derived_files: Callable[[RawSource], Mapping[str, bytes]] | None = None
    # The source's own timestamp where it has one, e.g. the credential report's GeneratedTime.
    own_time: Callable[[RawSource], str | None] | None = None
    # Sources whose data fetch reads (collected first, for the same account): collect once.
    after: tuple[Source[Any], ...] = ()

    @property
    def depth(self) -> int:
        """0 for independent sources; otherwise one more than the deepest dependency."""
        return 1 + max(d.depth for d in self.after) if self.after else 0

    def with_dependencies(self) -> list[Source[Any]]:
        found: list[Source[Any]] = []
        for dependency in self.after:
            found.extend(dependency.with_dependencies())
        found.append(self)
        return found


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "Unknown"))


SOURCES: dict[str, Source[Any]] = {}


def register(source: Source[T]) -> Source[T]:
    if source.name in SOURCES:
        raise ValueError(f"source {source.name} registered twice")
    SOURCES[source.name] = source
    return source
