"""The one way a source makes calls per resource (per bucket, per trail, per listener...).

AWS answers some questions only one resource at a time. One resource that cannot be read (a
bucket whose policy is denied, a trail deleted between listing and reading, an organization trail
a member account cannot query) must not hide the others: its failure is recorded for that
resource alone, in the source's raw file (`resource_failures`), and the check shows it as an
`error` item while still judging the rest.

Every per-resource call of every source goes through `each_resource`, so that this is also the one
place to make them concurrent within the per account-and-region budget (--max-in-flight).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from ..pack.raw import ResourceFailure
from ..sources.base import error_code
from .failures import CREDENTIAL_ERROR_CODES, describe_failure
from .recorder import Recorder

R = TypeVar("R")
T = TypeVar("T")


def each_resource(
    recorder: Recorder, kind: str, resources: Mapping[str, R], call: Callable[[R], T]
) -> dict[str, T]:
    """`call` once per resource, in order; the answers of those that could be read, by name.

    A ClientError or transport error on one resource is recorded against that resource (kind,
    name, operation, AWS error code) and the others carry on. Credentials that stop working end
    the whole source: every later call would fail the same way. Any other exception (a bug) is
    not swallowed.
    """
    answers: dict[str, T] = {}
    for name, resource in resources.items():
        recording = recorder.current()
        try:
            answers[name] = call(resource)
        except (ClientError, BotoCoreError) as exc:
            if isinstance(exc, ClientError) and error_code(exc) in CREDENTIAL_ERROR_CODES:
                raise
            operation, code, message = describe_failure(exc, recording.calls)
            recording.resource_failures.append(
                ResourceFailure(kind, name, operation, code, message)
            )
    return answers
