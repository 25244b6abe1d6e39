"""The `sample` command's arguments and run: parse, draw, write beside the pack, report."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tabulate import tabulate

from ..errors import EXIT_OK
from .gate import require_outside
from .sample import DEFAULT_POPULATION, Sample, SampleRequest, draw_sample
from .sample_files import write_sample_folder
from .sample_sizes import DEFAULT_TABLE, FREQUENCIES, load_table


def add_parser(commands: Any) -> None:
    """Add `sample` to the command line's subcommands (argparse's _SubParsersAction)."""
    sample = commands.add_parser(
        "sample", help="draw a reproducible sample of a control's population, beside the pack"
    )
    sample.add_argument("pack", type=Path)
    sample.add_argument("--control", required=True, metavar="ID", help="the control to sample")
    how = sample.add_mutually_exclusive_group(required=True)
    how.add_argument("--size", type=int, metavar="N", help="sample size")
    how.add_argument(
        "--frequency",
        choices=FREQUENCIES,
        help="size from the sample-size table for a control operating this often",
    )
    sample.add_argument("--seed", required=True, help="the auditor's seed (any text)")
    sample.add_argument(
        "--table",
        type=Path,
        metavar="FILE",
        help="YAML sample-size table replacing the default's entries (README: During an audit)",
    )
    sample.add_argument(
        "--population",
        default=DEFAULT_POPULATION,
        metavar="PATH",
        help="which list of the control to sample (default: items, its whole population)",
    )
    sample.add_argument(
        "--output",
        type=Path,
        metavar="DIR",
        help="where the sample folder is written (default: beside the pack)",
    )


def run(args: argparse.Namespace, now: datetime | None = None) -> int:
    """Draw the sample the arguments describe and write its folder; prints what was drawn."""
    table = load_table(args.table) if args.table is not None else DEFAULT_TABLE
    request = SampleRequest(
        pack=args.pack,
        control=args.control,
        seed=args.seed,
        size=args.size,
        frequency=args.frequency,
        table=table,
        population=args.population,
    )
    sample = draw_sample(request, now or datetime.now(UTC))
    require_outside((args.pack,), args.output or args.pack.parent, "--output")
    folder = write_sample_folder(sample, args.output or args.pack.parent)
    print(sample_table(sample))
    print(
        f"\n{len(sample.selected)} of {len(sample.population)} items of {args.control}"
        f" ({sample.population_path}), seed {sample.seed!r}"
    )
    print(f"Sample: {folder}")
    return EXIT_OK


def sample_table(sample: Sample, limit: int = 60) -> str:
    rows = [(s.rank, s.item.get("id"), *_what(s.item)) for s in sample.selected[:limit]]
    more = len(sample.selected) - limit
    table = tabulate(rows, headers=("rank", "id", "resource", "status"))
    return table + (f"\n... and {more} more (sample.csv)" if more > 0 else "")


def _what(item: Mapping[str, Any]) -> tuple[str, str]:
    """(what it is, its status): an item's resource and status; for a change event of the
    period (no resource of its own), its time, name and the resources it touched, and its
    error code if AWS refused it."""
    if "resource" in item or "event_name" not in item:
        return str(item.get("resource", "")), str(item.get("status", ""))
    touched = ", ".join(str(r) for r in item.get("resources") or ())
    what = f"{item.get('time', '')} {item['event_name']}" + (f" on {touched}" if touched else "")
    return what, str(item.get("error_code") or "succeeded")
