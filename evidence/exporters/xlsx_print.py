"""How every sheet of the workbook prints: landscape, fitted to the page width (labels and values
stay on one page), the table's header row repeated on each page, the pack and sheet named in
the header and "Page x of y" in the footer."""

from __future__ import annotations

from typing import Any

from openpyxl.worksheet.properties import PageSetupProperties


def _literal(text: str) -> str:
    """Header and footer text: "&" starts a code there, "&&" prints one."""
    return text.replace("&", "&&")


def printable(sheet: Any, pack: str, title_row: int | None) -> None:
    """Print settings for a write-only sheet: call before its first row is appended (the sheet
    properties are written with the first row). `title_row` repeats on every printed page."""
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0  # as many pages down as the rows need
    sheet.print_options.gridLines = True
    sheet.page_margins.left = sheet.page_margins.right = 0.4
    sheet.page_margins.top = sheet.page_margins.bottom = 0.6
    sheet.page_margins.header = sheet.page_margins.footer = 0.25
    if title_row is not None:
        sheet.print_title_rows = f"{title_row}:{title_row}"
    for header_footer in (sheet.oddHeader, sheet.evenHeader, sheet.firstHeader):
        header_footer.left.text = _literal(pack)
        header_footer.left.size = 8
        header_footer.right.text = "&A"  # the sheet's name
        header_footer.right.size = 8
    for header_footer in (sheet.oddFooter, sheet.evenFooter, sheet.firstFooter):
        header_footer.right.text = "Page &P of &N"
        header_footer.right.size = 8
