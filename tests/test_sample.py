"""`sample`: a reproducible sample of a population, written and sealed beside the pack."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from evidence.assemble.finish import finish_pack
from evidence.audit.pack_catalog import pack_catalog
from evidence.audit.sample import draw, selection_key
from evidence.audit.sample_sizes import DEFAULT_TABLE
from evidence.pack.builder import PackBuilder, sha256_file
from evidence.pack.runinfo import RunInfo
from tests.conftest import ACCOUNT, REPO, collect_pack, emulated_aws
from tests.faultproxy import FaultProxy
from tests.test_checks_iam import console_user
from tests.test_pdf import demo_pack_dir

USERS = 30


@pytest.fixture(scope="module")
def users_pack(moto_url: str, proxy: FaultProxy, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real pack whose IAM-03 population is 30 console users (a third without MFA)."""
    tmp = tmp_path_factory.mktemp("users")
    with emulated_aws(moto_url, proxy, tmp) as aws:
        for n in range(USERS):
            console_user(aws, f"user-{n:02d}", mfa=n % 3 != 0)
        code, pack = collect_pack(tmp / "packs", "--only", "IAM-03", "--only", "IAM-01")
    assert code == 1
    return pack


BIG = 10_000


def grow_credential_report(pack_dir: Path, users: int) -> None:
    """Give the credential report of a pack being built `users` console users, as AWS would
    report them for such an account (rows shaped like the collected ones: a third without MFA).
    The report is fetched once per account, so raw/ holds no other trace of the users."""
    path = pack_dir / f"raw/{ACCOUNT}/global/iam.credential_report.json"
    raw = json.loads(path.read_text())
    (call,) = [c for c in raw["calls"] if c["operation"] == "GetCredentialReport"]
    lines = base64.b64decode(call["response"]["Content"]["$base64"]).decode().splitlines()
    header, rows = lines[0], list(csv.DictReader(lines))
    template = next(r for r in rows if r["user"] == "user-01")
    grown = [r for r in rows if r["user"] == "<root_account>"]
    for n in range(users):
        name = f"user-{n:05d}"
        arn = template["arn"].replace("user-01", name)
        grown.append({**template, "user": name, "arn": arn, "mfa_active": str(n % 3 != 0).lower()})
    out = io.StringIO()
    writer = csv.DictWriter(out, header.split(","), lineterminator="\n")
    writer.writeheader()
    writer.writerows(grown)
    content = out.getvalue().encode()
    call["response"]["Content"]["$base64"] = base64.b64encode(content).decode()
    path.write_text(json.dumps(raw))
    for extra in raw.get("extra_files") or []:
        (pack_dir / extra).write_bytes(content)  # the decoded copy beside the JSON


@pytest.fixture(scope="module")
def big_pack(users_pack: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real pack whose IAM-03 population is 10,000 console users: the users pack's raw/ with
    its credential report grown (grow_credential_report), then evaluated, exported and sealed
    by the same code as every pack, so it verifies in full like any other."""
    run = RunInfo.read(users_pack)
    with PackBuilder(tmp_path_factory.mktemp("big")) as pack:
        shutil.copytree(users_pack / "raw", pack.dir / "raw")
        grow_credential_report(pack.dir, BIG)
        outcome = finish_pack(pack, pack_catalog(users_pack, run), run, datetime.now(UTC))
    return outcome.path


@pytest.fixture(scope="module")
def period_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's pack: a 30-day audit period in which NET-01 has change events (an SSH rule
    opened and revoked), listed by id per event name."""
    return demo_pack_dir(tmp_path_factory.mktemp("period"))


def sample_cli(cli: Any, pack: Path, *args: str) -> Any:
    return cli("sample", str(pack), *args)


def read_sample_csv(folder: Path) -> tuple[dict[str, str], list[dict[str, str]]]:
    """(the parameter block, the sampled rows) of sample.csv."""
    lines = (folder / "sample.csv").read_text(encoding="utf-8").split("\n\n", 1)
    block = dict(list(csv.reader(lines[0].splitlines()))[1:])
    rows = list(csv.DictReader(lines[1].splitlines()))
    return block, rows


def expected_ids(population: list[dict[str, Any]], seed: str, size: int) -> list[str]:
    """The method as the README states it, written again independently."""
    keys = sorted(
        (hashlib.sha256(f"{seed}:{i['id']}".encode()).hexdigest(), i["id"]) for i in population
    )
    return [item for _, item in keys[:size]]


# ---------------------------------------------------------------- the method, pure


def test_the_draw_depends_on_ids_seed_and_size_only() -> None:
    population = [{"id": f"{n:016x}", "resource": f"r{n}"} for n in range(500)]
    sample = draw(population, 10, "audit-2026")
    assert [s.item["id"] for s in sample] == expected_ids(population, "audit-2026", 10)
    assert [s.rank for s in sample] == list(range(1, 11))
    assert sample[0].key == selection_key("audit-2026", sample[0].item["id"])
    # Order of the population does not matter; a larger size extends a smaller one.
    assert draw(population[::-1], 10, "audit-2026") == sample
    assert draw(population, 25, "audit-2026")[:10] == sample
    assert draw(population, 10, "audit-2027") != sample
    assert len(draw(population, 900, "x")) == 500  # never more than the population


def test_default_sample_sizes() -> None:
    sizes = {f: DEFAULT_TABLE.size_for(f, 1000) for f in DEFAULT_TABLE.sizes}
    assert sizes == {"annual": 1, "quarterly": 2, "monthly": 2, "weekly": 5, "daily": 25}
    per_event = {n: DEFAULT_TABLE.size_for("per-event", n) for n in (1, 3, 10, 40, 200, 5000)}
    assert per_event == {1: 1, 3: 2, 10: 2, 40: 5, 200: 25, 5000: 40}
    assert DEFAULT_TABLE.size_for("daily", 7) == 7  # a smaller population is tested whole


# ---------------------------------------------------------------- over a real pack


def test_sample_is_written_and_sealed_beside_the_pack(users_pack: Path, cli: Any) -> None:
    run = sample_cli(cli, users_pack, "--control", "IAM-03", "--size", "5", "--seed", "42")
    assert run.code == 0, run.err
    folder = users_pack.parent / f"{users_pack.name}_sample_IAM-03_42"
    assert f"Sample: {folder}" in run.out
    assert sorted(p.name for p in folder.iterdir()) == [
        "README.txt",
        "SHA256SUMS",
        "manifest.json",
        "sample.csv",
        "sample.json",
        "sample.xlsx",
    ]
    assert cli("verify", str(folder)).code == 0
    assert cli("verify", str(users_pack)).code == 0  # the pack itself untouched

    results = json.loads((users_pack / "results.json").read_text())
    control = next(c for c in results["controls"] if c["id"] == "IAM-03")
    block, rows = read_sample_csv(folder)
    assert block["pack"] == users_pack.name
    assert block["pack_manifest_sha256"] == sha256_file(users_pack / "manifest.json")
    assert (block["control"], block["population"], block["population_count"]) == (
        "IAM-03",
        "items",
        str(USERS),
    )
    assert block["seed"] == "42" and block["sample_count"] == "5"
    assert block["method"].startswith("Each item of the population gets the key SHA-256")
    assert [r["id"] for r in rows] == expected_ids(control["items"], "42", 5)
    by_id = {i["id"]: i for i in control["items"]}
    for row in rows:  # every attribute of the item, as in the pack
        item = by_id[row["id"]]
        assert (row["resource"], row["status"], row["detail"]) == (
            item["resource"],
            item["status"],
            item["detail"],
        )
        assert {f"attributes.{key}" for key in item["attributes"]} <= row.keys()
        assert row["attributes.mfa_active"] == str(item["attributes"]["mfa_active"]).lower()
    book = load_workbook(folder / "sample.xlsx")
    assert book.sheetnames == ["Sample", "Population"]
    sheet = book["Sample"]
    labels = {sheet.cell(r, 1).value: sheet.cell(r, 2).value for r in range(2, 15)}
    assert labels["population_count"] == USERS and labels["seed"] == "42"
    assert labels["pack_manifest_sha256"] == block["pack_manifest_sha256"]
    header = int(sheet.freeze_panes[1:]) - 1
    sampled = [r[2].value for r in sheet.iter_rows(min_row=header + 1)]
    assert sampled == [r["id"] for r in rows]
    population = list(book["Population"].iter_rows(min_row=2, values_only=True))
    assert len(population) == USERS
    ranked = sorted((r[2], r[0]) for r in population if r[2] is not None)
    assert [i for _, i in ranked] == [r["id"] for r in rows]
    sample_json = json.loads((folder / "sample.json").read_text())
    assert [i["id"] for i in sample_json["items"]] == [r["id"] for r in rows]
    for sampled in sample_json["items"]:  # every attribute, values unchanged
        assert sampled.items() >= by_id[sampled["id"]].items()
    readme = (folder / "README.txt").read_text()
    assert f"soc-evidence sample {users_pack.name} --control IAM-03 --size 5 --seed 42" in readme


def test_same_sample_in_two_processes(users_pack: Path, tmp_path: Path) -> None:
    outputs = []
    for n, hash_seed in enumerate(("1", "2")):
        out = tmp_path / f"run{n}"
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        subprocess.run(
            [
                sys.executable,
                "-m",
                "evidence",
                "sample",
                str(users_pack),
                "--control",
                "IAM-03",
                "--size",
                "7",
                "--seed",
                "auditor 2026-Q3",
                "--output",
                str(out),
            ],
            check=True,
            cwd=REPO,
            env=env,
            capture_output=True,
            timeout=120,
        )
        (folder,) = out.iterdir()
        assert folder.name == f"{users_pack.name}_sample_IAM-03_auditor_2026-Q3"
        outputs.append(folder)
    first, second = ((f / "sample.csv").read_bytes() for f in outputs)
    assert first == second  # byte for byte: no clock, no hash order in it
    assert len(read_sample_csv(outputs[0])[1]) == 7


def test_a_changed_seed_draws_another_sample(users_pack: Path, cli: Any, tmp_path: Path) -> None:
    ids = {}
    for seed in ("42", "43"):
        out = tmp_path / seed
        run = sample_cli(
            cli,
            users_pack,
            "--control",
            "IAM-03",
            "--size",
            "5",
            "--seed",
            seed,
            "--output",
            str(out),
        )
        assert run.code == 0
        (folder,) = out.iterdir()
        ids[seed] = [r["id"] for r in read_sample_csv(folder)[1]]
    assert ids["42"] != ids["43"]
    again = sample_cli(
        cli,
        users_pack,
        "--control",
        "IAM-03",
        "--size",
        "5",
        "--seed",
        "42",
        "--output",
        str(tmp_path / "42"),
    )
    assert again.code == 0  # a second folder of the same name gets a suffix, never overwrites
    assert sorted(p.name for p in (tmp_path / "42").iterdir())[1].endswith("_42-2")


@pytest.mark.parametrize(
    ("frequency", "size"),
    [
        ("annual", 1),
        ("quarterly", 2),
        ("monthly", 2),
        ("weekly", 5),
        ("daily", 25),
        ("per-event", 5),
    ],
)
def test_frequency_takes_the_size_from_the_table(
    users_pack: Path, cli: Any, tmp_path: Path, frequency: str, size: int
) -> None:
    run = sample_cli(
        cli,
        users_pack,
        "--control",
        "IAM-03",
        "--frequency",
        frequency,
        "--seed",
        "9",
        "--output",
        str(tmp_path),
    )
    assert run.code == 0, run.err
    (folder,) = tmp_path.iterdir()
    block, rows = read_sample_csv(folder)
    assert len(rows) == size and block["size_requested"] == str(size)
    assert block["size_from"] == f"frequency {frequency}, default sample-size table"


def test_the_auditors_table_replaces_the_default(
    users_pack: Path, cli: Any, tmp_path: Path
) -> None:
    table = tmp_path / "firm-table.yaml"
    table.write_text("monthly: 4\nper-event:\n  - {up_to: 10, size: 3}\n  - {size: 8}\n")
    out = tmp_path / "out"
    for frequency, size in (("monthly", 4), ("per-event", 8), ("weekly", 5)):
        run = sample_cli(
            cli,
            users_pack,
            "--control",
            "IAM-03",
            "--frequency",
            frequency,
            "--seed",
            "9",
            "--table",
            str(table),
            "--output",
            str(out / frequency),
        )
        assert run.code == 0, run.err
        (folder,) = (out / frequency).iterdir()
        block, rows = read_sample_csv(folder)
        assert len(rows) == size
        assert block["size_from"] == f"frequency {frequency}, {table} sample-size table"
        assert f"--table {table}" in (folder / "README.txt").read_text()
    table.write_text("monthly: 4\nfortnightly: 3\n")
    run = sample_cli(
        cli,
        users_pack,
        "--control",
        "IAM-03",
        "--frequency",
        "monthly",
        "--seed",
        "9",
        "--table",
        str(table),
        "--output",
        str(tmp_path / "bad"),
    )
    assert run.code == 2 and f"{table}:2: fortnightly: unknown frequency" in run.err
    table.write_text("per-event:\n  - {up_to: 10, size: 3}\n  - {up_to: 5, size: 1}\n")
    run = sample_cli(
        cli,
        users_pack,
        "--control",
        "IAM-03",
        "--frequency",
        "monthly",
        "--seed",
        "9",
        "--table",
        str(table),
        "--output",
        str(tmp_path / "bad"),
    )
    assert run.code == 2 and f"{table}:3: per-event[1]: rows must grow in up_to" in run.err
    assert not (tmp_path / "bad").exists()


def test_bad_requests_exit_2_and_write_nothing(users_pack: Path, cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "out"
    base = ("--seed", "1", "--output", str(out))
    for args, words in (
        (("--control", "NOPE", "--size", "3"), "no control 'NOPE' in the pack"),
        (("--control", "IAM-03", "--size", "0"), "sample size must be at least 1"),
        (("--control", "IAM-03", "--size", "3", "--seed", " "), "--seed must not be empty"),
        (
            ("--control", "IAM-03", "--size", "3", "--population", "events"),
            "populations there: items, failing",
        ),
    ):
        run = sample_cli(cli, users_pack, *base, *args)
        assert run.code == 2, args
        (line,) = run.err.strip().splitlines()
        assert words in line and "Traceback" not in run.err
    usage = sample_cli(  # argparse: one of --size and --frequency, one line, exit 2
        cli, users_pack, "--control", "IAM-03", "--size", "2", "--frequency", "daily", *base
    )
    assert usage.code == 2 and len(usage.err.strip().splitlines()) == 1
    run = sample_cli(cli, tmp_path, "--control", "IAM-03", "--size", "3", *base)
    assert run.code == 2 and "not an evidence pack" in run.err
    assert not out.exists() or not [p for p in out.iterdir() if not p.name.startswith(".")]


def test_a_changed_pack_is_not_sampled(users_pack: Path, cli: Any, tmp_path: Path) -> None:
    copy = tmp_path / users_pack.name
    subprocess.run(["cp", "-r", str(users_pack), str(copy)], check=True)
    results = copy / "results.json"
    results.write_text(results.read_text().replace('"fail"', '"pass"'))
    run = sample_cli(cli, copy, "--control", "IAM-03", "--size", "3", "--seed", "1")
    assert run.code == 2 and "does not verify (changed: results.json" in run.err
    assert sorted(p.name for p in tmp_path.iterdir()) == [users_pack.name]


# ---------------------------------------------------------------- any population, any size


def control_of(pack: Path, control: str) -> dict[str, Any]:
    results = json.loads((pack / "results.json").read_text())
    found: dict[str, Any] = next(c for c in results["controls"] if c["id"] == control)
    return found


def test_a_population_of_10000_items(big_pack: Path, cli: Any, tmp_path: Path) -> None:
    start = time.perf_counter()
    run = sample_cli(
        cli, big_pack, "--control", "IAM-03", "--size", "25", "--seed", "2026", "--output",
        str(tmp_path),
    )  # fmt: skip
    seconds = time.perf_counter() - start
    assert run.code == 0, run.err
    (folder,) = tmp_path.iterdir()
    block, rows = read_sample_csv(folder)
    items = control_of(big_pack, "IAM-03")["items"]
    assert len(items) == BIG
    assert block["population_count"] == str(BIG) and len(rows) == 25
    assert [r["id"] for r in rows] == expected_ids(items, "2026", 25)
    sheet = load_workbook(folder / "sample.xlsx", read_only=True)["Population"]
    assert len(list(sheet.rows)) == BIG + 1
    assert seconds < 120, f"verifying and sampling 10,000 items took {seconds:.1f} s"
    per_event = sample_cli(
        cli, big_pack, "--control", "IAM-03", "--frequency", "per-event", "--seed", "2026",
        "--output", str(tmp_path / "pe"),
    )  # fmt: skip
    (folder,) = (tmp_path / "pe").iterdir()
    assert per_event.code == 0 and len(read_sample_csv(folder)[1]) == 40
    assert [r["id"] for r in read_sample_csv(folder)[1]][:25] == [r["id"] for r in rows]


def test_an_event_population_of_the_period(period_pack: Path, cli: Any, tmp_path: Path) -> None:
    run = sample_cli(
        cli, period_pack, "--control", "NET-01", "--population", "period.changes",
        "--frequency", "per-event", "--seed", "7", "--output", str(tmp_path),
    )  # fmt: skip
    assert run.code == 0, run.err
    (folder,) = tmp_path.iterdir()
    block, rows = read_sample_csv(folder)
    changes = control_of(period_pack, "NET-01")["period"]["changes"]
    assert (block["population"], block["population_count"]) == ("period.changes", "2")
    assert [r["id"] for r in rows] == expected_ids(changes, "7", len(rows)) and rows
    names = {"AuthorizeSecurityGroupIngress", "RevokeSecurityGroupIngress"}
    assert all(r["event_name"] in names and r["principal"] for r in rows)
    readme = (folder / "README.txt").read_text()
    assert "--population period.changes" in readme


def test_libreoffice_opens_the_sample_workbook(users_pack: Path, cli: Any, tmp_path: Path) -> None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        if os.environ.get("CI") == "true":
            pytest.fail("soffice is missing: .ci/run installs libreoffice-calc-nogui")
        pytest.skip("LibreOffice not installed")
    run = sample_cli(
        cli, users_pack, "--control", "IAM-03", "--size", "4", "--seed", "lo", "--output",
        str(tmp_path / "s"),
    )  # fmt: skip
    (folder,) = (tmp_path / "s").iterdir()
    converted = tmp_path / "converted"
    result = subprocess.run(
        [soffice, f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}", "--headless",
         "--convert-to", "pdf", "--outdir", str(converted), str(folder / "sample.xlsx")],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert run.code == 0 and result.returncode == 0, result.stderr
    text = "".join(p.extract_text() for p in PdfReader(converted / "sample.pdf").pages)
    flat = text.replace("\n", "")
    for row in read_sample_csv(folder)[1]:
        assert row["id"] in flat and row["resource"] in flat
    assert "pack_manifest_sha256" in text and users_pack.name in flat


def test_an_event_population_named_by_ids(period_pack: Path, cli: Any, tmp_path: Path) -> None:
    population = "period.populations.AuthorizeSecurityGroupIngress"
    run = sample_cli(cli, period_pack, "--control", "NET-01", "--population", population,
                     "--size", "1", "--seed", "7", "--output", str(tmp_path))  # fmt: skip
    assert run.code == 0, run.err
    (folder,) = tmp_path.iterdir()
    block, rows = read_sample_csv(folder)
    assert (block["population"], block["population_count"], len(rows)) == (population, "1", 1)
    period = control_of(period_pack, "NET-01")["period"]
    (wanted,) = period["populations"]["AuthorizeSecurityGroupIngress"]
    assert rows[0]["id"] == wanted
    assert rows[0]["event_name"] == "AuthorizeSecurityGroupIngress"  # the event itself
    # The terminal says what the sampled event is, not an empty resource column.
    assert " AuthorizeSecurityGroupIngress on " in run.out
