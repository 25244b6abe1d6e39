"""`soc-evidence demo`: the real collect path against an embedded, seeded emulated account."""

from __future__ import annotations

from pathlib import Path

from ..assemble.finish import PackOutcome
from ..catalog.loader import load_catalog
from ..collect.clients import AwsSettings, StaticCredentials
from ..collect.run import CollectRequest, collect
from ..pack.signing import Signer
from .company import REGIONS, seed_company
from .server import moto_server


def run_demo(controls: Path, output: Path, signer: Signer | None = None) -> PackOutcome:
    load_catalog(controls)  # a bad catalogue fails before the emulator starts
    with moto_server() as endpoint:
        seed_company(endpoint)
        request = CollectRequest(
            controls_path=controls,
            output_dir=output,
            regions=REGIONS,
            aws=AwsSettings(
                region=REGIONS[0],
                endpoint_url=endpoint,
                credentials=StaticCredentials("demo", "demo"),
                max_attempts=3,
            ),
            demo=True,
            signer=signer,
        )
        return collect(request)
