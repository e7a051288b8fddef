"""Everything that writes zoning data: plans, divisions, units, overlays, access lists, siting assessments."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import partial

from django.conf import settings
from django.contrib.gis.db.models.functions import Area, Transform
from django.contrib.gis.geos import GEOSGeometry
from django.core.files import File
from django.db import connection, transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from supervision.errors import Conflict, Forbidden, ImportRefused, NotFound, ServiceError
from supervision.workflow import transition_to

from . import selectors
from .access_io import AccessFileError, AccessRow, access_file_read
from .access_rules import Clause, looser_conflicts, looser_conflicts_across, looser_message
from .choices import PLAN_TRANSITIONS, AccessLevel, DivisionLevel, OverlayKind, PlanStatus, division_kind_guess
from .models import (
    AccessRequirement,
    AdministrativeDivision,
    ControlUnit,
    Overlay,
    PlanEvent,
    PlanRegion,
    SitingAssessment,
    ZoningPlan,
)
from .regions_io import RegionFileError, regions_file_read
from .vector_io import overlays_read, units_read

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImportReport:
    plan: str
    created: int
    repaired: int
    notes: list[str]
    source_crs: str


def plan_draft_check(*, plan: ZoningPlan) -> None:
    """Refuse to change the content of a plan that is not a draft (the database triggers refuse it too)."""
    if plan.status != PlanStatus.DRAFT:
        message = _(
            "Plan %(code)s is %(status)s: its units, overlays and access list cannot change; "
            "revise it into a new draft (plan_revise)."
        ) % {"code": plan.code, "status": plan.get_status_display()}
        raise ImportRefused(message, code="plan_not_draft")


def plan_get(*, code: str) -> ZoningPlan:
    try:
        return ZoningPlan.objects.get(code=code)
    except ZoningPlan.DoesNotExist:
        raise NotFound(_("No zoning plan with code '%(code)s'.") % {"code": code}) from None


def division_ensure(*, adcode: str, name: str = "", level: str | None = None) -> AdministrativeDivision:
    """Get or create a division and its parents from the adcode's structure (PP CC DD)."""
    if len(adcode) != 6 or not adcode.isdigit():
        raise ServiceError(_("'%(adcode)s' is not a 6-digit administrative division code.") % {"adcode": adcode})
    if level is None:
        level = (
            DivisionLevel.PROVINCE
            if adcode.endswith("0000")
            else DivisionLevel.CITY
            if adcode.endswith("00")
            else DivisionLevel.COUNTY
        )
    parent = None
    if level == DivisionLevel.COUNTY:
        parent = division_ensure(adcode=adcode[:4] + "00", level=DivisionLevel.CITY)
    elif level == DivisionLevel.CITY:
        parent = division_ensure(adcode=adcode[:2] + "0000", level=DivisionLevel.PROVINCE)
    division, created = AdministrativeDivision.objects.get_or_create(
        adcode=adcode,
        defaults={
            "name": name or adcode,
            "level": level,
            "parent": parent,
            "kind": division_kind_guess(adcode=adcode, name=name),
        },
    )
    if not created and name and division.name == division.adcode:
        division.name = name
        division.kind = division_kind_guess(adcode=adcode, name=name)
        division.save(update_fields=["name", "kind"])
    return division


def plan_ensure(
    *, code: str, name: str | None = None, region_adcode: str | None = None, version: str = "1"
) -> tuple[ZoningPlan, bool]:
    """Get the plan or create it as a draft."""
    plan = ZoningPlan.objects.filter(code=code).first()
    if plan is not None:
        return plan, False
    if not region_adcode:
        raise ServiceError(
            _("Plan '%(code)s' does not exist and no region adcode is known to create it.") % {"code": code}
        )
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
                _("Units span several provinces; pass --region to name the plan's region."),
                problems=[
                    _("plan %(plan_code)s: units span several provinces; pass --region ADCODE")
                    % {"plan_code": plan_code}
                ],
            )
        plan, __ = plan_ensure(code=plan_code, name=plan_name, region_adcode=region)
    if plan.status != PlanStatus.DRAFT:
        raise ImportRefused(
            _("Plan '%(plan_code)s' is %(plan_status)s; only a draft plan takes new units (make a new version).")
            % {"plan_code": plan_code, "plan_status": plan.status},
            problems=[
                _("plan %(plan_code)s: status %(plan_status)s, only a draft plan takes new units")
                % {"plan_code": plan_code, "plan_status": plan.status}
            ],
        )
    return plan


def table_analyse(*, model) -> None:
    """Refresh the planner's statistics after a bulk load.

    Without it PostgreSQL still believes the table is small and answers a point look-up
    by scanning a plan's every unit instead of probing the spatial index.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def units_area_refresh(*, queryset) -> None:
    """Store each geometry's area in m², computed in the equal-area AREA_SRID where the data is.

    Every writer of units and overlays ends here, so this is also where their plans' content
    version moves on (the vector tiles' ETags change with it).
    """
    queryset.update(area_m2=Area(Transform("geom", settings.AREA_SRID)))
    plan_content_touch(plan_ids=queryset.values("plan_id"))


def plan_content_touch(*, plan_ids) -> None:
    """Move the content version of these plans on (their units or overlays changed).

    Their low-zoom tile shapes are rebuilt after the commit, so the first map to open the new
    content does not wait for them (a tile that comes first builds them itself).
    """
    plans = ZoningPlan.objects.filter(pk__in=plan_ids)
    plans.update(content_version=F("content_version") + 1)
    if connection.vendor == "postgresql":
        from .tasks import tile_shapes_build

        for plan_id in plans.values_list("pk", flat=True):
            transaction.on_commit(partial(tile_shapes_build.delay, plan_id))


def units_import(
    *,
    path: str,
    plan_code: str,
    layer_name: str | None = None,
    src_srid: int | None = None,
    plan_name: str | None = None,
    region: str | None = None,
    replace: bool = False,
) -> ImportReport:
    """Import every unit of a vector file into a (draft) plan, or refuse the whole file.

    With ``replace`` the file replaces the draft's units in one transaction (how a revision is edited).
    """
    existing_plan = ZoningPlan.objects.filter(code=plan_code).first()
    if existing_plan is not None:
        plan_draft_check(plan=existing_plan)
    elif replace:
        plan_get(code=plan_code)
    result = units_read(path, layer_name=layer_name, src_srid=src_srid)
    problems = list(result.problems)
    existing = (
        set()
        if replace
        else set(
            ControlUnit.objects.filter(plan__code=plan_code, code__in=[r.code for r in result.records]).values_list(
                "code", flat=True
            )
        )
    )
    for record in result.records:
        if record.code in existing:
            problems.append(f"{record.feature}: unit code '{record.code}' already exists in plan {plan_code}")
    if problems:
        raise ImportRefused(
            _("%(path)s: refused, %(value)s problem(s); nothing was written.") % {"path": path, "value": len(problems)},
            problems=problems,
        )

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
        if replace:
            ControlUnit.objects.filter(plan=plan).delete()
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
    table_analyse(model=ControlUnit)
    repaired = [r for r in result.records if r.repaired]
    for note in result.notes:
        logger.debug(note)
    return ImportReport(plan.code, len(result.records), len(repaired), result.notes, result.src_srid_label)


def overlays_import(
    *,
    path: str,
    plan_code: str,
    kind: str,
    layer_name: str | None = None,
    src_srid: int | None = None,
    replace: bool = False,
) -> ImportReport:
    """Import overlay polygons (red line, basin, other) into a draft plan, or refuse the whole file.

    With ``replace`` the file replaces the draft's overlays of this kind in one transaction.
    """
    if kind not in OverlayKind.values:
        raise ImportRefused(
            _("Unknown overlay kind '%(kind)s'.") % {"kind": kind},
            problems=[
                _("--kind %(kind)s: expected one of %(value)s") % {"kind": kind, "value": ", ".join(OverlayKind.values)}
            ],
        )
    plan = plan_get(code=plan_code)
    plan_draft_check(plan=plan)
    result = overlays_read(path, layer_name=layer_name, src_srid=src_srid)
    problems = list(result.problems)
    kept = Overlay.objects.filter(plan=plan)
    if replace:
        kept = kept.exclude(kind=kind)
    existing = set(kept.filter(code__in=[r.code for r in result.records]).values_list("code", flat=True))
    for record in result.records:
        if record.code in existing:
            problems.append(f"{record.feature}: overlay code '{record.code}' already exists in plan {plan_code}")
    if problems:
        raise ImportRefused(
            _("%(path)s: refused, %(value)s problem(s); nothing was written.") % {"path": path, "value": len(problems)},
            problems=problems,
        )
    with transaction.atomic():
        if replace:
            Overlay.objects.filter(plan=plan, kind=kind).delete()
        Overlay.objects.bulk_create(
            [Overlay(plan=plan, kind=kind, code=r.code, name=r.name, geom=r.geom) for r in result.records]
        )
        units_area_refresh(queryset=Overlay.objects.filter(plan=plan, code__in=[r.code for r in result.records]))
    return ImportReport(
        plan.code,
        len(result.records),
        sum(1 for r in result.records if r.repaired),
        result.notes,
        result.src_srid_label,
    )


def _jurisdiction_contains(outer: str, inner: str) -> bool:
    """Adcode ``outer`` (province, prefecture or county) takes in adcode ``inner``."""
    if outer.endswith("0000"):
        return inner.startswith(outer[:2])
    if outer.endswith("00"):
        return inner.startswith(outer[:4])
    return inner == outer


def regions_import(*, path: str, plan_code: str, replace: bool = False) -> ImportReport:
    """Import a plan's key regions (重点区域) from CSV or XLSX into a draft, or refuse the whole file.

    Each region names prefectures or counties of the plan's jurisdiction that hold its units; a
    division belongs to one region at most. With ``replace`` the file replaces the draft's regions,
    refused when a clause of the access list names a region the file drops or when the new
    membership would make a lower clause looser than a region's (the list is checked again).
    """
    plan = plan_get(code=plan_code)
    plan_draft_check(plan=plan)
    try:
        table = regions_file_read(path)
    except RegionFileError as exc:
        raise ImportRefused(
            _("%(path)s: refused; nothing was written.") % {"path": path}, problems=[str(exc)]
        ) from None
    problems = list(table.problems)
    kept = [] if replace else list(PlanRegion.objects.filter(plan=plan).order_by("position", "code"))
    kept_codes = {r.code for r in kept}
    counties = set(ControlUnit.objects.filter(plan=plan).values_list("division__adcode", flat=True).distinct())
    owner: dict[str, str] = {a: r.code for r in kept for a in r.division_adcodes}
    column = "所辖行政区"
    for row in table.rows:
        if row.code in kept_codes:
            problems.append(
                f"row {row.row}, column 区域编码: region '{row.code}' already exists in plan {plan.code} "
                "(import with --replace to replace the plan's regions)"
            )
        for adcode in row.division_adcodes:
            if adcode == plan.region_adcode or not _jurisdiction_contains(plan.region_adcode, adcode):
                problems.append(
                    f"row {row.row}, column {column}: '{adcode}' is not a prefecture or county inside plan "
                    f"{plan.code}'s jurisdiction {plan.region_adcode}"
                )
                continue
            if not any(_jurisdiction_contains(adcode, county) for county in counties):
                problems.append(f"row {row.row}, column {column}: no unit of plan {plan.code} lies in '{adcode}'")
                continue
            # A prefecture and one of its counties, or one county twice: the division would sit in two regions.
            clash = next(
                (
                    (other, region)
                    for other, region in owner.items()
                    if _jurisdiction_contains(other, adcode) or _jurisdiction_contains(adcode, other)
                ),
                None,
            )
            if clash is not None:
                problems.append(
                    f"row {row.row}, column {column}: '{adcode}' already lies in region '{clash[1]}' "
                    f"(through '{clash[0]}'); a division belongs to one key region"
                )
                continue
            owner[adcode] = row.code
    if replace:
        new_codes = {row.code for row in table.rows}
        for number, code in (
            AccessRequirement.objects.filter(plan=plan, level=AccessLevel.REGION)
            .exclude(scope_code__in=new_codes)
            .values_list("number", "scope_code")
        ):
            problems.append(
                f"plan {plan.code}: clause {number} names region '{code}', which this file drops; "
                "replace the access list first"
            )
    if problems:
        raise ImportRefused(
            _("%(path)s: refused, %(value)s problem(s); nothing was written.") % {"path": path, "value": len(problems)},
            problems=_by_row(problems),
        )
    offset = max((r.position for r in kept), default=0)
    with transaction.atomic():
        if replace:
            PlanRegion.objects.filter(plan=plan).delete()
        PlanRegion.objects.bulk_create(
            [
                PlanRegion(
                    plan=plan,
                    code=row.code,
                    name=row.name,
                    division_adcodes=list(row.division_adcodes),
                    position=offset + i,
                )
                for i, row in enumerate(table.rows, start=1)
            ]
        )
        # The regions' places moved: a clause below a region may now be looser than it.
        clauses = selectors.requirements_as_clauses(AccessRequirement.objects.filter(plan=plan))
        scopes = _AccessScopes(plan)
        conflicts = [
            f"plan {plan.code}: {looser_message(lower, higher)}"
            for lower, higher in looser_conflicts(clauses, same_place=scopes.same_place)
        ]
        conflicts += _looser_than_parents(plan=plan, clauses=clauses, scopes=scopes, row_of={})
        if conflicts:  # raised inside the transaction: the regions written above roll back
            raise ImportRefused(
                _("%(path)s: refused, %(value)s problem(s); nothing was written.")
                % {"path": path, "value": len(conflicts)},
                problems=conflicts,
            )
    return ImportReport(plan.code, len(table.rows), 0, [], "")


def plan_transition(*, plan: ZoningPlan, target: str, actor=None, comment: str = "", **fields) -> ZoningPlan:
    """Move a plan along draft → filed → effective → superseded (compare-and-set, with an event)."""
    extra: dict = dict(fields)
    if target == PlanStatus.FILED:
        filed_with = fields.get("filed_with") or plan.filed_with
        if not filed_with:
            raise ServiceError(_("Filing a plan needs the authority it is filed with (filed_with)."))
        extra["filed_with"] = filed_with
    if target == PlanStatus.EFFECTIVE:
        effective_date = fields.get("effective_date") or plan.effective_date
        if not effective_date:
            raise ServiceError(_("A plan taking effect needs its effective date."))
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


# --- Access lists (生态环境准入清单) -------------------------------------------------------


@dataclass(frozen=True)
class AccessImportReport:
    plan: str
    created: int
    replaced: int


def access_list_import(*, path: str, plan_code: str, replace_all: bool = False) -> AccessImportReport:
    """Import an access list from CSV or XLSX into a plan, or refuse the whole file.

    Without ``replace_all`` the clauses are added to the plan's list (clause numbers must stay
    unique in the plan); with it they replace the whole list in one transaction.
    """
    plan = plan_get(code=plan_code)
    try:
        table = access_file_read(path)
    except AccessFileError as exc:
        raise ImportRefused(
            _("%(path)s: refused; nothing was written.") % {"path": path}, problems=[str(exc)]
        ) from None
    return access_list_load(plan=plan, rows=table.rows, problems=table.problems, replace_all=replace_all, source=path)


def access_list_load(
    *,
    plan: ZoningPlan,
    rows: list[AccessRow],
    replace_all: bool,
    problems: list[str] | None = None,
    source: str = "list",
) -> AccessImportReport:
    """Check parsed rows against the plan (scopes, numbers, never looser) and write them all, or none."""
    plan_draft_check(plan=plan)
    problems = list(problems or [])
    known = _AccessScopes(plan)
    clauses: list[Clause] = []
    row_of: dict[str, int] = {}
    for access_row in rows:
        clause = access_row.clause
        scope = known.canonical(clause)
        if scope is None:
            problems.append(f"row {access_row.row}, column 范围编码: {known.unknown_message(clause)}")
            continue
        if scope != clause.scope_code:
            clause = replace(clause, scope_code=scope)
        clauses.append(clause)
        row_of[clause.number] = access_row.row

    existing: list[Clause] = []
    offset = 0
    if not replace_all:
        existing = selectors.requirements_as_clauses(AccessRequirement.objects.filter(plan=plan))
        taken = {c.number for c in existing}
        for clause in clauses:
            if clause.number in taken:
                problems.append(
                    f"row {row_of[clause.number]}, column 条款编号: clause number '{clause.number}' already exists "
                    f"in plan {plan.code} (import with --replace to replace the whole list)"
                )
        offset = AccessRequirement.objects.filter(plan=plan).aggregate(m=Max("position"))["m"] or 0

    new_numbers = {c.number for c in clauses}
    for lower, higher in looser_conflicts([*existing, *clauses], same_place=known.same_place):
        if lower.number not in new_numbers and higher.number not in new_numbers:
            continue  # an old conflict is not this file's fault
        where = f"row {row_of[lower.number]}" if lower.number in new_numbers else f"plan {plan.code}"
        problems.append(f"{where}: {looser_message(lower, higher)}")
    if plan.parent_id is not None and not problems:
        # Across plans: a city plan under its province's plan (every parent layer is higher).
        problems += _looser_than_parents(
            plan=plan, clauses=clauses if replace_all else [*existing, *clauses], scopes=known, row_of=row_of
        )
    if problems:
        raise ImportRefused(
            _("%(source)s: refused, %(value)s problem(s); nothing was written.")
            % {"source": source, "value": len(problems)},
            problems=_by_row(problems),
        )

    with transaction.atomic():
        replaced = AccessRequirement.objects.filter(plan=plan).delete()[0] if replace_all else 0
        AccessRequirement.objects.bulk_create(
            [
                AccessRequirement(
                    plan=plan,
                    level=c.level,
                    scope_code=c.scope_code,
                    dimension=c.dimension,
                    number=c.number,
                    text=c.text,
                    action=c.action,
                    industry_codes=list(c.industry_codes),
                    applies_to=c.applies_to,
                    position=offset + c.position,
                )
                for c in clauses
            ],
            batch_size=2000,
        )
    return AccessImportReport(plan.code, len(clauses), replaced)


def _by_row(problems: list[str]) -> list[str]:
    """Problems in file order ("row 3, …" before "row 10, …"); others (plan-wide) last, order kept."""

    def key(problem: str) -> int:
        head = problem.split(",", 1)[0].split(":", 1)[0]
        number = head.removeprefix("row ").strip()
        return int(number) if head.startswith("row ") and number.isdigit() else 1 << 30

    return sorted(problems, key=key)


class _AccessScopes:
    """The scope codes a plan knows per level, and which units each scope covers (loaded lazily)."""

    def __init__(self, plan: ZoningPlan):
        self.plan = plan
        self._codes: dict[str, set[str]] = {}
        self._units: dict[tuple[str, str], frozenset[int]] = {}

    def codes(self, level: str) -> set[str]:
        if level not in self._codes:
            qs: Iterable[str]
            if level == AccessLevel.OVERLAY:
                qs = Overlay.objects.filter(plan=self.plan).values_list("code", flat=True)
            elif level == AccessLevel.REGION:
                qs = PlanRegion.objects.filter(plan=self.plan).values_list("code", flat=True)
            elif level == AccessLevel.DIVISION:
                # A county with units, or a prefecture / province above them (a "1+3+13+N" list layer).
                counties = set(
                    ControlUnit.objects.filter(plan=self.plan).values_list("division__adcode", flat=True).distinct()
                )
                qs = counties | {a[:4] + "00" for a in counties} | {a[:2] + "0000" for a in counties}
            elif level == AccessLevel.UNIT:
                qs = ControlUnit.objects.filter(plan=self.plan).values_list("code", flat=True)
            else:
                qs = [self.plan.code, self.plan.region_adcode]
            self._codes[level] = set(qs)
        return self._codes[level]

    def canonical(self, clause: Clause) -> str | None:
        """The stored scope code (总体 clauses always carry the plan's code), or None when unknown."""
        if clause.scope_code not in self.codes(clause.level):
            return None
        return self.plan.code if clause.level == AccessLevel.PLAN else clause.scope_code

    def unknown_message(self, clause: Clause) -> str:
        code, plan = clause.scope_code, self.plan.code
        messages: dict[str, str] = {
            AccessLevel.PLAN: f"'{code}' is not this plan; 总体 clauses carry the plan's code '{plan}' "
            f"(or its region {self.plan.region_adcode})",
            AccessLevel.REGION: f"no key region (重点区域) '{code}' in plan {plan}; import the plan's regions first "
            "(import_regions)",
            AccessLevel.OVERLAY: f"no overlay (basin, red line …) '{code}' in plan {plan}",
            AccessLevel.DIVISION: f"no division '{code}' with units in plan {plan}",
            AccessLevel.UNIT: f"no unit '{code}' in plan {plan}",
        }
        return messages[clause.level]

    def units(self, clause: Clause) -> frozenset[int] | None:
        """Ids of the units a scope covers; None for the whole plan."""
        if clause.level == AccessLevel.PLAN:
            return None
        key = (clause.level, clause.scope_code)
        if key not in self._units:
            units = ControlUnit.objects.filter(plan=self.plan)
            if clause.level == AccessLevel.UNIT:
                units = units.filter(code=clause.scope_code)
            elif clause.level == AccessLevel.DIVISION:
                units = units.filter(selectors.divisions_q([clause.scope_code]))
            elif clause.level == AccessLevel.REGION:
                region = PlanRegion.objects.get(plan=self.plan, code=clause.scope_code)
                units = units.filter(selectors.divisions_q(region.division_adcodes))
            else:
                overlay = Overlay.objects.get(plan=self.plan, code=clause.scope_code)
                # Interiors must meet: a red line touching a unit's edge does not govern the unit.
                units = units.filter(geom__intersects=overlay.geom).filter(geom__relate=(overlay.geom, "T********"))
            self._units[key] = frozenset(units.values_list("id", flat=True))
        return self._units[key]

    def same_place(self, a: Clause, b: Clause, within: bool = False) -> bool:
        """Scopes ``a`` and ``b`` share a unit (``within``: every unit of ``a`` is one of ``b``'s)."""
        ua, ub = self.units(a), self.units(b)
        if ub is None:
            return True
        if ua is None:
            return not within
        return ua <= ub if within else not ua.isdisjoint(ub)


# --- Siting assessment (项目选址研判) --------------------------------------------------------


def siting_assess(
    *, plan: ZoningPlan, geometry: GEOSGeometry, industry_code: str, project_type: str, actor=None
) -> SitingAssessment:
    """Assess a proposed site and project against the plan's access list and store the result."""
    result = selectors.siting_evaluate(
        plan=plan, geometry=geometry, industry_code=industry_code, project_type=project_type
    )
    if geometry.srid != settings.STORAGE_SRID:
        geometry = selectors.geometry_transformed(geometry, settings.STORAGE_SRID)
    return SitingAssessment.objects.create(
        plan=plan,
        geom=geometry,
        industry_code=result.industry_code,
        project_type=result.project_type,
        verdict=result.verdict,
        red_line=result.red_line,
        result=result.stored(),
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )


# --- The plan's life: revision, filing, publication, dynamic updates -------------------------


def plan_revise(
    *,
    from_code: str,
    to_code: str,
    name: str | None = None,
    version: str | None = None,
    actor=None,
    reason: str = "",
    document: str = "",
    parent_code: str | None = None,
) -> ZoningPlan:
    """A new draft copied from a plan version: units, overlays, key regions, access list, bottom-line targets.

    ``parent_code`` names the higher plan the draft refers to (a city plan under its province's),
    else the source's parent is kept.

    Other apps copy what they keep per plan (scan rules …) on the ``plan_revised`` signal, inside
    the same transaction, so a failed copy leaves no half-made draft.
    """
    from .models import BottomLineTarget, PlanUpdate
    from .signals import plan_revised

    source = plan_get(code=from_code)
    parent = plan_get(code=parent_code) if parent_code else source.parent
    if parent is not None and (parent.pk == source.pk or parent.code == to_code):
        raise ServiceError(_("Plan %(code)s cannot be its own parent.") % {"code": to_code}, code="plan_parent_invalid")
    if parent is not None and parent_code:
        _plan_parent_jurisdiction_check(code=to_code, region_adcode=source.region_adcode, parent=parent)
    if ZoningPlan.objects.filter(code=to_code).exists():
        raise ServiceError(
            _("A plan with code %(code)s already exists; choose a new code for the revision.") % {"code": to_code},
            code="plan_code_taken",
        )
    if not to_code or len(to_code) > 64 or not all(c.isalnum() or c in "-_" for c in to_code):
        raise ServiceError(
            _("'%(code)s' is not a valid plan code (letters, digits, '-' and '_').") % {"code": to_code},
            code="plan_code_invalid",
        )
    with transaction.atomic():
        draft = ZoningPlan.objects.create(
            code=to_code,
            name=name or source.name,
            region_adcode=source.region_adcode,
            version=version or source.version,
            status=PlanStatus.DRAFT,
            revised_from=source,
            parent=parent,
        )
        units = {}
        for unit in ControlUnit.objects.filter(plan=source).order_by("id"):
            old_id = unit.pk
            unit.pk = None
            unit.plan = draft
            units[old_id] = unit
        ControlUnit.objects.bulk_create(units.values(), batch_size=2000)
        overlays = []
        for overlay in Overlay.objects.filter(plan=source).order_by("id"):
            overlay.pk = None
            overlay.plan = draft
            overlays.append(overlay)
        Overlay.objects.bulk_create(overlays, batch_size=2000)
        PlanRegion.objects.bulk_create(
            [
                PlanRegion(
                    plan=draft, code=r.code, name=r.name, division_adcodes=r.division_adcodes, position=r.position
                )
                for r in PlanRegion.objects.filter(plan=source).order_by("position", "id")
            ]
        )
        clauses = []
        for clause in AccessRequirement.objects.filter(plan=source).order_by("position", "id"):
            clause.pk = None
            clause.plan = draft
            clauses.append(clause)
        AccessRequirement.objects.bulk_create(clauses, batch_size=2000)
        targets = []
        for target in BottomLineTarget.objects.filter(plan=source).order_by("id"):
            target.pk = None
            target.plan = draft
            if target.unit_id is not None:
                target.unit = units[target.unit_id]
            targets.append(target)
        BottomLineTarget.objects.bulk_create(targets, batch_size=2000)
        PlanUpdate.objects.create(
            plan=draft,
            what=_("Draft revised from %(code)s.") % {"code": source.code},
            why=reason,
            document=document,
            actor=_actor(actor),
            at=timezone.now(),
        )
        plan_revised.send(sender=ZoningPlan, source=source, draft=draft)
    table_analyse(model=ControlUnit)
    return draft


def _actor(actor):
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


def plan_file(
    *,
    plan: ZoningPlan,
    authority: str,
    number: str,
    date: datetime.date,
    approved_by: str = "",
    attachments: list[tuple[str, File]] | None = None,
    actor=None,
    comment: str = "",
) -> ZoningPlan:
    """draft → filed (备案): the authority it is filed with, the document number and date, who filed it.

    Attachments (the approval, the filing receipt …) are stored in the same transaction; a
    plan whose access list is looser than its parent plan's is refused.
    """
    from .models import PlanAttachment

    problems = []
    if not (authority or "").strip():
        problems.append(_("--authority: the authority the plan is filed with is required."))
    if not (number or "").strip():
        problems.append(_("--number: the filing document number is required."))
    if date is None:
        problems.append(_("--date: the filing date is required."))
    if problems:
        raise ServiceError(problems[0], problems=problems, code="plan_filing_incomplete")
    conflicts = plan_looser_than_parent(plan=plan)
    if conflicts:
        raise ServiceError(
            _("Plan %(code)s is looser than its parent plan; it cannot be filed.") % {"code": plan.code},
            problems=conflicts,
            code="never_looser",
        )
    with transaction.atomic():
        plan = plan_transition(
            plan=plan,
            target=PlanStatus.FILED,
            actor=_actor(actor),
            comment=comment or f"{authority} {number}",
            filed_with=authority.strip(),
            document_number=number.strip(),
            filed_date=date,
            approved_by=(approved_by or "").strip(),
            filed_by=_actor(actor),
        )
        for name, content in attachments or []:
            attachment = PlanAttachment(plan=plan, name=name, uploaded_by=_actor(actor))
            attachment.file.save(name, content, save=False)
            attachment.save()
    return plan


def plan_publish(*, plan: ZoningPlan, effective_date: datetime.date, actor=None, comment: str = "") -> ZoningPlan:
    """filed → effective; the jurisdiction's effective version is superseded in the same transaction.

    The five-year full review (五年修编) falls due five years after the effective date.
    """
    if effective_date is None:
        raise ServiceError(_("--effective-date: the date the plan takes effect is required."), code="invalid")
    try:
        due = effective_date.replace(year=effective_date.year + 5)
    except ValueError:  # 29 February
        due = effective_date.replace(year=effective_date.year + 5, day=28)
    return plan_transition(
        plan=plan,
        target=PlanStatus.EFFECTIVE,
        actor=_actor(actor),
        comment=comment,
        effective_date=effective_date,
        revision_due=due,
        revision_notified_at=None,
    )


def plan_actor_check(*, user) -> None:
    """Only planners (and bureau admins) revise, file, publish and edit plans."""
    if not selectors.user_is_planner(user):
        raise Forbidden(_("Only planners may change zoning plans."), code="forbidden_role")


def plan_update_record(*, plan: ZoningPlan, what: str, why: str = "", document: str = "", actor=None):
    """Append one entry to the plan's dynamic-update log (动态更新: red line, functional zone or law changed)."""
    from .models import PlanUpdate

    if not (what or "").strip():
        raise ServiceError(_("What changed is required."), code="invalid")
    return PlanUpdate.objects.create(
        plan=plan, what=what.strip(), why=why.strip(), document=document.strip(), actor=_actor(actor), at=timezone.now()
    )


def plans_revision_due_notify(*, today: datetime.date | None = None) -> list[str]:
    """Tell the planners once about every effective plan whose five-year revision is due; returns the plan codes.

    Compare-and-set on ``revision_notified_at`` so a second run (or a second worker) sends nothing.
    """
    from django.contrib.auth import get_user_model
    from django.core.mail import send_mail

    today = today or timezone.localdate()
    planners = list(
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=selectors.PLANNER_GROUPS)
        .exclude(email="")
        .values_list("email", flat=True)
        .distinct()
    )
    notified = []
    for plan in ZoningPlan.objects.filter(
        status=PlanStatus.EFFECTIVE, revision_due__lte=today, revision_notified_at__isnull=True
    ).order_by("code"):
        claimed = ZoningPlan.objects.filter(pk=plan.pk, revision_notified_at__isnull=True).update(
            revision_notified_at=timezone.now()
        )
        if claimed != 1:
            continue
        if planners:
            send_mail(
                _("Plan %(code)s is due for its five-year revision") % {"code": plan.code},
                _("%(name)s (%(code)s) took effect on %(effective)s; its full revision was due on %(due)s.")
                % {"name": plan.name, "code": plan.code, "effective": plan.effective_date, "due": plan.revision_due},
                None,
                planners,
            )
        notified.append(plan.code)
    return notified


def _plan_parent_jurisdiction_check(*, code: str, region_adcode: str, parent: ZoningPlan) -> None:
    """A parent plan's jurisdiction strictly contains the plan's (province ⊃ prefecture ⊃ county)."""
    if parent.region_adcode == region_adcode or not _jurisdiction_contains(parent.region_adcode, region_adcode):
        raise ServiceError(
            _(
                "Plan %(parent)s (jurisdiction %(parent_region)s) cannot be the parent of %(code)s "
                "(jurisdiction %(region)s): a parent plan belongs to a higher jurisdiction that contains it."
            )
            % {"parent": parent.code, "parent_region": parent.region_adcode, "code": code, "region": region_adcode},
            code="plan_parent_jurisdiction",
        )


def plan_parent_set(*, plan: ZoningPlan, parent: ZoningPlan | None, actor=None, reason: str = "") -> ZoningPlan:
    """Set or clear the higher plan a draft refers to (a city plan under its province's, a county list
    under its city's), recorded in the dynamic-update log.

    Refused: a plan that is not a draft (the parent was part of what was filed; a new parent takes a
    revision, ``plan_revise --parent``; the database refuses it too), a cycle, a parent whose
    jurisdiction does not strictly contain the plan's, and a parent (or a plan above it) whose access
    list the plan's, or that of a plan under it, would be looser than (every clause pair quoted).
    """
    from .models import PlanUpdate

    if plan.status != PlanStatus.DRAFT:
        raise ServiceError(
            _(
                "Plan %(code)s is %(status)s: its parent plan cannot change; revise it into a new draft "
                "with the new parent (plan_revise --parent)."
            )
            % {"code": plan.code, "status": plan.get_status_display()},
            code="plan_not_draft",
        )
    if parent is not None:
        ancestor: ZoningPlan | None = parent
        seen: set[int] = set()
        while ancestor is not None and ancestor.pk not in seen:
            if ancestor.pk == plan.pk:
                raise ServiceError(
                    _("Plan %(parent)s cannot be the parent of %(code)s: it is %(code)s or lies under it.")
                    % {"parent": parent.code, "code": plan.code},
                    code="plan_parent_cycle",
                )
            seen.add(ancestor.pk)
            ancestor = ancestor.parent
        _plan_parent_jurisdiction_check(code=plan.code, region_adcode=plan.region_adcode, parent=parent)
        # The plan and every plan under it (a county list under this city plan) now sit under the new
        # chain of parents: none of them may be looser than any plan of it.
        above = _plan_ancestors(parent)
        conflicts = []
        for lower in [plan, *selectors.plans_under(plan=plan)]:
            conflicts += _looser_than_parents(
                plan=lower,
                clauses=selectors.requirements_as_clauses(AccessRequirement.objects.filter(plan=lower)),
                scopes=_AccessScopes(lower),
                row_of={},
                parents=above,
            )
        if conflicts:
            raise ServiceError(
                _("Plan %(code)s would be looser than %(parent)s; the parent plan was not changed.")
                % {"code": plan.code, "parent": parent.code},
                problems=conflicts,
                code="never_looser",
            )
    before = plan.parent.code if plan.parent is not None else None
    with transaction.atomic():
        # Compare-and-set: a plan filed (or a parent set) meanwhile is not overwritten.
        moved = ZoningPlan.objects.filter(pk=plan.pk, status=PlanStatus.DRAFT, parent_id=plan.parent_id).update(
            parent=parent, updated_at=timezone.now()
        )
        if moved != 1:
            raise Conflict(
                _("Plan %(code)s was changed meanwhile; reload it and try again.") % {"code": plan.code},
                code="conflict",
            )
        PlanUpdate.objects.create(
            plan=plan,
            what=_("Parent plan: %(before)s → %(after)s.")
            % {"before": before or _("none"), "after": parent.code if parent else _("none")},
            why=(reason or "").strip(),
            actor=_actor(actor),
            at=timezone.now(),
        )
    plan.refresh_from_db()
    return plan


def plan_looser_than_parent(*, plan: ZoningPlan) -> list[str]:
    """Clauses of the plan looser than a clause of a parent plan covering the same place, quoted (one line each)."""
    if plan.parent_id is None:
        return []
    own = selectors.requirements_as_clauses(AccessRequirement.objects.filter(plan=plan))
    return _looser_than_parents(plan=plan, clauses=own, scopes=_AccessScopes(plan), row_of={})


def _plan_ancestors(plan: ZoningPlan | None) -> list[ZoningPlan]:
    """The plan and the plans above it, nearest first (a cycle, which the services refuse, is cut)."""
    chain: list[ZoningPlan] = []
    while plan is not None and all(plan.pk != p.pk for p in chain):
        chain.append(plan)
        plan = plan.parent
    return chain


def _looser_than_parents(
    *,
    plan: ZoningPlan,
    clauses: list[Clause],
    scopes: _AccessScopes,
    row_of: dict[str, int],
    parents: list[ZoningPlan] | None = None,
) -> list[str]:
    """Problems where ``clauses`` (of ``plan``) are looser than a clause of a higher plan: ``parents``, by
    default the plan's parent and every plan above it."""
    problems = []
    chain = [p for p in (_plan_ancestors(plan.parent) if parents is None else parents) if p.pk != plan.pk]
    for parent in chain:
        higher = selectors.requirements_as_clauses(AccessRequirement.objects.filter(plan=parent))
        parent_scopes = _AccessScopes(parent)
        for lower, high in looser_conflicts_across(
            clauses,
            higher,
            same_place=lambda a, b, within, ps=parent_scopes: _plans_share_place(scopes, a, ps, b, within),  # type: ignore[misc]
        ):
            where = f"row {row_of[lower.number]}" if lower.number in row_of else f"plan {plan.code}"
            problems.append(f"{where}: {looser_message(lower, high)} (parent plan {parent.code})")
    return problems


def _plans_share_place(own: _AccessScopes, a: Clause, theirs: _AccessScopes, b: Clause, within: bool) -> bool:
    """Scope ``a`` of one plan and scope ``b`` of another cover a common place (interiors meet).

    ``within``: every unit of ``a`` meets some unit of ``b`` (a whole-plan ``b`` covers everything).
    """
    ua, ub = own.units(a), theirs.units(b)
    if ub is None and (ua is None or not within):
        return True
    table = connection.ops.quote_name(ControlUnit._meta.db_table)
    params: list = []
    where = {}
    for alias, ids, scopes in (("a", ua, own), ("b", ub, theirs)):
        if ids is None:
            where[alias] = f"{alias}.plan_id = %s"
            params.append(scopes.plan.pk)
        elif not ids:
            return False
        else:
            where[alias] = f"{alias}.id IN ({', '.join(['%s'] * len(ids))})"
            params.extend(sorted(ids))
    meets = (
        f"SELECT 1 FROM {table} b WHERE {where['b']} AND ST_Intersects(a.geom, b.geom) "
        "AND ST_Relate(a.geom, b.geom, 'T********')"
    )
    # Parameters follow the text: a's filter comes first in both queries.
    if within:
        sql = f"SELECT NOT EXISTS (SELECT 1 FROM {table} a WHERE {where['a']} AND NOT EXISTS ({meets}))"
    else:
        sql = f"SELECT EXISTS (SELECT 1 FROM {table} a WHERE {where['a']} AND EXISTS ({meets}))"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return bool(cursor.fetchone()[0])
