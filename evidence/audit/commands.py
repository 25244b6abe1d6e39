"""The command line of the commands that work across and beside sealed packs: diff, history,
bundle, `export --oscal`, and verify of a bundle. cli.py adds and dispatches them."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..errors import EXIT_FAILING, EXIT_OK
from .bundle import verify_bundle, write_bundle
from .diff import diff_pack_dirs
from .diff_report import diff_json, diff_text, write_diff_workbook
from .gate import require_outside
from .history import folder_history, history_text
from .oscal import write_oscal

AUDIT_COMMANDS = ("diff", "history", "bundle")


def add_audit_commands(commands: Any) -> None:
    """Add diff, history and bundle to the CLI's subparsers."""
    diff = commands.add_parser("diff", help="what changed between two packs, item by item")
    diff.add_argument("old", type=Path, help="the earlier pack")
    diff.add_argument("new", type=Path, help="the later pack")
    diff.add_argument("--json", action="store_true", help="print the comparison as JSON")
    diff.add_argument("--xlsx", type=Path, metavar="FILE", help="also write it as a workbook")

    history = commands.add_parser(
        "history", help="each control's status across the packs of a folder, and the hash chain"
    )
    history.add_argument("folder", type=Path, nargs="?", default=Path("output"))

    bundle = commands.add_parser(
        "bundle", help="one deterministic zip of a pack, beside it, with its SHA-256"
    )
    bundle.add_argument("pack", type=Path)
    bundle.add_argument(
        "--output", type=Path, metavar="DIR", help="where to write it (default: beside the pack)"
    )


def run_audit_command(args: argparse.Namespace) -> int:
    if args.command == "diff":
        return _diff(args.old, args.new, args.json, args.xlsx)
    if args.command == "history":
        histories = folder_history(args.folder)
        print(history_text(histories), end="")
        return EXIT_FAILING if any(h.broken for h in histories) else EXIT_OK
    if args.command == "bundle":
        bundle = write_bundle(args.pack, args.output)
        print(f"{bundle.sha256}  {bundle.path}")
        print(
            f"Bundle: {bundle.path} ({bundle.files} files;"
            f" SHA-256 also in {bundle.path.name}.sha256)"
        )
        return EXIT_OK
    raise AssertionError(args.command)


def _diff(old: Path, new: Path, as_json: bool, xlsx: Path | None) -> int:
    """Exit 1 when something fails that did not (new failing items, expired exceptions)."""
    if xlsx is not None:
        require_outside((old, new), xlsx, "--xlsx")
    diff = diff_pack_dirs(old, new)
    print(diff_json(diff) if as_json else diff_text(diff), end="" if not as_json else "\n")
    if xlsx is not None:
        write_diff_workbook(diff, xlsx)
        print(f"Workbook: {xlsx}", file=sys.stderr if as_json else sys.stdout)
    return EXIT_FAILING if diff.worse else EXIT_OK


def export_oscal(pack: Path, output: Path) -> int:
    path = write_oscal(pack, output)
    print(f"OSCAL assessment results: {path}")
    return EXIT_OK


def verify_bundle_command(path: Path) -> int:
    """verify of a bundle zip: 0 intact, 1 changed (digest, archive or a file inside)."""
    report = verify_bundle(path)
    if report.digest_problem:
        print(f"changed: {path.name}: {report.digest_problem}")
    if report.archive_problem:
        print(f"changed: {path.name}: {report.archive_problem}")
    if report.pack is not None:
        for label, names in (
            ("changed", report.pack.changed),
            ("missing", report.pack.missing),
            ("added", report.pack.extra),
        ):
            for name in names:
                print(f"{label}: {name}")
        if report.pack.chain is not None:
            print(f"chain: {report.pack.chain.message}")
    if report.intact:
        checked = report.pack.checked if report.pack else 0
        print(f"{path}: intact ({checked} files verified)")
        return EXIT_OK
    print(f"{path}: NOT intact", file=sys.stderr)
    return EXIT_FAILING


def requests_line(block: dict[str, Any]) -> str:
    """One line for the terminal summary: how many requests are answered, which are not."""
    if block["file"] is None:
        named = ", ".join(r["id"] for r in block["requests"])
        return f"Requests named by controls (no --requests list given): {named}"
    listed = sum(1 for r in block["requests"] if r["listed"])
    unanswered, not_listed = block["unanswered"], block["not_listed"]
    line = f"Requests: {listed - len(unanswered)} of {listed} on the list answered by a control"
    if unanswered:
        line += f"; not answered: {', '.join(unanswered)}"
    if not_listed:
        line += f"; named by controls but not on the list: {', '.join(not_listed)}"
    return line
