"""An in-process moto server on 127.0.0.1 (port chosen by the OS): the emulated AWS endpoint."""

from __future__ import annotations

import logging
import os
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..errors import EvidenceToolError

# moto would otherwise load ~1,300 public AMI snapshots owned by other accounts: slow and noisy.
os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
# ...but it should know AWS managed policies such as AdministratorAccess.
os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")

DEMO_ACCOUNT = "123456789012"  # moto's default account


@contextmanager
def moto_server() -> Iterator[str]:
    """Yield the endpoint URL of a running moto server; stop it afterwards."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        raise EvidenceToolError(
            "the demo needs the emulator: pip install 'soc-evidence[demo]'"
        ) from None
    # The emulator logs every request (and a traceback for each operation it does not
    # implement) through werkzeug; the demo's output is the summary and the pack.
    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
    server: Any = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


# moto draws resource ids (snapshots, security group rules, detectors) from one random generator;
# seeded, two demo runs make the same ids, so `diff` between them shows only what changed.
ID_SEED = 2026


def same_ids_every_run(endpoint: str) -> None:
    """Seed the emulator's id generator (moto's `POST /moto-api/seed`) before the company is
    seeded: the same resources get the same ids, hence the same stable item ids, every run."""
    request = urllib.request.Request(f"{endpoint}/moto-api/seed?a={ID_SEED}", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


def iam_backend(account: str = DEMO_ACCOUNT) -> Any:
    """moto's in-process IAM backend, for states its API cannot make (root MFA, old keys)."""
    from moto.backends import get_backend

    return get_backend("iam")[account]["global"]


def config_backend(region: str, account: str = DEMO_ACCOUNT) -> Any:
    """moto's in-process AWS Config backend, for states its API cannot make (a failing
    recorder)."""
    from moto.backends import get_backend

    return get_backend("config")[account][region]
