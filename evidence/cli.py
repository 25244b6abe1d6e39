"""Command line: parses arguments, runs a command, turns errors into one line and an exit code."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from . import TOOL_NAME, __version__
from .assemble.finish import PackOutcome
from .audit import sample_command
from .audit.bundle import is_bundle
from .audit.commands import (
    AUDIT_COMMANDS,
    add_audit_commands,
    export_oscal,
    requests_line,
    run_audit_command,
    verify_bundle_command,
)
from .audit.export import export_pack
from .audit.s3_location import S3Location, s3_client
from .audit.signers import build_signer
from .audit.upload import DEFAULT_RETAIN_DAYS, upload_pack
from .audit.verification import Layer, verify
from .audit.verify_s3 import verify_s3
from .audit.verify_signature import SignatureCheck, check_pack_signature
from .catalog.exceptions import exception_warnings
from .catalog.loader import load_catalog
from .catalog.permissions import policy
from .collect.accounts import DEFAULT_ROLE
from .collect.clients import AwsSettings
from .collect.progress import BarProgress, progress_for
from .collect.run import CollectRequest, collect, select_controls
from .errors import EXIT_OK, EvidenceToolError
from .exporters.marking import Provenance
from .exporters.statuses import summary_line
from .exporters.terminal import accounts_table, catalog_table, exception_notices, results_table
from .pack.period import EventsFrom, parse_period
from .pack.signing import Signer

DEFAULT_CONTROLS = Path("controls.yaml")
DEFAULT_OUTPUT = Path("output")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=TOOL_NAME, description="Turn an AWS account into an auditor-ready SOC 2 evidence pack."
    )
    parser.add_argument("--version", action="version", version=f"{TOOL_NAME} {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("collect", help="collect evidence from AWS and write a pack")
    _controls_option(run)
    run.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="ID",
        help="collect only this control (repeatable)",
    )
    run.add_argument(
        "--region",
        action="append",
        default=[],
        metavar="REGION",
        help="region to collect (repeatable; `all` = every enabled region;"
        " default: the session's region)",
    )
    run.add_argument("--profile", help="AWS profile (default: the standard credential chain)")
    run.add_argument(
        "--accounts",
        metavar="ID,ID",
        type=_account_list,
        default=(),
        help="collect these accounts (comma-separated) through --role-name",
    )
    run.add_argument(
        "--organization",
        action="store_true",
        help="collect every active account of the AWS Organization",
    )
    run.add_argument(
        "--role-name",
        default=DEFAULT_ROLE,
        metavar="NAME",
        help=f"role assumed in each other account (default {DEFAULT_ROLE})",
    )
    run.add_argument(
        "--max-in-flight",
        type=int,
        default=3,
        metavar="N",
        help="calls in flight per account and region (default 3)",
    )
    run.add_argument(
        "--period",
        metavar="START..END",
        help="the audit period (SOC 2 Type II): UTC dates, inclusive (2026-07-01..2026-09-30)"
        " or a quarter (2026Q3); without it the pack is point in time",
    )
    run.add_argument(
        "--events-from",
        choices=EventsFrom.CHOICES,
        default=EventsFrom.AUTO,
        help="where the period's CloudTrail events are read: auto (LookupEvents within 90"
        " days, else the trail's S3 log files), lookup or s3 (default auto)",
    )
    run.add_argument("--quiet", action="store_true", help="no progress output")
    _signing_options(run)
    run.add_argument(
        "--max-attempts",
        type=int,
        default=10,
        metavar="N",
        help="attempts per AWS call with adaptive retries (default 10)",
    )
    run.add_argument(
        "--max-workers",
        type=int,
        default=8,
        metavar="N",
        help="sources collected concurrently (default 8)",
    )
    _output_option(run)
    _requests_option(run)

    demo = commands.add_parser("demo", help="run against an embedded emulated account (no AWS)")
    _controls_option(demo)
    _output_option(demo)
    _signing_options(demo)
    _requests_option(demo)

    verify = commands.add_parser(
        "verify",
        help="check a pack (or bundle zip): hashes, citations, results re-derived from raw/,"
        " exports",
    )
    verify.add_argument("pack", metavar="PACK", help="a pack folder, or s3://bucket/prefix/")
    verify.add_argument(
        "--hashes-only",
        action="store_true",
        help="only recompute the hashes against the manifest (the quick check)",
    )
    verify.add_argument(
        "--public-key",
        type=Path,
        metavar="FILE",
        help="check manifest.sig.json with this public key (PEM, DER or OpenSSH)",
    )
    verify.add_argument(
        "--kms",
        nargs="?",
        const="",
        metavar="KEY",
        help="check manifest.sig.json with the AWS KMS key's public key (default: the key it"
        " names)",
    )
    verify.add_argument(
        "--require-signature", action="store_true", help="an unsigned pack does not verify"
    )
    verify.add_argument("--profile", help="AWS profile for --kms and s3://")

    upload = commands.add_parser(
        "upload", help="copy a pack to an S3 Object Lock bucket (compliance-mode retention)"
    )
    upload.add_argument("pack", type=Path)
    upload.add_argument("destination", metavar="s3://bucket/prefix/")
    upload.add_argument(
        "--retain-days",
        type=int,
        default=DEFAULT_RETAIN_DAYS,
        metavar="N",
        help=f"Object Lock retention in COMPLIANCE mode (default {DEFAULT_RETAIN_DAYS} days)",
    )
    upload.add_argument("--profile", help="AWS profile (default: the standard credential chain)")

    export = commands.add_parser("export", help="re-evaluate a pack's raw/ into a new pack")
    export.add_argument("pack", type=Path)
    _output_option(export, default=None)
    _signing_options(export)
    export.add_argument(
        "--oscal",
        action="store_true",
        help="instead, write the pack's results as OSCAL assessment results beside it",
    )
    add_audit_commands(commands)

    sample_command.add_parser(commands)

    controls = commands.add_parser("controls", help="list the control catalogue")
    _controls_option(controls)

    permissions = commands.add_parser(
        "permissions", help="print the least-privilege IAM policy for the selected controls"
    )
    _controls_option(permissions)
    permissions.add_argument(
        "--only", action="append", default=[], metavar="ID", help="only these controls (repeatable)"
    )
    return parser


def _account_list(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _controls_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--controls",
        type=Path,
        default=DEFAULT_CONTROLS,
        metavar="FILE",
        help="control catalogue (default: ./controls.yaml)",
    )


def _signing_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sign-kms",
        metavar="KEY",
        help="sign manifest.json with this asymmetric AWS KMS key (id, ARN or alias;"
        " ECDSA_SHA_256 or RSASSA_PSS_SHA_256)",
    )
    parser.add_argument(
        "--sign-key",
        type=Path,
        metavar="FILE",
        help="sign manifest.json with this local Ed25519 or ECDSA private key",
    )


def _signer(args: argparse.Namespace) -> Signer | None:
    return build_signer(args.sign_kms, args.sign_key, getattr(args, "profile", None))


def _requests_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--requests",
        type=Path,
        metavar="FILE",
        help="the auditor's request list (CSV or xlsx: id, description) mapped in the workbook",
    )


def _output_option(parser: argparse.ArgumentParser, default: Path | None = DEFAULT_OUTPUT) -> None:
    parser.add_argument(
        "--output",
        type=Path,
        default=default,
        metavar="DIR",
        help="where packs are written (default: output/)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return _run(args)
    except EvidenceToolError as exc:
        print(f"{TOOL_NAME}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except (KeyboardInterrupt, Terminated) as exc:
        # The half-built pack was removed while unwinding. Worker threads may still sleep in
        # retry back-off: leave without waiting for them.
        code = exc.code if isinstance(exc, Terminated) else 130
        print(f"{TOOL_NAME}: interrupted; no pack was written", file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    finally:
        signal.signal(signal.SIGTERM, previous)


class Terminated(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def _terminate(signum: int, frame: FrameType | None) -> None:
    # Unwind normally so the half-built pack folder is removed.
    raise Terminated(128 + signum)


def _run(args: argparse.Namespace) -> int:
    if args.command == "collect":
        signer = _signer(args)  # a key that cannot sign stops here, before anything is collected
        request = CollectRequest(
            controls_path=args.controls,
            output_dir=args.output,
            only=tuple(args.only),
            regions=tuple(args.region),
            aws=AwsSettings(profile=args.profile, max_attempts=args.max_attempts),
            accounts=args.accounts,
            organization=args.organization,
            role_name=args.role_name,
            max_workers=args.max_workers,
            max_in_flight=args.max_in_flight,
            signer=signer,
            requests=args.requests,
            period=parse_period(args.period) if args.period else None,
            events_from=args.events_from,
        )
        progress = progress_for(args.quiet)
        try:
            outcome = collect(request, progress)
        finally:
            if isinstance(progress, BarProgress):
                progress.close()
        _print_outcome(outcome)
        return outcome.exit_code
    if args.command == "demo":
        from .demo import run_demo

        outcome = run_demo(args.controls, args.output, args.requests, _signer(args))
        _print_outcome(outcome)
        print("This pack was collected from an emulated demo account; its findings are seeded.")
        return EXIT_OK if outcome.signing_error is None else outcome.exit_code
    if args.command == "verify":
        return _verify(args)
    if args.command == "upload":
        destination = S3Location.parse(args.destination)
        receipt, path = upload_pack(
            args.pack, destination, s3_client(args.profile), args.retain_days
        )
        print(f"Uploaded {len(receipt.objects)} files to {receipt.destination}")
        print(f"Object Lock: COMPLIANCE until {receipt.retain_until}")
        print(f"Receipt: {path}")
        return EXIT_OK
    if args.command == "export":
        output = args.output if args.output is not None else args.pack.parent
        if args.oscal:
            return export_oscal(args.pack, output)
        outcome = export_pack(args.pack, output, datetime.now(UTC), _signer(args))
        _print_outcome(outcome)
        return outcome.exit_code
    if args.command == "sample":
        return sample_command.run(args)
    if args.command in AUDIT_COMMANDS:
        return run_audit_command(args)
    if args.command == "permissions":
        catalog = select_controls(load_catalog(args.controls), args.only)
        print(json.dumps(policy(catalog), indent=2))
        return EXIT_OK
    if args.command == "controls":
        catalog = load_catalog(args.controls)
        print(f"{catalog.organisation}: {len(catalog.controls)} controls from {catalog.path}\n")
        print(catalog_table(catalog))
        risks = ((c.id, risk) for c in catalog.controls for risk in c.exceptions)
        for warning in exception_warnings(catalog.path, risks):
            print(f"{TOOL_NAME}: warning: {warning}", file=sys.stderr)
        return EXIT_OK
    raise AssertionError(args.command)


def _print_outcome(outcome: PackOutcome) -> None:
    document = outcome.results
    print(results_table(document["controls"]))
    if len(document["run"]["accounts"]) > 1:
        print()
        print(accounts_table(document))
    print(f"\n{summary_line(document)}")
    for notice in exception_notices(document):
        print(notice)
    if document.get("requests"):
        print(requests_line(document["requests"]))
    for notice in Provenance.of(document["run"]).notices:
        print(notice)
    print(f"Pack: {outcome.path}")
    if outcome.signing_error is not None:
        print(
            f"{TOOL_NAME}: error: the pack was written NOT signed: {outcome.signing_error}",
            file=sys.stderr,
        )


def _verify(args: argparse.Namespace) -> int:
    check = SignatureCheck(args.public_key, args.kms, args.require_signature, args.profile)
    signature: tuple[str, Layer] = ("", lambda context: check_pack_signature(context, check))
    if is_bundle(Path(args.pack)):
        return verify_bundle_command(Path(args.pack))
    if args.pack.startswith("s3://"):
        location = S3Location.parse(args.pack)
        client = s3_client(args.profile)
        results = verify_s3(location, client, args.hashes_only, extra_layers=[signature])
    else:
        results = [verify(Path(args.pack), args.hashes_only, extra_layers=[signature])]
    for verification in results:
        out, err = verification.lines()
        for line in out:
            print(line)
        for line in err:
            print(line, file=sys.stderr)
    return EXIT_OK if all(v.intact for v in results) else 1
