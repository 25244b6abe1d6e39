"""Exports of an organisation-sized pack stay bounded: the PDF names a few accounts on its cover
and a few raw files per control and in its appendix (the rest are in the manifest and the
workbook), and reads back whole."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from pypdf import PdfReader

from bench.bench_workbook import synthetic, synthetic_pack
from evidence.exporters.pdf import COVER_ACCOUNTS, write_pdf
from evidence.exporters.pdf_layout import FILES_SHOWN
from evidence.pack.builder import PackBuilder, sha256_file
from evidence.pack.raw import RawSource, raw_path
from evidence.pack.runinfo import AccountRun, RunInfo
from tests.conftest import Aws

ACCOUNTS = [f"{100000000000 + n:012d}" for n in range(30)]


def organisation_pack(pack: PackBuilder) -> tuple[dict[str, Any], RunInfo]:
    """A synthetic pack of 30 accounts whose one control reads 30 x 4 raw files."""
    document, run = synthetic(40)
    run = dataclasses.replace(
        run, accounts=tuple(AccountRun(a, f"arn:aws:iam::{a}:role/audit") for a in ACCOUNTS)
    )
    synthetic_pack(pack, run)
    evidence = []
    for account in ACCOUNTS:
        for region in ("us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-2"):
            raw = RawSource(
                "ec2.snapshots", account, region, run.caller_arn, run.started, run.finished, ()
            )
            path = raw_path("ec2.snapshots", account, region)
            pack.write_json(path, raw.to_json())
            evidence.append(
                {
                    "path": path,
                    "sha256": sha256_file(pack.dir / path),
                    "collected": f"{run.started} to {run.finished}",
                    "source_time": None,
                }
            )
    document["run"]["accounts"] = [{**a.to_json(), "alias": None} for a in run.accounts]
    document["controls"][0]["evidence"] = evidence
    return document, run


def test_an_organisations_pdf_names_a_few_accounts_and_files_and_points_to_the_rest(
    tmp_path: Path,
) -> None:
    with PackBuilder(tmp_path) as pack:
        document, run = organisation_pack(pack)
        reader = PdfReader(pack.dir / write_pdf(pack, document, run))
        texts = [page.extract_text() for page in reader.pages]
    cover = texts[0]
    assert all(a in cover for a in ACCOUNTS[:COVER_ACCOUNTS])
    assert not any(a in cover for a in ACCOUNTS[COVER_ACCOUNTS:])
    more = len(ACCOUNTS) - COVER_ACCOUNTS
    assert f"and {more} more ({len(ACCOUNTS)} in all: see Results by account)" in cover
    whole = " ".join(texts).replace("\n", " ")
    files = len(ACCOUNTS) * 4
    assert f"{files - FILES_SHOWN} more raw files of this control, too many to print" in whole
    # The appendix lists the pack's first files, then says where all of them are.
    in_pack = files + 3  # the raw files, the synthetic one, controls.yaml and results.json
    assert f"{in_pack - FILES_SHOWN} more raw files in the pack" in whole
    assert "manifest.json and SHA256SUMS" in whole
    # Results by account still has every account.
    by_account = " ".join(t for t in texts if "Results by account" in t or "Could not open" in t)
    assert all(a in by_account for a in ACCOUNTS)


def test_a_pack_of_more_raw_files_than_the_pdf_lists_verifies_and_exports(
    aws: Aws, collect: Any, cli: Any, tmp_path: Path
) -> None:
    """The appendix lists FILES_SHOWN files and says how many more: verify reads that as the
    PDF citing the pack (the rest are checked through the manifest), so export, diff, sample
    and bundle accept an organisation's pack."""
    run = collect(
        *(
            a
            for r in ("us-east-1", "eu-west-1", "us-west-2", "ap-southeast-2")
            for a in ("--region", r)
        )
    )
    assert run.code in (0, 1, 3), run.err
    raw_files = [p for p in (run.pack / "raw").rglob("*") if p.is_file()]
    assert len(raw_files) + 2 > FILES_SHOWN
    verified = cli("verify", str(run.pack))
    assert verified.code == 0, verified.out + verified.err
    exported = cli("export", str(run.pack), "--output", str(tmp_path / "exported"))
    assert exported.code == run.code, exported.err  # the same results, re-derived
    assert exported.pack.is_dir()
