"""The PDF evidence report, read back (text, pages, outline) and rendered to PNG."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from pypdf import PdfReader
from reportlab.lib.units import mm

from bench.bench_workbook import synthetic, synthetic_pack
from evidence.checks import CHECKS
from evidence.exporters.charts import CHART_COLOURS, PackStatus, status_trend
from evidence.exporters.common import RawReader
from evidence.exporters.evidence_refs import EvidenceLocator, item_key
from evidence.exporters.pdf import write_pdf
from evidence.exporters.pdf_doc import TOP_MARGIN
from evidence.exporters.pdf_layout import MARGIN, PAGE
from evidence.pack.builder import PackBuilder, sha256_file
from tests.conftest import ACCOUNT, CORE, REPO, collect_pack, emulated_aws, write_controls
from tests.faultproxy import FaultProxy
from tests.test_checks_ec2_rds import snapshot
from tests.test_checks_iam import console_user


def pdf_of(pack: Path) -> Path:
    (path,) = pack.glob("evidence_*.pdf")
    return path


def page_texts(path: Path) -> list[str]:
    return [page.extract_text() for page in PdfReader(path).pages]


@pytest.fixture(scope="module")
def denied_pack(moto_url: str, proxy: FaultProxy, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A pack with failures across pages, a public snapshot and one control that errors."""
    tmp = tmp_path_factory.mktemp("denied")
    with emulated_aws(moto_url, proxy, tmp) as aws:
        for n in range(70):
            console_user(aws, f"contractor-{n:02d}-with-a-rather-long-user-name", mfa=False)
        snapshot(aws, public=True)
        aws.proxy.fail("DescribeDBInstances", "AccessDenied", status=403)
        code, pack = collect_pack(tmp / "output", *CORE, "--region", "us-east-1")
    assert code == 3
    return pack


def test_pdf_text_has_every_control_status_and_failing_resource(denied_pack: Path) -> None:
    path = pdf_of(denied_pack)
    assert path.name == f"evidence_{denied_pack.name}.pdf"
    texts = page_texts(path)
    whole = "\n".join(texts)
    results = json.loads((denied_pack / "results.json").read_text())
    for control in results["controls"]:
        assert f"{control['id']}: {control['title']}" in whole
        for item in control["failing"]:
            assert item["resource"] in whole.replace("\n", ""), item["resource"]
    assert "FAIL" in whole and "PASS" in whole and "ERROR" in whole
    # The control that could not be collected names operation and AWS code.
    assert "Could not be collected" in whole
    assert "DescribeDBInstances" in whole and "AccessDenied" in whole


def test_cover_contents_and_metadata(denied_pack: Path) -> None:
    path = pdf_of(denied_pack)
    reader = PdfReader(path)
    cover = reader.pages[0].extract_text()
    results = json.loads((denied_pack / "results.json").read_text())
    run = results["run"]
    for expected in (
        "SOC 2 evidence pack",
        "Example Corp",
        run["as_of"],
        run["caller_arn"],
        denied_pack.name,
        sha256_file(denied_pack / "results.json"),
        ACCOUNT,
        "us-east-1",
        run["tool_version"],
    ):
        assert expected in cover, expected
    contents = reader.pages[1].extract_text()
    assert contents.startswith("Contents")
    # pypdf extracts a contents line's dot leader and page number before or after its title.
    title = "IAM-03: Console users have MFA"
    match = re.search(rf"(\d+)\n{title}|{title}[ .]*(\d+)", contents)
    assert match is not None
    page = int(match.group(1) or match.group(2))
    assert reader.pages[page - 1].extract_text().splitlines()[0] == title
    info = reader.metadata
    assert info is not None
    assert str(info.title).startswith("SOC 2 evidence: Example Corp")
    assert str(info.author).startswith("soc-evidence")
    assert str(info.subject).startswith("AWS control evidence as of")
    assert info.creation_date is not None


def test_every_page_numbered_and_headed(denied_pack: Path) -> None:
    texts = page_texts(pdf_of(denied_pack))
    total = len(texts)
    assert total > 5
    for number, page in enumerate(texts, 1):
        assert f"Page {number} of {total}" in page
        assert f"Example Corp  |  {denied_pack.name}" in page
        assert "Generated 20" in page


def test_outline_has_an_entry_per_control(denied_pack: Path) -> None:
    reader = PdfReader(pdf_of(denied_pack))
    titles = [str(entry.title) for entry in reader.outline if not isinstance(entry, list)]
    results = json.loads((denied_pack / "results.json").read_text())
    for control in results["controls"]:
        assert f"{control['id']}: {control['title']}" in titles
    assert "Summary" in titles
    assert any(t.startswith("Appendix") for t in titles)


def test_long_tables_repeat_their_header_on_every_page(denied_pack: Path) -> None:
    texts = page_texts(pdf_of(denied_pack))
    failing = "console password without MFA"  # the failing users' detail, not their names:
    # other controls name them too (excluded from a population, in the IPE section)
    pages = [
        t for t in texts if failing in " ".join(t.split()) and "IAM-03" not in t.split("\n")[1]
    ]
    assert len(pages) >= 2  # 70 failing users split across pages
    for page in pages:
        assert "Resource" in page and "ARN" in page and "Detail" in page


def test_appendix_lists_every_raw_file_and_how_to_verify(denied_pack: Path) -> None:
    texts = page_texts(pdf_of(denied_pack))
    appendix = "".join(t for t in texts if "Appendix" in t or "raw/" in t).replace("\n", "")
    for path in sorted((denied_pack / "raw").rglob("*")):
        if path.is_file():
            relative = path.relative_to(denied_pack).as_posix()
            assert relative in appendix, relative
            assert sha256_file(path) in appendix
    assert "sha256sum -c SHA256SUMS" in appendix
    assert f"soc-evidence verify {denied_pack.name}" in appendix


def test_population_beyond_200_rows_points_to_the_workbook(tmp_path: Path) -> None:
    document, run = synthetic(250)
    control = document["controls"][0]
    for item in control["items"][:3]:
        item["status"] = "fail"
    for item in control["items"][3:]:
        item["status"] = "pass"
    control["failing"] = control["items"][:3]
    with PackBuilder(tmp_path) as pack:
        synthetic_pack(pack, run)
        text = "".join(page_texts(pack.dir / write_pdf(pack, document, run)))
    assert "Rest of the population (247)" in text
    assert "247 items, too many to print" in text
    assert "sheet 'EC2-01' of evidence_123456789012_20261122T001000Z.xlsx" in text.replace(
        "\n", " "
    )
    assert "snap-00000000000000002" in text  # failing: always in full
    assert "snap-00000000000000099" not in text  # passing beyond 200: not printed


def test_rendered_pages_keep_everything_inside_the_margins(
    denied_pack: Path, tmp_path: Path
) -> None:
    if shutil.which("pdftoppm") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("pdftoppm is missing: .ci/run installs poppler-utils")
        pytest.skip("pdftoppm not installed")
    path = pdf_of(denied_pack)
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(path), str(tmp_path / "page")], check=True)
    images = sorted(tmp_path.glob("page-*.png"))
    assert len(images) == len(PdfReader(path).pages)
    for image_path in images:
        image = Image.open(image_path).convert("L")
        width, height = image.size
        margin = int(width * 0.025)  # well inside the 18 mm page margin
        right = image.crop((width - margin, 0, width, height))
        left = image.crop((0, 0, margin, height))
        for strip in (left, right):
            darkest = strip.getextrema()[0]
            assert isinstance(darkest, int) and darkest > 200, f"ink in a margin: {image_path.name}"
        darkest = image.getextrema()[0]
        assert isinstance(darkest, int) and darkest < 100  # the page itself has content


# ---------------------------------------------------------------- reading a PDF back


def outline_entries(reader: PdfReader) -> list[tuple[int, str, int]]:
    """(level, title, 0-based page) of every outline entry, in order."""
    found: list[tuple[int, str, int]] = []

    def walk(entries: list[Any], level: int) -> None:
        for entry in entries:
            if isinstance(entry, list):
                walk(entry, level + 1)
            else:
                page = reader.get_destination_page_number(entry)
                assert page is not None
                found.append((level, str(entry.title), page))

    walk(reader.outline, 0)
    return found


def section_starts(reader: PdfReader) -> list[int]:
    """Pages where a section begins: the cover, the contents, and each level-0 outline entry."""
    return sorted({0, 1, *(page for level, _, page in outline_entries(reader) if level == 0)})


def body_fill(page: Any) -> float:
    """How far down the frame the page's lowest line of body text is (0 = empty, 1 = full):
    header, "continued" line and footer are outside the frame and not counted."""
    top, bottom = PAGE[1] - TOP_MARGIN, MARGIN
    lowest = [top]

    def visit(text: str, cm: list[float], tm: list[float], *_: Any) -> None:
        if not text.strip():
            return
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        if bottom - 1 <= y <= top + 1:
            lowest.append(y)

    page.extract_text(visitor_text=visit)
    return float((top - min(lowest)) / (top - bottom))


def demo_pack_dir(tmp: Path) -> Path:
    """The embedded demo, run as a user runs it: every check, passing and failing resources."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    result = subprocess.run(
        [sys.executable, "-m", "evidence", "demo", "--output", str(tmp / "output")],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    (pack,) = [p for p in (tmp / "output").iterdir() if not p.name.startswith(".")]
    return pack


@pytest.fixture(scope="module")
def demo_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_pack_dir(tmp_path_factory.mktemp("demo"))


# ---------------------------------------------------------------- outline, contents, pages


@pytest.mark.parametrize("which", ["denied", "demo"])
def test_every_outline_entry_opens_the_page_holding_its_heading(
    which: str, denied_pack: Path, demo_pack: Path
) -> None:
    reader = PdfReader(pdf_of(denied_pack if which == "denied" else demo_pack))
    entries = outline_entries(reader)
    assert len({page for _, _, page in entries}) > 5  # not every entry on one page
    texts = [p.extract_text() for p in reader.pages]
    flat = [re.sub(r"\s+", " ", t) for t in texts]
    for level, title, page in entries:
        # The heading is on its page (a long one may wrap), and no section's heading is earlier.
        assert title in flat[page], (level, title, page + 1)
        if level == 0:
            assert not any(title in text for text in flat[2:page]), f"{title} earlier"
    # The contents page numbers are the outline's pages.
    contents = texts[1]
    for level, title, page in entries:
        if level:
            continue
        match = re.search(rf"{re.escape(title)}[ .]*(\d+)|(\d+)\n{re.escape(title)}", contents)
        assert match is not None, title
        assert int(match.group(1) or match.group(2)) == page + 1, title


def test_continuation_pages_carry_the_control_id_and_title(denied_pack: Path) -> None:
    reader = PdfReader(pdf_of(denied_pack))
    texts = [p.extract_text() for p in reader.pages]
    starts = section_starts(reader)
    sections = [(t, p) for level, t, p in outline_entries(reader) if level == 0]
    long_ones = 0
    for title, first in sections:
        end = min([s for s in starts if s > first], default=len(texts))
        for page in range(first + 1, end):
            long_ones += 1
            assert f"{title} (continued)" in texts[page], (title, page + 1)
        control_id = title.split(":")[0]
        for page in range(first, end):
            assert control_id in texts[page]
    assert long_ones >= 2  # IAM-03's 70 failing users run over several pages


@pytest.mark.parametrize("which", ["denied", "demo"])
def test_no_page_is_left_mostly_blank_except_where_a_section_ends(
    which: str, denied_pack: Path, demo_pack: Path
) -> None:
    reader = PdfReader(pdf_of(denied_pack if which == "denied" else demo_pack))
    starts = section_starts(reader)
    section_ends = {s - 1 for s in starts[1:]} | {len(reader.pages) - 1}
    for number, page in enumerate(reader.pages):
        fill = body_fill(page)
        assert fill > 0.02, f"page {number + 1} is empty"
        if number not in section_ends:
            assert fill >= 0.2, f"page {number + 1} is {fill:.0%} filled"


# ---------------------------------------------------------------- charts


def chart_pixels(image: Image.Image, colour: str, tolerance: int = 6) -> int:
    """Pixels of one chart colour (a status's bars and ring segments)."""
    wanted = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    total = 0
    for count, rgb in image.getcolors(maxcolors=1 << 20) or []:
        assert isinstance(rgb, tuple)
        if all(abs(a - b) <= tolerance for a, b in zip(rgb, wanted, strict=True)):
            total += count
    return total


def render(path: Path, page: int, tmp: Path, dpi: int = 60) -> Image.Image:
    if shutil.which("pdftoppm") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("pdftoppm is missing: .ci/run installs poppler-utils")
        pytest.skip("pdftoppm not installed")
    stem = tmp / f"page{page}"
    pages = ["-f", str(page), "-l", str(page)]
    subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-png", "-singlefile", *pages, str(path), str(stem)],
        check=True,
    )
    return Image.open(f"{stem}.png").convert("RGB")


def test_summary_charts_controls_by_status_and_by_criterion(
    demo_pack: Path, tmp_path: Path
) -> None:
    path = pdf_of(demo_pack)
    reader = PdfReader(path)
    (summary,) = [p for _, t, p in outline_entries(reader) if t == "Summary"]
    text = reader.pages[summary].extract_text()
    results = json.loads((demo_pack / "results.json").read_text())
    assert "Controls by status" in text and "Controls by Trust Services Criterion" in text
    for status, count in results["summary"].items():
        assert (f"{status.upper()} {count} (" in text.replace("  ", " ")) == (count > 0)
    criteria = {c for control in results["controls"] for c in control["criteria"]}
    for criterion in criteria:
        assert criterion in text
    assert "across packs" not in text  # no history given: no trend
    image = render(path, summary + 1, tmp_path)
    for status, count in results["summary"].items():
        pixels = chart_pixels(image, CHART_COLOURS[status].hexval().replace("0x", "#"))
        assert (pixels > 30) == (count > 0), status  # drawn exactly for the statuses present


def test_per_account_bars_when_the_pack_has_several_accounts(tmp_path: Path) -> None:
    document, run = synthetic(6)
    accounts = ["111111111111", "222222222222", "333333333333"]
    document["run"]["accounts"] = [
        {"account_id": a, "alias": f"team-{n}", "caller_arn": "x", "regions": ["us-east-1"]}
        for n, a in enumerate(accounts)
    ]
    for n, item in enumerate(document["controls"][0]["items"]):
        item["account"] = accounts[n % 3]
    with PackBuilder(tmp_path) as pack:
        synthetic_pack(pack, run)
        path = pack.dir / write_pdf(pack, document, run)
        texts = page_texts(path)
    (page,) = [t for t in texts if "Controls by status in each account" in t]
    assert "Results by account" in page
    for n, account in enumerate(accounts):
        assert f"{account} (team-{n})" in page
    single, run = synthetic(6)
    with PackBuilder(tmp_path / "one") as pack:
        synthetic_pack(pack, run)
        text = "".join(page_texts(pack.dir / write_pdf(pack, single, run)))
    assert "in each account" not in text  # one account: no per-account chart


def test_status_trend_is_drawn_from_history_only_when_history_is_given(tmp_path: Path) -> None:
    document, run = synthetic(4)
    history = [
        PackStatus("123456789012_20260822T000000Z", "2026-08-22T00:00:00Z", {"pass": 1}),
        PackStatus("123456789012_20260922T000000Z", "2026-09-22T00:00:00Z", {"fail": 1}),
        PackStatus("123456789012_20261022T000000Z", "2026-10-22T00:00:00Z", {"error": 1}),
    ]
    with PackBuilder(tmp_path / "with") as pack:
        synthetic_pack(pack, run)
        path = pack.dir / write_pdf(pack, document, run, history=history)
        texts = page_texts(path)
        image = render(path, 3, tmp_path)
    (summary,) = [t for t in texts if "Controls by status across packs" in t]
    # Every earlier pack and this one, oldest first, labelled by as-of date.
    dates = ["2026-08-22", "2026-09-22", "2026-10-22", "2026-11-22"]
    positions = [summary.index(d) for d in dates]
    assert positions == sorted(positions)
    assert chart_pixels(image, CHART_COLOURS["pass"].hexval().replace("0x", "#")) > 30
    with PackBuilder(tmp_path / "without") as pack:
        synthetic_pack(pack, run)
        text = "".join(page_texts(pack.dir / write_pdf(pack, document, run)))
    assert "across packs" not in text


def test_trend_chart_scales_to_many_packs_and_counts() -> None:
    packs = [
        PackStatus(
            f"p{n}",
            f"2026-{1 + n // 28:02d}-{1 + n % 28:02d}T00:00:00Z",
            {"pass": 400 + n, "fail": n},
        )
        for n in range(40)
    ]
    drawing = status_trend(packs, 170 * mm)
    labels = [s.text for s in drawing.contents if hasattr(s, "text")]
    assert "The 12 most recent of 40 packs." in labels
    assert "26-02-12" in labels and "26-02-01" in labels  # the latest 12, dates shortened
    assert "26-01-28" not in labels
    assert drawing.width == pytest.approx(170 * mm)


# ---------------------------------------------------------------- findings an owner can act on


def test_every_check_declares_the_attributes_a_finding_row_shows(demo_pack: Path) -> None:
    results = json.loads((demo_pack / "results.json").read_text())
    produced: dict[str, set[str]] = {}
    for control in results["controls"]:
        for item in control["items"]:
            if item["status"] != "error":  # an item that could not be judged says only why
                produced.setdefault(control["check"], set()).update(item["attributes"])
    for name, check in CHECKS.items():
        shown = check.shown
        assert 1 <= len(shown) <= 4, name
        fields = {f.name for f in dataclasses.fields(check.params)}
        for column in shown:
            assert column.required is None or column.required in fields, (name, column)
            if name in produced:  # the demo exercises nearly every check
                assert column.attribute in produced[name], (name, column.attribute)
    assert len(produced) >= 20


def failing_table_headers(document: dict[str, Any], check: str, tmp: Path) -> str:
    """The text of a control's section in a PDF of a synthetic pack with that check."""
    document["controls"][0]["check"] = check
    document["controls"][0]["id"] = "X-01"
    document["controls"][0]["title"] = "Synthetic"
    _, run = synthetic(1)
    with PackBuilder(tmp) as pack:
        synthetic_pack(pack, run)
        texts = page_texts(pack.dir / write_pdf(pack, document, run))
    return "\n".join(t for t in texts if "X-01" in t)


def test_failing_table_shows_declared_attributes_and_drops_empty_columns(tmp_path: Path) -> None:
    document, _ = synthetic(3)
    control = document["controls"][0]
    control["params"] = {"min_length": 14, "max_age_days": 90, "reuse_prevention": None}
    for item in control["items"]:
        item.update(status="fail", arn="", resource="account-password-policy")
        item["attributes"] = {
            "policy_set": True,
            "minimum_length": 6,
            "max_password_age_days": None,
            "password_reuse_prevention": 3,
        }
    control["failing"] = control["items"]
    text = " ".join(failing_table_headers(document, "iam.password_policy", tmp_path).split())
    # The actual settings against the required ones; max age never set: that column is dropped.
    assert "Minimum length (required 14)" in text
    assert "Password reuse prevention (not required)" in text
    assert "Max password age" not in text
    # No item has an ARN here: the column shows the resource alone; Account and Region are the
    # same for every row: said once above the table.
    assert "Every item below: account 123456789012, region us-east-1." in text

    document, _ = synthetic(3)
    control = document["controls"][0]
    for n, item in enumerate(control["items"]):
        item.update(status="fail", region=["us-east-1", "eu-west-1", "eu-west-1"][n])
        item["attributes"] = {
            "group_name": f"web-{n}",
            "description": "",
            "ports": "22",
            "source": "0.0.0.0/0",
        }
    control["failing"] = control["items"]
    text = " ".join(
        failing_table_headers(document, "ec2.security_groups_open", tmp_path / "sg").split()
    )
    assert "Group name" in text and "Ports" in text and "Source" in text and "web-2" in text
    assert "Description" not in text.split("Failing items")[1]  # empty for every row: dropped
    assert "Region" in text.split("Failing items")[1]  # differs between rows: a column


def test_each_item_points_to_its_evidence(demo_pack: Path) -> None:
    """Every item's references name raw files of its own account and region, and the calls or
    CSV rows named hold the item's identifiers."""
    results = json.loads((demo_pack / "results.json").read_text())
    locator = EvidenceLocator(RawReader(demo_pack))
    named_calls = named_rows = 0
    for control in results["controls"]:
        if control["check"] == "manual":
            continue
        refs = locator.for_control(control)
        for item in control["items"]:
            found = refs[item_key(item)]
            assert found, (control["id"], item["resource"])
            identifiers = {item["resource"], item["arn"]} - {""}
            for ref in found:
                assert ref.path.startswith(f"raw/{item['account']}/{item['region']}/")
                if ref.rows:
                    lines = (demo_pack / ref.path).read_text().splitlines()
                    for row in ref.rows:
                        assert identifiers & set(lines[row - 1].split(",")), ref
                        named_rows += 1
                for seq in ref.calls:
                    raw = json.loads((demo_pack / ref.path).read_text())
                    (call,) = [c for c in raw["calls"] if c["seq"] == seq]
                    named_calls += 1
                    if ref.path.endswith("credential_report.json"):
                        assert call["operation"] == "GetCredentialReport"  # the CSV's source
                    elif len(raw["calls"]) > 1 and item["resource"] in json.dumps(call):
                        pass
                    elif len(raw["calls"]) > 1:  # named by an attribute (alarm chain: filters)
                        values = json.dumps(item["attributes"])
                        assert any(
                            v in values for v in re.findall(r'"([^"]{3,})"', json.dumps(call))
                        ), (control["id"], item["resource"], ref)
    assert named_calls > 100 and named_rows > 20
    # The PDF shows the references as F<n> call/row, F<n> listed in the section's raw evidence.
    text = "".join(page_texts(pdf_of(demo_pack)))
    assert re.search(r"F\d+ call \d+", text) and re.search(r"F\d+ row \d+", text)


# ---------------------------------------------------------------- text of any length


def prose(label: str, length: int = 7_000) -> str:
    """`length` characters of words, marked at both ends, with one unbroken 600-character
    token and characters outside Latin-1 in the middle."""
    words = ("lorem ipsum dolor sit amet " * (length // 27 + 1))[: length // 2]
    return f"{label}-START {words} {'x' * 600} Ωé日本🙂 <b>&amp; {words} {label}-END"


def token(label: str, length: int = 7_000) -> str:
    """An identifier with no space to break at."""
    return f"{label}-START{'z' * length}{label}-END"


def extreme_document() -> tuple[dict[str, Any], Any]:
    document, run = synthetic(3)
    meta = document["run"]
    meta["organisation"] = prose("ORGANISATION")
    meta["caller_arn"] = token("CALLER")
    meta["accounts"][0]["alias"] = token("ALIAS", 2_000)
    control = document["controls"][0]
    control.update(
        title=prose("TITLE"),
        description=prose("DESCRIPTION"),
        notes=[prose("NOTE")],
        criteria=["CC6.1", token("CRITERION", 500)],
        references={"cis": [prose("REFERENCE")]},
        params={"authorized": [f"role-{n}" for n in range(1_500)], "name": token("PARAM")},
        errors=[
            {
                "account": ACCOUNT,
                "region": "us-east-1",
                "operation": token("OPERATION"),
                "code": token("CODE"),
                "message": prose("MESSAGE"),
            }
        ],
    )
    for n, item in enumerate(control["items"]):
        item.update(
            status=["fail", "fail", "pass"][n],
            resource=token(f"RESOURCE{n}"),
            arn=token(f"ARN{n}"),
            detail=prose(f"DETAIL{n}"),
        )
        item["attributes"].update(description=prose(f"ATTRIBUTE{n}"), volume_id=token(f"VOL{n}"))
    control["failing"] = control["items"][:2]
    manual = {
        **control,
        "id": "MAN-01",
        "check": "manual",
        "errors": [],
        "items": [
            {
                **control["items"][0],
                "status": "manual",
                "resource": token("ATTACHMENT"),
                "detail": "attached as " + token("ATTACHED"),
                "attributes": {"sha256": "0" * 64},
            }
        ],
        "failing": [],
        "attachments": [
            {
                "file": token("ATTACHMENT"),
                "path": "attachments/MAN-01/" + token("ATTACHED"),
                "sha256": "0" * 64,
            }
        ],
    }
    document["controls"].append(manual)
    document["summary"] = {"fail": 1, "manual": 1}
    return document, run


def test_no_text_of_any_length_breaks_the_layout(tmp_path: Path) -> None:
    """Issue: a 7,000-character description made reportlab raise LayoutError after every AWS
    call had been made. Every free-text field and every AWS string shown, at extreme lengths,
    is wrapped or split across pages, and all of it is there."""
    document, run = extreme_document()
    with PackBuilder(tmp_path) as pack:
        synthetic_pack(pack, run)
        path = pack.dir / write_pdf(pack, document, run)
        text = re.sub(r"\s+", "", "".join(page_texts(path)))
    for label in (
        "DESCRIPTION",
        "NOTE",
        "REFERENCE",
        "MESSAGE",
        "DETAIL0",
        "DETAIL1",
        "DETAIL2",
        "ATTRIBUTE0",
        "ATTRIBUTE1",
        "ORGANISATION",
        "TITLE",
    ):
        # Both ends: nothing cut off (headings shorten titles; the section gives them whole).
        assert f"{label}-START" in text and f"{label}-END" in text, label
    for label in ("CALLER", "OPERATION", "CODE", "RESOURCE0", "ARN1", "VOL0", "PARAM"):
        assert f"{label}-START" in text and f"{label}-END" in text, label
    assert "ATTACHMENT-END" in text and "ATTACHED-END" in text
    assert "role-1499" in text
    reader = PdfReader(path)
    assert 10 < len(reader.pages) < 120
    if shutil.which("pdftoppm") is not None:
        subprocess.run(["pdftoppm", "-r", "30", "-png", str(path), str(tmp_path / "p")], check=True)
        for image_path in sorted(tmp_path.glob("p-*.png")):
            image = Image.open(image_path).convert("L")
            width, height = image.size
            margin = int(width * 0.03)
            for strip in (
                image.crop((0, 0, margin, height)),
                image.crop((width - margin, 0, width, height)),
            ):
                darkest = strip.getextrema()[0]
                assert isinstance(darkest, int) and darkest > 200, (
                    f"ink in a margin: {image_path.name}"
                )


def test_a_catalogue_with_a_7000_character_description_still_makes_a_pack(
    aws: Any, collect: Any, tmp_path: Path
) -> None:
    description = prose("DESCRIPTION")
    body = f"""\
  - id: IAM-01
    title: "{prose("TITLE", 1_000)}"
    description: "{description}"
    criteria: [CC6.1]
    check: iam.password_policy
"""
    run = collect(
        controls=write_controls(tmp_path / "controls.yaml", body, organisation=prose("ORG", 500))
    )
    assert run.code == 1, run.err  # the pack is written: no password policy is a finding
    text = re.sub(r"\s+", "", "".join(page_texts(pdf_of(run.pack))))
    assert "DESCRIPTION-START" in text and "DESCRIPTION-END" in text
