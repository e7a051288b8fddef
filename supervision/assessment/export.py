"""A period's scorecards and ranking as CSV or XLSX, with Chinese headers."""

from __future__ import annotations

import io
from collections.abc import Iterator
from decimal import Decimal

from django.conf import settings
from django.utils import translation
from openpyxl import Workbook
from openpyxl.styles import Font

from supervision.tables import csv_lines, xlsx_row_append

from .choices import IndicatorCode, ScorecardStatus
from .officials import official_title
from .selectors import officials_scores, ranking

BASE_HEADERS = [
    "排名",
    "行政区划代码",
    "行政区",
    "考核周期",
    "开始日期",
    "结束日期",
    "版本",
    "状态",
    "方案版本",
    "得分",
]
LINE_HEADERS = ["分子", "分母", "是否适用", "指标值", "方案权重", "调整后权重", "得分"]
OFFICIAL_HEADERS = [
    "行政区划代码",
    "行政区",
    "姓名",
    "职务",
    "任职开始",
    "任职结束",
    "期内任职天数",
    "考核期天数",
    "折算比例",
    "区考核得分",
    "折算得分",
]


def _fmt(v):
    """A number stays a number (XLSX cells are numeric, CSV writes its text: 52.00); None is an empty cell."""
    return v


def _count(v: Decimal | None):
    """A count or an area without trailing zeros (3, 2.5), never in exponent form."""
    if v is None:
        return None
    return int(v) if v == v.to_integral_value() else Decimal(str(float(v)))


def score_table(
    *, plan_code: str, period_code: str, status: str = ScorecardStatus.PUBLISHED
) -> tuple[list[str], list[list]]:
    rows = ranking(plan_code=plan_code, period_code=period_code, status=status)
    codes = []
    for r in rows:
        for line in r.scorecard.lines.all():
            if line.code not in codes:
                codes.append(line.code)
    headers = list(BASE_HEADERS)
    for code in codes:
        label = IndicatorCode(code).label
        headers += [f"{label}（{code}）{h}" for h in LINE_HEADERS]
    table = []
    for r in rows:
        c = r.scorecard
        row = [
            r.rank,
            c.division.adcode,
            c.division.name,
            c.period_code,
            c.period_start.isoformat(),
            c.period_end.isoformat(),
            c.version,
            c.get_status_display(),
            c.scheme.version,
            _fmt(c.score),
        ]
        lines = {ln.code: ln for ln in c.lines.all()}
        for code in codes:
            ln = lines.get(code)
            if ln is None:
                row += [""] * len(LINE_HEADERS)
            else:
                row += [
                    _count(ln.numerator),
                    _count(ln.denominator),
                    "是" if ln.applicable else "否",
                    _fmt(ln.value),
                    _fmt(ln.weight),
                    _fmt(ln.effective_weight),
                    _fmt(ln.points),
                ]
        table.append(row)
    return headers, table


def officials_table(*, plan_code: str, period_code: str, status: str) -> tuple[list[str], list[list]]:
    table = [
        [
            s.official.division.adcode,
            s.official.division.name,
            s.official.name,
            s.official.title
            or official_title(
                role=s.official.role,
                division_name=s.official.division.name,
                division_kind=s.official.division.kind,
            ),
            s.official.term_start.isoformat(),
            s.official.term_end.isoformat() if s.official.term_end else "",
            s.overlap_days,
            s.period_days,
            _fmt(s.share),
            _fmt(s.scorecard.score),
            _fmt(s.attributed_score),
        ]
        for s in officials_scores(plan_code=plan_code, period_code=period_code, status=status)
    ]
    return OFFICIAL_HEADERS, table


def export_csv_chunks(*, plan_code: str, period_code: str, status: str = ScorecardStatus.PUBLISHED) -> Iterator[bytes]:
    """The CSV line by line as UTF-8 (a BOM first, so Excel opens the Chinese headers correctly).

    The ranking is computed here, before the response starts (ranks need every card, and an
    error is still an error page); the lines are then encoded one at a time, never held as one file.
    """
    with translation.override(settings.LANGUAGE_CODE):  # a file for the bureau: Chinese, whoever asks
        headers, table = score_table(plan_code=plan_code, period_code=period_code, status=status)
    return csv_lines(headers, table)


def export_csv(*, plan_code: str, period_code: str, status: str = ScorecardStatus.PUBLISHED) -> bytes:
    """The whole CSV (UTF-8 with a BOM) as one body, for the command line."""
    return b"".join(export_csv_chunks(plan_code=plan_code, period_code=period_code, status=status))


def export_xlsx(*, plan_code: str, period_code: str, status: str = ScorecardStatus.PUBLISHED) -> bytes:
    """Three sheets: 考核结果 (every indicator), 排名 (ranking), 领导干部 (officials, pro rata)."""
    with translation.override(settings.LANGUAGE_CODE):  # a file for the bureau: Chinese, whoever asks
        headers, table = score_table(plan_code=plan_code, period_code=period_code, status=status)
    wb = Workbook()
    ws = wb.active
    ws.title = "考核结果"
    xlsx_row_append(ws, headers)
    for row in table:
        xlsx_row_append(ws, row)
    rank = wb.create_sheet("排名")
    xlsx_row_append(rank, ["排名", "行政区划代码", "行政区", "得分", "状态", "版本"])
    for row in table:
        xlsx_row_append(rank, [row[0], row[1], row[2], row[9], row[7], row[6]])
    oh, ot = officials_table(plan_code=plan_code, period_code=period_code, status=status)
    off = wb.create_sheet("领导干部")
    xlsx_row_append(off, oh)
    for row in ot:
        xlsx_row_append(off, row)
    for sheet in wb.worksheets:
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
