"""Everything that writes zoning data: plans, divisions, units, overlays."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib.gis.db.models.functions import Area, Transform
from django.db import transaction

from supervision.errors import ImportRefused, NotFound, ServiceError
from supervision.workflow import transition_to

from .choices import PLAN_TRANSITIONS, DivisionLevel, OverlayKind, PlanStatus
from .models import AdministrativeDivision, ControlUnit, Overlay, PlanEvent, ZoningPlan
from .vector_io import overlays_read, units_read

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImportReport:
    plan: str
    created: int
    repaired: int
    notes: list[str]
    source_crs: str


def plan_get(*, code: str) -> ZoningPlan:
    try:
        return ZoningPlan.objects.get(code=code)
    except ZoningPlan.DoesNotExist:
        raise NotFound(f"No zoning plan with code '{code}'.") from None


def division_ensure(*, adcode: str, name: str = "", level: str | None = None) -> AdministrativeDivision:
    """Get or create a division and its parents from the adcode's structure (PP CC DD)."""
    if len(adcode) != 6 or not adcode.isdigit():
        raise ServiceError(f"'{adcode}' is not a 6-digit administrative division code.")
    if level is None:
        level = DivisionLevel.PROVINCE if adcode.endswith("0000") else DivisionLevel.CITY if adcode.endswith("00") else DivisionLevel.COUNTY
    parent = None
    if level == DivisionLevel.COUNTY:
        parent = division_ensure(adcode=adcode[:4] + "00", level=DivisionLevel.CITY)
    elif level == DivisionLevel.CITY:
        parent = division_ensure(adcode=adcode[:2] + "0000", level=DivisionLevel.PROVINCE)
    division, created = AdministrativeDivision.objects.get_or_create(
        adcode=adcode, defaults={"name": name or adcode, "level": level, "parent": parent}
    )
    if not created and name and division.name == division.adcode:
        division.name = name
        division.save(update_fields=["name"])
    return division


def plan_ensure(
    *, code: str, name: str | None = None, region_adcode: str | None = None, version: str = "1"
) -> tuple[ZoningPlan, bool]:
    """Get the plan or create it as a draft."""
    plan = ZoningPlan.objects.filter(code=code).first()
    if plan is not None:
        return plan, False
    if not region_adcode:
        raise ServiceError(f"Plan '{code}' does not exist and no region adcode is known to create it.")
    plan = ZoningPlan.objects.create(code=code, name=name or code, region_adcode=region_adcode, version=version)
    division_ensure(adcode=region_adcode)
    return plan, True


def _region_from_adcodes(adcodes: set[str]) -> str | None:
    cities = {a[:4] for a in adcodes}
    if len(cities) == 1:
        return cities.pop() + "00"
    provinces = {a[:2] for a in adcodes}
    if len(provinces) == 1:
        return provinces.pop() + "0000"
    return None


def _plan_for_import(*, plan_code: str, plan_name: str | None, region: str | None, adcodes: set[str]) -> ZoningPlan:
    plan = ZoningPlan.objects.filter(code=plan_code).first()
    if plan is None:
        region = region or _region_from_adcodes(adcodes)
        if region is None:
            raise ImportRefused(
                f"Units span several provinces; pass --region to name the plan's region.",
                problems=[f"plan {plan_code}: units span several provinces; pass --region ADCODE"],
            )
        plan, _ = plan_ensure(code=plan_code, name=plan_name, region_adcode=region)
    if plan.status != PlanStatus.DRAFT:
        raise ImportRefused(
            f"Plan '{plan_code}' is {plan.status}; only a draft plan takes new units (make a new version).",
            problems=[f"plan {plan_code}: status {plan.status}, only a draft plan takes new units"],
        )
    return plan


def units_area_refresh(*, queryset) -> None:
    """Store each geometry's area in m², computed in the equal-area AREA_SRID where the data is."""
    queryset.update(area_m2=Area(Transform("geom", settings.AREA_SRID)))


def units_import(
    *,
    path: str,
    plan_code: str,
    layer_name: str | None = None,
    src_srid: int | None = None,
    plan_name: str | None = None,
    region: str | None = None,
) -> ImportReport:
    """Import every unit of a vector file into a (draft) plan, or refuse the whole file."""
    result = units_read(path, layer_name=layer_name, src_srid=src_srid)
    problems = list(result.problems)
    existing = set(
        ControlUnit.objects.filter(plan__code=plan_code, code__in=[r.code for r in result.records]).values_list(
            "code", flat=True
        )
    )
    for record in result.records:
        if record.code in existing:
            problems.append(f"{record.feature}: unit code '{record.code}' already exists in plan {plan_code}")
    if problems:
        raise ImportRefused(f"{path}: refused, {len(problems)} problem(s); nothing was written.", problems=problems)

    with transaction.atomic():
        plan = _plan_for_import(
            plan_code=plan_code, plan_name=plan_name, region=region, adcodes={r.adcode for r in result.records}
        )
        divisions: dict[str, AdministrativeDivision] = {}
        for record in result.records:
            if record.adcode in divisions:
                continue
            if record.province:
                division_ensure(adcode=record.adcode[:2] + "0000", name=record.province)
            if record.city and not record.adcode.endswith("0000"):
                division_ensure(adcode=record.adcode[:4] + "00", name=record.city)
            divisions[record.adcode] = division_ensure(adcode=record.adcode, name=record.district)
        ControlUnit.objects.bulk_create(
            [
                ControlUnit(
                    plan=plan,
                    code=r.code,
                    name=r.name,
                    unit_class=r.unit_class,
                    division=divisions[r.adcode],
                    geom=r.geom,
                    attributes=r.attributes,
                )
                for r in result.records
            ],
            batch_size=2000,
        )
        units_area_refresh(queryset=ControlUnit.objects.filter(plan=plan, code__in=[r.code for r in result.records]))
    repaired = [r for r in result.records if r.repaired]
    for note in result.notes:
        logger.debug(note)
    return ImportReport(plan.code, len(result.records), len(repaired), result.notes, result.src_srid_label)


def overlays_import(
    *, path: str, plan_code: str, kind: str, layer_name: str | None = None, src_srid: int | None = None
) -> ImportReport:
    """Import overlay polygons (red line, basin, other) into a plan, or refuse the whole file."""
    if kind not in OverlayKind.values:
        raise ImportRefused(
            f"Unknown overlay kind '{kind}'.", problems=[f"--kind {kind}: expected one of {', '.join(OverlayKind.values)}"]
        )
    plan = plan_get(code=plan_code)
    result = overlays_read(path, layer_name=layer_name, src_srid=src_srid)
    problems = list(result.problems)
    existing = set(
        Overlay.objects.filter(plan=plan, code__in=[r.code for r in result.records]).values_list("code", flat=True)
    )
    for record in result.records:
        if record.code in existing:
            problems.append(f"{record.feature}: overlay code '{record.code}' already exists in plan {plan_code}")
    if problems:
        raise ImportRefused(f"{path}: refused, {len(problems)} problem(s); nothing was written.", problems=problems)
    with transaction.atomic():
        Overlay.objects.bulk_create(
            [Overlay(plan=plan, kind=kind, code=r.code, name=r.name, geom=r.geom) for r in result.records]
        )
        units_area_refresh(queryset=Overlay.objects.filter(plan=plan, code__in=[r.code for r in result.records]))
    return ImportReport(plan.code, len(result.records), sum(1 for r in result.records if r.repaired), result.notes, result.src_srid_label)


def plan_transition(*, plan: ZoningPlan, target: str, actor=None, comment: str = "", **fields) -> ZoningPlan:
    """Move a plan along draft → filed → effective → superseded (compare-and-set, with an event)."""
    extra: dict = {}
    if target == PlanStatus.FILED:
        filed_with = fields.get("filed_with") or plan.filed_with
        if not filed_with:
            raise ServiceError("Filing a plan needs the authority it is filed with (filed_with).")
        extra["filed_with"] = filed_with
    if target == PlanStatus.EFFECTIVE:
        effective_date = fields.get("effective_date") or plan.effective_date
        if not effective_date:
            raise ServiceError("A plan taking effect needs its effective date.")
        extra["effective_date"] = effective_date
    with transaction.atomic():
        if target == PlanStatus.EFFECTIVE:
            # The plan it replaces for the same region is superseded in the same transaction.
            for previous in ZoningPlan.objects.filter(
                region_adcode=plan.region_adcode, status=PlanStatus.EFFECTIVE
            ).exclude(pk=plan.pk):
                transition_to(
                    previous,
                    target=PlanStatus.SUPERSEDED,
                    transitions=PLAN_TRANSITIONS,
                    event_model=PlanEvent,
                    event_fields={"plan": previous, "actor": actor, "comment": f"superseded by {plan.code}"},
                    label=f"Plan {previous.code}",
                )
        return transition_to(
            plan,
            target=target,
            transitions=PLAN_TRANSITIONS,
            event_model=PlanEvent,
            event_fields={"plan": plan, "actor": actor, "comment": comment},
            fields=extra,
            label=f"Plan {plan.code}",
        )
