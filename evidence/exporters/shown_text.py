"""Text as the PDF and the workbook show it: nothing invisible, nothing drawn as an empty box.

Names and strings from AWS or a catalogue may hold bidirectional controls (U+202E RIGHT-TO-LEFT
OVERRIDE, U+2066-2069 isolates, U+200E/200F marks) and other invisible format characters (zero
width spaces and joiners, U+FEFF). Shown as they are, they can make a resource name read as
another one ("Trojan Source", CVE-2021-42574). Every such character is shown as its code point,
`<U+202E>`, in both exports; in the PDF a character its embedded font has no glyph for (Hebrew,
Cyrillic, CJK in Vera) is shown the same way instead of as an empty box. Raw evidence keeps the
exact strings: this is display only.
"""

from __future__ import annotations

import functools
import unicodedata
from typing import Any
from xml.sax.saxutils import escape

from reportlab.pdfbase import pdfmetrics

KEPT = frozenset("\n\r\t")  # layout the exports handle themselves
# Format (bidi controls, zero-width characters), control, line/paragraph separators, surrogate,
# private-use and unassigned code points: nothing a reader can see or trust.
HIDDEN_CATEGORIES = frozenset({"Cf", "Cc", "Zl", "Zp", "Cs", "Co", "Cn"})
# The standard PDF fonts (Courier, Helvetica) draw WinAnsi: printable Latin-1 is a safe subset.
LATIN_1 = frozenset(range(0x20, 0x7F)) | frozenset(range(0xA0, 0x100))


def code_point(char: str) -> str:
    """`<U+202E>`: a character named by its code point."""
    return f"<U+{ord(char):04X}>"


def is_hidden(char: str) -> bool:
    """An invisible or bidirectional control character (not a tab or line break)."""
    return char not in KEPT and unicodedata.category(char) in HIDDEN_CATEGORIES


def visible(text: str) -> str:
    """The text with every invisible or bidi control character shown as `<U+XXXX>` (the
    workbook's cells)."""
    if text.isprintable():
        return text
    return "".join(code_point(c) if is_hidden(c) else c for c in text)


@functools.cache
def font_glyphs(font: str) -> frozenset[int]:
    """The code points `font` (a registered reportlab font) can draw."""
    face = getattr(pdfmetrics.getFont(font), "face", None)
    mapping = getattr(face, "charToGlyph", None)
    if not mapping:
        return LATIN_1
    return frozenset(code for code, glyph in mapping.items() if glyph) | {0x20}


def drawable(text: str, font: str = "Vera") -> str:
    """The text as the PDF draws it in `font`: invisible and bidi controls, and characters the
    font has no glyph for, shown as `<U+XXXX>`."""
    if text.isascii() and text.isprintable():
        return text
    glyphs = font_glyphs(font)
    return "".join(
        c if c in KEPT or (not is_hidden(c) and ord(c) in glyphs) else code_point(c) for c in text
    )


def pdf_markup(value: Any, font: str = "Vera") -> str:
    """A value as Paragraph markup: drawable in `font`, then XML-escaped."""
    return escape(drawable(str(value), font))
