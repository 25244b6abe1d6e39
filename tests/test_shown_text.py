"""Text in the PDF and the workbook: bidi and invisible controls are shown as code points (no
"Trojan Source" name reads as another), characters the PDF font cannot draw are shown as code
points rather than empty boxes, and the evidence keeps the exact strings."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from evidence.exporters import pdf_layout  # noqa: F401 - registers the embedded fonts
from evidence.exporters.shown_text import drawable, visible
from tests.conftest import Aws, write_controls
from tests.test_statuses import pdf_text, summary_rows

RLO, LRI, PDI, LRM, RLM, ZWSP, BOM = (
    "\u202e",
    "\u2066",
    "\u2069",
    "\u200e",
    "\u200f",
    "\u200b",
    "\ufeff",
)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (f"invoice{RLO}fdp.exe", "invoice<U+202E>fdp.exe"),
        (f"{LRI}admin{PDI}", "<U+2066>admin<U+2069>"),
        (f"a{LRM}b{RLM}c", "a<U+200E>b<U+200F>c"),
        (f"ad{ZWSP}min{BOM}", "ad<U+200B>min<U+FEFF>"),
        ("bell\x07", "bell<U+0007>"),
        ("line\u2028break", "line<U+2028>break"),
        ("two\nlines\tkept", "two\nlines\tkept"),
        ("שלום Привет 中文 café", "שלום Привет 中文 café"),  # scripts stay: Excel draws them
    ],
)
def test_the_workbook_shows_invisible_and_bidi_controls(raw: str, shown: str) -> None:
    assert visible(raw) == shown


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("שלום", "<U+05E9><U+05DC><U+05D5><U+05DD>"),
        ("Привет", "<U+041F><U+0440><U+0438><U+0432><U+0435><U+0442>"),
        ("中", "<U+4E2D>"),
        (f"a{RLO}b", "a<U+202E>b"),
        ("café … naïve", "café … naïve"),  # Vera has these
        ("plain ascii", "plain ascii"),
    ],
)
def test_the_pdf_shows_what_its_font_cannot_draw_as_code_points(raw: str, shown: str) -> None:
    assert drawable(raw, "Vera") == shown
    assert drawable(raw, "Vera-Bold") == shown


TITLE = f"Access review {RLO}fdp.exe for שלום"
CONTROLS = f"""\
  - id: IAM-01
    title: "{TITLE}"
    description: "Owner{ZWSP}: {LRI}root{PDI}"
    criteria: [CC6.1]
    check: iam.password_policy
"""


def test_a_trojan_source_title_is_shown_by_code_point_in_pdf_and_workbook(
    aws: Aws, collect: Any, tmp_path: Path
) -> None:
    controls = write_controls(tmp_path / "controls.yaml", CONTROLS, organisation=f"Acme{RLO}oC")
    run = collect("--only", "IAM-01", "--region", "us-east-1", controls=controls)
    assert run.code in (0, 1), run.err
    # The evidence keeps the exact strings.
    assert run.control("IAM-01")["title"] == TITLE
    assert run.results["run"]["organisation"] == f"Acme{RLO}oC"

    pages = pdf_text(run.pack)
    text = "".join(pages)
    contents = next(page for page in pages if "Contents" in page)
    assert "IAM-01: Access review <U+202E>fdp.exe for" in " ".join(contents.split())
    for hidden in (RLO, LRI, PDI, ZWSP, "\u05e9"):
        assert hidden not in text
    flat = " ".join(text.split())
    assert "Access review <U+202E>fdp.exe for <U+05E9><U+05DC><U+05D5><U+05DD>" in flat
    assert "Acme<U+202E>oC" in flat
    assert "Owner<U+200B>: <U+2066>root<U+2069>" in flat

    rows = summary_rows(run.pack)
    titles = [cell.value for cell in rows["IAM-01"] if isinstance(cell.value, str)]
    assert "Access review <U+202E>fdp.exe for שלום" in titles
    (pdf,) = run.pack.glob("evidence_*.pdf")
    png = tmp_path / "page"
    subprocess.run(
        ["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "1", str(pdf), str(png)], check=True
    )
    assert list(tmp_path.glob("page*.png"))
    assert json.loads((run.pack / "results.json").read_text())["run"]["organisation"] == (
        f"Acme{RLO}oC"
    )
