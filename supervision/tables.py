"""Read a CSV or XLSX table into a header and rows of text cells; write exports safely.

Bureau files come from Excel: CSV saved as GBK (GB18030 is its superset) or UTF-8 with a
BOM, or an XLSX workbook (first sheet). Used by every importer that takes a table.

Every CSV export goes through `csv_cell` and every XLSX export through `xlsx_row_append`
(OWASP "CSV injection"): a text cell that a spreadsheet would read as a formula is
neutralised, so `=HYPERLINK(...)` in a clause is shown, never run.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# A spreadsheet starts a formula at these (OWASP): = + - @, and tab / CR, which some
# programs skip before looking for one.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# The prefix that makes a spreadsheet show the cell as text. A text cell that itself starts
# with it gets one more, so `csv_cell_restore` undoes `csv_cell` exactly.
TEXT_PREFIX = "'"
# Plain numbers ("-12.5", "+3") are never formulas and stay as they are.
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


class TableError(ValueError):
    """The file cannot be read as a table; the message names the file."""


def cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime) and value.time() == datetime.time(0):
        return value.date().isoformat()
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return str(value).strip()


def csv_cell(value: Any) -> Any:
    """A CSV cell that no spreadsheet runs as a formula: risky text gets a leading `'`."""
    if not isinstance(value, str) or not value:
        return value
    if value.startswith(TEXT_PREFIX) or (value.startswith(FORMULA_TRIGGERS) and not _PLAIN_NUMBER.fullmatch(value)):
        return TEXT_PREFIX + value
    return value


def csv_row(values) -> list:
    """`csv_cell` on every cell of a row (for csv.writer)."""
    return [csv_cell(v) for v in values]


class _Echo:
    """A file-like object whose `write` hands back the line, so csv.writer feeds a generator."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: list, rows) -> Iterator[bytes]:
    """A CSV export as UTF-8 lines for a streamed response: a BOM first (Excel reads the Chinese
    headers right), then one line per row as it comes, every cell through `csv_cell`, None empty."""
    writer = csv.writer(_Echo())
    yield "\ufeff".encode() + writer.writerow(csv_row(header)).encode("utf-8")
    for row in rows:
        yield writer.writerow(csv_row(["" if v is None else v for v in row])).encode("utf-8")


def csv_cell_restore(text: str) -> str:
    """Undo `csv_cell` on a cell read back from one of our CSV exports."""
    return text[len(TEXT_PREFIX) :] if text.startswith(TEXT_PREFIX) else text


def xlsx_row_append(sheet, values) -> None:
    """Append a row to an openpyxl sheet with every text cell stored as text, never as a formula."""
    sheet.append(list(values))
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"


def text_decode(data: bytes, path: str) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise TableError(f"{path}: not UTF-8 or GB18030 text")


def table_read(path: str) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of a .csv or .xlsx file; every cell as stripped text."""
    p = Path(path)
    if not p.exists():
        raise TableError(f"{path}: no such file")
    suffix = p.suffix.lower()
    if suffix == ".csv":
        rows = list(csv.reader(io.StringIO(text_decode(p.read_bytes(), path))))
    elif suffix in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(p, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises several unrelated types for a bad file
            raise TableError(f"{path}: not a readable XLSX workbook ({exc})") from None
        try:
            rows = [list(r) for r in workbook.worksheets[0].iter_rows(values_only=True)]
        finally:
            workbook.close()
    else:
        raise TableError(f"{path}: unsupported format '{suffix}'; use .csv or .xlsx")
    rows = [[cell_text(c) for c in row] for row in rows]
    rows = [row for row in rows if any(row)]
    if not rows:
        raise TableError(f"{path}: empty file, no header row")
    return rows[0], rows[1:]


def column_map(header: list[str], spec: dict[str, tuple[str, ...]]) -> dict[str, int]:
    """Positions of the known columns, matching any of their names (case-insensitive)."""
    lowered = [h.strip().lower() for h in header]
    found: dict[str, int] = {}
    for key, names in spec.items():
        for name in names:
            if name.lower() in lowered:
                found[key] = lowered.index(name.lower())
                break
    return found


def gpkg_table_read(path: str, *, layer: str) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of a GeoPackage's attribute table `layer` (as export_plan writes them), as text."""
    from pyogrio.errors import DataLayerError, DataSourceError
    from pyogrio.raw import read

    try:
        meta, _, _, columns = read(path, layer=layer, read_geometry=False)
    except (DataSourceError, DataLayerError) as exc:
        raise TableError(f"{path}: no readable table '{layer}' ({exc})") from None
    header = [str(name) for name in meta["fields"]]
    rows = [[cell_text(value) for value in row] for row in zip(*columns, strict=True)] if len(columns) else []
    return header, rows


def table_file_read(path: str, *, gpkg_layer: str) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of a .csv/.xlsx table or of a GeoPackage's table `gpkg_layer`.

    CSV cells our exports neutralised against formulas (a leading "'") are restored.
    """
    if path.lower().endswith(".gpkg"):
        return gpkg_table_read(path, layer=gpkg_layer)
    header, rows = table_read(path)
    if path.lower().endswith(".csv"):
        rows = [[csv_cell_restore(c) for c in row] for row in rows]
    return header, rows
