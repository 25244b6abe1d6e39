"""Runs sources: each in its own recording, concurrently, its raw file written when it ends.

A failing call ends its source with a recorded failure (operation and AWS error code); other
sources carry on. Nothing here knows about controls.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ..pack.builder import PackBuilder
from ..pack.raw import RawSource, RawStore, SourceFailure, raw_path
from ..sources.base import DependencyFailed, FetchContext, Source
from .failures import describe_failure
from .recorder import Recorder


@dataclass(frozen=True)
class Task:
    source: Source[Any]
    account: str
    region: str  # `global` for global sources

    @property
    def label(self) -> str:
        return f"{self.account}/{self.region}/{self.source.name}"


def run_source(
    source: Source[Any], scoped: FetchContext, recorder: Recorder, caller_arn: str
) -> RawSource:
    with recorder.recording(source.name, scoped.account, scoped.region, caller_arn) as bucket:
        try:
            source.fetch(scoped)
        except Exception as exc:  # transport errors, exhausted retries, timeouts: not collected
            bucket.failure = SourceFailure(*describe_failure(exc, bucket.calls))
    return bucket.freeze(recorder.now())


class RawWriter:
    """Writes raw files (and the human-readable files derived from them) into a pack."""

    def __init__(self, pack: PackBuilder) -> None:
        self.pack = pack

    def write(self, raw: RawSource, source: Source[Any]) -> str:
        path = raw_path(raw.source, raw.account, raw.region)
        extra: list[str] = []
        if source.derived_files is not None and raw.complete:
            for suffix, content in source.derived_files(raw).items():
                extra_path = path.removesuffix(".json") + f".{suffix}"
                self.pack.write_bytes(extra_path, content)
                extra.append(extra_path)
        self.pack.write_json(path, dataclasses.replace(raw, extra_files=tuple(extra)).to_json())
        return path


class PackDependencies:
    """Reads a dependency's raw file back from the pack being built, so a dependent source uses
    exactly the evidence that was kept (and the dependency's call is made once)."""

    def __init__(self, pack: PackBuilder) -> None:
        self._store = RawStore(pack.dir)

    def __call__(self, source: Source[Any], account: str, region: str) -> Any:
        raw = self._store.get(source.name, account, region)
        if raw is None:
            raise DependencyFailed(
                source.name,
                source.actions[0].split(":")[1],
                "NotCollected",
                f"{source.name} was not collected",
            )
        if raw.failure is not None:
            failure = raw.failure
            raise DependencyFailed(source.name, failure.operation, failure.code, failure.message)
        return source.parse(raw)
