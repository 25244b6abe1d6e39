"""`soc-evidence demo`: the real collect path against an embedded, seeded emulated account."""

from __future__ import annotations

import dataclasses

from ..assemble.finish import PackOutcome
from ..catalog.loader import load_catalog
from ..collect.accounts import Progress
from ..collect.clients import AwsSettings, StaticCredentials
from ..collect.run import CollectRequest, collect, select_controls
from ..pack.builder import writable_output
from .company import REGIONS, seed_company
from .server import moto_server


def run_demo(request: CollectRequest, progress: Progress | None = None) -> PackOutcome:
    """Collect `request` (catalogue, --only, regions, output, share mode) from a freshly seeded
    emulated account. Its AWS settings are replaced by the emulator's; no region means the two
    seeded ones. Every usage error is raised before the emulator starts."""
    select_controls(load_catalog(request.controls_path), request.only)
    writable_output(request.output_dir)
    with moto_server() as endpoint:
        seed_company(endpoint)
        demo = dataclasses.replace(
            request,
            regions=request.regions or REGIONS,
            aws=AwsSettings(
                region=REGIONS[0],
                endpoint_url=endpoint,
                credentials=StaticCredentials("demo", "demo"),
                max_attempts=3,
            ),
        )
        return collect(demo, progress)
