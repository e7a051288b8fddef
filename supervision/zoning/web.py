"""Pages of the zoning app: the one map (一张图), unit cards, overlays as GeoJSON and the siting check.

Thin: every number comes from `selectors` and every write from `services`. The map loads
units and overlays as vector tiles (/api/v1/tiles/); the district outlines (context without a
basemap) come from `districts_geojson` here. Leads and targets are the cases app's layers
(`supervision.cases.web`), so this module imports no other app.

Login is required, except on the public pages (PUBLIC_ZONING=true), which reuse the same
views with `public=True`: no leads, no cases, no targets.
"""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.contrib.gis.db.models.functions import AsGeoJSON, Transform
from django.contrib.gis.geos import GEOSException, GEOSGeometry, Point
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_POST

from supervision.errors import ServiceError, error_lines
from supervision.web import form_input

from . import selectors, services
from .access_rules import division_depth
from .choices import (
    AccessAction,
    AccessLevel,
    Dimension,
    DivisionLevel,
    OverlayKind,
    PlanStatus,
    ProjectType,
    UnitClass,
    Verdict,
)
from .diff_io import plan_diff_xlsx
from .models import ControlUnit, Overlay, PlanAttachment, ZoningPlan


def _allowed(request, public: bool) -> bool:
    return request.user.is_authenticated or (public and settings.PUBLIC_ZONING)


def zoning_page(view):
    """Signed in, or a public page while PUBLIC_ZONING is on; else to the login page (404 for a public URL)."""

    def wrapped(request, *args, public: bool = False, **kwargs):
        if public and not settings.PUBLIC_ZONING:
            raise Http404("public zoning pages are off")
        if not _allowed(request, public):
            return redirect_to_login(request.get_full_path())
        return view(request, *args, public=public, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def plan_default(code: str | None = None, *, public: bool = False) -> ZoningPlan | None:
    """The plan asked for, else the effective one (newest), else the first; public pages see public versions only."""
    plans = selectors.plans_public_qs() if public else ZoningPlan.objects.all()
    if code:
        return get_object_or_404(plans, code=code)
    return (
        plans.filter(status=PlanStatus.EFFECTIVE).order_by("-effective_date", "code").first()
        or plans.order_by("code").first()
    )


MAP_SUMMARY_MAX_DISTRICTS = 40


def _prefix(public: bool) -> str:
    return "web:public-" if public else "web:"


@zoning_page
@require_GET
def map_page(request, public: bool = False):
    """一张图: units by class, red line, basins (and, signed in, leads and targets), the summary, siting."""
    plan = plan_default(request.GET.get("plan"), public=public)
    summary = selectors.zoning_summary(plan=plan) if plan else []
    # A provincial or national plan has hundreds or thousands of districts: the map's side panel then
    # shows the total only (the full table is a link away), so the page stays small and quick.
    summary_districts = len(summary) - 1
    if summary_districts > MAP_SUMMARY_MAX_DISTRICTS:
        summary = summary[-1:]
    config = {
        "plan": plan.code if plan else None,
        "unitsUrl": "/api/v1/zoning/units/",
        # The first view: the plan's extent (lon/lat), the units themselves come as vector tiles.
        "bounds": selectors.plan_bounds_lonlat(plan=plan) if plan else None,
        "unitCount": plan.units.count() if plan else 0,
        "districtsUrl": _url(_prefix(public) + "districts"),
        "unitCardUrl": _url(_prefix(public) + "unit-card", plan="__plan__", code="__code__"),
        "leadsUrl": None if public else _url("web:map-leads"),
        "targetsUrl": None if public else _url("web:map-targets"),
        "basemapUrl": settings.BASEMAP_URL,
        "basemapAttribution": settings.BASEMAP_ATTRIBUTION,
        "classLabels": {c.value: str(c.label) for c in UnitClass},
        "labels": {
            "units": _("管控单元"),
            "redLine": _("生态保护红线"),
            "basins": _("流域"),
            "leads": _("线索"),
            "targets": _("监管对象"),
            "loading": _("正在加载…"),
            "noMatch": _("没有匹配的单元"),
            "site": _("选址范围"),
        },
    }
    return render(
        request,
        "web/zoning/map.html",
        {
            "web_section": "public-map" if public else "map",
            "public": public,
            "plan": plan,
            "plans": selectors.plans_public_qs() if public else selectors.plans_visible(),
            "summary": summary,
            "summary_shortened": summary_districts > MAP_SUMMARY_MAX_DISTRICTS,
            "map_config": config,
            "project_types": ProjectType.choices,
            "siting_url": _url(_prefix(public) + "siting"),
        },
    )


def _url(name: str, **kwargs) -> str:
    from django.urls import reverse

    return reverse(name, kwargs=kwargs or None)


@zoning_page
@require_GET
def overlays_geojson(request, public: bool = False):
    """The plan's overlays (red line, basins, others) as a GeoJSON FeatureCollection in API_SRID."""
    plan = plan_default(request.GET.get("plan"), public=public)
    geometry = selectors.geometry_public("geom") if public else Transform("geom", settings.API_SRID)
    rows = (
        Overlay.objects.filter(plan=plan)
        .annotate(gj=AsGeoJSON(geometry, precision=settings.PUBLIC_COORDINATE_DECIMALS if public else 6))
        .values_list("code", "name", "kind", "area_m2", "gj")
        .order_by("kind", "code")
    )
    features = [
        {
            "type": "Feature",
            "id": code,
            "properties": {"code": code, "name": name, "kind": kind, "area_m2": area},
            "geometry": json.loads(gj),
        }
        for code, name, kind, area, gj in rows
    ]
    return JsonResponse({"type": "FeatureCollection", "features": features})


@zoning_page
@require_GET
def districts_geojson(request, public: bool = False):
    """The plan's districts (outline and name) as GeoJSON: the one map's context where there is no basemap."""
    plan = plan_default(request.GET.get("plan"), public=public)
    return JsonResponse(selectors.plan_district_outlines(plan=plan))


@zoning_page
@require_GET
def unit_card(request, plan: str, code: str, public: bool = False):
    """A unit's card: class, area, district, overlays over it and its whole access list by layer and dimension."""
    units = ControlUnit.objects.select_related("plan", "division")
    if public:
        units = units.filter(plan__in=selectors.plans_public_qs())
    unit = get_object_or_404(units, plan__code=plan, code=code)
    clauses = selectors.requirements_for_unit(unit=unit)
    overlays = list(selectors.overlays_governing_unit(unit=unit))
    groups: list[dict] = []
    division_labels = {1: DivisionLevel.PROVINCE.label, 3: _lazy("地市"), 4: AccessLevel.DIVISION.label}
    for c in clauses:
        # A division clause says which division layer it is: the province, a prefecture ("1+3+13+N") or the county.
        level = (
            division_labels[division_depth(c.scope_code)]
            if c.level == AccessLevel.DIVISION
            else AccessLevel(c.level).label
        )
        if not groups or groups[-1]["level"] != level:
            groups.append({"level": level, "clauses": []})
        groups[-1]["clauses"].append(
            {
                "number": c.number,
                "text": c.text,
                "dimension": Dimension(c.dimension).label,
                "action": c.action,
                "action_label": AccessAction(c.action).label,
            }
        )
    context = {
        "unit": unit,
        "area_km2": unit.area_m2 / 1_000_000,
        "overlays": overlays,
        "groups": groups,
        "public": public,
        "activity_url": None if public else _url("web:unit-activity", plan=plan, code=code),
    }
    if request.headers.get("HX-Request"):
        template = "web/zoning/unit_card.html"
    else:
        # The unit's own page has a small map: the plan's unit tiles around it, the unit outlined.
        template = "web/zoning/unit_page.html"
        context["unit_map_config"] = {
            "plan": unit.plan.code,
            "code": unit.code,
            "bounds": selectors.unit_bounds_lonlat(unit=unit),
            "basemapUrl": settings.BASEMAP_URL,
            "basemapAttribution": settings.BASEMAP_ATTRIBUTION,
        }
    return render(request, template, {**context, "web_section": "public-map" if public else "map"})


def _site_geometry(request) -> GEOSGeometry:
    """The site from the drawn GeoJSON (API_SRID) or from the longitude/latitude fields."""
    text = (request.POST.get("geometry") or "").strip()
    if text:
        try:
            geom = GEOSGeometry(text)
        except (GEOSException, ValueError, TypeError):
            raise ServiceError(_("选址范围不是有效的 GeoJSON。")) from None
        geom.srid = settings.API_SRID
        if not geom.valid:
            raise ServiceError(_("选址范围无效：%(reason)s") % {"reason": geom.valid_reason})
        return geom
    try:
        lon = float(request.POST.get("lon", ""))
        lat = float(request.POST.get("lat", ""))
    except ValueError:
        raise ServiceError(_("请在地图上绘制选址范围，或输入经纬度。")) from None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ServiceError(_("经纬度超出范围。"))
    return Point(lon, lat, srid=settings.API_SRID)


@zoning_page
@require_POST
def siting_check(request, public: bool = False):
    """Run a siting assessment (services.siting_assess) and render the verdict with its deciding clauses."""
    plan = plan_default(request.POST.get("plan"), public=public)
    try:
        geometry = _site_geometry(request)
        assessment = services.siting_assess(
            plan=plan,
            geometry=geometry,
            industry_code=request.POST.get("industry_code", ""),
            project_type=request.POST.get("project_type", ProjectType.NEW),
            actor=request.user,
        )
    except ServiceError as exc:
        return render(request, "web/zoning/siting_result.html", {"error": exc.text()}, status=200)
    result = assessment.result
    deciding_numbers = {c["number"] for c in result.get("deciding", [])}
    requirements = [
        {
            **c,
            "level_label": AccessLevel(c["level"]).label,
            "dimension_label": Dimension(c["dimension"]).label,
            "action_label": AccessAction(c["action"]).label,
            "deciding": c["number"] in deciding_numbers,
        }
        for c in result.get("requirements", [])
    ]
    site = assessment.geom.transform(settings.API_SRID, clone=True)
    context = {
        "a": assessment,
        "verdict_label": Verdict(assessment.verdict).label,
        "units": [
            {**u, "class_label": UnitClass(u["class"]).label, "share_pct": u["share"] * 100} for u in result["units"]
        ],
        "deciding": [r for r in requirements if r["deciding"]],
        "requirements": requirements,
        "result": result,
        "site_geojson": site.geojson,
        "report_url": _url("siting-report", pk=assessment.pk),
    }
    return render(request, "web/zoning/siting_result.html", context)


@zoning_page
@require_GET
def summary_table(request, public: bool = False):
    """The Annex-1 summary as its own page (also printed beside the map)."""
    plan = plan_default(request.GET.get("plan"), public=public)
    return render(
        request,
        "web/zoning/summary.html",
        {
            "plan": plan,
            "summary": selectors.zoning_summary(plan=plan),
            "web_section": "public-map" if public else "map",
        },
    )


# --- The plan's life: versions, filing, publication, diff (signed in; actions for planners) ---


@login_required
@require_GET
def plan_list(request):
    """Every plan version: status, filing, effective date, revision due, what it was revised from."""
    plans = list(selectors.plans_visible().select_related("parent", "revised_from"))
    structures = selectors.access_list_structures(plans=plans)
    for plan in plans:
        plan.access_structure = structures[plan.pk]["structure"]
    return render(
        request,
        "web/zoning/plan_list.html",
        {"plans": plans, "web_section": "plans", "can_plan": selectors.user_is_planner(request.user)},
    )


@login_required
@require_GET
def plan_detail(request, code: str):
    """One version: the record (authority, number, dates, attachments, who), events, update log, actions."""
    plan = get_object_or_404(ZoningPlan.objects.select_related("parent", "revised_from", "filed_by"), code=code)
    today = timezone.localdate()
    context = {
        "plan": plan,
        "web_section": "plans",
        "events": plan.events.select_related("actor"),
        "updates": plan.updates.select_related("actor"),
        "attachments": plan.attachments.select_related("uploaded_by"),
        "revisions": plan.revisions.order_by("code"),
        "unit_count": plan.units.count(),
        "overlay_count": plan.overlays.count(),
        "clause_count": plan.requirements.count(),
        "access_list": selectors.access_list_structure(plan=plan),
        "regions": plan.regions.all(),
        "revision_overdue": bool(plan.revision_due and plan.revision_due <= today),
        "can_plan": selectors.user_is_planner(request.user),
        "overlay_kinds": OverlayKind.choices,
        "today": today,
    }
    return render(request, "web/zoning/plan_detail.html", context)


def _upload_to_temp(upload, directory: str) -> str:
    """Write an uploaded vector file where GDAL can read it; the name keeps only its extension."""
    suffix = Path(upload.name).suffix.lower()
    if suffix not in {".geojson", ".json", ".gpkg", ".zip"}:
        raise ServiceError(
            _("Upload a GeoJSON, GeoPackage or zipped Shapefile (.geojson, .gpkg, .zip)."), code="invalid_file"
        )
    path = Path(directory) / f"upload{suffix}"
    with open(path, "wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    return f"/vsizip/{path}" if suffix == ".zip" else str(path)


PLAN_ACTIONS = ("revise", "replace_units", "replace_overlays", "file", "publish", "update")


@login_required
@require_POST
def plan_action(request, code: str, action: str):
    """Run one step of the plan's life (services do the checks, planners only) and go back to the plan."""
    if action not in PLAN_ACTIONS:
        raise Http404("unknown action")
    plan = get_object_or_404(ZoningPlan, code=code)
    post, target = request.POST, plan.code
    from .api.serializers import (
        PlanFileInputSerializer,
        PlanPublishInputSerializer,
        PlanReviseInputSerializer,
        PlanUpdateInputSerializer,
    )

    inputs = {
        "revise": PlanReviseInputSerializer,
        "file": PlanFileInputSerializer,
        "publish": PlanPublishInputSerializer,
        "update": PlanUpdateInputSerializer,
    }
    try:
        services.plan_actor_check(user=request.user)
        v = form_input(request, inputs[action]) if action in inputs else {}
        if v is None:  # refused with the API's words, already on the page
            return redirect("web:plan-detail", code=plan.code)
        if action == "revise":
            draft = services.plan_revise(
                from_code=plan.code,
                to_code=v["code"],
                name=v.get("name") or None,
                actor=request.user,
                reason=v["reason"],
                document=v["document"],
            )
            target = draft.code
            messages.success(request, _("Draft %(code)s made from %(from)s.") % {"code": draft.code, "from": plan.code})
        elif action in ("replace_units", "replace_overlays"):
            upload = request.FILES.get("file")
            if upload is None:
                raise ServiceError(_("Choose a file to import."), code="invalid_file")
            with tempfile.TemporaryDirectory() as directory:
                path = _upload_to_temp(upload, directory)
                if action == "replace_units":
                    report = services.units_import(path=path, plan_code=plan.code, replace=True)
                else:
                    report = services.overlays_import(
                        path=path, plan_code=plan.code, kind=post.get("kind", ""), replace=True
                    )
            messages.success(
                request, _("%(n)s features imported; the draft's previous ones replaced.") % {"n": report.created}
            )
        elif action == "file":
            services.plan_file(
                plan=plan,
                authority=v["authority"],
                number=v["number"],
                date=v["date"],
                approved_by=v["approved_by"],
                attachments=[(f.name, f) for f in v["attachments"]],
                actor=request.user,
            )
            messages.success(request, _("Plan %(code)s filed.") % {"code": plan.code})
        elif action == "publish":
            services.plan_publish(plan=plan, effective_date=v["effective_date"], actor=request.user)
            messages.success(request, _("Plan %(code)s is in force.") % {"code": plan.code})
        else:
            services.plan_update_record(
                plan=plan, what=v["what"], why=v["why"], document=v["document"], actor=request.user
            )
            messages.success(request, _("Update recorded."))
    except ServiceError as exc:
        if exc.status_code == 403:
            raise PermissionDenied(exc.message) from None
        for line in exc.problems or [exc.message]:
            messages.error(request, line)
        return redirect("web:plan-detail", code=plan.code)
    return redirect("web:plan-detail", code=target)


@login_required
def plan_parent(request, code: str):
    """Set or clear a draft's parent plan (planners): the API's serializer and service, errors on the page."""
    from .api.serializers import PlanParentInputSerializer

    plan = get_object_or_404(ZoningPlan.objects.select_related("parent"), code=code)
    try:
        services.plan_actor_check(user=request.user)
    except ServiceError as exc:
        raise PermissionDenied(exc.message) from None
    errors: list[str] = []
    if request.method == "POST":
        form = PlanParentInputSerializer(data=request.POST, context={"request": request})
        if form.is_valid():
            try:
                plan = services.plan_parent_set(
                    plan=plan,
                    parent=form.validated_data["parent"],
                    actor=request.user,
                    reason=form.validated_data["reason"],
                )
            except ServiceError as exc:
                errors = [exc.message, *exc.problems]
            else:
                if plan.parent is None:
                    messages.success(request, _("Plan %(code)s now refers to no parent plan.") % {"code": plan.code})
                else:
                    messages.success(
                        request,
                        _("Plan %(code)s now refers to %(parent)s.") % {"code": plan.code, "parent": plan.parent.code},
                    )
                return redirect("web:plan-detail", code=plan.code)
        else:
            errors = error_lines(form.errors)
    elif request.method != "GET":
        return HttpResponseNotAllowed(["GET", "POST"])
    return render(
        request,
        "web/zoning/plan_parent.html",
        {
            "plan": plan,
            "web_section": "plans",
            "errors": errors,
            "candidates": selectors.plans_parent_candidates(plan=plan),
            "selected": request.POST.get("parent", plan.parent.code if plan.parent else ""),
            "editable": plan.status == PlanStatus.DRAFT,
        },
        status=400 if errors else 200,
    )


@login_required
@require_GET
def plan_attachment(request, pk: int):
    """A filed document, to signed-in users."""
    attachment = get_object_or_404(PlanAttachment, pk=pk)
    return FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.name)


@login_required
@require_GET
def plan_diff_page(request, code: str, other: str):
    """The differences between two versions, as tables and on a map (added, removed, reclassified, reshaped)."""
    old = get_object_or_404(ZoningPlan, code=code)
    new = get_object_or_404(ZoningPlan, code=other)
    diff = selectors.plan_diff(old=old, new=new)
    if request.GET.get("format") == "xlsx":
        stream = io.BytesIO()
        plan_diff_xlsx(diff, old=old.code, new=new.code, stream=stream)
        stream.seek(0)
        return FileResponse(stream, as_attachment=True, filename=f"diff-{old.code}-{new.code}.xlsx")
    features = selectors.plan_diff_features(old=old, new=new, diff=diff)
    return render(
        request,
        "web/zoning/plan_diff.html",
        {
            "old": old,
            "new": new,
            "diff": diff,
            "features": features,
            "web_section": "plans",
            "basemap": {"url": settings.BASEMAP_URL, "attribution": settings.BASEMAP_ATTRIBUTION},
        },
    )
