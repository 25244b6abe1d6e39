"""Sessions and clients: every client is created here, configured for retries and recorded.

Nothing global: a run builds its own AccountClients and passes them down.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import ProfileNotFound

from .. import __version__
from ..errors import CredentialsError
from .failures import CREDENTIAL_ERROR_CODES, CREDENTIAL_EXCEPTIONS
from .per_resource import each_resource
from .recorder import Recorder
from .scheduler import InFlight

__all__ = ["CREDENTIAL_ERROR_CODES", "CREDENTIAL_EXCEPTIONS", "AccountClients", "AwsSettings"]

R = TypeVar("R")
T = TypeVar("T")


@dataclass(frozen=True)
class StaticCredentials:
    access_key_id: str
    secret_access_key: str
    session_token: str | None = None


@dataclass(frozen=True)
class AwsSettings:
    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None  # None: boto3's own resolution (AWS_ENDPOINT_URL included)
    credentials: StaticCredentials | None = None
    # Adaptive retries ride out about a minute of throttling before a call counts as failed.
    max_attempts: int = 10
    max_pool_connections: int = 10


def make_session(
    settings: AwsSettings, share_models_with: boto3.Session | None = None
) -> boto3.Session:
    """A boto3 session. Sessions for assumed roles share the first session's loaded service
    models, so opening a thousand accounts does not parse the same JSON a thousand times."""
    try:
        if settings.credentials is not None:
            creds = settings.credentials
            core = botocore.session.get_session()
            if share_models_with is not None:
                loader = share_models_with._session.get_component("data_loader")
                core.register_component("data_loader", loader)
            return boto3.Session(
                aws_access_key_id=creds.access_key_id,
                aws_secret_access_key=creds.secret_access_key,
                aws_session_token=creds.session_token,
                region_name=settings.region,
                botocore_session=core,
            )
        # AWS_REGION is what the AWS CLI and most SDKs read first; botocore reads only
        # AWS_DEFAULT_REGION and the profile, so it is passed on here.
        region = settings.region or os.environ.get("AWS_REGION") or None
        return boto3.Session(profile_name=settings.profile, region_name=region)
    except ProfileNotFound as exc:
        raise CredentialsError(f"AWS profile not found: {exc}") from None


def client_config(settings: AwsSettings) -> Config:
    return Config(
        # total_max_attempts counts the first try; botocore's "max_attempts" counts retries.
        retries={"mode": "adaptive", "total_max_attempts": settings.max_attempts},
        user_agent_extra=f"soc-evidence/{__version__}",
        connect_timeout=10,
        read_timeout=60,
        max_pool_connections=settings.max_pool_connections,
    )


class AccountClients:
    """Recorded clients for one account, created once per service and region and reused.

    botocore clients are thread-safe; sessions are not, so creation is serialised.
    """

    def __init__(
        self, session: boto3.Session, settings: AwsSettings, recorder: Recorder, home_region: str
    ) -> None:
        self.session = session
        self._settings = settings
        self._config = client_config(settings)
        self.recorder = recorder
        self.home_region = home_region  # where global services (IAM, STS) are called
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def client(self, service: str, region: str) -> Any:
        key = (service, region)
        with self._lock:
            if key not in self._clients:
                client = self.session.client(
                    service,  # type: ignore[call-overload]
                    region_name=region,
                    endpoint_url=self._settings.endpoint_url,
                    config=self._config,
                )
                self._clients[key] = self.recorder.attach(client)
            return self._clients[key]

    def context(
        self,
        account: str,
        region: str,
        reader: DependencyReader | None = None,
        budget: InFlight | None = None,
    ) -> ScopedClients:
        """The FetchContext of one source for `account` and `region`; `budget` is that account
        and region's in-flight slots (the source's thread holding one), which per-resource calls
        share; without it they are made one after another."""
        client_region = self.home_region if region == "global" else region
        return ScopedClients(account, region, client_region, self, reader, budget)


class DependencyReader(Protocol):
    def __call__(self, source: Any, account: str, region: str) -> Any: ...


@dataclass(frozen=True)
class ScopedClients:
    """The FetchContext a source receives: clients for one account and region."""

    account: str
    region: str
    client_region: str
    clients: AccountClients
    reader: DependencyReader | None = None
    budget: InFlight | None = None

    def client(self, service: str, region: str | None = None) -> Any:
        return self.clients.client(service, region or self.client_region)

    def each_resource(
        self, kind: str, resources: Mapping[str, R], call: Callable[[R], T]
    ) -> dict[str, T]:
        return each_resource(self.clients.recorder, kind, resources, call, self.budget)

    def keep_body(self, operation: str, body: Any, parameters: Mapping[str, Any]) -> None:
        self.clients.recorder.keep_body(operation, body, parameters)

    def read(self, source: Any) -> Any:
        if self.reader is None:
            raise RuntimeError(f"no dependency reader for {source.name}")
        region = "global" if source.scope == "global" else self.region
        return self.reader(source, self.account, region)
