"""`soc-evidence demo`: the real collect path against an embedded, seeded emulated account."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from ..assemble.finish import PackOutcome
from ..catalog.loader import load_catalog
from ..catalog.requests import load_request_list
from ..collect.clients import AwsSettings, StaticCredentials
from ..collect.run import CollectRequest, collect
from ..pack.period import EventsFrom
from ..pack.signing import Signer
from .company import REGIONS, seed_company
from .period import demo_period, seed_period
from .server import moto_server


def run_demo(
    controls: Path, output: Path, requests: Path | None = None, signer: Signer | None = None
) -> PackOutcome:
    load_catalog(controls)  # a bad catalogue fails before the emulator starts
    if requests is not None:
        load_request_list(requests)  # ...and so does a bad request list
    with moto_server() as endpoint:
        seed_company(endpoint)
        # A Type II period: moto has no LookupEvents, so the trail's S3 log files are read.
        now = datetime.now(UTC)
        period = demo_period(now)
        seed_period(period, now)
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
            requests=requests,
            period=period,
            events_from=EventsFrom.S3,
            demo=True,
            signer=signer,
        )
        return collect(request)
