"""Read (and write) a plan's key regions (重点区域) as CSV, XLSX or a GeoPackage table, on plain values: no ORM.

Columns, in Chinese or English: 区域编码/code, 区域名称/name, 所辖行政区/division_adcodes (the
6-digit adcodes of the region's prefectures or counties, separated by ``;``). Reading returns
parsed rows plus one readable problem per bad cell (``row 3, column 所辖行政区: …``, the header
being row 1); whether the adcodes lie in the plan's jurisdiction is the service's question.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO

from supervision.tables import TableError, cell_text, column_map, csv_row, table_file_read

COLUMNS = {
    "code": ("区域编码", "code"),
    "name": ("区域名称", "name"),
    "division_adcodes": ("所辖行政区", "行政区划代码", "division_adcodes"),
}
SEPARATORS = ("；", ",", "，", "、")
# The export's header (Chinese) and where an export puts the table.
HEADER = ["区域编码", "区域名称", "所辖行政区"]
GPKG_TABLE = "regions"
REGIONS_CSV = "regions.csv"


class RegionFileError(ValueError):
    """The file cannot be read as a region table at all (format, encoding, header)."""


@dataclass(frozen=True)
class RegionRow:
    row: int
    code: str
    name: str
    division_adcodes: tuple[str, ...]


@dataclass
class RegionTable:
    rows: list[RegionRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def adcodes_parse(raw: str) -> list[str]:
    """``'230100; 230200、230300'`` → the codes as written, in order, without repeats."""
    text = raw
    for sep in SEPARATORS:
        text = text.replace(sep, ";")
    return list(dict.fromkeys(part.strip() for part in text.split(";") if part.strip()))


def regions_table_parse(header: Sequence[str], records: Iterable[Sequence[str]]) -> RegionTable:
    table = RegionTable()
    index = column_map(list(header), COLUMNS)
    missing = [COLUMNS[key][0] + f" ({key})" for key in COLUMNS if key not in index]
    if missing:
        table.problems.append(f"row 1: missing column(s) {', '.join(missing)}")
        return table
    first_row_of: dict[str, int] = {}
    for row_no, record in enumerate(records, start=2):
        cells = {key: cell_text(record[i]) if i < len(record) else "" for key, i in index.items()}
        if not any(cells.values()):
            continue
        problems = []
        code, name = cells["code"], cells["name"]
        if not code:
            problems.append(f"row {row_no}, column {COLUMNS['code'][0]}: empty; every region needs a code")
        elif len(code) > 64:
            problems.append(f"row {row_no}, column {COLUMNS['code'][0]}: '{code}' is longer than 64 characters")
        elif code in first_row_of:
            problems.append(
                f"row {row_no}, column {COLUMNS['code'][0]}: duplicate region code '{code}' "
                f"(first on row {first_row_of[code]})"
            )
        else:
            first_row_of[code] = row_no
        if not name:
            problems.append(f"row {row_no}, column {COLUMNS['name'][0]}: empty; every region needs a name")
        adcodes = adcodes_parse(cells["division_adcodes"])
        if not adcodes:
            problems.append(
                f"row {row_no}, column {COLUMNS['division_adcodes'][0]}: empty; name the region's prefectures "
                "or counties by their 6-digit adcodes"
            )
        for adcode in adcodes:
            if len(adcode) != 6 or not adcode.isdigit():
                problems.append(
                    f"row {row_no}, column {COLUMNS['division_adcodes'][0]}: '{adcode}' is not a 6-digit "
                    "administrative division code"
                )
            elif adcode.endswith("0000"):
                problems.append(
                    f"row {row_no}, column {COLUMNS['division_adcodes'][0]}: '{adcode}' is a province; a key "
                    "region groups prefectures or counties below the province"
                )
        if problems:
            table.problems.extend(problems)
            continue
        table.rows.append(RegionRow(row_no, code, name, tuple(sorted(adcodes))))
    return table


def regions_file_read(path: str) -> RegionTable:
    """Read a CSV or XLSX region table, or a GeoPackage's `regions` table; raises RegionFileError when unreadable."""
    try:
        header, rows = table_file_read(path, gpkg_layer=GPKG_TABLE)
    except TableError as exc:
        raise RegionFileError(str(exc)) from None
    return regions_table_parse(header, rows)


def region_cells(code: str, name: str, division_adcodes: Iterable[str]) -> list[str]:
    """One region as the cells of an export row."""
    return [code, name, ";".join(division_adcodes)]


def regions_csv_write(rows: Iterable[list[str]], *, stream: BinaryIO) -> None:
    """The regions as CSV, UTF-8 with a BOM, formula-like cells neutralised (as the access-list export)."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(csv_row(r) for r in rows)
    stream.write(text.getvalue().encode("utf-8-sig"))
