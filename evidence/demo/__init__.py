"""`soc-evidence demo`: the real collect path against an embedded, seeded emulated account."""

from __future__ import annotations

import dataclasses
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from ..assemble.finish import PackOutcome
from ..catalog.loader import load_catalog
from ..catalog.requests import load_request_list
from ..collect.accounts import Progress
from ..collect.clients import AwsSettings, StaticCredentials
from ..collect.run import CollectRequest, collect, select_controls
from ..pack.builder import writable_output
from ..pack.period import EventsFrom
from .catalog import write_demo_catalog
from .company import REGIONS, seed_company
from .period import demo_period, seed_period
from .server import moto_server, same_ids_every_run


def run_demo(request: CollectRequest, progress: Progress | None = None) -> PackOutcome:
    """Collect `request` (catalogue, --only, regions, output, share mode, request list) from a
    freshly seeded emulated account, with a Type II period, the catalogue with the demo's
    accepted exception and attached file added. Its AWS settings are replaced by
    the emulator's; no region means the two seeded ones. Every usage error is raised before the
    emulator starts."""
    select_controls(load_catalog(request.controls_path), request.only)
    if request.requests is not None:
        load_request_list(request.requests)  # a bad request list fails before the emulator
    writable_output(request.output_dir)
    with (
        tempfile.TemporaryDirectory(prefix="soc-evidence-demo-") as folder,
        moto_server() as endpoint,
    ):
        same_ids_every_run(endpoint)
        seed_company(endpoint)
        # A Type II period: moto has no LookupEvents, so the trail's S3 log files are read.
        now = datetime.now(UTC)
        # An accepted exception and an attached file, in a copy of the catalogue (demo/catalog.py).
        controls = write_demo_catalog(request.controls_path, Path(folder), now.date())
        period = demo_period(now)
        seed_period(period, now)
        demo = dataclasses.replace(
            request,
            controls_path=controls,
            regions=request.regions or REGIONS,
            aws=AwsSettings(
                region=REGIONS[0],
                endpoint_url=endpoint,
                credentials=StaticCredentials("demo", "demo"),
                max_attempts=3,
            ),
            period=period,
            events_from=EventsFrom.S3,
            demo=True,  # marked DEMO on every export: nobody may take it for evidence
        )
        return collect(demo, progress)
