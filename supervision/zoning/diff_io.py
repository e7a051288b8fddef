"""A plan diff (selectors.plan_diff) as a text table or an XLSX workbook: plain values in, no queries."""

from __future__ import annotations

from typing import BinaryIO

UNIT_HEADER = ["变化", "单元编码", "新单元编码", "面积（平方米，修订前）", "面积（平方米，修订后）"]
CLAUSE_HEADER = ["变化", "条款编号"]


def plan_diff_rows(diff: dict) -> tuple[list[list], list[list]]:
    """(unit rows, clause rows) in the order a reader expects: added, removed, reclassified, reshaped."""
    units = diff["units"]
    unit_rows: list[list] = [["unchanged", units["unchanged"], "", "", ""]]
    unit_rows += [["added", "", code, "", ""] for code in units["added"]]
    unit_rows += [["removed", code, "", "", ""] for code in units["removed"]]
    unit_rows += [["reclassified", r["from"], r["to"], "", ""] for r in units["reclassified"]]
    unit_rows += [
        ["reshaped", r["code"], r["code"], r["area_m2_before"], r["area_m2_after"]] for r in units["reshaped"]
    ]
    clause_rows = [[kind, number] for kind in ("added", "removed", "changed") for number in diff["clauses"][kind]]
    return unit_rows, clause_rows


def plan_diff_table(diff: dict) -> str:
    """Aligned text, one change per line (unit rows, then clause rows)."""
    unit_rows, clause_rows = plan_diff_rows(diff)
    lines = []
    for header, rows in (
        (["change", "code", "new code", "area_m2 before", "area_m2 after"], unit_rows),
        (["change", "clause"], clause_rows),
    ):
        cells = [[str(c) for c in row] for row in [header, *rows]]
        widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
        lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
        lines.append("")
    return "\n".join(lines).rstrip()


def plan_diff_xlsx(diff: dict, *, old: str, new: str, stream: BinaryIO) -> None:
    """Two sheets, 单元 and 条款, with the same rows as the table."""
    from openpyxl import Workbook

    unit_rows, clause_rows = plan_diff_rows(diff)
    book = Workbook()
    sheet = book.active
    sheet.title = "单元"
    sheet.append([f"{old} → {new}"])
    sheet.append(UNIT_HEADER)
    for row in unit_rows:
        sheet.append(row)
    clauses = book.create_sheet("条款")
    clauses.append([f"{old} → {new}"])
    clauses.append(CLAUSE_HEADER)
    for row in clause_rows:
        clauses.append(row)
    book.save(stream)
