"""Records every AWS call at the SDK edge, through botocore's event hooks.

Collectors never save what they fetch: every client the run creates is attached to the recorder,
and each call (including every page of a paginator, and calls that fail) lands in the recording of
the source that is running in the current thread (a ContextVar: a thread that works for a source
runs in a copy of the source thread's context). A call made outside a recording is a bug and
raises, so nothing the run fetches can go unrecorded.
"""

from __future__ import annotations

import copy
import dataclasses
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..pack.provenance import endpoint_origin, is_aws_endpoint
from ..pack.raw import CallError, RawCall, RawSource, ResourceFailure, SourceFailure, jsonable

# Secrets are never written into a pack: AssumeRole answers carry temporary credentials.
SECRET_FIELDS = frozenset({"SecretAccessKey", "SessionToken", "Password", "MasterUserPassword"})
REDACTED = "<redacted>"

_PARAMS_KEY = "soc_evidence_params"
_SERVICE_KEY = "soc_evidence_service"
_ENDPOINT_KEY = "soc_evidence_endpoint"
_CALL_KEY = "soc_evidence_call"  # (operation model, API parameters): what the endpoint is judged by


@dataclass
class Recording:
    """The calls of one source for one account and region, while it runs."""

    source: str
    account: str
    region: str
    caller_arn: str
    started: datetime
    calls: list[RawCall] = field(default_factory=list)
    failure: SourceFailure | None = None
    resource_failures: list[ResourceFailure] = field(default_factory=list)

    def freeze(self, finished: datetime, extra_files: tuple[str, ...] = ()) -> RawSource:
        from ..pack.raw import utc_iso

        return RawSource(
            source=self.source,
            account=self.account,
            region=self.region,
            caller_arn=self.caller_arn,
            started=utc_iso(self.started),
            finished=utc_iso(finished),
            calls=tuple(self.calls),
            failure=self.failure,
            extra_files=extra_files,
            resource_failures=tuple(self.resource_failures),
        )


class Recorder:
    """Shared by every client of a run; thread-safe."""

    def __init__(self, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._clock = clock
        self._current: ContextVar[Recording | None] = ContextVar("recording", default=None)
        self._lock = threading.Lock()
        self._seq = 0
        self.calls_per_operation: Counter[str] = Counter()
        self.endpoints: set[str] = set()  # every endpoint a call of the run reached
        # Those that were not the endpoint botocore resolves for the call's service and region.
        self.not_aws_endpoints: set[str] = set()
        # (service, region, endpoint) -> judged AWS's own: a host's judgement is the same for
        # every call of a service in a region (an S3 bucket's host serves that bucket only).
        self._judged: dict[tuple[str, str, str], bool] = {}

    def attach(self, client: Any) -> Any:
        events = client.meta.events
        # provide-client-params is the first event: the parameters exactly as the caller gave them.
        events.register("provide-client-params.*.*", self._capture_params)
        # before-call carries the URL the endpoint resolver chose, for calls that fail unanswered.
        events.register("before-call.*.*", self._capture_endpoint)
        events.register("after-call.*.*", self._after_call)
        events.register("after-call-error.*.*", self._after_call_error)
        return client

    @contextmanager
    def recording(
        self, source: str, account: str, region: str, caller_arn: str
    ) -> Iterator[Recording]:
        bucket = Recording(source, account, region, caller_arn, self._clock())
        token = self._current.set(bucket)
        try:
            yield bucket
        finally:
            self._current.reset(token)

    @contextmanager
    def part(self) -> Iterator[Recording]:
        """A recording of its own, within the current one, for the calls this thread makes on
        one resource while other threads work on the source's other resources: the caller
        adds its calls to the source's recording in a fixed order once they are all done."""
        whole = self.current()
        part = Recording(whole.source, whole.account, whole.region, whole.caller_arn, whole.started)
        token = self._current.set(part)
        try:
            yield part
        finally:
            self._current.reset(token)

    def keep_body(self, operation: str, body: Any, parameters: Mapping[str, Any]) -> None:
        """Set the body of the current recording's last `operation` call made with these
        `parameters`: a streamed body is read after the call was recorded, so what the
        evidence keeps of it is added here."""
        bucket = self._current.get()
        if bucket is None:
            raise RuntimeError(f"keep_body for {operation} outside a recording")
        with self._lock:
            for index in range(len(bucket.calls) - 1, -1, -1):
                call = bucket.calls[index]
                if call.operation == operation and all(
                    call.parameters.get(k) == v for k, v in parameters.items()
                ):
                    response = {**(call.response or {}), "Body": body}
                    bucket.calls[index] = dataclasses.replace(call, response=response)
                    return
        raise RuntimeError(f"keep_body: no {operation} call recorded with {dict(parameters)}")

    def now(self) -> datetime:
        return self._clock()

    def current(self) -> Recording:
        """The recording of the source running in this thread (a call outside one is a bug)."""
        bucket = self._current.get()
        if bucket is None:
            raise RuntimeError("no source is being recorded in this thread")
        return bucket

    def _capture_params(
        self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any
    ) -> None:
        context[_PARAMS_KEY] = redact(jsonable(copy.deepcopy(params)))
        # Kept here because a call that fails before any response has only its event name.
        context[_SERVICE_KEY] = str(model.service_model.service_name)
        context[_CALL_KEY] = (model, dict(params))

    def _capture_endpoint(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context[_ENDPOINT_KEY] = endpoint_origin(str(params.get("url", "")))

    def _after_call(
        self,
        http_response: Any,
        parsed: dict[str, Any],
        model: Any,
        context: dict[str, Any],
        **_: Any,
    ) -> None:
        metadata = parsed.get("ResponseMetadata", {})
        error = None
        if http_response.status_code >= 300:
            info = parsed.get("Error", {})
            error = CallError(str(info.get("Code", "Unknown")), str(info.get("Message", "")))
        # The URL the answer actually came from.
        answered = endpoint_origin(str(getattr(http_response, "url", "") or ""))
        if answered:
            context[_ENDPOINT_KEY] = answered
        self._add(
            model,
            context,
            request_id=metadata.get("RequestId"),
            http_status=http_response.status_code,
            retry_attempts=int(metadata.get("RetryAttempts", 0)),
            error=error,
            response=redact(jsonable(parsed)),
        )

    def _after_call_error(self, exception: Exception, context: dict[str, Any], **kw: Any) -> None:
        operation = str(kw.get("event_name", "after-call-error.unknown.Unknown")).split(".")[-1]
        model = _Failed(operation, context.get(_SERVICE_KEY, "unknown"))
        self._add(
            model,
            context,
            request_id=None,
            http_status=None,
            retry_attempts=0,
            error=CallError(type(exception).__name__, str(exception)),
            response=None,
        )

    def _add(self, model: Any, context: dict[str, Any], **outcome: Any) -> None:
        bucket = self._current.get()
        if bucket is None:
            raise RuntimeError(f"AWS call {model.name} made outside a recording")
        with self._lock:
            self._seq += 1
            seq = self._seq
            self.calls_per_operation[f"{_service_of(model)}:{model.name}"] += 1
            endpoint = str(context.get(_ENDPOINT_KEY, ""))
            if endpoint:
                self.endpoints.add(endpoint)
        if endpoint and not self._is_aws(endpoint, context):
            with self._lock:
                self.not_aws_endpoints.add(endpoint)
        bucket.calls.append(
            RawCall(
                seq=seq,
                time=self._clock().astimezone(UTC).isoformat().replace("+00:00", "Z"),
                service=_service_of(model),
                operation=model.name,
                endpoint_region=str(context.get("client_region", "")),
                parameters=context.get(_PARAMS_KEY, {}),
                endpoint=endpoint,
                **outcome,
            )
        )

    def _is_aws(self, endpoint: str, context: Mapping[str, Any]) -> bool:
        """Whether `endpoint` is the one botocore resolves for this call with no custom endpoint,
        judged once per service, region and endpoint (a resolution takes about a millisecond)."""
        region = str(context.get("client_region", "") or "")
        if _CALL_KEY not in context:
            return False
        model, parameters = context[_CALL_KEY]
        key = (str(model.service_model.service_name), region, endpoint)
        judged = self._judged.get(key)
        if judged is None:
            judged = is_aws_endpoint(endpoint, model, parameters, region)
            with self._lock:
                self._judged[key] = judged
        return judged


def redact(value: Any) -> Any:
    """The value with every secret field replaced, however deep (applied before storage)."""
    if isinstance(value, dict):
        return {k: REDACTED if k in SECRET_FIELDS else redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


@dataclass(frozen=True)
class _Failed:
    """after-call-error gives no operation model: the names it needs, from event and context."""

    name: str
    service: str


def _service_of(model: Any) -> str:
    if isinstance(model, _Failed):
        return model.service
    # boto3's name for the service (cloudwatch, elbv2, s3control): what a reader looks up.
    return str(model.service_model.service_name)
