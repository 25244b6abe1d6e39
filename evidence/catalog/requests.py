"""The auditor's request list (PBC: "provided by client") and the `requests` key of a control.

A request list is a CSV or xlsx file with an `id` and a `description` column (header names are
matched without regard to case; other columns are ignored). Controls name the requests they
answer in controls.yaml (`requests: [PBC-12, PBC-31]`). The file is copied into the pack as it
was received (`requests/<file name>`), so an export rebuilds the mapping offline.

Bounds (a request list is a few hundred rows): the file must be a regular file (symlinks
resolved) of at most MAX_BYTES and MAX_ROWS rows; CSV is read in strict mode, so an unterminated
quote is an error at the line where the field began, not a field that swallows the rest.
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath

from ..errors import ConfigError
from .input_file import read_input_file
from .located_yaml import YamlNode

REQUESTS_DIR = "requests"
FORMATS = (".csv", ".xlsx")
MAX_BYTES = 10 << 20  # 10 MiB
MAX_ROWS = 10_000  # below the header row


@dataclass(frozen=True)
class Request:
    id: str
    description: str
    line: int  # the row in the file (1-based, header included)


@dataclass(frozen=True)
class RequestList:
    file_name: str  # the file's own name, as received
    sha256: str
    content: bytes
    requests: tuple[Request, ...]

    @property
    def pack_path(self) -> str:
        """Where the received file is kept inside a pack."""
        return f"{REQUESTS_DIR}/{self.file_name}"


def load_request_list(path: Path) -> RequestList:
    """Read a request list. Raises ConfigError (file, row, column) for a missing or unreadable
    file, one that is not a regular file or over MAX_BYTES or MAX_ROWS, malformed CSV, a missing
    `id` or `description` column, an empty or duplicate id, or no requests."""
    name = str(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ConfigError(name, None, "", "a request list must be a .csv or .xlsx file")
    content = read_input_file(path, name, MAX_BYTES, "a request list")
    rows = _csv_rows(content, name) if suffix == ".csv" else _xlsx_rows(content, name)
    requests = _requests(rows, name)
    digest = hashlib.sha256(content).hexdigest()
    return RequestList(PurePath(path).name, digest, content, requests)


def read_packed_request_list(pack_dir: Path) -> RequestList | None:
    """The request list kept in a pack (None when the pack was collected without one)."""
    folder = pack_dir / REQUESTS_DIR
    files = sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []
    return load_request_list(files[0]) if files else None


def control_requests(node: YamlNode | None, file: str, path: str) -> tuple[str, ...]:
    """A control's `requests` key: a list of request ids (text, each once)."""
    if node is None:
        return ()
    if not isinstance(node.value, list) or not node.value:
        raise ConfigError(file, node.line, path, "expected a non-empty list of request ids")
    ids: list[str] = []
    for index, child in enumerate(node.value):
        value = child.value
        if not isinstance(value, str) or not value.strip():
            hint = " (quote it)" if isinstance(value, int | float) else ""
            raise ConfigError(file, child.line, f"{path}[{index}]", f"expected text{hint}")
        if value.strip() in ids:
            raise ConfigError(file, child.line, f"{path}[{index}]", f"{value!r} is listed twice")
        ids.append(value.strip())
    return tuple(ids)


Row = tuple[int, Sequence[object]]  # (line, cells)


def _csv_rows(content: bytes, name: str) -> list[Row]:
    try:
        text = content.decode("utf-8-sig")  # Excel writes a byte-order mark
    except UnicodeDecodeError as exc:
        raise ConfigError(name, None, "", f"not UTF-8 text (byte {exc.start})") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[Row] = []
    started = 1  # the line the row being read began on (a quoted field may span lines)
    try:
        for cells in reader:
            rows.append((reader.line_num, cells))
            _bound(rows, name, reader.line_num)
            started = reader.line_num + 1
    except csv.Error as exc:
        unclosed = "unexpected end of data" in str(exc)
        reason = "a quoted field is never closed" if unclosed else f"not valid CSV ({exc})"
        raise ConfigError(name, started, "", reason) from None
    return rows


def _bound(rows: list[Row], name: str, line: int) -> None:
    if len(rows) > MAX_ROWS + 1:  # the header row, then at most MAX_ROWS
        raise ConfigError(name, line, "", f"more than {MAX_ROWS:,} rows: not a request list")


def _xlsx_rows(content: bytes, name: str) -> list[Row]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ConfigError(name, None, "", f"not a readable xlsx workbook ({exc})") from None
    try:
        sheet = workbook.worksheets[0]
        rows: list[Row] = []
        for index, row in enumerate(sheet.iter_rows(values_only=True), 1):
            rows.append((index, tuple(row)))
            _bound(rows, name, index)
        return rows
    finally:
        workbook.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a numeric id typed into a spreadsheet: 12, not 12.0
    return str(value).strip()


def _nonblank(rows: list[Row]) -> Iterator[Row]:
    return (row for row in rows if any(_cell_text(c) for c in row[1]))


def _requests(rows: list[Row], name: str) -> tuple[Request, ...]:
    lines = _nonblank(rows)
    header = next(lines, None)
    if header is None:
        raise ConfigError(name, None, "", "empty: expected a header row with id and description")
    line, cells = header
    columns = {_cell_text(c).lower(): i for i, c in reversed(list(enumerate(cells)))}
    for wanted in ("id", "description"):
        if wanted not in columns:
            found = ", ".join(repr(_cell_text(c)) for c in cells if _cell_text(c))
            raise ConfigError(name, line, "header", f"no {wanted!r} column (found: {found})")
    requests: list[Request] = []
    seen: dict[str, int] = {}
    for line, cells in lines:
        padded = [*cells, *([None] * len(columns))]
        request_id = _cell_text(padded[columns["id"]])
        if not request_id:
            raise ConfigError(name, line, "id", "empty: every request needs an id")
        if request_id in seen:
            raise ConfigError(
                name, line, "id", f"duplicate {request_id!r} (first on line {seen[request_id]})"
            )
        seen[request_id] = line
        requests.append(Request(request_id, _cell_text(padded[columns["description"]]), line))
    if not requests:
        raise ConfigError(name, line, "", "no requests below the header row")
    return tuple(requests)
