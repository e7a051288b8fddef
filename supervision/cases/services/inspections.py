"""Double-random inspections (双随机、一公开): plans, reproducible draws, checklists, findings.

A plan (draft) draws (→ drawn) N targets and their inspectors with random.Random(seed)
over pools stored on the plan (see `draw.py`), then is published (→ published). Each
drawn target gets an Inspection with a checklist built from the access requirements
that apply to its unit; a failed item raises a lead through `lead_raise`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from supervision.errors import Forbidden, ServiceError
from supervision.workflow import transition_to
from supervision.zoning.choices import Dimension
from supervision.zoning.industries import IndustryCodeError, industry_matches
from supervision.zoning.models import AdministrativeDivision, ControlUnit, ZoningPlan
from supervision.zoning.selectors import requirements_for_unit

from .. import draw as draw_core
from .. import permissions as perms
from ..choices import (
    INSPECTION_PLAN_TRANSITIONS,
    INSPECTION_TRANSITIONS,
    ChecklistResult,
    InspectionPlanStatus,
    InspectionStatus,
    LeadSource,
    NotificationKind,
    Role,
)
from ..models import (
    ChecklistItem,
    EnforcementTarget,
    Inspection,
    InspectionEvent,
    InspectionPlan,
    InspectionPlanEvent,
)
from .leads import lead_raise
from .notifications import NotificationSpec, notify

# Draw weights: priority and key units first, then past violations (cases against the target).
UNIT_CLASS_WEIGHT = {"priority": 3.0, "key": 3.0, "general": 1.0}
NO_UNIT_WEIGHT = 1.0
VIOLATION_WEIGHT = 2.0
VIOLATIONS_COUNTED = 3

# When the access list is not available: the four dimensions as plain questions.
PLAIN_CHECKLIST = [
    ("空间布局约束", "生产经营场所、规模与所在管控单元的空间布局约束相符，无新增违规建设或占用。"),
    ("污染物排放管控", "持有效排污许可证并按证排污，污染防治设施正常运行，排放达标。"),
    ("环境风险防控", "环境风险防范措施、应急预案和应急物资落实到位。"),
    ("资源开发利用效率", "能源、水资源和土地利用符合所在管控单元的资源利用要求。"),
    ("台账与信息公开", "环境管理台账、自行监测和信息公开按要求执行。"),
]


def inspection_plan_create(
    *,
    actor,
    name: str,
    zoning_plan: ZoningPlan,
    period_start: date,
    period_end: date,
    target_count: int,
    division: AdministrativeDivision | None = None,
    inspectors_per_target: int = 2,
    avoidance: bool = True,
    seed: int | None = None,
) -> InspectionPlan:
    perms.require_role(actor, "inspection_plan.create")
    if division is None and not perms.is_city_wide(actor):
        raise ServiceError(
            _("Only city-wide users can create a city-wide plan; give a division."), code="wrong_division"
        )
    if division is not None and not perms.is_city_wide(actor) and division.pk != perms.user_division_id(actor):
        raise ServiceError(_("You can create plans only for your own division."), code="wrong_division")
    if period_end < period_start:
        raise ServiceError(_("The period ends before it starts."))
    if target_count < 1 or inspectors_per_target < 1:
        raise ServiceError(_("Draw at least one target and one inspector per target."))
    return InspectionPlan.objects.create(
        name=name,
        zoning_plan=zoning_plan,
        division=division,
        period_start=period_start,
        period_end=period_end,
        target_count=target_count,
        inspectors_per_target=inspectors_per_target,
        avoidance=avoidance,
        # 62 bits: fits a signed BIGINT and random.Random takes any int.
        seed=seed if seed is not None else secrets.randbits(62),
        created_by=actor,
    )


def inspection_plan_get_for(*, actor, plan_id: int) -> InspectionPlan:
    qs = InspectionPlan.objects.all()
    if not perms.is_city_wide(actor):
        qs = qs.filter(Q(division_id=perms.user_division_id(actor)) | Q(inspections__inspectors=actor)).distinct()
    if not (perms.user_roles(actor) and perms.has_scope(actor)):
        qs = qs.none()
    return perms.scoped_get(qs, plan_id, label=_("Inspection plan"))


def target_pool(*, inspection_plan: InspectionPlan) -> list[dict]:
    """The targets the plan draws from, each with its weight and why, sorted by id."""
    qs = EnforcementTarget.objects.all()
    if inspection_plan.division_id:
        qs = qs.filter(division_id=inspection_plan.division_id)
    rows = (
        qs.annotate(
            violations=Count("cases", filter=Q(cases__opened_at__date__lt=inspection_plan.period_start), distinct=True)
        )
        .values_list("id", "division__adcode", "unit__unit_class", "violations")
        .order_by("id")
    )
    pool = []
    for tid, adcode, unit_class, violations in rows:
        weight = UNIT_CLASS_WEIGHT.get(unit_class, NO_UNIT_WEIGHT) + VIOLATION_WEIGHT * min(
            violations, VIOLATIONS_COUNTED
        )
        pool.append(
            {"id": tid, "division": adcode, "unit_class": unit_class or "", "violations": violations, "weight": weight}
        )
    return pool


def inspector_pool() -> list[dict]:
    """Every active inspector with their division (None when city-wide), sorted by id."""
    rows = (
        get_user_model()
        .objects.filter(is_active=True, groups__name=Role.INSPECTOR)
        .values_list("id", "username", "profile__division__adcode")
        .order_by("id")
        .distinct()
    )
    return [{"id": uid, "username": username, "division": adcode} for uid, username, adcode in rows]


def _run_draw(plan: InspectionPlan, targets: list[dict], inspectors: list[dict]) -> list[dict]:
    try:
        drawn = draw_core.draw(
            seed=plan.seed,
            targets=[draw_core.PoolTarget(t["id"], t["division"], float(t["weight"])) for t in targets],
            inspectors=[draw_core.PoolInspector(i["id"], i["division"]) for i in inspectors],
            count=plan.target_count,
            per_target=plan.inspectors_per_target,
            avoidance=plan.avoidance,
        )
    except draw_core.DrawError as exc:
        raise ServiceError(_("The draw cannot be made: %(exc)s.") % {"exc": exc}, code="draw_impossible") from exc
    return [{"target": d.target_id, "weight": d.weight, "inspectors": list(d.inspector_ids)} for d in drawn]


def inspection_plan_draw(*, inspection_plan: InspectionPlan, actor, now: datetime | None = None) -> InspectionPlan:
    """Draw targets and inspectors, store seed, pools and result, create the inspections and checklists."""
    perms.require_role(actor, "inspection_plan.draw")
    now = now or timezone.now()
    targets = target_pool(inspection_plan=inspection_plan)
    inspectors = inspector_pool()
    result = _run_draw(inspection_plan, targets, inspectors)
    with transaction.atomic():
        plan = transition_to(
            inspection_plan,
            target=InspectionPlanStatus.DRAWN,
            transitions=INSPECTION_PLAN_TRANSITIONS,
            event_model=InspectionPlanEvent,
            event_fields={
                "inspection_plan": inspection_plan,
                "actor": actor,
                "comment": f"seed={inspection_plan.seed}",
            },
            fields={
                "target_pool": targets,
                "inspector_pool": inspectors,
                "draw_result": result,
                "algorithm": draw_core.ALGORITHM,
                "drawn_at": now,
            },
            label=f"Inspection plan {inspection_plan.pk}",
        )
        by_id = EnforcementTarget.objects.select_related("unit").in_bulk([r["target"] for r in result])
        specs = []
        for order, row in enumerate(result, start=1):
            target = by_id[row["target"]]
            inspection = Inspection.objects.create(
                inspection_plan=plan, target=target, division_id=target.division_id, unit=target.unit, draw_order=order
            )
            inspection.inspectors.set(row["inspectors"])
            checklist_generate(inspection=inspection)
            for uid in row["inspectors"]:
                specs.append(
                    NotificationSpec(
                        uid,
                        NotificationKind.INSPECTION_ASSIGNED,
                        f"inspection:{inspection.pk}:assigned",
                        f"双随机检查任务：{target.name}",
                        f"「{plan.name}」抽中 {target.name}，检查期间 {plan.period_start} 至 {plan.period_end}。",
                        inspection_id=inspection.pk,
                    )
                )
        notify(specs=specs, now=now)
    return plan


def inspection_plan_publish(*, inspection_plan: InspectionPlan, actor) -> InspectionPlan:
    """一公开: the draw (seed, pools, result) becomes public."""
    perms.require_role(actor, "inspection_plan.publish")
    return transition_to(
        inspection_plan,
        target=InspectionPlanStatus.PUBLISHED,
        transitions=INSPECTION_PLAN_TRANSITIONS,
        event_model=InspectionPlanEvent,
        event_fields={"inspection_plan": inspection_plan, "actor": actor},
        fields={"published_at": timezone.now()},
        label=f"Inspection plan {inspection_plan.pk}",
    )


def inspection_plan_verify(*, inspection_plan: InspectionPlan) -> dict:
    """Re-run the stored draw from its seed and pools; `matches` says whether it reproduces."""
    if inspection_plan.status == InspectionPlanStatus.DRAFT:
        raise ServiceError(_("The plan has not been drawn yet."))
    rerun = _run_draw(inspection_plan, inspection_plan.target_pool, inspection_plan.inspector_pool)
    return {
        "seed": inspection_plan.seed,
        "algorithm": inspection_plan.algorithm,
        "matches": rerun == inspection_plan.draw_result,
        "result": rerun,
    }


# --- Checklists ---------------------------------------------------------------------------
def _applicable_requirements(unit: ControlUnit | None, industry_code: str) -> list[tuple[str, str, str]] | None:
    """(number, dimension label, text) of the access requirements that apply to the unit and industry.

    The unit's whole access list (plan, overlay, division and unit layers), keeping the
    clauses for every industry and those whose industry codes cover the target's.
    None means the target lies in no unit: use the plain checklist.
    """
    if unit is None:
        return None
    rows = []
    for clause in requirements_for_unit(unit=unit):
        if clause.industry_codes and industry_code and not _clause_covers(clause.industry_codes, industry_code):
            continue
        # Stored with the item: in the data's language (zh-hans), whoever's request drew the plan.
        with translation.override(settings.LANGUAGE_CODE):
            rows.append((clause.number, str(Dimension(clause.dimension).label), clause.text))
    return rows


def _clause_covers(codes: tuple[str, ...], industry_code: str) -> bool:
    try:
        return any(industry_matches(code, industry_code) for code in codes)
    except IndustryCodeError:
        return True  # a malformed target industry code: keep the clause rather than hide it


def checklist_generate(*, inspection: Inspection) -> list[ChecklistItem]:
    """One item per applicable access requirement (the four layers), or the plain checklist."""
    rows = _applicable_requirements(inspection.unit, inspection.target.industry_code)
    source = "access_list"
    if not rows:
        source = "plain"
        rows = [("", dim, text) for dim, text in PLAIN_CHECKLIST]
    items = ChecklistItem.objects.bulk_create(
        [
            ChecklistItem(inspection=inspection, position=i, requirement_number=num[:64], dimension=dim[:64], text=text)
            for i, (num, dim, text) in enumerate(rows, start=1)
        ]
    )
    Inspection.objects.filter(pk=inspection.pk).update(checklist_source=source)
    return items


def inspection_get_for(*, actor, inspection_id: int) -> Inspection:
    return perms.scoped_get(
        perms.scope_inspections(Inspection.objects.all(), actor), inspection_id, label=_("Inspection")
    )


def _guard_record(actor, inspection: Inspection) -> None:
    perms.require_role(actor, "inspection.record")
    if Role.BUREAU_ADMIN in perms.user_roles(actor):
        return
    if not inspection.inspectors.filter(pk=actor.pk).exists():
        raise Forbidden(_("Only the inspectors drawn for this inspection can record it."), code="not_assigned")


def _inspection_transition(inspection: Inspection, *, target: str, actor, comment: str = "", fields=None) -> Inspection:
    return transition_to(
        inspection,
        target=target,
        transitions=INSPECTION_TRANSITIONS,
        event_model=InspectionEvent,
        event_fields={"inspection": inspection, "actor": actor, "comment": comment},
        fields=fields,
        label=f"Inspection {inspection.pk}",
    )


def inspection_start(*, inspection: Inspection, actor, comment: str = "") -> Inspection:
    _guard_record(actor, inspection)
    return _inspection_transition(
        inspection,
        target=InspectionStatus.IN_PROGRESS,
        actor=actor,
        comment=comment,
        fields={"started_at": timezone.now()},
    )


@dataclass(frozen=True)
class DevicePlace:
    """Where and when a device says a record was made (WGS84 from navigator.geolocation, accuracy in metres)."""

    latitude: float | None = None
    longitude: float | None = None
    accuracy_m: float | None = None
    at: datetime | None = None

    @property
    def known(self) -> bool:
        return self.latitude is not None and self.longitude is not None

    def evidence(self) -> dict:
        """The position as a lead's evidence field (empty when unknown)."""
        if not self.known:
            return {}
        return {
            "position": {
                "latitude": round(self.latitude, 7),  # type: ignore[arg-type]
                "longitude": round(self.longitude, 7),  # type: ignore[arg-type]
                "accuracy_m": round(self.accuracy_m, 1) if self.accuracy_m is not None else None,
                "located_at": self.at.isoformat() if self.at else None,
            }
        }


NO_PLACE = DevicePlace()


def checklist_item_record(
    *, item: ChecklistItem, actor, result: str, note: str = "", place: DevicePlace = NO_PLACE
) -> ChecklistItem:
    """Record one item's result, and where the device was; a failure raises a lead (once: its natural
    key is the item) whose evidence carries that position."""
    inspection = item.inspection
    _guard_record(actor, inspection)
    if inspection.status != InspectionStatus.IN_PROGRESS:
        raise ServiceError(
            _("Inspection %(inspection_id)s is %(inspection_status)s; start it before recording items.")
            % {"inspection_id": inspection.pk, "inspection_status": inspection.status}
        )
    if result not in (ChecklistResult.PASS, ChecklistResult.FAIL, ChecklistResult.NOTE):
        raise ServiceError(_("The result must be pass, fail or note."))
    if result in (ChecklistResult.FAIL, ChecklistResult.NOTE) and not (note or "").strip():
        raise ServiceError(_("A note is required for a failed or noted item."), code="note_required")
    now = timezone.now()
    with transaction.atomic():
        position = (
            {
                "latitude": place.latitude,
                "longitude": place.longitude,
                "accuracy_m": place.accuracy_m,
                "located_at": place.at or now,
            }
            if place.known
            else {}
        )
        updated = ChecklistItem.objects.filter(pk=item.pk, result=ChecklistResult.PENDING).update(
            result=result, note=(note or "").strip(), checked_by=actor, checked_at=now, **position
        )
        if updated != 1:
            raise ServiceError(
                _("Item %(item_position)s is already recorded.") % {"item_position": item.position},
                code="already_recorded",
            )
        item.refresh_from_db()
        if result == ChecklistResult.FAIL:
            target = inspection.target
            plan = inspection.inspection_plan
            raised = lead_raise(
                source=LeadSource.INSPECTION,
                source_key=f"inspection-item:{item.pk}",
                plan=plan.zoning_plan,
                geom=target.location,
                title=f"检查发现问题：{target.name}",
                reason=f"「{plan.name}」检查第{item.position}项不符合：{item.text}",
                description=item.note,
                unit=inspection.unit,
                division=inspection.division,
                target=target,
                evidence={
                    "inspection": inspection.pk,
                    "item": item.pk,
                    "requirement": item.requirement_number,
                    **DevicePlace(
                        latitude=item.latitude, longitude=item.longitude, accuracy_m=item.accuracy_m, at=item.located_at
                    ).evidence(),
                },
                detected_at=now,
                created_by=actor,  # the inspector raised it: they may open it, whatever its division
            )
            ChecklistItem.objects.filter(pk=item.pk).update(lead=raised.lead)
            item.lead = raised.lead
    return item


def inspection_complete(*, inspection: Inspection, actor, comment: str = "") -> Inspection:
    _guard_record(actor, inspection)
    pending = list(inspection.items.filter(result=ChecklistResult.PENDING).values_list("position", flat=True))
    if pending:
        raise ServiceError(
            _("Items not yet recorded: %(value)s.") % {"value": ", ".join(map(str, pending))}, code="items_pending"
        )
    return _inspection_transition(
        inspection,
        target=InspectionStatus.COMPLETED,
        actor=actor,
        comment=comment,
        fields={"completed_at": timezone.now()},
    )
