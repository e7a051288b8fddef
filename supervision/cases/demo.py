"""Demo data of the cases app, loaded by `manage.py load_demo` after the zoning demo.

One user per role (officers in 南关区 220102 and 宽城区 220103, and a second inspector so a
double-random draw can pick two), a few enforcement targets, and leads at each stage.
Deterministic and idempotent: a second run changes nothing and prints the same logins.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.contrib.gis.geos import Point
from django.utils import timezone

from supervision.errors import ServiceError
from supervision.zoning.models import AdministrativeDivision, ControlUnit, ZoningPlan

from .choices import LeadSource, LeadStatus, PermitClass
from .models import EnforcementTarget, Lead
from .services.cases import case_order_rectification
from .services.leads import lead_confirm, lead_dispatch, lead_raise, lead_start_verification
from .services.users import user_upsert
from .validators import credit_code_check_char

PLAN_CODE = "changchun-2024"
DEMO_PASSWORD = "demo-pass-2024"
DEMO_USERS = [
    # username, role, division adcode (None: city-wide)
    ("officer_nanguan", "enforcement_officer", "220102"),
    ("officer_kuancheng", "enforcement_officer", "220103"),
    ("inspector1", "inspector", "220104"),
    ("inspector2", "inspector", None),
    ("assessor1", "assessor", None),
    ("planner1", "planner", None),
    ("admin1", "bureau_admin", None),
]
DEMO_TARGETS = [
    # name, adcode, unit class wanted, industry, permit class
    ("长春市南关区示范化工有限公司", "220102", "key", "C2614", PermitClass.KEY),
    ("长春市南关区示范建材有限公司", "220102", "priority", "C3011", PermitClass.SIMPLIFIED),
    ("长春市宽城区示范热电有限公司", "220103", "key", "D4411", PermitClass.KEY),
    ("长春市宽城区示范食品有限公司", "220103", "general", "C1391", PermitClass.REGISTRATION),
]


def _credit_code(adcode: str, n: int) -> str:
    first17 = f"91{adcode}MA{n:07d}"  # 17 characters; the 18th is the check character
    return first17 + credit_code_check_char(first17)


def _unit(plan: ZoningPlan, adcode: str, unit_class: str) -> ControlUnit | None:
    qs = ControlUnit.objects.filter(plan=plan, division__adcode=adcode).order_by("code")
    return qs.filter(unit_class=unit_class).first() or qs.first()


def demo_load() -> list[str]:
    lines = [f"cases: demo users (password for all: {DEMO_PASSWORD})"]
    missing = [a for _, _, a in DEMO_USERS if a and not AdministrativeDivision.objects.filter(adcode=a).exists()]
    if missing:
        raise ServiceError(f"cases demo needs the zoning demo's divisions first (missing {', '.join(missing)}).")
    users = {}
    for username, role, adcode in DEMO_USERS:
        user, _ = user_upsert(
            username=username,
            role=role,
            division_adcode=adcode,
            password=DEMO_PASSWORD,
            email=f"{username}@demo.invalid",
        )
        users[username] = user
        lines.append(f"  {username:<18} {role:<20} {adcode or 'city-wide'}")
    plan = ZoningPlan.objects.filter(code=PLAN_CODE).first()
    if plan is None:
        lines.append(f"cases: plan {PLAN_CODE} not loaded; no demo targets or leads")
        return lines

    targets = []
    for n, (name, adcode, unit_class, industry, permit_class) in enumerate(DEMO_TARGETS, start=1):
        unit = _unit(plan, adcode, unit_class)
        if unit is None:
            continue
        location = unit.geom.point_on_surface
        target, _ = EnforcementTarget.objects.get_or_create(
            credit_code=_credit_code(adcode, n),
            defaults={
                "name": name,
                "industry_code": industry,
                "permit_class": permit_class,
                "permit_number": f"{_credit_code(adcode, n)}001P",
                "location": location,
                "division": unit.division,
                "unit": unit,
            },
        )
        targets.append(target)

    admin = users["admin1"]
    when = timezone.make_aware(datetime(2024, 11, 4, 9, 0), timezone.get_default_timezone())
    created = 0
    for i, target in enumerate(targets):
        result = lead_raise(
            source=LeadSource.HOTLINE if i % 2 == 0 else LeadSource.COMPLAINT,
            source_key=f"demo:{PLAN_CODE}:complaint:{target.credit_code}",
            plan=plan,
            geom=Point(target.location.x, target.location.y, srid=settings.STORAGE_SRID),
            title=f"群众举报：{target.name}夜间异味扰民",
            reason="12369 热线举报，需现场核查",
            description="举报人反映夜间有刺激性气味，疑似废气未经处理直接排放。",
            unit=target.unit,
            division=target.division,
            target=target,
            detected_at=when,
        )
        created += result.created
    # The first lead of each district goes through to a case under rectification (working-day deadline).
    for adcode in ("220102", "220103"):
        lead = (
            Lead.objects.filter(
                plan=plan,
                division__adcode=adcode,
                detection_rows__source_key__startswith=f"demo:{PLAN_CODE}:",
            )
            .order_by("id")
            .first()
        )
        if lead is None or lead.status != LeadStatus.NEW:
            continue
        lead = lead_dispatch(lead=lead, actor=admin, days=5, day_kind="working", comment="请尽快核查")
        lead = lead_start_verification(lead=lead, actor=admin)
        lead, case = lead_confirm(lead=lead, actor=admin, comment="现场核查属实")
        case_order_rectification(
            case=case,
            actor=admin,
            requirements="停产整治废气收集处理设施，整改完成后提交监测报告。",
            days=15,
            day_kind="working",
        )
    lines.append(
        f"cases: {len(targets)} demo targets, {Lead.objects.filter(plan=plan).count()} leads ({created} new this run)"
    )
    return lines
