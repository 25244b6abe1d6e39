"""Command line: parses arguments, runs a command, turns errors into one line and an exit code.

Every subcommand is made by `_command`, which adds the options all commands share (--quiet,
--debug) and an epilog with the command's exit codes and an example; a bad value anywhere is one
line on stderr and exit 2, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

from . import TOOL_NAME, __version__
from .assemble.finish import PackOutcome
from .audit import sample_command
from .audit.bundle import is_bundle
from .audit.commands import (
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
from .audit.verification import Layer, Verification, verify
from .audit.verify_s3 import verify_s3
from .audit.verify_signature import SignatureCheck, check_pack_signature
from .catalog.exceptions import exception_warnings
from .catalog.loader import Catalog, load_catalog
from .catalog.permissions import policy
from .catalog.seed import LOCAL_CATALOG, CatalogChoice, choose_catalog, seed_catalog_bytes
from .collect.accounts import DEFAULT_ROLE
from .collect.clients import AwsSettings
from .collect.progress import BarProgress, PlainProgress, progress_for
from .collect.regions import region_problem, split_regions
from .collect.run import ACCOUNT_ID, LIMITS, CollectRequest, collect, select_controls
from .errors import EXIT_OK, EXIT_USAGE, EvidenceToolError, UsageError
from .exporters.marking import Provenance
from .exporters.statuses import summary_line
from .exporters.terminal import accounts_table, catalog_table, exception_notices, results_table
from .pack.builder import SHARE_MODES, SealedPacks
from .pack.period import EventsFrom, parse_period
from .pack.signing import Signer

DEFAULT_OUTPUT = Path("output")
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # as a process killed by SIGPIPE: `soc-evidence controls | head`

log = logging.getLogger("evidence")


def printable(text: str) -> str:
    """`text` on one line: a newline, tab or other control character a user or AWS put in a
    value is shown escaped, so an error message is always one line."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


class _Parser(argparse.ArgumentParser):
    """argparse with its errors as one line (no usage block) and exit 2."""

    def error(self, message: str) -> NoReturn:
        text = printable(f"{message} (see {self.prog} --help)")
        self.exit(EXIT_USAGE, f"{self.prog}: error: {text}\n")


# (code, meaning) per command, shown in each --help and kept in step with README's table.
PACK_EXITS = (
    (0, "everything collected, nothing failing"),
    (1, "everything collected, some controls fail"),
    (2, "usage or configuration error: no pack written"),
    (
        3,
        "pack written, but some evidence could not be collected, an export failed or the"
        " signature asked for could not be made",
    ),
)


def _command(
    commands: Any,
    name: str,
    summary: str,
    exits: Sequence[tuple[int, str]],
    example: str,
) -> argparse.ArgumentParser:
    """A subcommand with the shared options (--quiet, --debug) and an epilog listing its exit
    codes and an example. New subcommands are made with this too."""
    parser: argparse.ArgumentParser = commands.add_parser(name, help=summary, description=summary)
    _conventions(parser, exits, example)
    return parser


def _conventions(
    parser: argparse.ArgumentParser, exits: Sequence[tuple[int, str]], example: str
) -> None:
    """The options every command shares, and its exit codes and example in --help."""
    epilog = "exit codes:\n" + "".join(f"  {code}  {meaning}\n" for code, meaning in exits)
    parser.epilog = epilog + f"\nexample:\n  {example}\n"
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "--quiet", action="store_true", help="no progress and no notes: results and errors only"
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        help="log botocore's and the tool's debug messages to stderr (AWS requests and"
        " responses, temporary credentials included: never into the pack)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=TOOL_NAME, description="Turn an AWS account into an auditor-ready SOC 2 evidence pack."
    )
    parser.add_argument("--version", action="version", version=f"{TOOL_NAME} {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = _command(
        commands,
        "collect",
        "collect evidence from AWS and write a pack",
        PACK_EXITS,
        f"{TOOL_NAME} collect --profile audit --region us-east-1,eu-west-1",
    )
    _controls_option(run)
    _only_option(run, "collect only this control (repeatable)")
    _region_option(run, "default: the session's region (AWS_REGION, AWS_DEFAULT_REGION, profile)")
    run.add_argument("--profile", help="AWS profile (default: the standard credential chain)")
    run.add_argument(
        "--endpoint-url",
        type=_endpoint_url,
        metavar="URL",
        help="send every AWS call to this endpoint, as the AWS CLI's --endpoint-url"
        " (default: AWS_ENDPOINT_URL, else AWS's own endpoints)",
    )
    run.add_argument(
        "--accounts",
        metavar="ID,ID",
        type=_account_list,
        default=(),
        help="collect these accounts (comma-separated 12-digit ids) through --role-name",
    )
    run.add_argument(
        "--organization",
        action="store_true",
        help="collect every active account of the AWS Organization",
    )
    run.add_argument(
        "--organizational-unit",
        dest="organizational_units",
        metavar="OU_ID",
        action="append",
        default=[],
        help="collect the active accounts under this organizational unit and the units below"
        " it (repeatable; the pack's scope names the units: split an organisation by unit)",
    )
    run.add_argument(
        "--role-name",
        default=DEFAULT_ROLE,
        metavar="NAME",
        help=f"role assumed in each other account (default {DEFAULT_ROLE})",
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
    _requests_option(run)
    _bounded_option(run, "--max-in-flight", 3, "calls in flight per account and region")
    _bounded_option(run, "--max-attempts", 10, "attempts per AWS call with adaptive retries")
    _bounded_option(
        run,
        "--max-workers",
        None,
        "sources collected concurrently",
        "sized for the accounts x regions of the run, 8 to 64",
    )
    _output_option(run)
    _share_mode_option(run)
    _signing_options(run)

    demo = _command(
        commands,
        "demo",
        "run against an embedded emulated account (no AWS, no credentials)",
        ((0, "pack written (its findings are the point)"), *PACK_EXITS[2:]),
        f"{TOOL_NAME} demo --only IAM-01 --only EC2-01 --region us-east-1",
    )
    _controls_option(demo)
    _only_option(demo, "collect only this control (repeatable)")
    _region_option(demo, "default: the two seeded regions, us-east-1 and eu-west-1")
    _output_option(demo)
    _share_mode_option(demo)
    _requests_option(demo)
    _signing_options(demo)

    verify = _command(
        commands,
        "verify",
        "check a pack (or bundle zip, or its copy in S3): every hash, the raw file hashes"
        " results.json cites, the results derived again from raw/, the exports' citations and"
        " the signature; name every difference",
        (
            (0, "intact"),
            (
                1,
                "changed, missing or added files, symbolic links, a damaged manifest, a cited"
                " hash, a result that no longer follows from raw/, an export citing another"
                " file, a bad (or, required, missing) signature, an S3 object not locked",
            ),
            (2, "not a pack, or a bad option"),
        ),
        f"{TOOL_NAME} verify output/123456789012_20250101T000000Z --public-key signer.pem",
    )
    verify.add_argument(
        "pack", metavar="PACK", help="the pack's folder, a bundle zip, or s3://bucket/prefix/"
    )
    _verify_options(verify)

    upload = _command(
        commands,
        "upload",
        "copy a pack that verifies to an S3 Object Lock bucket (compliance-mode retention,"
        " SHA-256 checksums, never overwriting); a receipt is written beside the pack",
        (
            (0, "every file uploaded and locked; receipt written"),
            (2, "nothing uploaded: bad destination, no Object Lock, a key exists, bad pack"),
            (3, "some files uploaded and locked, then a call failed: see the receipt"),
        ),
        f"{TOOL_NAME} upload output/123456789012_20250101T000000Z s3://evidence-locked/soc2/",
    )
    upload.add_argument("pack", type=Path, help="the pack's folder (it must verify)")
    upload.add_argument("destination", metavar="s3://bucket/prefix/")
    upload.add_argument(
        "--retain-days",
        type=int,
        default=DEFAULT_RETAIN_DAYS,
        metavar="N",
        help=f"Object Lock retention in COMPLIANCE mode (default {DEFAULT_RETAIN_DAYS} days)",
    )
    upload.add_argument("--profile", help="AWS profile (default: the standard credential chain)")

    export = _command(
        commands,
        "export",
        "re-evaluate a pack's raw/ offline into a new pack (the original is left as it is)",
        PACK_EXITS,
        f"{TOOL_NAME} export output/123456789012_20250101T000000Z --output exports/",
    )
    export.add_argument("pack", type=Path, help="the pack's folder (it must verify)")
    _output_option(export, default=None, shown="beside the pack, in the pack's own folder")
    _share_mode_option(export)
    _signing_options(export)
    export.add_argument(
        "--oscal",
        action="store_true",
        help="instead, write the pack's results as OSCAL assessment results beside it",
    )

    controls = _command(
        commands,
        "controls",
        "list the control catalogue",
        ((0, "listed"), (2, "configuration error in the catalogue")),
        f"{TOOL_NAME} controls --controls controls.yaml",
    )
    _controls_option(controls)

    permissions = _command(
        commands,
        "permissions",
        "print the least-privilege IAM policy for the selected controls",
        ((0, "printed"), (2, "configuration error, or an unknown --only id")),
        f"{TOOL_NAME} permissions --only IAM-01 > policy.json",
    )
    _controls_option(permissions)
    _only_option(permissions, "only these controls (repeatable)")

    init = _command(
        commands,
        "init",
        "write a copy of the seed catalogue to edit",
        ((0, "written"), (2, "the file exists (use --force) or cannot be written")),
        f"{TOOL_NAME} init && $EDITOR controls.yaml",
    )
    init.add_argument(
        "path",
        nargs="?",
        type=Path,
        default=LOCAL_CATALOG,
        help="where to write it (default: ./controls.yaml)",
    )
    init.add_argument("--force", action="store_true", help="overwrite an existing file")

    add_audit_commands(commands)
    sample_command.add_parser(commands)
    for name, parser_of in commands.choices.items():
        if name in AUDIT_EXITS:
            _conventions(parser_of, *AUDIT_EXITS[name])
    return parser


# Exit codes and an example of the commands audit/ adds (diff, history, bundle, sample).
AUDIT_EXITS: dict[str, tuple[tuple[tuple[int, str], ...], str]] = {
    "diff": (
        ((0, "nothing got worse"), (1, "new failing items or expired exceptions"), (2, "usage")),
        f"{TOOL_NAME} diff output/PACK_Q2 output/PACK_Q3 --xlsx q3-changes.xlsx",
    ),
    "history": (
        ((0, "history shown, chain intact"), (1, "the hash chain is broken"), (2, "usage")),
        f"{TOOL_NAME} history output/",
    ),
    "bundle": (
        ((0, "bundle written"), (2, "usage error, or not a pack")),
        f"{TOOL_NAME} bundle output/123456789012_20250101T000000Z",
    ),
    "sample": (
        ((0, "sample drawn and written beside the pack"), (2, "usage error, or not a pack")),
        f"{TOOL_NAME} sample output/PACK --control IAM-03 --frequency quarterly --seed 4471",
    ),
}


# ---------------------------------------------------------------- option types and helpers


def _bounded(option: str) -> Callable[[str], int]:
    low, high = LIMITS[option.removeprefix("--").replace("-", "_")]

    def parse(text: str) -> int:
        try:
            if not text.isascii():  # int() also reads full-width and other scripts' digits
                raise ValueError(text)
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected {low} to {high}, got {value}")
        return value

    return parse


def _bounded_option(
    parser: argparse.ArgumentParser,
    flag: str,
    default: int | None,
    what: str,
    default_text: str | None = None,
) -> None:
    low, high = LIMITS[flag.removeprefix("--").replace("-", "_")]
    parser.add_argument(
        flag,
        type=_bounded(flag),
        default=default,
        metavar="N",
        help=f"{what} ({low} to {high}, default {default_text or default})",
    )


def _account_list(text: str) -> tuple[str, ...]:
    accounts = tuple(part.strip() for part in text.split(",") if part.strip())
    bad = [a for a in accounts if not ACCOUNT_ID.fullmatch(a)]
    if bad or not accounts:
        shown = ", ".join(bad) or repr(text)
        raise argparse.ArgumentTypeError(f"not a 12-digit account id: {shown}")
    return accounts


def _region_list(text: str) -> tuple[str, ...]:
    regions = split_regions([text])
    if not regions:
        raise argparse.ArgumentTypeError("expected a region name")
    for name in regions:
        problem = region_problem(name)
        if problem:
            raise argparse.ArgumentTypeError(problem)
    return regions


def _endpoint_url(text: str) -> str:
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise argparse.ArgumentTypeError(f"expected an http:// or https:// URL, got {text!r}")
    return text


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


def _verify_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--hashes-only",
        action="store_true",
        help="only the hashes (and the chain): the quick check",
    )
    parser.add_argument(
        "--public-key",
        type=Path,
        metavar="FILE",
        help="check manifest.sig.json with this public key (PEM, DER or OpenSSH)",
    )
    parser.add_argument(
        "--kms",
        nargs="?",
        const="",
        metavar="KEY",
        help="check manifest.sig.json with the AWS KMS key's public key (default: the key it"
        " names)",
    )
    parser.add_argument(
        "--require-signature", action="store_true", help="an unsigned pack does not verify"
    )
    parser.add_argument("--profile", help="AWS profile for --kms and s3://")


def _signer(args: argparse.Namespace) -> Signer | None:
    """The signing key the options name, checked now: before anything is collected."""
    return build_signer(args.sign_kms, args.sign_key, getattr(args, "profile", None))


def _requests_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--requests",
        type=Path,
        metavar="FILE",
        help="the auditor's request list (CSV or xlsx: id, description) mapped in the workbook",
    )


def _controls_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--controls",
        type=Path,
        default=None,
        metavar="FILE",
        help="control catalogue (default: ./controls.yaml, else the built-in seed catalogue)",
    )


def _only_option(parser: argparse.ArgumentParser, text: str) -> None:
    parser.add_argument("--only", action="append", default=[], metavar="ID", help=text)


def _region_option(parser: argparse.ArgumentParser, default: str) -> None:
    parser.add_argument(
        "--region",
        action="extend",
        type=_region_list,
        default=[],
        metavar="REGION",
        help=f"region to collect (repeatable or comma-separated; `all` = every enabled region;"
        f" {default})",
    )


def _output_option(
    parser: argparse.ArgumentParser,
    default: Path | None = DEFAULT_OUTPUT,
    shown: str = "output/",
) -> None:
    parser.add_argument(
        "--output",
        type=Path,
        default=default,
        metavar="DIR",
        help=f"where packs are written (default: {shown})",
    )


def _share_mode_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--share-mode",
        choices=sorted(SHARE_MODES),
        default="private",
        help="permissions of the pack: private = folders 0700, files 0600 (default);"
        " group = 0750/0640; world = 0755/0644",
    )


# ---------------------------------------------------------------- running a command


def entry_point() -> None:
    """The `soc-evidence` command and `python -m evidence`: main(), then exit with its code.

    The run is over and has said how it ended: a Ctrl-C while the interpreter shuts down (the
    demo's emulator threads stopping) must not print a traceback over that story."""
    code = main()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error already printed
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    sealed = SealedPacks()
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        with _debug_logging(args.debug):
            return _run(args, sealed)
    except EvidenceToolError as exc:
        print(f"{TOOL_NAME}: error: {printable(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:
        # The reader (`| head`) has gone: say nothing more, and don't let the interpreter's
        # final flush of stdout raise again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except (KeyboardInterrupt, Terminated) as exc:
        code = exc.code if isinstance(exc, Terminated) else EXIT_INTERRUPTED
        _interrupted(sealed)
        # Worker threads may still sleep in retry back-off: leave without waiting for them.
        os._exit(code)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupted(sealed: SealedPacks) -> None:
    """One story: a pack sealed before the interruption is complete and named; otherwise the
    half-built folder was removed while unwinding."""
    with contextlib.suppress(OSError):
        packs = sealed.sealed()
        if packs:
            for pack in packs:
                print(
                    f"{TOOL_NAME}: interrupted after the pack was sealed; it is complete: {pack}",
                    file=sys.stderr,
                )
        else:
            print(f"{TOOL_NAME}: interrupted; no pack was written", file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()


class Terminated(BaseException):
    """SIGTERM, raised in the main thread. A BaseException like KeyboardInterrupt: handlers of
    failures (`except Exception`: an exporter's, a source's) must not take a termination for
    one and carry on sealing a pack."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def _terminate(signum: int, frame: FrameType | None) -> None:
    # Unwind normally so the half-built pack folder is removed.
    raise Terminated(128 + signum)


@contextlib.contextmanager
def _debug_logging(enabled: bool) -> Iterator[None]:
    """botocore's and the tool's debug log on stderr for the length of one command."""
    if not enabled:
        yield
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    loggers = [logging.getLogger(name) for name in ("evidence", "botocore", "boto3", "urllib3")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
        logger.addHandler(handler)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)


@dataclass
class _Context:
    args: argparse.Namespace
    sealed: SealedPacks
    choice: CatalogChoice | None = None

    def note(self, text: str) -> None:
        """Informational lines go to stderr (stdout stays the command's result), unless quiet."""
        if not self.args.quiet:
            print(text, file=sys.stderr)

    def catalog_path(self) -> Path:
        self.choice = choose_catalog(self.args.controls, Path.cwd())
        log.debug("catalogue: %s", self.choice.path)
        return self.choice.path

    def note_catalog(self) -> None:
        """Which catalogue was used when none was named; said once the command has worked, so
        an error stays one line."""
        if self.choice is not None and self.args.controls is None:
            self.note(self.choice.describe())

    def catalog(self) -> Catalog:
        return load_catalog(self.catalog_path())


def _run(args: argparse.Namespace, sealed: SealedPacks) -> int:
    context = _Context(args, sealed)
    handlers: dict[str, Callable[[_Context], int]] = {
        "collect": _collect,
        "demo": _demo,
        "verify": _verify,
        "upload": _upload,
        "export": _export,
        "controls": _controls,
        "permissions": _permissions,
        "init": _init,
    }
    handler = handlers.get(args.command)
    if handler is not None:
        code = handler(context)
    elif args.command == "sample":
        code = sample_command.run(args)
    else:
        code = run_audit_command(args)
    context.note_catalog()
    return code


def _request(context: _Context, aws: AwsSettings) -> CollectRequest:
    args = context.args
    # collect's own options; demo has none of them and keeps CollectRequest's defaults.
    collect_only = (
        "accounts",
        "organization",
        "organizational_units",
        "role_name",
        "max_workers",
        "max_in_flight",
        "events_from",
    )
    period = getattr(args, "period", None)
    return CollectRequest(
        controls_path=context.catalog_path(),
        output_dir=args.output,
        only=tuple(args.only),
        regions=tuple(args.region),
        aws=aws,
        share_mode=SHARE_MODES[args.share_mode],
        ledger=context.sealed,
        requests=args.requests,
        period=parse_period(period) if period else None,
        signer=_signer(args),  # a key that cannot sign stops here, before anything is collected
        **{name: getattr(args, name) for name in collect_only if hasattr(args, name)},
    )


@contextlib.contextmanager
def _progress(quiet: bool) -> Iterator[PlainProgress | BarProgress | None]:
    progress = progress_for(quiet)
    try:
        yield progress
    finally:
        if isinstance(progress, BarProgress):
            progress.close()


def _collect(context: _Context) -> int:
    args = context.args
    aws = AwsSettings(
        profile=args.profile, endpoint_url=args.endpoint_url, max_attempts=args.max_attempts
    )
    request = _request(context, aws)
    with _progress(args.quiet) as progress:
        outcome = collect(request, progress)
    _print_outcome(outcome, args.quiet)
    return outcome.exit_code


def _demo(context: _Context) -> int:
    from .demo import run_demo

    request = _request(context, AwsSettings())
    with _progress(context.args.quiet) as progress:
        outcome = run_demo(request, progress)
    _print_outcome(outcome, context.args.quiet)
    context.note("This pack was collected from an emulated demo account; its findings are seeded.")
    # Its findings are the point (exit 0); an export that failed or a signature that could not
    # be made is not a finding (exit 3).
    failed = outcome.results["export_failures"] or outcome.signing_error is not None
    return outcome.exit_code if failed else EXIT_OK


def _export(context: _Context) -> int:
    args = context.args
    output = args.output if args.output is not None else args.pack.parent
    if args.oscal:
        return export_oscal(args.pack, output)
    outcome = export_pack(
        args.pack,
        output,
        datetime.now(UTC),
        SHARE_MODES[args.share_mode],
        context.sealed,
        signer=_signer(args),
    )
    _print_outcome(outcome, args.quiet)
    return outcome.exit_code


def _permissions(context: _Context) -> int:
    catalog = select_controls(context.catalog(), context.args.only)
    print(json.dumps(policy(catalog), indent=2))
    return EXIT_OK


def _controls(context: _Context) -> int:
    catalog = context.catalog()
    print(f"{catalog.organisation}: {len(catalog.controls)} controls from {catalog.path}\n")
    print(catalog_table(catalog))
    risks = ((c.id, risk) for c in catalog.controls for risk in c.exceptions)
    for warning in exception_warnings(catalog.path, risks):
        print(f"{TOOL_NAME}: warning: {warning}", file=sys.stderr)
    return EXIT_OK


def _init(context: _Context) -> int:
    target: Path = context.args.path
    if (target.exists() or target.is_symlink()) and not context.args.force:
        raise UsageError(f"{target}: already exists (--force to overwrite it)")
    try:
        target.write_bytes(seed_catalog_bytes())
    except OSError as exc:
        raise UsageError(f"{target}: cannot write it ({exc.strerror or exc})") from None
    context.note(
        f"wrote {target}: the seed catalogue. Edit it (organisation, controls, parameters), then"
        f" `{TOOL_NAME} controls` to check it"
    )
    return EXIT_OK


def _print_outcome(outcome: PackOutcome, quiet: bool) -> None:
    document = outcome.results
    if not quiet:
        print(results_table(document["controls"]))
        if len(document["run"]["accounts"]) > 1:
            print()
            print(accounts_table(document))
        print(f"\n{summary_line(document)}")
        for notice in exception_notices(document):
            print(notice)
        if document.get("requests"):
            print(requests_line(document["requests"]))
    for failure in document.get("export_failures", []):
        print(
            f"{TOOL_NAME}: export failed: {failure['exporter']}: {failure['error']}; the pack is"
            f" sealed without it: rebuild with `{failure['rebuild']}`",
            file=sys.stderr,
        )
    if not quiet:  # quiet: the pack's own files say it all the same
        for notice in Provenance.of(document["run"]).notices:
            print(notice)
    print(f"Pack: {outcome.path}")
    if outcome.signing_error is not None:
        print(
            f"{TOOL_NAME}: error: the pack was written NOT signed: {outcome.signing_error}",
            file=sys.stderr,
        )


def _verify(context: _Context) -> int:
    args = context.args
    if is_bundle(Path(args.pack)):
        return verify_bundle_command(Path(args.pack))
    check = SignatureCheck(args.public_key, args.kms, args.require_signature, args.profile)
    signature: tuple[str, Layer] = ("", lambda pack: check_pack_signature(pack, check))
    results: list[Verification]
    if args.pack.startswith("s3://"):
        location = S3Location.parse(args.pack)
        client = s3_client(args.profile)
        results = verify_s3(location, client, args.hashes_only, extra_layers=[signature])
    else:
        results = [verify(Path(args.pack), args.hashes_only, extra_layers=[signature])]
    for verification in results:
        out, err = verification.lines(quiet=args.quiet)
        for line in out:
            print(line)
        for line in err:
            print(line, file=sys.stderr)
    return EXIT_OK if all(v.intact for v in results) else 1


def _upload(context: _Context) -> int:
    args = context.args
    destination = S3Location.parse(args.destination)
    receipt, path = upload_pack(args.pack, destination, s3_client(args.profile), args.retain_days)
    context.note(f"Object Lock: COMPLIANCE until {receipt.retain_until}")
    print(f"Uploaded {len(receipt.objects)} files to {receipt.destination}")
    print(f"Receipt: {path}")
    return EXIT_OK
