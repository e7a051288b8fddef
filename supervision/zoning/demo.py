"""Demo plan changchun-2024 on real ground: 11 real district boundaries, 157 synthetic units.

Deterministic and idempotent: units and overlays are upserted on their codes, so a second
run leaves the same rows (and leads pointing at units stay valid).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry
from django.db import transaction

from .choices import UNIT_CLASS_BY_DIGIT, OverlayKind, PlanStatus
from .demo_access import access_demo_load
from .demo_geometry import changchun_demo
from .models import ControlUnit, Overlay, ZoningPlan
from .selectors import zoning_summary
from .services import division_ensure, plan_ensure, plan_file, plan_publish, units_area_refresh

PLAN_CODE = "changchun-2024"
REGION = "220100"


def _geom(shape) -> GEOSGeometry:
    return GEOSGeometry(memoryview(shape.wkb), srid=settings.STORAGE_SRID)


@transaction.atomic
def zoning_demo_load() -> ZoningPlan:
    """Load the demo plan as a draft with its access list, then file and publish it.

    A plan already filed or in force is left as it is: its content cannot change (a revision can).
    """
    demo = changchun_demo()
    division_ensure(adcode="220000", name="吉林省")
    division_ensure(adcode=REGION, name="长春市")
    divisions = {d.adcode: division_ensure(adcode=d.adcode, name=d.name) for d in demo.districts}
    plan, _ = plan_ensure(code=PLAN_CODE, name=demo.name, region_adcode=REGION, version="2024")
    if plan.status != PlanStatus.DRAFT:
        return plan
    for piece in demo.units:
        ControlUnit.objects.update_or_create(
            plan=plan,
            code=piece.code,
            defaults={
                "name": piece.name,
                "unit_class": UNIT_CLASS_BY_DIGIT[str(piece.class_digit)],
                "division": divisions[piece.adcode],
                "geom": _geom(piece.geometry),
                "attributes": {"source": "synthetic demo unit (supervision.zoning.demo_geometry)"},
            },
        )
    kinds = {"redline": OverlayKind.RED_LINE, "basin": OverlayKind.BASIN}
    for piece in (*demo.redlines, *demo.basins):
        Overlay.objects.update_or_create(
            plan=plan,
            code=piece.code,
            defaults={"kind": kinds[piece.kind], "name": piece.name, "geom": _geom(piece.geometry)},
        )
    units_area_refresh(queryset=ControlUnit.objects.filter(plan=plan))
    units_area_refresh(queryset=Overlay.objects.filter(plan=plan))
    plan._demo_access_lines = access_demo_load(plan)
    plan = plan_file(
        plan=plan,
        authority="吉林省生态环境厅",
        number="吉环备〔2024〕示例号",
        date=datetime.date(2024, 12, 20),
        approved_by="长春市人民政府",
        comment="demo",
    )
    plan = plan_publish(plan=plan, effective_date=datetime.date(2024, 12, 31), comment="demo")
    return plan


def demo_load() -> list[str]:
    plan = zoning_demo_load()
    city = zoning_summary(plan=plan)[-1]
    lines = [
        f"zoning: plan {plan.code} ({plan.name}), {plan.units.count()} units, {plan.overlays.count()} overlays; "
        f"全市 {city['priority_area_pct']} / {city['key_area_pct']} / {city['general_area_pct']} %"
    ]
    # The access list goes in before filing; a plan already in force keeps the list it was filed with.
    return lines + getattr(
        plan,
        "_demo_access_lines",
        [f"zoning: access list of {plan.code}: {plan.requirements.count()} clauses, as filed"],
    )
