"""Pages of the assessment app: a period's scorecards and ranking (ECharts), drill-down to the leads,
cases and bottom-line statuses behind every number, CSV/XLSX export, compute and publish; a district's
page (bottom lines, scorecards, officials) and the printable 跟踪评估 report with its XLSX.

Writes go through `services` (scores_compute, scorecard_publish); reads are scoped by
`permissions.scorecards_scope` (officers: their own division's published cards). The
ranking and the export rows are read-only queries written here (the app has no selector
for them yet). Drill-down lists pass through the cases app's scoped selectors.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from supervision.errors import ServiceError
from supervision.web import ASSESSMENT_ROLES, case_page
from supervision.zoning.models import AdministrativeDivision, ZoningPlan

from . import services as assessment_services
from .choices import DrillSide, IndicatorCode, ScorecardStatus, Subject
from .export import export_csv_chunks, export_xlsx
from .models import Scorecard
from .officials import official_title
from .permissions import can_manage, ensure_division_visible, scorecards_scope
from .report import default_report_year, report_xlsx, tracking_report
from .selectors import bottom_line_statuses, drilldown


def _default_period() -> str:
    latest = Scorecard.objects.order_by("-period_end", "-id").values_list("period_code", flat=True).first()
    if latest:
        return latest
    from django.utils import timezone

    today = timezone.localdate()
    return str(today.year)


def _cards(request, plan: ZoningPlan | None, period_code: str):
    qs = scorecards_scope(Scorecard.objects.select_related("division", "scheme", "plan"), request.user)
    qs = qs.filter(period_code=period_code).exclude(status=ScorecardStatus.SUPERSEDED)
    if plan is not None:
        qs = qs.filter(plan=plan)
    return qs.order_by("-score", "division__adcode")


def _plan(request) -> ZoningPlan | None:
    code = request.GET.get("plan") or request.POST.get("plan")
    if code:
        return ZoningPlan.objects.filter(code=code).first()
    from supervision.zoning.web import plan_default

    return plan_default()


@case_page(roles=ASSESSMENT_ROLES)
def overview(request):
    """A period's scorecards ranked, a bar chart of scores, and (managers) compute / publish."""
    plan = _plan(request)
    period_code = (request.GET.get("period") or request.POST.get("period") or _default_period()).strip()
    manager = can_manage(request.user)
    if request.method == "POST":
        if not manager:
            raise PermissionDenied
        action = request.POST.get("action")
        try:
            if action == "compute":
                result = assessment_services.scores_compute(
                    plan=plan, period=assessment_services.period_resolve(period_code), actor=request.user
                )
                messages.success(request, _("已计算 %(n)s 个区县的考核结果。") % {"n": len(result.computed)})
            elif action == "publish":
                ids = [int(i) for i in request.POST.getlist("scorecard") if i.isdigit()]
                drafts = _cards(request, plan, period_code).filter(status=ScorecardStatus.DRAFT)
                if ids:
                    drafts = drafts.filter(pk__in=ids)
                n = 0
                for card in drafts:
                    assessment_services.scorecard_publish(scorecard=card, actor=request.user)
                    n += 1
                messages.success(request, _("已发布 %(n)s 份考核结果。") % {"n": n})
        except ServiceError as exc:
            messages.error(request, exc.text())
        return redirect(reverse("web:assessment") + f"?plan={plan.code if plan else ''}&period={period_code}")
    cards = list(_cards(request, plan, period_code).prefetch_related("lines"))
    codes = [c for c, _label in IndicatorCode.choices]
    used = [c for c in codes if any(line.code == c for card in cards for line in card.lines.all())]
    rows = []
    for rank, card in enumerate(cards, start=1):
        by_code = {line.code: line for line in card.lines.all()}
        rows.append({"rank": rank, "card": card, "lines": [by_code.get(c) for c in used]})
    chart = {
        "divisions": [c.division.name for c in cards],
        "scores": [float(c.score) if c.score is not None else None for c in cards],
        "title": _("综合得分"),
    }
    periods = (
        scorecards_scope(Scorecard.objects.all(), request.user)
        .order_by("-period_end")
        .values_list("period_code", flat=True)
        .distinct()
    )
    return render(
        request,
        "web/assessment/overview.html",
        {
            "web_section": "assessment",
            "plan": plan,
            "plans": ZoningPlan.objects.order_by("code"),
            "period_code": period_code,
            "periods": sorted(set(periods), reverse=True)[:24],
            "rows": rows,
            "indicator_labels": [IndicatorCode(c).label for c in used],
            "chart": chart,
            "manager": manager,
            "has_drafts": any(c.status == ScorecardStatus.DRAFT for c in cards),
        },
    )


def _card_for(request, pk: int) -> Scorecard:
    card = (
        scorecards_scope(Scorecard.objects.select_related("division", "scheme", "plan"), request.user)
        .filter(pk=pk)
        .first()
    )
    if card is None:
        raise Http404("scorecard not found")
    return card


@case_page(roles=ASSESSMENT_ROLES)
@require_GET
def scorecard_detail(request, pk: int):
    """One district's scorecard: each indicator's numerator, denominator, value, weight and points."""
    card = _card_for(request, pk)
    lines = list(card.lines.order_by("position"))
    chart = {
        "indicators": [IndicatorCode(line.code).label for line in lines],
        "values": [float(line.value) * 100 if line.value is not None else None for line in lines],
    }
    return render(
        request,
        "web/assessment/scorecard.html",
        {
            "web_section": "assessment",
            "card": card,
            "lines": [
                {
                    "line": line,
                    "label": IndicatorCode(line.code).label,
                    "drillable_num": line.subject != Subject.NONE,
                    "drillable_den": line.denominator_subject != Subject.NONE,
                }
                for line in lines
            ],
            "chart": chart,
            "events": card.events.select_related("actor").order_by("at", "id"),
            "manager": can_manage(request.user),
        },
    )


@case_page(roles=ASSESSMENT_ROLES)
@require_GET
def drill(request, pk: int, code: str, side: str):
    """The leads or cases behind one number: frozen ids when published, recomputed rows for a draft."""
    card = _card_for(request, pk)
    line = card.lines.filter(code=code).first()
    if line is None or side not in DrillSide.values:
        raise Http404
    subject, rows, frozen = drilldown(user=request.user, scorecard=card, code=code, side=side)
    objects = list(rows) if rows is not None else []
    ids = [o.pk for o in objects]
    return render(
        request,
        "web/assessment/drill.html",
        {
            "web_section": "assessment",
            "card": card,
            "line": line,
            "label": IndicatorCode(code).label,
            "side_label": DrillSide(side).label,
            "subject": subject,
            "objects": objects,
            "count": len(ids),
            "frozen": frozen,
        },
    )


@case_page(roles=ASSESSMENT_ROLES)
@require_GET
def export(request, fmt: str):
    """CSV (UTF-8 with BOM, for Excel) or XLSX of a period's scorecards and ranking, Chinese headers."""
    if not can_manage(request.user):
        raise PermissionDenied
    plan = _plan(request)
    if plan is None:
        raise Http404
    period_code = request.GET.get("period") or _default_period()
    status = request.GET.get("status") or ScorecardStatus.PUBLISHED
    if status not in ScorecardStatus.values:
        raise Http404
    name = f"assessment-{plan.code}-{period_code}"
    response: HttpResponseBase
    if fmt == "csv":
        chunks = export_csv_chunks(plan_code=plan.code, period_code=period_code, status=status)
        response = StreamingHttpResponse(chunks, content_type="text/csv; charset=utf-8")
    elif fmt == "xlsx":
        body = export_xlsx(plan_code=plan.code, period_code=period_code, status=status)
        response = HttpResponse(body, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    else:
        raise Http404
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


@case_page(roles=ASSESSMENT_ROLES)
@require_GET
def district(request, adcode: str):
    """A district's page: its type and officials, its bottom lines (year and quarters) and its scorecards."""
    division = AdministrativeDivision.objects.filter(adcode=adcode).first()
    if division is None:
        raise Http404
    try:
        ensure_division_visible(request.user, division.pk)
    except ServiceError:
        raise Http404 from None
    plan = _plan(request)
    year = int(request.GET["year"]) if (request.GET.get("year") or "").isdigit() else None
    statuses = bottom_line_statuses(user=request.user, plan_code=plan.code, division=adcode, year=year) if plan else []
    cards = _cards_of_division(request, plan, division)
    officials = [
        (o, o.title or official_title(role=o.role, division_name=division.name, division_kind=division.kind))
        for o in division.officials.order_by("role", "-term_start")
    ]
    return render(
        request,
        "web/assessment/district.html",
        {
            "web_section": "assessment",
            "division": division,
            "plan": plan,
            "statuses": statuses,
            "cards": cards,
            "officials": officials if can_manage(request.user) else [],
        },
    )


def _cards_of_division(request, plan, division):
    qs = scorecards_scope(Scorecard.objects.select_related("scheme"), request.user).filter(division=division)
    if plan is not None:
        qs = qs.filter(plan=plan)
    return qs.exclude(status=ScorecardStatus.SUPERSEDED).order_by("-period_end", "-version")[:12]


def _report_for(request):
    if not can_manage(request.user):
        raise PermissionDenied
    plan = _plan(request)
    if plan is None:
        raise Http404
    raw = request.GET.get("year") or ""
    year = int(raw) if raw.isdigit() and 2000 <= int(raw) <= 2100 else default_report_year()
    return tracking_report(plan=plan, year=year)


@case_page(roles=ASSESSMENT_ROLES)
@require_GET
def tracking_report_page(request):
    """The printable 跟踪评估 report of a plan for a year."""
    report = _report_for(request)
    return render(
        request,
        "web/assessment/report.html",
        {"web_section": "assessment", "report": report, "plans": ZoningPlan.objects.order_by("code")},
    )


@case_page(roles=ASSESSMENT_ROLES)
@require_GET
def tracking_report_xlsx(request):
    report = _report_for(request)
    resp = HttpResponse(
        report_xlsx(report), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    resp["Content-Disposition"] = f'attachment; filename="tracking-report-{report.plan.code}-{report.year}.xlsx"'
    return resp
