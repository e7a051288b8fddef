"""The 跟踪评估 report of a plan for a year: bottom-line attainment, change found by scans in red lines and
priority units, access-list application (siting assessments and verdicts), and enforcement figures.

Read-only: every figure is one aggregate query over leads, cases (through the cases app's
assessment selectors), siting assessments and bottom-line statuses. The page, the XLSX and the
API all read `tracking_report` (one rule in one place).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal

from django.db.models import Count, Exists, FloatField, OuterRef, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Font

from supervision.cases.choices import ChangeClass, LeadSource, LeadStatus
from supervision.cases.selectors_assessment import cases_all, leads_all
from supervision.zoning.choices import OverlayKind, UnitClass, Verdict
from supervision.zoning.models import BottomLineTarget, Overlay, SitingAssessment, ZoningPlan

from .choices import PeriodKind, TrackingStatus
from .models import BottomLineStatus

M2_PER_HA = 10_000


@dataclass
class TrackingReport:
    plan: ZoningPlan
    year: int
    start: date
    end: date
    bottom_lines: list[dict] = field(default_factory=list)
    bottom_line_counts: dict[str, int] = field(default_factory=dict)
    scan_change: list[dict] = field(default_factory=list)
    leads_by_source: list[dict] = field(default_factory=list)
    siting: dict = field(default_factory=dict)
    enforcement: dict = field(default_factory=dict)
    targets_total: int = 0

    @property
    def attainment_pct(self) -> Decimal | None:
        tracked = sum(self.bottom_line_counts.values())
        if not tracked:
            return None
        return (Decimal(100) * self.bottom_line_counts.get(TrackingStatus.MET, 0) / tracked).quantize(Decimal("0.1"))


def _instants(year: int) -> tuple[datetime, datetime]:
    tz = timezone.get_default_timezone()
    return (
        timezone.make_aware(datetime.combine(date(year, 1, 1), time()), tz),
        timezone.make_aware(datetime.combine(date(year + 1, 1, 1), time()), tz),
    )


def _ha(m2: float | None) -> Decimal:
    return Decimal(str(round((m2 or 0.0) / M2_PER_HA, 2)))


def tracking_report(*, plan: ZoningPlan, year: int) -> TrackingReport:
    start, end = _instants(year)
    report = TrackingReport(plan=plan, year=year, start=date(year, 1, 1), end=date(year, 12, 31))

    # 1. Bottom lines: the year's status of each target line tracked for the year.
    statuses = (
        BottomLineStatus.objects.filter(target__plan=plan, period_code=str(year), period_kind=PeriodKind.YEAR)
        .select_related("target", "target__division", "target__unit")
        .order_by("target__division__adcode", "target__scope_code", "target__indicator")
    )
    for s in statuses:
        t = s.target
        report.bottom_lines.append(
            {
                "division": t.division.adcode,
                "division_name": t.division.name,
                "scope_code": t.scope_code,
                "station_code": t.station_code,
                "indicator": t.indicator,
                "indicator_label": str(t.get_indicator_display()),
                "target_year": t.target_year,
                "target_value": t.target_value,
                "unit": t.unit_label,
                "measured_value": s.measured_value,
                "status": s.status,
                "status_label": str(s.get_status_display()),
                "measured_until": s.measured_until,
                "illustrative": t.illustrative,
            }
        )
        report.bottom_line_counts[s.status] = report.bottom_line_counts.get(s.status, 0) + 1
    report.targets_total = BottomLineTarget.objects.filter(plan=plan).count()

    # 2. Change found by scans: remote-sensing leads raised in the year, by where and what.
    in_red_line = Overlay.objects.filter(
        plan_id=OuterRef("plan_id"), kind=OverlayKind.RED_LINE, geom__intersects=OuterRef("geom")
    )
    scans = (
        leads_all()
        .filter(plan=plan, source=LeadSource.REMOTE_SENSING, created_at__gte=start, created_at__lt=end)
        .annotate(red_line=Exists(in_red_line))
    )
    area = Coalesce(Sum("area_m2"), Value(0.0), output_field=FloatField())
    rows = (
        scans.values("red_line", "unit__unit_class", "change_class")
        .annotate(
            n=Count("id"),
            area=area,
            confirmed=Count("id", filter=Q(status=LeadStatus.CONFIRMED)),
            dismissed=Count("id", filter=Q(status__in=(LeadStatus.DISMISSED, LeadStatus.MERGED))),
            open=Count("id", filter=Q(status__in=(LeadStatus.NEW, LeadStatus.DISPATCHED, LeadStatus.VERIFYING))),
        )
        .order_by("-red_line", "unit__unit_class", "change_class")
    )
    unit_labels = dict(UnitClass.choices)
    class_labels = dict(ChangeClass.choices)
    for r in rows:
        report.scan_change.append(
            {
                "area_kind": "red_line" if r["red_line"] else (r["unit__unit_class"] or "none"),
                "area_kind_label": "生态保护红线"
                if r["red_line"]
                else str(unit_labels.get(r["unit__unit_class"], "单元外")),
                "change_class": r["change_class"],
                "change_class_label": str(class_labels.get(r["change_class"], "—")),
                "leads": r["n"],
                "area_ha": _ha(r["area"]),
                "confirmed": r["confirmed"],
                "dismissed": r["dismissed"],
                "open": r["open"],
            }
        )
    source_labels = dict(LeadSource.choices)
    for r in (
        leads_all()
        .filter(plan=plan, created_at__gte=start, created_at__lt=end)
        .values("source")
        .annotate(n=Count("id"), area=area, confirmed=Count("id", filter=Q(status=LeadStatus.CONFIRMED)))
        .order_by("source")
    ):
        report.leads_by_source.append(
            {
                "source": r["source"],
                "source_label": str(source_labels.get(r["source"], r["source"])),
                "leads": r["n"],
                "area_ha": _ha(r["area"]),
                "confirmed": r["confirmed"],
            }
        )

    # 3. Access-list application: siting assessments run against the plan, by verdict.
    siting = SitingAssessment.objects.filter(plan=plan, created_at__gte=start, created_at__lt=end)
    by_verdict = dict(siting.values_list("verdict").annotate(n=Count("id")).order_by())
    report.siting = {
        "total": sum(by_verdict.values()),
        "red_line": siting.filter(red_line=True).count(),
        "verdicts": [
            {"verdict": v, "verdict_label": str(label), "count": by_verdict.get(v, 0)} for v, label in Verdict.choices
        ],
    }

    # 4. Enforcement figures.
    leads = leads_all().filter(plan=plan)
    cases = cases_all().filter(plan=plan)
    lead_figures = leads.aggregate(
        raised=Count("id", filter=Q(created_at__gte=start, created_at__lt=end)),
        concluded=Count("id", filter=Q(concluded_at__gte=start, concluded_at__lt=end)),
        confirmed=Count("id", filter=Q(status=LeadStatus.CONFIRMED, concluded_at__gte=start, concluded_at__lt=end)),
        open_at_end=Count(
            "id", filter=Q(created_at__lt=end) & (Q(concluded_at__isnull=True) | Q(concluded_at__gte=end))
        ),
    )
    case_figures = cases.aggregate(
        opened=Count("id", filter=Q(opened_at__gte=start, opened_at__lt=end)),
        accepted=Count("id", filter=Q(accepted_at__gte=start, accepted_at__lt=end)),
        open_at_end=Count("id", filter=Q(opened_at__lt=end) & (Q(accepted_at__isnull=True) | Q(accepted_at__gte=end))),
        penalties=Count("id", filter=Q(penalty_decided_at__gte=start, penalty_decided_at__lt=end)),
        penalty_yuan=Coalesce(
            Sum("penalty_amount_yuan", filter=Q(penalty_decided_at__gte=start, penalty_decided_at__lt=end)),
            Value(Decimal(0)),
        ),
        police=Count("id", filter=Q(police_transferred_at__gte=start, police_transferred_at__lt=end)),
        published=Count("id", filter=Q(published_at__gte=start, published_at__lt=end)),
    )
    report.enforcement = {"leads": lead_figures, "cases": case_figures}
    return report


def default_report_year() -> int:
    """The last whole year in January–March, else the year under way."""
    today = timezone.localdate()
    return today.year - 1 if today.month <= 3 else today.year


def _plain(v):
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_plain(x) for x in v]
    return v


def report_json(report: TrackingReport) -> dict:
    """The report as JSON-ready data (decimals as strings, dates ISO)."""
    pct = report.attainment_pct
    return _plain(
        {
            "plan": report.plan.code,
            "year": report.year,
            "start": report.start,
            "end": report.end,
            "bottom_lines": {
                "targets": report.targets_total,
                "counts": dict(report.bottom_line_counts),
                "attainment_pct": pct,
                "rows": report.bottom_lines,
            },
            "scan_change": report.scan_change,
            "leads_by_source": report.leads_by_source,
            "siting": report.siting,
            "enforcement": report.enforcement,
        }
    )


def report_xlsx(report: TrackingReport) -> bytes:
    """Four sheets (底线目标, 遥感变化, 选址研判, 执法) with numeric cells."""
    wb = Workbook()
    ws = wb.active
    ws.title = "底线目标"
    ws.append(
        [
            "行政区划代码",
            "行政区",
            "范围编码",
            "点位或断面",
            "指标",
            "目标年份",
            "目标值",
            "单位",
            "实测值",
            "状态",
            "统计截至",
            "示意值",
        ]
    )
    for b in report.bottom_lines:
        ws.append(
            [
                b["division"],
                b["division_name"],
                b["scope_code"],
                b["station_code"],
                b["indicator_label"],
                b["target_year"],
                b["target_value"],
                b["unit"],
                b["measured_value"],
                b["status_label"],
                b["measured_until"],
                "是" if b["illustrative"] else "否",
            ]
        )
    sc = wb.create_sheet("遥感变化")
    sc.append(["区域", "变化类型", "线索数", "面积（公顷）", "属实", "不属实或合并", "未办结"])
    for r in report.scan_change:
        sc.append(
            [
                r["area_kind_label"],
                r["change_class_label"],
                r["leads"],
                r["area_ha"],
                r["confirmed"],
                r["dismissed"],
                r["open"],
            ]
        )
    sc.append([])
    sc.append(["来源", "线索数", "面积（公顷）", "属实"])
    for r in report.leads_by_source:
        sc.append([r["source_label"], r["leads"], r["area_ha"], r["confirmed"]])
    st = wb.create_sheet("选址研判")
    st.append(["研判结论", "次数"])
    for v in report.siting["verdicts"]:
        st.append([v["verdict_label"], v["count"]])
    st.append(["合计", report.siting["total"]])
    st.append(["涉及生态保护红线", report.siting["red_line"]])
    en = wb.create_sheet("执法")
    en.append(["项目", "数量"])
    labels = {
        ("leads", "raised"): "新增线索",
        ("leads", "concluded"): "办结线索",
        ("leads", "confirmed"): "属实线索",
        ("leads", "open_at_end"): "年末未办结线索",
        ("cases", "opened"): "立案",
        ("cases", "accepted"): "验收销号",
        ("cases", "open_at_end"): "年末未办结案件",
        ("cases", "penalties"): "行政处罚决定",
        ("cases", "penalty_yuan"): "罚款金额（元）",
        ("cases", "police"): "移送公安",
        ("cases", "published"): "典型案例曝光",
    }
    for (group, key), label in labels.items():
        en.append([label, report.enforcement[group][key]])
    for sheet in wb.worksheets:
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


__all__ = ["TrackingReport", "default_report_year", "report_json", "report_xlsx", "tracking_report"]
