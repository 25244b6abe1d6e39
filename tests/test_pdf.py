"""The PDF evidence report, read back (text, pages, outline) and rendered to PNG."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from bench.bench_workbook import synthetic, synthetic_pack
from evidence.exporters.pdf import write_pdf
from evidence.pack.builder import PackBuilder, sha256_file
from tests.conftest import ACCOUNT, CORE, collect_pack, emulated_aws
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
    pages = [t for t in texts if failing in t and "IAM-03" not in t.split("\n")[1]]
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
