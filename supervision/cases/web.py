"""Pages of the cases app: the officer's desk (lead inbox, lead and case detail with their transitions),
cases, double-random inspections with the phone checklist, the map's lead/target layers and the
public typical cases.

Thin: reads go through `selectors` (always scoped to the user: another division's lead is a 404),
writes through `services`; a refused action (ServiceError) comes back as a message on the page.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.contrib.gis.db.models.functions import AsGeoJSON, PointOnSurface, Transform
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpResponse, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from supervision.errors import NotFound
from supervision.tables import csv_lines
from supervision.web import (  # noqa: F401 (re-exported)
    ASSESSMENT_ROLES,
    case_page,
    form_input,
    service_run,
    web_context,
)
from supervision.zoning import selectors as zoning_selectors
from supervision.zoning.models import AdministrativeDivision, ZoningPlan

from . import actions, selectors
from . import permissions as perms
from .api import serializers as inputs
from .choices import (
    CASE_OPEN_STATUSES,
    LEAD_OPEN_STATUSES,
    CaseStatus,
    ChangeClass,
    ChecklistResult,
    DayKind,
    DismissReason,
    InspectionPlanStatus,
    InspectionStatus,
    LeadSource,
    LeadStatus,
    Role,
)
from .downloads import evidence_file_response, evidence_get_for
from .models import ChecklistItem
from .services import cases as case_services
from .services import inspections as inspection_services
from .services import leads as lead_services

# --- Shared: context, guards (in supervision.web; imported here for the pages below) --------------


def _back(request, fallback: str):
    return redirect(request.POST.get("next") or fallback)


_run = service_run


def _int(value, default=None):
    try:
        return int(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        return default


def countdown(due_at, now=None) -> dict | None:
    """Days left until a deadline (negative when overdue), for the countdown badges."""
    if not due_at:
        return None
    now = now or timezone.now()
    days = (timezone.localdate(due_at) - timezone.localdate(now)).days
    return {"days": days, "overdue": due_at < now, "abs": abs(days), "soon": 0 <= days <= settings.CASES_REMINDER_DAYS}


def _labelled(events, status_choices) -> list:
    """Events with their status labels attached (from_label, to_label) for the timeline."""
    labels = dict(status_choices)
    out = list(events)
    for e in out:
        e.from_label = labels.get(e.from_status, e.from_status)
        e.to_label = labels.get(e.to_status, e.to_status)
    return out


def _feature_collection(rows) -> JsonResponse:
    return JsonResponse({"type": "FeatureCollection", "features": rows})


# --- Map layers and the unit card's activity ---------------------------------------------


def _near_click(request, qs, field: str):
    """`?bbox=minlon,minlat,maxlon,maxlat` (API_SRID): the rows meeting the box around a map click,
    nearest its centre first (what the tiles drew there); a 400 naming the parameter if unreadable."""
    from django.contrib.gis.db.models.functions import Distance
    from django.contrib.gis.geos import Polygon
    from django.core.exceptions import ValidationError

    from supervision.zoning.filters import _floats, to_storage

    if not request.GET.get("bbox"):
        return qs
    try:
        box = Polygon.from_bbox(_floats(request.GET["bbox"], 4, "bbox"))
        box.srid = settings.API_SRID
        box = to_storage(box)
    except ValidationError as exc:
        return JsonResponse({"detail": f"bbox: {exc.messages[0]}", "code": "invalid_bbox"}, status=400)
    return (
        qs.filter(**{f"{field}__intersects": box})
        .annotate(click_distance=Distance(field, box.centroid))
        .order_by("click_distance")
    )


@case_page
@require_GET
def map_leads(request):
    """The user's leads (their division only, for officers) as GeoJSON points with what a popup shows.

    The maps draw leads from vector tiles; a click asks this what lies around it (`?bbox=`, nearest
    first, with the desk's filters on the desk), and `?id=` gives one lead.
    """
    qs = _leads_filtered(request, selectors.leads_for(user=request.user))
    if request.GET.get("plan"):
        qs = qs.filter(plan__code=request.GET["plan"])
    if request.GET.get("id", "").isdigit():
        qs = qs.filter(pk=int(request.GET["id"]))
    qs = _near_click(request, qs, "geom")
    if isinstance(qs, HttpResponse):
        return qs
    qs = qs.exclude(status=LeadStatus.MERGED).annotate(
        gj=AsGeoJSON(Transform(PointOnSurface("geom"), settings.API_SRID), precision=6)
    )
    labels = dict(LeadStatus.choices)
    rows = [
        {
            "type": "Feature",
            "id": lead.pk,
            "geometry": json.loads(lead.gj),
            "properties": {
                "id": lead.pk,
                "title": lead.title,
                "status": lead.status,
                "status_label": str(labels.get(lead.status, lead.status)),
                "division": lead.division.adcode,
                "overdue": lead.overdue,
                "overdue_label": _("逾期"),
                "url": reverse("web:lead-detail", args=[lead.pk]),
            },
        }
        for lead in qs[:5000]
    ]
    return _feature_collection(rows)


@case_page
@require_GET
def map_targets(request):
    """Enforcement targets in the user's scope as GeoJSON points (`?id=`: one, for a marker's popup)."""
    qs = selectors.targets_for(user=request.user)
    if request.GET.get("id", "").isdigit():
        qs = qs.filter(pk=int(request.GET["id"]))
    qs = _near_click(request, qs, "location")
    if isinstance(qs, HttpResponse):
        return qs
    qs = qs.annotate(gj=AsGeoJSON(Transform("location", settings.API_SRID), precision=6))
    rows = [
        {
            "type": "Feature",
            "id": t.pk,
            "geometry": json.loads(t.gj),
            "properties": {"id": t.pk, "name": t.name, "credit_code": t.credit_code, "permit_class": t.permit_class},
        }
        for t in qs[:5000]
    ]
    return _feature_collection(rows)


@require_GET
def unit_activity(request, plan: str, code: str):
    """Open leads and cases of a unit, in the user's scope (empty for roles that do not read cases)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not perms.user_roles(request.user) & perms.READ_ROLES:
        return HttpResponse("")
    leads = (
        selectors.leads_for(user=request.user)
        .filter(plan__code=plan, unit__code=code, status__in=LEAD_OPEN_STATUSES)
        .order_by("-detected_at")[:20]
    )
    cases = (
        selectors.cases_for(user=request.user)
        .filter(plan__code=plan, unit__code=code, status__in=CASE_OPEN_STATUSES)
        .order_by("-opened_at")[:20]
    )
    return render(request, "web/cases/_unit_activity.html", {"leads": leads, "cases": cases})


# --- Desk: the lead inbox -------------------------------------------------------------------


def _leads_filtered(request, qs):
    """The desk's filters (the map's click list too), applied by the leads API's own filter set."""
    from django.http import QueryDict

    from .filters import LeadFilter

    data = QueryDict(mutable=True)
    for name, value in _desk_filter_params(request).items():
        data.setlist(name, value if isinstance(value, list) else [value])
    return LeadFilter(data, queryset=qs, request=request).qs


# Columns the desk sorts by (click a header; again for the other direction).
DESK_SORTS = {f"{d}{c}" for c in ("id", "detected_at", "verification_due_at", "status", "source") for d in ("", "-")}


# The desk's export: at most this many leads, read from the database this many at a time.
DESK_EXPORT_MAX = 10000
DESK_EXPORT_CHUNK = 500


def _desk_export_header() -> list[str]:
    return [_("编号"), _("标题"), _("来源"), _("状态"), _("区县"), _("单元"), _("发现时间"), _("核查期限")]


def _desk_export_rows(qs, tz):
    """One list of cells per lead, read in chunks (division and unit joined, never one query a row)."""
    for lead in qs.select_related("division", "unit")[:DESK_EXPORT_MAX].iterator(chunk_size=DESK_EXPORT_CHUNK):
        yield [
            lead.pk,
            lead.display_title,  # as the desk shows it, in the reader's language
            lead.get_source_display(),
            lead.get_status_display(),
            lead.division.name,
            lead.unit.code if lead.unit else "",
            timezone.localtime(lead.detected_at, tz).strftime("%Y-%m-%d %H:%M"),
            timezone.localtime(lead.verification_due_at, tz).strftime("%Y-%m-%d") if lead.verification_due_at else "",
        ]


def _desk_export_csv(qs, header: list[str]):
    """The CSV as UTF-8 chunks (`tables.csv_lines`), the rows read as the response streams.

    Runs after the view has returned, so it keeps the request's language and time zone itself.
    """
    language, tz = translation.get_language(), timezone.get_current_timezone()

    def rows():
        with translation.override(language):
            yield from _desk_export_rows(qs, tz)

    return csv_lines(header, rows())


def _desk_export(qs, fmt: str) -> HttpResponseBase:
    """The desk's filtered, sorted leads as CSV (UTF-8 with BOM, streamed) or XLSX, every cell text."""
    header = _desk_export_header()
    stamp = timezone.localdate().isoformat()
    response: HttpResponseBase
    if fmt == "csv":
        response = StreamingHttpResponse(_desk_export_csv(qs, header), content_type="text/csv; charset=utf-8")
    else:
        import io

        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        ws.title = str(_("线索"))
        for r, values in enumerate([header, *_desk_export_rows(qs, timezone.get_current_timezone())], start=1):
            for c, value in enumerate(values, start=1):
                ws.cell(row=r, column=c, value=str(value)).data_type = "s"
        out = io.BytesIO()
        wb.save(out)
        response = HttpResponse(
            out.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
    response["Content-Disposition"] = f'attachment; filename="leads-{stamp}.{fmt}"'
    return response


@case_page
@require_GET
def desk(request):
    """线索工作台: counts by status, filters, the list with deadline countdowns, and the leads on a map."""
    scoped = selectors.leads_for(user=request.user)
    counts = {row["status"]: row["n"] for row in scoped.order_by().values("status").annotate(n=Count("id"))}
    overdue_n = scoped.filter(overdue=True).count()
    sort = request.GET.get("sort") if request.GET.get("sort") in DESK_SORTS else "-detected_at"
    qs = _leads_filtered(request, scoped).order_by(sort, "-id")
    if request.GET.get("export") in ("csv", "xlsx"):
        return _desk_export(qs, request.GET["export"])
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    now = timezone.now()
    rows = [
        {
            "lead": lead,
            "countdown": countdown(lead.verification_due_at, now) if lead.status in LEAD_OPEN_STATUSES else None,
        }
        for lead in page
    ]
    params = request.GET.copy()
    params.pop("page", None)
    sort_params = params.copy()
    sort_params.pop("sort", None)
    sort_params.pop("export", None)
    return render(
        request,
        "web/cases/desk.html",
        {
            "web_section": "desk",
            "status_counts": [(s, label, counts.get(s, 0)) for s, label in LeadStatus.choices],
            "total": sum(counts.values()),
            "overdue_n": overdue_n,
            "rows": rows,
            "page": page,
            "filters": request.GET,
            "querystring": params.urlencode(),
            "sort": sort,
            "sort_links": {
                col: "?"
                + "&".join(filter(None, [sort_params.urlencode(), f"sort={'-' + col if sort == col else col}"]))
                for col in ("id", "source", "status", "detected_at", "verification_due_at")
            },
            "export_query": "&".join(filter(None, [sort_params.urlencode(), f"sort={sort}"])),
            "sources": LeadSource.choices,
            "statuses": LeadStatus.choices,
            "map_config": _desk_map_config(request, qs, params),
            "can_create": bool(perms.user_roles(request.user) & perms.ACTION_ROLES["lead.create"]),
            "manual_sources": [
                (s, LeadSource(s).label)
                for s in (LeadSource.COMPLAINT, LeadSource.HOTLINE, LeadSource.INSPECTION, LeadSource.HIGHER_INSPECTION)
            ],
            "plans": ZoningPlan.objects.order_by("code"),
            "notifications": selectors.notifications_for(user=request.user).filter(read_at__isnull=True)[:5],
        },
    )


def _desk_filter_params(request) -> dict[str, str | list[str]]:
    """The desk's filters as the leads API's filter parameters: for its list, its export and its map's tiles."""
    g = request.GET
    params: dict[str, str | list[str]] = {}
    if g.get("status") in LeadStatus.values:
        params["status"] = g["status"]
    elif g.get("status") == "open":
        params["status"] = sorted(LEAD_OPEN_STATUSES)
    if g.get("source") in LeadSource.values:
        params["source"] = g["source"]
    if g.get("overdue") == "1":
        params["overdue"] = "true"
    for name in ("unit", "q", "layer"):
        if g.get(name, "").strip():
            params[name] = g[name].strip()
    return params


def _desk_map_config(request, qs, params) -> dict:
    """The desk map: the filtered leads as tiles (the leads API's filters), fitted to their extent."""
    from django.contrib.gis.db.models import Extent

    extent = qs.order_by().aggregate(e=Extent("geom"))["e"]
    return {
        "tileParams": _desk_filter_params(request),
        "bounds": list(extent) if extent else None,
        # A click asks the desk's lead layer (its own filters) what lies under it (?bbox=).
        "leadsUrl": reverse("web:map-leads") + ("?" + params.urlencode() if params else ""),
        "basemapUrl": settings.BASEMAP_URL,
        "basemapAttribution": settings.BASEMAP_ATTRIBUTION,
    }


def _desk_location(post):
    """The desk form's longitude/latitude as the API's `location` (a GeoJSON point, API_SRID); None if unreadable."""
    data = post.copy()
    if not data.get("location"):
        try:
            data["location"] = json.dumps({"type": "Point", "coordinates": [float(data["lon"]), float(data["lat"])]})
        except (KeyError, ValueError):
            return None
    return data


@case_page
@require_POST
def lead_create(request):
    """File a lead by hand (complaint, 12369, inspection, 督察 hand-over): the API's LeadCreateInput and service."""
    data = _desk_location(request.POST)
    if data is None:
        messages.error(request, _("请填写线索位置的经纬度。"))
        return redirect("web:desk")
    v = form_input(request, inputs.LeadCreateInput, data=data)
    if v is None:
        return redirect("web:desk")
    lead = _run(
        request,
        lead_services.lead_create,
        ok=_("线索已登记。"),
        actor=request.user,
        **actions.lead_create_arguments(v),
    )
    if lead:
        return redirect("web:lead-detail", pk=lead.pk)
    return redirect("web:desk")


def _lead_actions(user, lead) -> list[str]:
    """The transitions (and side actions) this user may take on the lead now: the API's answer too."""
    return selectors.lead_allowed_actions(user=user, lead=lead)


@case_page
@require_GET
def lead_detail(request, pk: int):
    """A lead with its evidence (chips, numbers), detections, the actions as forms and the history timeline."""
    lead = selectors.leads_for(user=request.user).filter(pk=pk).first()
    if lead is None:
        raise Http404("lead not found")
    evidence = list(lead.evidence_files.all())
    case = getattr(lead, "case", None) if lead.status == LeadStatus.CONFIRMED else None
    return render(
        request,
        "web/cases/lead_detail.html",
        {
            "web_section": "desk",
            "field_visit": _field_visit(lead),
            "assignees": selectors.assignees_for(division_id=lead.division_id),
            "lead": lead,
            "countdown": countdown(lead.verification_due_at) if lead.status in LEAD_OPEN_STATUSES else None,
            "chips": [e for e in evidence if e.content_type.startswith("image/")],
            "documents": [e for e in evidence if not e.content_type.startswith("image/")],
            "evidence_rows": _evidence_rows(lead.evidence),
            # The checklist items that raised it: where the inspector stood, and the photos taken there.
            "checklist_items": lead.checklist_items.prefetch_related("field_photos").order_by("position"),
            "detections": lead.detection_rows.all()[:50],
            "events": _labelled(
                lead.events.select_related("actor").prefetch_related("attachments"), LeadStatus.choices
            ),
            "actions": _lead_actions(request.user, lead),
            "case": case,
            # After a revision: the class of the lead's place in the version now in force.
            "unit_now": zoning_selectors.unit_in_current_version(unit=lead.unit) if lead.unit_id else None,
            "change_class_label": ChangeClass(lead.change_class).label
            if lead.change_class in ChangeClass.values
            else "",
            "dismiss_reasons": DismissReason.choices,
            "day_kinds": DayKind.choices,
            "divisions": _dispatch_divisions(request.user, lead),
            "map_config": {
                **selectors.lead_map_layers(lead=lead),
                "plan": lead.plan.code if lead.plan_id else None,
                "basemapUrl": settings.BASEMAP_URL,
                "basemapAttribution": settings.BASEMAP_ATTRIBUTION,
            },
        },
    )


def _dispatch_divisions(user, lead):
    if perms.is_city_wide(user):
        return AdministrativeDivision.objects.filter(level="county").order_by("adcode")
    return AdministrativeDivision.objects.filter(pk=lead.division_id)


# Readable names of the evidence fields the scan, monitoring and inspections write; technical ones are not shown.
EVIDENCE_LABELS = {
    "layer_name": "变化图层",
    "layer_id": "图层编号",
    "kind": "图层类型",
    "sensor": "传感器",
    "before_date": "前时相",
    "after_date": "后时相",
    "change_class_name": "变化类型",
    "change_class": "变化类别代码",
    "area_m2": "面积（平方米）",
    "min_area_m2": "最小面积（平方米）",
    "threshold": "阈值",
    "unit_code": "管控单元",
    "unit_class": "单元类别",
    "pixels_in_unit": "单元内像元数",
    "patch_pixels_total": "图斑像元数",
    "patch_units": "图斑涉及单元",
    "valid_fraction": "有效像元比例",
    "nearest_target": "最近的监管对象",
    "station_name": "监测站点",
    "station": "站点编码",
    "parameter": "监测指标",
    "medium": "监测介质",
    "period": "统计期",
    "previous_period": "上一统计期",
    "mean": "本期均值",
    "previous_mean": "上期均值",
    "exceedances": "超标次数",
    "rule": "判定规则",
    "basis": "依据",
    "inspection": "检查任务",
    "item": "检查项",
    "requirement": "准入要求条款",
    "position": "现场位置",
    "latitude": "纬度",
    "longitude": "经度",
    "accuracy_m": "定位精度（米）",
    "located_at": "定位时间",
}
EVIDENCE_HIDDEN = {"layer_checksum", "patch_key", "id"}


def _evidence_value(key: str, value) -> str:
    if isinstance(value, float):
        if key == "valid_fraction":
            return f"{value * 100:.1f} %"
        if key in ("latitude", "longitude"):
            return f"{value:.6f}"
        return f"{value:,.1f}" if abs(value) >= 100 else f"{value:.3g}"
    if isinstance(value, dict):
        return "；".join(
            f"{_(EVIDENCE_LABELS.get(k, k))}: {_evidence_value(k, v)}" for k, v in value.items() if v is not None
        )
    if isinstance(value, list):
        return "、".join(_evidence_value(key, v) for v in value)[:400]
    if key == "located_at" and isinstance(value, str):
        try:
            return timezone.localtime(datetime.fromisoformat(value)).strftime("%Y-%m-%d %H:%M:%S")
        except ValueError:
            return value
    return str(value)


def _evidence_rows(evidence: dict) -> list[tuple[str, str]]:
    """The lead's evidence as (readable name, value) rows; empty and technical fields left out."""
    rows = []
    for key, value in (evidence or {}).items():
        if key in EVIDENCE_HIDDEN or value in (None, "", [], {}):
            continue
        rows.append((_(EVIDENCE_LABELS[key]) if key in EVIDENCE_LABELS else str(key), _evidence_value(key, value)))
    return rows


@case_page
@require_GET
def evidence_file(request, pk: int):
    """An attachment, served only to users whose scope covers its lead or case (as the API's download)."""
    try:
        return evidence_file_response(evidence_get_for(user=request.user, evidence_id=pk))
    except NotFound:
        raise Http404 from None


def _perform(request, table: actions.ActionTable, action: str, obj):
    """An action of `cases.actions` (the API's table): role, the API's serializer, the service; None when refused."""
    if action not in table:
        raise Http404
    entry = table[action]
    entry.allowed(request.user)
    v = form_input(request, entry.input)
    if v is None:
        return None
    return service_run(request, lambda: table.run(action, obj=obj, actor=request.user, data=v), ok=str(entry.notice))


@case_page
@require_POST
def lead_action(request, pk: int, action: str):
    """One transition (or attachment) of a lead; the service checks role, scope and required fields."""
    lead = actions.LEADS.get_object(actor=request.user, pk=pk)
    result = _perform(request, actions.LEADS, action, lead)
    if action == "confirm" and result:
        return redirect("web:case-detail", pk=result[1].pk)
    return redirect("web:lead-detail", pk=pk)


# --- Cases ------------------------------------------------------------------------------------


@case_page
@require_GET
def case_list(request):
    qs = selectors.cases_for(user=request.user).order_by("-opened_at", "-id")
    g = request.GET
    if g.get("status") in CaseStatus.values:
        qs = qs.filter(status=g["status"])
    elif g.get("status") == "open":
        qs = qs.filter(status__in=CASE_OPEN_STATUSES)
    if g.get("overdue") == "1":
        qs = qs.filter(overdue=True)
    page = Paginator(qs, 50).get_page(g.get("page"))
    now = timezone.now()
    return render(
        request,
        "web/cases/case_list.html",
        {
            "web_section": "cases",
            "rows": [
                {
                    "case": c,
                    "countdown": countdown(c.rectification_due_at, now)
                    if c.status in (CaseStatus.RECTIFICATION_ORDERED, CaseStatus.RETURNED)
                    else None,
                }
                for c in page
            ],
            "page": page,
            "statuses": CaseStatus.choices,
            "filters": g,
        },
    )


def _case_actions(user, case) -> list[str]:
    return selectors.case_allowed_actions(user=user, case=case)


@case_page
@require_GET
def case_detail(request, pk: int):
    case = selectors.cases_for(user=request.user).filter(pk=pk).first()
    if case is None:
        raise Http404("case not found")
    rectifying = case.status in (CaseStatus.RECTIFICATION_ORDERED, CaseStatus.RETURNED)
    return render(
        request,
        "web/cases/case_detail.html",
        {
            "web_section": "cases",
            "case": case,
            "countdown": countdown(case.rectification_due_at) if rectifying else None,
            "events": _labelled(
                case.events.select_related("actor").prefetch_related("attachments"), CaseStatus.choices
            ),
            "evidence": case.evidence_files.all(),
            # Awaiting acceptance: the lead's original evidence beside the rectification photos.
            "acceptance_images": selectors.case_acceptance_images(case=case)
            if case.status == CaseStatus.RECTIFICATION_SUBMITTED
            else None,
            "actions": _case_actions(request.user, case),
            "assignees": selectors.assignees_for(division_id=case.division_id),
            "day_kinds": DayKind.choices,
            "targets": selectors.targets_for(user=request.user).order_by("name")[:500],
            "escalation_labels": case_services.ESCALATION_LABELS,
        },
    )


@case_page
@require_POST
def case_action(request, pk: int, action: str):
    """One transition (or attachment) of a case, validated by the API's serializer for it."""
    case = actions.CASES.get_object(actor=request.user, pk=pk)
    _perform(request, actions.CASES, action, case)
    return redirect("web:case-detail", pk=pk)


# --- Inspections (双随机) ---------------------------------------------------------------------


@case_page
def inspection_plan_list(request):
    """Double-random plans in scope, a form to create one, and the inspections assigned to me."""
    user = request.user
    roles = perms.user_roles(user)
    can_create = bool(roles & perms.ACTION_ROLES["inspection_plan.create"])
    if request.method == "POST":
        if not can_create:
            raise PermissionDenied
        v = form_input(request, inputs.InspectionPlanCreateInput)
        plan = v and _run(
            request, inspection_services.inspection_plan_create, ok=_("抽查计划已创建。"), actor=user, **v
        )
        if plan:
            return redirect("web:inspection-plan-detail", pk=plan.pk)
        return redirect("web:inspection-plan-list")
    own = perms.user_division_id(user)
    return render(
        request,
        "web/cases/inspection_plans.html",
        {
            "web_section": "inspections",
            "plans": selectors.inspection_plans_for(user=user).order_by("-period_start", "-id")[:100],
            "mine": selectors.inspections_for(user=user)
            .filter(inspectors=user)
            .exclude(status=InspectionStatus.COMPLETED)
            .order_by("inspection_plan", "draw_order")[:100],
            "can_create": can_create,
            "city_wide": perms.is_city_wide(user),
            "zoning_plans": ZoningPlan.objects.order_by("code"),
            "divisions": AdministrativeDivision.objects.filter(level="county").order_by("adcode")
            if perms.is_city_wide(user)
            else AdministrativeDivision.objects.filter(pk=own),
            "today": timezone.localdate(),
        },
    )


@case_page
def inspection_plan_detail(request, pk: int):
    """A plan: its draw with seed and pools, the inspections it made; draw / publish / verify buttons."""
    plan = inspection_services.inspection_plan_get_for(actor=request.user, plan_id=pk)
    roles = perms.user_roles(request.user)
    verification = None
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "draw":
            _run(
                request,
                inspection_services.inspection_plan_draw,
                ok=_("已完成随机抽取。"),
                inspection_plan=plan,
                actor=request.user,
            )
        elif action == "publish":
            _run(
                request,
                inspection_services.inspection_plan_publish,
                ok=_("抽取结果已公开。"),
                inspection_plan=plan,
                actor=request.user,
            )
        return redirect("web:inspection-plan-detail", pk=pk)
    if request.GET.get("verify") and plan.status != InspectionPlanStatus.DRAFT:
        verification = inspection_services.inspection_plan_verify(inspection_plan=plan)
    inspections = (
        selectors.inspections_for(user=request.user)
        .filter(inspection_plan=plan)
        .prefetch_related("inspectors")
        .order_by("draw_order")
    )
    return render(
        request,
        "web/cases/inspection_plan_detail.html",
        {
            "web_section": "inspections",
            "plan": plan,
            "inspections": inspections,
            "can_draw": plan.status == InspectionPlanStatus.DRAFT
            and roles & perms.ACTION_ROLES["inspection_plan.draw"],
            "can_publish": plan.status == InspectionPlanStatus.DRAWN
            and roles & perms.ACTION_ROLES["inspection_plan.publish"],
            "verification": verification,
        },
    )


@case_page
def inspection_detail(request, pk: int):
    """The inspector's phone checklist: start, record each item (pass / fail / note), complete."""
    inspection = inspection_services.inspection_get_for(actor=request.user, inspection_id=pk)
    if request.method == "POST":
        action = request.POST.get("action")
        user = request.user
        if action == "start":
            _run(request, inspection_services.inspection_start, ok=_("检查已开始。"), inspection=inspection, actor=user)
        elif action == "record":
            item = ChecklistItem.objects.filter(inspection=inspection, pk=_int(request.POST.get("item"))).first()
            if item is None:
                raise Http404
            v = form_input(request, inputs.ItemRecordInput)
            result = v and _run(
                request,
                inspection_services.checklist_item_record,
                ok=_("检查项已记录。"),
                item=item,
                actor=user,
                result=v["result"],
                note=v["note"],
                place=inputs.PlaceInput.place(v),
            )
            if result and getattr(result, "lead_id", None):
                messages.warning(request, _("不符合项已生成线索 #%(id)s。") % {"id": result.lead_id})
        elif action == "complete":
            _run(
                request,
                inspection_services.inspection_complete,
                ok=_("检查已完成。"),
                inspection=inspection,
                actor=user,
            )
        return redirect(
            reverse("web:inspection-detail", args=[pk])
            + ("#item-" + request.POST["item"] if request.POST.get("item") else "")
        )
    roles = perms.user_roles(request.user)
    can_record = bool(roles & perms.ACTION_ROLES["inspection.record"]) and (
        Role.BUREAU_ADMIN in roles or inspection.inspectors.filter(pk=request.user.pk).exists()
    )
    return render(
        request,
        "web/cases/inspection_detail.html",
        {
            "web_section": "inspections",
            "inspection": inspection,
            "items": inspection.items.select_related("lead").prefetch_related("field_photos"),
            "new_client_id": uuid.uuid4,
            "inspectors": inspection.inspectors.all(),
            "can_record": can_record,
            "results": [
                (ChecklistResult.PASS, ChecklistResult.PASS.label),
                (ChecklistResult.FAIL, ChecklistResult.FAIL.label),
                (ChecklistResult.NOTE, ChecklistResult.NOTE.label),
            ],
        },
    )


# --- Public: published typical cases -----------------------------------------------------------


@require_GET
def public_cases(request):
    """典型案例: only the published summary, division and dates of a case; nothing else is exposed."""
    if not settings.PUBLIC_ZONING:
        raise Http404
    cases = selectors.typical_cases_public()[:100]
    return render(request, "web/public/cases.html", {"cases": cases, "web_section": "public-cases", "public": True})


# --- Notifications: open their object, mark read ----------------------------------------------------


def _notification_target(n) -> str:
    if n.case_id:
        return reverse("web:case-detail", args=[n.case_id])
    if n.lead_id:
        return reverse("web:lead-detail", args=[n.lead_id])
    if n.inspection_id:
        return reverse("web:inspection-detail", args=[n.inspection_id])
    return reverse("web:desk")


@case_page
@require_POST
def notification_open(request, pk: int):
    """Mark one of the user's notifications read and go to its lead, case or inspection."""
    from .services.notifications import notification_mark_read

    n = selectors.notifications_for(user=request.user).filter(pk=pk).first()
    if n is None:
        raise Http404
    notification_mark_read(notification=n)
    if request.POST.get("open") == "0":
        return _back(request, reverse("web:desk"))
    return redirect(_notification_target(n))


# --- Field visit: where the lead is, in both frames, a navigation link and the geometry to take along -------


def _field_visit(lead) -> dict:
    """The lead's point on surface in CGCS2000 (storage) and WGS84 (phones' GPS), and a geo: URI for navigation."""
    point = lead.geom.point_on_surface if lead.geom.geom_type != "Point" else lead.geom
    cgcs = zoning_selectors.geometry_transformed(point, settings.STORAGE_SRID)  # stored so: a copy
    wgs = zoning_selectors.geometry_transformed(point, 4326)
    return {
        "cgcs2000": (round(cgcs.x, 6), round(cgcs.y, 6)),
        "wgs84": (round(wgs.x, 6), round(wgs.y, 6)),
        "geo_uri": f"geo:{wgs.y:.6f},{wgs.x:.6f}?q={wgs.y:.6f},{wgs.x:.6f}",
    }


@case_page
@require_GET
def lead_geometry(request, pk: int, fmt: str):
    """The lead's geometry (WGS84) as GeoJSON or KML, for a phone's map app on the field visit."""
    lead = selectors.leads_for(user=request.user).filter(pk=pk).first()
    if lead is None or fmt not in ("geojson", "kml"):
        raise Http404
    geom = zoning_selectors.geometry_transformed(lead.geom, 4326)
    props = {"id": lead.pk, "title": lead.title, "status": lead.status, "unit": lead.unit.code if lead.unit else None}
    if fmt == "geojson":
        body = json.dumps(
            {"type": "Feature", "id": lead.pk, "geometry": json.loads(geom.geojson), "properties": props},
            ensure_ascii=False,
        )
        response = HttpResponse(body, content_type="application/geo+json; charset=utf-8")
    else:
        from xml.sax.saxutils import escape

        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
            f"<Placemark><name>{escape(f'#{lead.pk} {lead.title}')}</name>{geom.kml}</Placemark></Document></kml>"
        )
        response = HttpResponse(body, content_type="application/vnd.google-earth.kml+xml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="lead-{lead.pk}.{fmt}"'
    return response
