"""Read a CSV or XLSX table into a header and rows of text cells.

Bureau files come from Excel: CSV saved as GBK (GB18030 is its superset) or UTF-8 with a
BOM, or an XLSX workbook (first sheet). Used by every importer that takes a table.
"""

from __future__ import annotations

import csv
import datetime
import io
from pathlib import Path


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
