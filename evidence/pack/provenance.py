"""Provenance: which endpoint each call reached, and whether that endpoint is AWS's own.

An auditor asks first whether a listing comes from the system claimed (AUDITOR.md, IPE (1)). A
custom `AWS_ENDPOINT_URL` (an emulator, a proxy, a mock) can answer every call plausibly, so the
endpoint actually used is recorded per call and any that is not AWS's is said on every page.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

import botocore.loaders
from botocore.exceptions import BotoCoreError
from botocore.hooks import HierarchicalEmitter
from botocore.model import ServiceModel
from botocore.regions import EndpointRulesetResolver


def endpoint_origin(url: str) -> str:
    """`scheme://host[:port]` of a request URL (path, query and any user info dropped), lower
    case; "" when the URL has no scheme or host."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.hostname:
        return ""
    host = parts.netloc.rsplit("@", 1)[-1]
    return f"{parts.scheme}://{host}".lower()


# The switches under which AWS publishes more than one endpoint for a service and region: FIPS,
# dual-stack, the legacy global S3/STS hosts and S3 path-style addressing (a profile's
# `addressing_style = path`). Each combination is an endpoint of AWS's own; the default first.
_VARIANTS = tuple(
    {
        "AWS::UseFIPS": fips,
        "AWS::UseDualStack": dualstack,
        "AWS::S3::UseGlobalEndpoint": global_endpoint,
        "AWS::STS::UseGlobalEndpoint": global_endpoint,
        "AWS::S3::ForcePathStyle": path_style,
    }
    for path_style in (False, True)
    for fips in (False, True)
    for dualstack in (False, True)
    for global_endpoint in (False, True)
)


@functools.cache
def _loader() -> Any:
    return botocore.loaders.create_loader()


# botocore's EndpointResolverBuiltins (by their ruleset names) of a client with no custom
# endpoint and no S3 options; region and the variants come per call.
_FIXED_BUILTINS: dict[str, Any] = {
    "SDK::Endpoint": None,
    "AWS::S3::Accelerate": False,
    "AWS::S3::UseArnRegion": True,
    "AWS::S3Control::UseArnRegion": False,
    "AWS::S3::DisableMultiRegionAccessPoints": False,
    "AWS::Auth::AccountIdEndpointMode": "disabled",
}


class _DefaultEndpoints(EndpointRulesetResolver):
    """botocore's ruleset resolver taking its builtins (region, FIPS, ...) per call from the
    request context: one resolver (one parsed ruleset) per service serves every region and
    variant. `_get_customized_builtins` is where botocore itself lets hooks change builtins."""

    def _get_customized_builtins(
        self, operation_model: Any, call_args: Any, request_context: Any
    ) -> dict[str, Any]:
        return {**_FIXED_BUILTINS, **request_context["builtins"]}


@functools.cache
def _resolver(service_name: str) -> Any:
    """The endpoint-ruleset resolver of one service with no custom endpoint (SDK::Endpoint unset)
    and no event handlers: what a default client would resolve."""
    loader = _loader()
    builtins: Any = dict(_FIXED_BUILTINS)
    return _DefaultEndpoints(
        endpoint_ruleset_data=loader.load_service_model(service_name, "endpoint-rule-set-1"),
        partition_data=loader.load_data("partitions"),
        service_model=ServiceModel(
            loader.load_service_model(service_name, "service-2"), service_name
        ),
        builtins=builtins,
        client_context={},
        event_emitter=HierarchicalEmitter(),
    )


def aws_origins(operation_model: Any, parameters: Mapping[str, Any], region: str) -> frozenset[str]:
    """The endpoints (`scheme://host`) botocore itself resolves for this call in `region` with no
    custom endpoint: one per FIPS/dual-stack/global variant the service offers there (variants the
    ruleset rejects for that region are left out). `operation_model` is botocore's OperationModel;
    `parameters` the call's API parameters (S3 puts the bucket in the host).

    This, not a DNS suffix, decides what is AWS's own: API Gateway, ELB, CloudFront, Lambda URL
    and S3 website hosts are under amazonaws.com too but are served by the customer.
    """
    return frozenset(_resolved(operation_model, parameters, region)) - {""}


def _resolved(operation_model: Any, parameters: Mapping[str, Any], region: str) -> Iterable[str]:
    """Each variant's endpoint origin, resolved one at a time (callers may stop early)."""
    resolver = _resolver(operation_model.service_model.service_name)
    for variant in _VARIANTS:
        context = {"builtins": {"AWS::Region": region, **variant}}
        try:
            url = resolver.construct_endpoint(operation_model, dict(parameters), context).url
        except BotoCoreError:  # a variant AWS does not offer in this region
            continue
        yield endpoint_origin(url)


def is_aws_endpoint(
    url: str, operation_model: Any, parameters: Mapping[str, Any], region: str
) -> bool:
    """True when `url` reached an endpoint botocore resolves for this service, region and call
    (`aws_origins`), over HTTPS.

    Plain HTTP is not counted as AWS even on an AWS host name: without TLS nothing shows the
    answer came from AWS (every AWS API endpoint serves HTTPS).
    """
    origin = endpoint_origin(url)
    if not origin.startswith("https://"):
        return False
    return any(origin == resolved for resolved in _resolved(operation_model, parameters, region))


def not_aws(endpoints: Iterable[str]) -> tuple[str, ...]:
    """The endpoints (sorted, each once, blanks dropped) recorded as not AWS's own."""
    return tuple(sorted({e for e in endpoints if e}))
