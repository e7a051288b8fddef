"""What a person takes offline, and the server's version of what a device may conflict with."""

from __future__ import annotations

import math

from django.conf import settings
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from supervision.cases import permissions as perms
from supervision.cases.choices import LEAD_VERIFYING_STATUSES, InspectionStatus, Role
from supervision.cases.models import ChecklistItem, Inspection, Lead
from supervision.errors import NotFound

# Basemap tiles taken offline around each site: zooms and how many tiles either side.
TILE_ZOOMS = (13, 14, 15, 16)
TILE_RADIUS = 1
MAX_TILES = 800
# Leaflet's default subdomains: a cached URL must be the one Leaflet will ask for.
TILE_SUBDOMAINS = "abc"
MAX_FIELD_LEADS = 50


def field_inspections_for(*, user) -> QuerySet[Inspection]:
    """The open inspections a person is drawn for (a bureau admin: every open one in scope)."""
    qs = Inspection.objects.filter(status__in=[InspectionStatus.ASSIGNED, InspectionStatus.IN_PROGRESS])
    if Role.BUREAU_ADMIN in perms.user_roles(user):
        return perms.scope_inspections(qs, user)
    return qs.filter(inspectors=user).distinct()


def field_inspection_get(*, actor, inspection_id: int) -> Inspection:
    """An inspection the actor is drawn for (any status: a completed one is a conflict, not a 404)."""
    qs = Inspection.objects.all()
    if Role.BUREAU_ADMIN in perms.user_roles(actor):
        qs = perms.scope_inspections(qs, actor)
    elif perms.user_roles(actor) & perms.ACTION_ROLES["inspection.record"]:
        qs = qs.filter(inspectors=actor)
    else:
        qs = qs.none()
    inspection = qs.filter(pk=inspection_id).select_related("inspection_plan", "target", "unit").first()
    if inspection is None:
        raise NotFound(_("Inspection %(id)s not found.") % {"id": inspection_id}, code="not_found")
    return inspection


def _field_leads(user) -> QuerySet[Lead]:
    """Leads the person may verify in the field, whatever their status.

    Officers: their division's leads. Inspectors (who do not verify leads themselves):
    the leads raised by their checklists and the leads on the targets they inspect.
    """
    qs = perms.scope_queryset(Lead.objects.all(), user)
    if not perms.user_roles(user) & perms.ACTION_ROLES["lead.start_verification"]:
        qs = qs.filter(Q(checklist_items__inspection__inspectors=user) | Q(target__inspections__inspectors=user))
    return qs.distinct()


def field_leads_for(*, user) -> QuerySet[Lead]:
    return (
        _field_leads(user)
        .filter(status__in=LEAD_VERIFYING_STATUSES)
        .select_related("unit", "division")
        .order_by("verification_due_at", "id")
    )


def field_lead_get(*, actor, lead_id: int) -> Lead:
    lead = _field_leads(actor).filter(pk=lead_id).first()
    if lead is None:
        raise NotFound(_("Lead %(id)s not found.") % {"id": lead_id}, code="not_found")
    return lead


def item_version(item: ChecklistItem) -> dict:
    """The server's version of a checklist item, as a device shows it next to its own."""
    checked_by = item.checked_by
    return {
        "inspection": item.inspection_id,
        "inspection_status": item.inspection.status,
        "item": item.pk,
        "position": item.position,
        "result": item.result,
        "result_label": str(item.get_result_display()),
        "note": item.note,
        "checked_by": (checked_by.get_full_name() or checked_by.username) if checked_by else None,
        "checked_at": item.checked_at.isoformat() if item.checked_at else None,
        "lead": item.lead_id,
    }


def lead_version(lead: Lead) -> dict:
    return {
        "lead": lead.pk,
        "status": lead.status,
        "status_label": str(lead.get_status_display()),
        "concluded_at": lead.concluded_at.isoformat() if lead.concluded_at else None,
        "merged_into": lead.merged_into_id,
    }


def _geojson(geom) -> dict | None:
    import json

    if geom is None:
        return None
    return json.loads(geom.transform(settings.API_SRID, clone=True).geojson)


def _lonlat(geom) -> tuple[float, float] | None:
    if geom is None:
        return None
    p = geom.point_on_surface if geom.geom_type != "Point" else geom
    p = p.transform(settings.API_SRID, clone=True)
    return (round(p.x, 7), round(p.y, 7))


def _unit(unit) -> dict | None:
    if unit is None:
        return None
    return {
        "code": unit.code,
        "name": unit.name,
        "unit_class": unit.unit_class,
        "unit_class_label": str(unit.get_unit_class_display()),
        "geometry": _geojson(unit.geom),
    }


def tile_urls(*, template: str, sites: list[tuple[float, float]]) -> list[str]:
    """Slippy-map (web mercator XYZ) tile URLs around each (lon, lat) at TILE_ZOOMS, at most MAX_TILES."""
    if not template:
        return []
    urls: dict[str, None] = {}
    for lon, lat in sites:
        lat = max(min(lat, 85.0511), -85.0511)
        for z in TILE_ZOOMS:
            n = 2**z
            cx = int((lon + 180.0) / 360.0 * n)
            cy = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
            for x in range(cx - TILE_RADIUS, cx + TILE_RADIUS + 1):
                for y in range(cy - TILE_RADIUS, cy + TILE_RADIUS + 1):
                    if not (0 <= x < n and 0 <= y < n):
                        continue
                    s = TILE_SUBDOMAINS[abs(x + y) % len(TILE_SUBDOMAINS)]
                    url = (
                        template.replace("{s}", s).replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y))
                    )
                    urls[url] = None
                    if len(urls) >= MAX_TILES:
                        return list(urls)
    return list(urls)


def field_package(*, user) -> dict:
    """Everything the field page needs offline: inspections with checklists, leads, outlines, chips, tiles."""
    sites: list[tuple[float, float]] = []
    inspections = []
    for insp in field_inspections_for(user=user).select_related("inspection_plan", "target", "unit", "division"):
        target = insp.target
        where = _lonlat(target.location)
        if where:
            sites.append(where)
        items = (
            ChecklistItem.objects.filter(inspection=insp)
            .select_related("inspection", "checked_by")
            .prefetch_related("field_photos")
        )
        inspections.append(
            {
                "id": insp.pk,
                "status": insp.status,
                "status_label": str(insp.get_status_display()),
                "plan": insp.inspection_plan.name,
                "period_end": insp.inspection_plan.period_end.isoformat(),
                "division": insp.division.name,
                "target": {
                    "name": target.name,
                    "credit_code": target.credit_code,
                    "permit_number": target.permit_number,
                    "industry_code": target.industry_code,
                    "lonlat": where,
                },
                "unit": _unit(insp.unit),
                "checklist_source": insp.checklist_source,
                "items": [
                    {
                        **item_version(item),
                        "requirement_number": item.requirement_number,
                        "dimension": item.dimension,
                        "text": item.text,
                        "photos": [
                            {
                                "id": p.pk,
                                "url": reverse("field-photo-file", args=[p.pk]),
                                "latitude": p.latitude,
                                "longitude": p.longitude,
                                "taken_at": p.taken_at.isoformat(),
                            }
                            for p in item.field_photos.all()
                        ],
                    }
                    for item in items
                ],
            }
        )
    leads = []
    for lead in field_leads_for(user=user)[:MAX_FIELD_LEADS]:
        where = _lonlat(lead.geom)
        if where:
            sites.append(where)
        chips = [
            {"id": ev.pk, "url": reverse("web:evidence-file", args=[ev.pk]), "caption": ev.caption}
            for ev in lead.evidence_files.filter(content_type__startswith="image/")
        ]
        leads.append(
            {
                "id": lead.pk,
                "title": lead.title,
                "status": lead.status,
                "status_label": str(lead.get_status_display()),
                "source_label": str(lead.get_source_display()),
                "reason": lead.reason,
                "description": lead.description,
                "division": lead.division.name,
                "verification_due_at": lead.verification_due_at.isoformat() if lead.verification_due_at else None,
                "area_m2": lead.area_m2,
                "geometry": _geojson(lead.geom),
                "lonlat": where,
                "unit": _unit(lead.unit),
                "chips": chips,
            }
        )
    tiles = tile_urls(template=settings.BASEMAP_URL, sites=sites)
    return {
        "generated_at": timezone.now().isoformat(),
        "user": user.get_username(),
        "inspections": inspections,
        "leads": leads,
        "basemap": {"url": settings.BASEMAP_URL, "attribution": settings.BASEMAP_ATTRIBUTION, "tiles": tiles},
        "assets": [c["url"] for lead in leads for c in lead["chips"]]  # type: ignore[attr-defined]
        + [p["url"] for insp in inspections for item in insp["items"] for p in item["photos"]]  # type: ignore[attr-defined]
        + tiles,
    }
