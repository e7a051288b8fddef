"""Pages of the zoning app: the one map (一张图), unit cards, overlays as GeoJSON and the siting check.

Thin: every number comes from `selectors` and every write from `services`. The map loads
units from the API (/api/v1/zoning/units/); overlays come from `overlays_geojson` here
because the API has no overlay endpoint. Leads and targets are the cases app's layers
(`supervision.cases.web`), so this module imports no other app.

Login is required, except on the public pages (PUBLIC_ZONING=true), which reuse the same
views with `public=True`: no leads, no cases, no targets.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.contrib.gis.db.models.functions import AsGeoJSON, Transform
from django.contrib.gis.geos import GEOSException, GEOSGeometry, Point
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from supervision.errors import ServiceError

from . import selectors, services
from .choices import AccessAction, AccessLevel, Dimension, PlanStatus, ProjectType, UnitClass, Verdict
from .models import ControlUnit, Overlay, ZoningPlan


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


def plan_default(code: str | None = None) -> ZoningPlan | None:
    """The plan asked for, else the effective one (newest), else the first."""
    if code:
        return get_object_or_404(ZoningPlan, code=code)
    plans = ZoningPlan.objects.all()
    return (
        plans.filter(status=PlanStatus.EFFECTIVE).order_by("-effective_date", "code").first()
        or plans.order_by("code").first()
    )


def _prefix(public: bool) -> str:
    return "web:public-" if public else "web:"


@zoning_page
@require_GET
def map_page(request, public: bool = False):
    """一张图: units by class, red line, basins (and, signed in, leads and targets), the summary, siting."""
    plan = plan_default(request.GET.get("plan"))
    summary = selectors.zoning_summary(plan=plan) if plan else []
    config = {
        "plan": plan.code if plan else None,
        "unitsUrl": "/api/v1/zoning/units/",
        "overlaysUrl": _url(_prefix(public) + "overlays"),
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
            "plans": selectors.plans_visible(),
            "summary": summary,
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
    plan = plan_default(request.GET.get("plan"))
    rows = (
        Overlay.objects.filter(plan=plan)
        .annotate(gj=AsGeoJSON(Transform("geom", settings.API_SRID), precision=6))
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
def unit_card(request, plan: str, code: str, public: bool = False):
    """A unit's card: class, area, district, overlays over it and its whole access list by layer and dimension."""
    unit = get_object_or_404(ControlUnit.objects.select_related("plan", "division"), plan__code=plan, code=code)
    clauses = selectors.requirements_for_unit(unit=unit)
    overlays = list(selectors.overlays_governing_unit(unit=unit))
    groups: list[dict] = []
    for c in clauses:
        level = AccessLevel(c.level).label
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
    template = "web/zoning/unit_card.html" if request.headers.get("HX-Request") else "web/zoning/unit_page.html"
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
    plan = plan_default(request.POST.get("plan"))
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
    plan = plan_default(request.GET.get("plan"))
    return render(
        request,
        "web/zoning/summary.html",
        {
            "plan": plan,
            "summary": selectors.zoning_summary(plan=plan),
            "web_section": "public-map" if public else "map",
        },
    )
