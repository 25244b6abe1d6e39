"""Test fixtures: one moto server per test session on 127.0.0.1, reached over real HTTP.

The tool under test builds its own clients from AWS_ENDPOINT_URL, which points at a fault proxy
in front of moto (it forwards everything unless a test asks for a fault). Seeding goes straight
to moto with boto3; states moto's API cannot make are set in its in-process backend.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Before moto builds its EC2 backends: no built-in AMI snapshots of other accounts.
os.environ["MOTO_EC2_LOAD_DEFAULT_AMIS"] = "false"
os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"  # AdministratorAccess and friends

import boto3
import pytest
from moto.backends import get_backend
from moto.server import ThreadedMotoServer

from evidence.cli import main
from tests.faultproxy import FaultProxy

ACCOUNT = "123456789012"
REPO = Path(__file__).resolve().parent.parent
REPO_CONTROLS = REPO / "controls.yaml"
# The first seven controls of the shipped catalogue: enough for pack, workbook and PDF tests.
CORE_IDS = ("IAM-01", "IAM-02", "IAM-03", "IAM-04", "EC2-01", "RDS-01", "RDS-02")
CORE = tuple(arg for control_id in CORE_IDS for arg in ("--only", control_id))


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    # One line per request otherwise, and a traceback for each operation moto lacks.
    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="session")
def proxy(moto_url: str) -> Iterator[FaultProxy]:
    fault_proxy = FaultProxy(moto_url).start()
    yield fault_proxy
    fault_proxy.stop()


@dataclass
class Aws:
    """The emulated AWS of one test: seed it, break it, look inside it."""

    url: str
    proxy: FaultProxy

    def client(self, service: str, region: str = "us-east-1", **credentials: str) -> Any:
        return boto3.client(
            service,  # type: ignore[call-overload]
            region_name=region,
            endpoint_url=self.url,
            aws_access_key_id=credentials.get("key", "testing"),
            aws_secret_access_key=credentials.get("secret", "testing"),
            aws_session_token=credentials.get("token"),
        )

    def backend(self, service: str, region: str = "global", account: str = ACCOUNT) -> Any:
        return get_backend(service)[account][region]  # type: ignore[call-overload]


@contextmanager
def emulated_aws(moto_url: str, proxy: FaultProxy, tmp: Path) -> Iterator[Aws]:
    """A freshly reset emulated account, and an environment pointing the tool at it."""
    request = urllib.request.Request(f"{moto_url}/moto-api/reset", data=b"", method="POST")
    urllib.request.urlopen(request).close()
    proxy.reset()
    with pytest.MonkeyPatch.context() as env:
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_REGION"):
            env.delenv(name, raising=False)
        env.setenv("AWS_ENDPOINT_URL", proxy.url)
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        env.setenv("AWS_DEFAULT_REGION", "us-east-1")
        env.setenv("AWS_EC2_METADATA_DISABLED", "true")
        env.setenv("AWS_CONFIG_FILE", str(tmp / "no-aws-config"))
        env.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp / "no-aws-credentials"))
        yield Aws(moto_url, proxy)


@pytest.fixture
def aws(moto_url: str, proxy: FaultProxy, tmp_path: Path) -> Iterator[Aws]:
    with emulated_aws(moto_url, proxy, tmp_path) as emulated:
        yield emulated


def collect_pack(output: Path, *args: str, controls: Path = REPO_CONTROLS) -> tuple[int, Path]:
    """`soc-evidence collect` outside a test's fixtures (for packs shared by a module)."""
    with contextlib.redirect_stdout(io.StringIO()):
        code = main(
            [
                "collect",
                "--controls",
                str(controls),
                "--output",
                str(output),
                "--max-attempts",
                "2",
                *args,
            ]
        )
    (pack,) = [p for p in output.iterdir() if not p.name.startswith(".")]
    return code, pack


@dataclass
class Run:
    code: int
    out: str
    err: str
    output_dir: Path

    @property
    def packs(self) -> list[Path]:
        if not self.output_dir.is_dir():
            return []
        return sorted(
            p for p in self.output_dir.iterdir() if p.is_dir() and not p.name.startswith(".")
        )

    @property
    def pack(self) -> Path:
        """The pack this run wrote, as the command printed it."""
        (line,) = [line for line in self.out.splitlines() if line.startswith("Pack: ")]
        return Path(line.removeprefix("Pack: "))

    @property
    def results(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads((self.pack / "results.json").read_text())
        return document

    def control(self, control_id: str) -> dict[str, Any]:
        return next(c for c in self.results["controls"] if c["id"] == control_id)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Any:
    """Run the real command line in-process; returns its exit code and output."""

    def run(*args: str) -> Run:
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err, tmp_path / "output")

    return run


@pytest.fixture
def collect(cli: Any, tmp_path: Path, aws: Aws) -> Any:
    """`soc-evidence collect` into tmp_path/output with the repo's controls.yaml by default."""

    def run(*args: str, controls: Path = REPO_CONTROLS) -> Run:
        base = ["collect", "--controls", str(controls), "--output", str(tmp_path / "output")]
        return cli(*base, "--max-attempts", "2", *args)  # type: ignore[no-any-return]

    return run


def write_controls(path: Path, body: str, organisation: str = "Test Co") -> Path:
    path.write_text(f"organisation:\n  name: {organisation}\ncontrols:\n{body}", encoding="utf-8")
    return path
