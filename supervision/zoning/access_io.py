"""Read and write access-list files (CSV or XLSX) in one tabular layout.

Columns, in Chinese or English: 层级/level, 范围编码/scope_code, 维度/dimension,
条款编号/number, 条款内容/text, 管控类型/action, 行业代码/industry_codes (codes separated
by ``;``), 适用/applies_to. Values are accepted in Chinese or English (总体 or plan, 禁止 or
prohibit …). Nothing here touches the database: reading returns parsed rows plus one
readable problem per bad cell (``row 4, column 维度: …``, rows counted as a spreadsheet
does, the header being row 1); whether scope codes exist is the service's question.
Export writes Chinese headers and values, so a written file reads back to the same rows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from supervision.tables import TableError, cell_text, csv_row, table_file_read, xlsx_row_append

from .access_rules import Clause
from .choices import AccessAction, AccessLevel, AppliesTo, Dimension
from .industries import IndustryCodeError, industry_normalise

# (field, Chinese header); the English header is the field name itself.
COLUMNS: list[tuple[str, str]] = [
    ("level", "层级"),
    ("scope_code", "范围编码"),
    ("dimension", "维度"),
    ("number", "条款编号"),
    ("text", "条款内容"),
    ("action", "管控类型"),
    ("industry_codes", "行业代码"),
    ("applies_to", "适用"),
]
HEADER_ALIASES = {name: f for f, name in COLUMNS} | {f: f for f, _ in COLUMNS}
REQUIRED = ("level", "scope_code", "dimension", "number", "text", "action")
FORMATS = ("csv", "xlsx")


def _values(choices, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Accept the value, its Chinese label and the extra spellings; English case-insensitively."""
    out = {str(label): value for value, label in choices.choices} | {value: value for value in choices.values}
    return out | (extra or {})


LEVEL_VALUES = _values(
    AccessLevel,
    {"全市": AccessLevel.PLAN, "全省": AccessLevel.PLAN, "流域": AccessLevel.OVERLAY, "片区": AccessLevel.REGION},
)
DIMENSION_VALUES = _values(Dimension)
ACTION_VALUES = _values(AccessAction)
APPLIES_VALUES = _values(AppliesTo)
VALUE_TABLES = {
    "level": LEVEL_VALUES,
    "dimension": DIMENSION_VALUES,
    "action": ACTION_VALUES,
    "applies_to": APPLIES_VALUES,
}
VALUE_NAMES = {
    "level": "level",
    "dimension": "dimension",
    "action": "action",
    "applies_to": "applies-to value",
}
EXPECTED = {
    "level": "总体 (全市/全省), 重点区域 (片区), 区域 (流域), 区县 or 单元",
    "dimension": "、".join(str(label) for label in Dimension.labels),
    "action": "禁止, 限制, 要求 or 允许",
    "applies_to": "新建, 改扩建 or 全部",
}
CODE_SEPARATORS = (";", "；")


class AccessFileError(ValueError):
    """The file cannot be read as an access list at all (format, encoding, header)."""


@dataclass(frozen=True)
class AccessRow:
    """One parsed data row; ``row`` is its spreadsheet row number (header = 1)."""

    row: int
    clause: Clause


@dataclass
class AccessTable:
    rows: list[AccessRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # field -> header as written in the file

    def column(self, name: str) -> str:
        return self.headers.get(name, dict(COLUMNS)[name])


def industry_codes_parse(raw: str) -> tuple[tuple[str, ...], list[str]]:
    """``'C26; c2614；B06'`` → normalised codes (sorted, de-duplicated) and the errors."""
    text = raw
    for sep in CODE_SEPARATORS[1:]:
        text = text.replace(sep, CODE_SEPARATORS[0])
    codes: list[str] = []
    errors: list[str] = []
    for part in (p.strip() for p in text.split(CODE_SEPARATORS[0])):
        if not part:
            continue
        try:
            code = industry_normalise(part)
        except IndustryCodeError as exc:
            errors.append(str(exc))
            continue
        if code not in codes:
            codes.append(code)
    return tuple(codes), errors


def access_table_parse(header: Sequence, records: Iterable[Sequence]) -> AccessTable:
    """Parse a header and data records (rows of cells) into clauses and problems."""
    table = AccessTable()
    index: dict[str, int] = {}
    for i, name in enumerate(cell_text(h) for h in header):
        key = HEADER_ALIASES.get(name) or HEADER_ALIASES.get(name.lower())
        if key is None:
            continue
        if key in index:
            table.problems.append(f"row 1, column {name}: column '{table.headers[key]}' appears twice")
            continue
        index[key] = i
        table.headers[key] = name
    missing = [f for f in REQUIRED if f not in index]
    if missing:
        names = ", ".join(f"{dict(COLUMNS)[f]} ({f})" for f in missing)
        table.problems.append(f"row 1: missing column(s) {names}")
        return table

    first_row_of: dict[str, int] = {}
    for row_no, record in enumerate(records, start=2):
        cells = {f: cell_text(record[i]) if i < len(record) else "" for f, i in index.items()}
        if not any(cells.values()):
            continue
        problems: list[str] = []

        def problem(name: str, message: str) -> None:
            problems.append(f"row {row_no}, column {table.column(name)}: {message}")  # noqa: B023 (called in this iteration only)

        values: dict[str, str] = {}
        for name, choices in VALUE_TABLES.items():
            raw = cells.get(name, "")
            if not raw and name == "applies_to":
                values[name] = AppliesTo.ALL
                continue
            value = choices.get(raw) or choices.get(raw.lower())
            if value is None:
                shown = f"'{raw}'" if raw else "an empty cell"
                problem(
                    name,
                    f"unknown {VALUE_NAMES[name]} {shown}; expected {EXPECTED[name]}",
                )
            else:
                values[name] = value
        for name in ("scope_code", "number", "text"):
            if not cells[name]:
                problem(name, "empty; every clause needs one")
        codes, errors = industry_codes_parse(cells.get("industry_codes", ""))
        for error in errors:
            problem("industry_codes", error)
        number = cells["number"]
        if number:
            if number in first_row_of:
                problem(
                    "number",
                    f"duplicate clause number '{number}' (first on row {first_row_of[number]})",
                )
            else:
                first_row_of[number] = row_no
        if problems:
            table.problems.extend(problems)
            continue
        table.rows.append(
            AccessRow(
                row_no,
                Clause(
                    level=values["level"],
                    scope_code=cells["scope_code"],
                    dimension=values["dimension"],
                    number=number,
                    text=cells["text"],
                    action=values["action"],
                    industry_codes=codes,
                    applies_to=values["applies_to"],
                    position=row_no - 1,
                ),
            )
        )
    return table


GPKG_TABLE = "access_list"


def access_file_read(path: str) -> AccessTable:
    """Read a CSV or XLSX access list (first sheet), or a GeoPackage's access_list table; raises
    AccessFileError when unreadable."""
    try:
        header, rows = table_file_read(path, gpkg_layer=GPKG_TABLE)
    except TableError as exc:
        raise AccessFileError(str(exc)) from None
    return access_table_parse(header, rows)


def clause_cells(clause: Clause) -> list[str]:
    """One clause as the Chinese cells of an export row."""
    return [
        str(AccessLevel(clause.level).label),
        clause.scope_code,
        str(Dimension(clause.dimension).label),
        clause.number,
        clause.text,
        str(AccessAction(clause.action).label),
        ";".join(clause.industry_codes),
        str(AppliesTo(clause.applies_to).label),
    ]


def access_file_write(clauses: Iterable[Clause], *, fmt: str, stream: BinaryIO) -> None:
    """Write clauses with Chinese headers: CSV as UTF-8 with a BOM (Excel opens it right), or XLSX."""
    header = [name for _, name in COLUMNS]
    with translation.override(settings.LANGUAGE_CODE):  # the file's labels are the Chinese ones the import reads
        rows = [clause_cells(c) for c in clauses]
    if fmt == "csv":
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(csv_row(r) for r in rows)
        stream.write(text.getvalue().encode("utf-8-sig"))
    elif fmt == "xlsx":
        from openpyxl import Workbook

        workbook = Workbook()
        sheet = workbook.active
        sheet.title = "生态环境准入清单"
        # Everything is text: a clause starting with '=' is not a formula, '220102' not a number.
        for values in [header, *rows]:
            xlsx_row_append(sheet, values)
        workbook.save(stream)
    else:
        raise AccessFileError(_("unknown format '%(fmt)s'; use csv or xlsx") % {"fmt": fmt})
