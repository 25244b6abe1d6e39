"""A small reverse proxy between the tool and moto that injects the faults moto cannot make.

Rules match an AWS operation (from the query-protocol `Action` or the JSON `X-Amz-Target`) and
answer with an AWS-shaped error instead of forwarding, a given number of times or forever. Every
request is counted per operation, so tests can bound the calls a run makes, and per account key
and region while in flight. `delay_ms` holds every request that long before it is answered: the
latency of real AWS (30 to 150 ms) on an emulator that answers in a few milliseconds.

Run on its own (the benchmarks do): python -m tests.faultproxy UPSTREAM --delay-ms 50 [--port N]
prints the proxy's URL and serves until stopped.
"""

from __future__ import annotations

import argparse
import functools
import re
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import botocore.session

_SERVICE_IN_AUTH = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")
GLOBAL_SERVICES = frozenset({"iam", "sts", "organizations", "support", "s3"})
_KEY_AND_REGION = re.compile(r"Credential=([^/]+)/\d{8}/([^/]+)/")


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        # A client killed mid-request (the kill tests do that on purpose) is not an error.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


# Upstream response headers the proxy forwards besides x-amz-*: what S3 clients read.
_PASSED_HEADERS = frozenset({"etag", "last-modified", "content-range", "accept-ranges"})


def _forwarded(headers: Any) -> dict[str, str]:
    """Request headers as sent upstream. A body without a Content-Type (S3 PutObject) gets the
    type S3 assumes, not the form encoding urllib would add (moto would parse it as a form and
    store an empty object)."""
    forwarded = {k: v for k, v in headers.items() if k.lower() != "host"}
    if not any(k.lower() == "content-type" for k in forwarded):
        forwarded["Content-Type"] = "binary/octet-stream"
    return forwarded


@dataclass
class Fault:
    operation: str
    code: str
    status: int = 400
    message: str = "injected by the test proxy"
    times: int | None = None  # None: every time
    service: str | None = None  # restrict to a signing service name (iam, ec2, rds, ...)
    region: str | None = None  # restrict to a signing region
    body_contains: str | None = None  # restrict to requests whose body has this text
    path_contains: str | None = None  # restrict to requests whose path has this text (REST)


@dataclass
class Between:
    """A change to the emulated account made once, after the first of `operations` has been
    answered and before the tool sees that answer: a change between two calls."""

    operations: frozenset[str]
    action: Callable[[], None]
    done: bool = False


class FaultProxy:
    def __init__(self, upstream: str, delay_ms: float = 0, port: int = 0) -> None:
        self.upstream = upstream.rstrip("/")
        self.delay_ms = delay_ms  # added to every request, inside its time in flight
        self.faults: list[Fault] = []
        self.between: list[Between] = []
        self.calls: Counter[str] = Counter()
        self.injected: Counter[str] = Counter()
        # Most requests seen at once per (access key, region): one account's calls in a region.
        self.in_flight: Counter[tuple[str, str]] = Counter()
        self.peak_in_flight: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()
        self._server = _QuietServer(("127.0.0.1", port), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def fail(self, operation: str, code: str, **kwargs: object) -> Fault:
        fault = Fault(operation, code, **kwargs)  # type: ignore[arg-type]
        with self._lock:
            self.faults.append(fault)
        return fault

    def after_first(self, operations: Iterable[str], action: Callable[[], None]) -> None:
        """Run `action` once, right after the first request for any of `operations` is answered
        (e.g. create users between GetCredentialReport and GetAccountSummary)."""
        with self._lock:
            self.between.append(Between(frozenset(operations), action))

    def _between(self, operation: str) -> None:
        with self._lock:
            due = [b for b in self.between if not b.done and operation in b.operations]
            for change in due:
                change.done = True
        for change in due:
            change.action()

    def reset(self) -> None:
        with self._lock:
            self.faults.clear()
            self.between.clear()
            self.calls.clear()
            self.injected.clear()
            self.in_flight.clear()
            self.peak_in_flight.clear()

    def _enter(self, key: tuple[str, str]) -> None:
        with self._lock:
            self.in_flight[key] += 1
            self.peak_in_flight[key] = max(self.peak_in_flight[key], self.in_flight[key])

    def _leave(self, key: tuple[str, str]) -> None:
        with self._lock:
            self.in_flight[key] -= 1

    def _match(
        self, service: str, operation: str, region: str = "", body: bytes = b"", path: str = ""
    ) -> Fault | None:
        with self._lock:
            self.calls[operation] += 1
            for fault in self.faults:
                if fault.operation != operation or fault.times == 0:
                    continue
                if fault.service is not None and fault.service != service:
                    continue
                if fault.region is not None and fault.region != region:
                    continue
                if fault.body_contains is not None and fault.body_contains.encode() not in body:
                    continue
                if fault.path_contains is not None and fault.path_contains not in path:
                    continue
                if fault.times is not None:
                    fault.times -= 1
                self.injected[operation] += 1
                return fault
        return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body are written separately: with Nagle's algorithm on, the body waits
            # for the client's delayed ACK of the headers, about 40 ms on every request.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                service, operation, is_json = _identify(self.headers, self.path, body, self.command)
                signer = _KEY_AND_REGION.search(self.headers.get("Authorization", ""))
                key = (signer.group(1), signer.group(2)) if signer else ("", "")
                if service in GLOBAL_SERVICES:  # as the tool counts them: not a region's calls
                    key = (key[0], "global")
                proxy._enter(key)
                try:
                    if proxy.delay_ms:
                        time.sleep(proxy.delay_ms / 1000)
                    region = signer.group(2) if signer else ""
                    self._answer(service, operation, is_json, region, body)
                finally:
                    proxy._leave(key)

            def _answer(
                self, service: str, operation: str, is_json: bool, region: str, body: bytes
            ) -> None:
                fault = proxy._match(service, operation, region, body, self.path)
                if fault is not None:
                    self._reply(fault.status, *_error_body(service, fault, is_json))
                    return
                request = urllib.request.Request(
                    proxy.upstream + self.path,
                    data=body if self.command != "GET" else None,
                    method=self.command,
                    headers=_forwarded(self.headers),
                )
                try:
                    with urllib.request.urlopen(request, timeout=60) as response:
                        status, headers, payload = (
                            response.status,
                            response.headers,
                            response.read(),
                        )
                except urllib.error.HTTPError as error:
                    status, headers, payload = error.code, error.headers, error.read()
                content_type = headers.get("Content-Type", "text/xml")
                # S3 answers in headers (version id, checksum, Object Lock): pass them on.
                passed = [
                    (k, v)
                    for k, v in headers.items()
                    if k.lower() in _PASSED_HEADERS
                    or (k.lower().startswith("x-amz-") and k.lower() != "x-amzn-requestid")
                ]
                proxy._between(operation)
                self._reply(status, payload, content_type, passed)

            def _reply(
                self,
                status: int,
                payload: bytes,
                content_type: str,
                passed: list[tuple[str, str]] | None = None,
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("x-amzn-RequestId", "proxy-request-id")
                for name, value in passed or ():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _forward

        return Handler


def _identify(
    headers: object, path: str, body: bytes, method: str = "POST"
) -> tuple[str, str, bool]:
    get = headers.get  # type: ignore[attr-defined]
    match = _SERVICE_IN_AUTH.search(get("Authorization", ""))
    service = match.group(1) if match else ""
    target = get("X-Amz-Target")
    if target:
        return service, target.rsplit(".", 1)[-1], True
    form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
    query = urllib.parse.parse_qs(urllib.parse.urlparse(path).query)
    action = (form.get("Action") or query.get("Action") or [""])[0]
    if action:
        return service, action, False
    # REST protocols (S3, GuardDuty): the operation is the method and URI template it matches.
    names = frozenset(str(k).lower() for k in headers)  # type: ignore[attr-defined]
    operation, is_json = _rest_operation(service, method, path, names)
    return service, operation, is_json


@functools.cache
def _rest_routes(
    service: str,
) -> tuple[tuple[str, re.Pattern[str], frozenset[str], frozenset[str], tuple[int, bool], str], ...]:
    try:
        model = botocore.session.get_session().get_service_model(service)
    except Exception:
        return ()
    routes = []
    for name in model.operation_names:
        operation = model.operation_model(name)
        # Directory-bucket-only operations (ListDirectoryBuckets) share S3's paths: they lose ties.
        general = not name.endswith("DirectoryBuckets")
        http = operation.http
        template = http.get("requestUri", "/")
        uri, _, query = template.partition("?")
        pattern = "".join(
            (".+" if part.endswith("+}") else "[^/]+") if part.startswith("{") else re.escape(part)
            for part in re.split(r"(\{[^}]+\})", uri)
        )
        # The query keys that tell operations on the same path apart: the template's own (but
        # `x-id`, which botocore does not send) and the required query-string members (ListParts
        # needs uploadId; GetObject, on the same path, needs none). Operations sharing a URI also
        # differ by required headers: UploadPartCopy and CopyObject need x-amz-copy-source.
        keys = {k.split("=")[0] for k in query.split("&") if k} - {"x-id"}
        required_headers = set()
        shape = operation.input_shape
        members = shape.members if shape is not None else {}
        for member in shape.required_members if shape is not None else ():
            where = members[member].serialization
            if where.get("location") == "querystring":
                keys.add(where.get("name", member))
            elif where.get("location") == "header":
                required_headers.add(where.get("name", member).lower())
        literal = len(re.sub(r"\{[^}]+\}", "", template))
        routes.append(
            (
                http.get("method", "GET"),
                re.compile(f"^{pattern}/?$"),
                frozenset(keys),
                frozenset(required_headers),
                (literal, general),
                name,
            )
        )
    return tuple(routes)


def _rest_operation(
    service: str, method: str, path: str, headers: frozenset[str] = frozenset()
) -> tuple[str, bool]:
    parsed = urllib.parse.urlparse(path)
    pairs = urllib.parse.parse_qsl(parsed.query, keep_blank_values=True)
    present = {k for k, _ in pairs} | {f"{k}={v}" for k, v in pairs}
    candidates = [
        (len(keys) + len(needed), literal, name)
        for verb, pattern, keys, needed, literal, name in _rest_routes(service)
        if verb == method and pattern.match(parsed.path) and keys <= present and needed <= headers
    ]
    protocol = _protocol(service)
    return (max(candidates)[2] if candidates else "", protocol == "rest-json")


@functools.cache
def _protocol(service: str) -> str:
    try:
        model = botocore.session.get_session().get_service_model(service)
    except Exception:
        return ""
    return str(model.protocol)


def _error_body(service: str, fault: Fault, is_json: bool) -> tuple[bytes, str]:
    if service == "s3":
        xml = (
            f"<Error><Code>{fault.code}</Code><Message>{fault.message}</Message>"
            "<RequestId>proxy-request-id</RequestId></Error>"
        )
        return xml.encode(), "application/xml"
    if is_json:
        body = f'{{"__type": "{fault.code}", "message": "{fault.message}"}}'
        return body.encode(), "application/x-amz-json-1.1"
    if service == "ec2":
        xml = (
            f"<Response><Errors><Error><Code>{fault.code}</Code><Message>{fault.message}</Message>"
            "</Error></Errors><RequestID>proxy-request-id</RequestID></Response>"
        )
    else:
        xml = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{fault.code}</Code>"
            f"<Message>{fault.message}</Message></Error>"
            "<RequestId>proxy-request-id</RequestId></ErrorResponse>"
        )
    return xml.encode(), "text/xml"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.faultproxy")
    parser.add_argument("upstream", help="the emulator's URL, e.g. http://127.0.0.1:5000")
    parser.add_argument("--delay-ms", type=float, default=0, help="added to every request")
    parser.add_argument("--port", type=int, default=0, help="default: any free port")
    args = parser.parse_args(argv)
    proxy = FaultProxy(args.upstream, args.delay_ms, args.port).start()
    print(proxy.url, flush=True)
    try:
        proxy._thread.join()
    except KeyboardInterrupt:
        proxy.stop()


if __name__ == "__main__":
    main()
