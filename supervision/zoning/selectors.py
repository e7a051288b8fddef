"""Queries that read zoning data: the Annex 1 summary, spatial look-ups, access lists and siting."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, cast

from django.conf import settings
from django.contrib.gis.db.models import MultiPolygonField
from django.contrib.gis.db.models.functions import Area, Intersection, Length, SnapToGrid, Transform
from django.contrib.gis.gdal import CoordTransform, SpatialReference
from django.contrib.gis.geos import GEOSGeometry, Point
from django.db import connection
from django.db.models import Count, Func, Q, QuerySet, Sum, Value
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from supervision.errors import ServiceError

from .access_rules import Clause, clause_applies, clauses_sorted, division_depth, verdict_decide
from .choices import AccessLevel, OverlayKind, PlanStatus, ProjectType, UnitClass
from .industries import IndustryCodeError, industry_normalise, load_industries
from .models import AccessRequirement, AdministrativeDivision, ControlUnit, Overlay, PlanRegion, ZoningPlan

SUMMARY_COLUMNS = [
    "district",
    "adcode",
    "priority_units",
    "priority_area_pct",
    "key_units",
    "key_area_pct",
    "general_units",
    "general_area_pct",
    "area_km2",
]
CITY_ROW_NAME = "全市"


def _pct(part: float, whole: float) -> Decimal:
    if not whole:
        return Decimal("0.00")
    return (Decimal(repr(part)) * 100 / Decimal(repr(whole))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _row(name: str, adcode: str, by_class: dict[str, tuple[int, float]]) -> dict:
    total = sum(area for _, area in by_class.values())
    row: dict = {"district": name, "adcode": adcode}
    for unit_class in UnitClass.values:
        count, area = by_class.get(unit_class, (0, 0.0))
        row[f"{unit_class}_units"] = count
        row[f"{unit_class}_area_pct"] = _pct(area, total)
    row["area_km2"] = (Decimal(repr(total)) / Decimal(1_000_000)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return row


def zoning_summary(*, plan: ZoningPlan) -> list[dict]:
    """Annex 1 computed from geometry: one row per district (by adcode), then 全市.

    Counts and areas are aggregated in SQL; shares are rounded half-up to 2 decimals.
    """
    rows = (
        ControlUnit.objects.filter(plan=plan)
        .values("division__adcode", "division__name", "unit_class")
        .annotate(n=Count("id"), area=Sum("area_m2"))
        .order_by("division__adcode")
    )
    per_division: dict[tuple[str, str], dict[str, tuple[int, float]]] = {}
    city: dict[str, tuple[int, float]] = {}
    for r in rows:
        key = (r["division__adcode"], r["division__name"])
        per_division.setdefault(key, {})[r["unit_class"]] = (r["n"], r["area"] or 0.0)
        n, area = city.get(r["unit_class"], (0, 0.0))
        city[r["unit_class"]] = (n + r["n"], area + (r["area"] or 0.0))
    out = [_row(name, adcode, by_class) for (adcode, name), by_class in sorted(per_division.items())]
    out.append(_row(CITY_ROW_NAME, plan.region_adcode, city))
    return out


@dataclass(frozen=True)
class UnitOverlap:
    unit: ControlUnit
    overlap_m2: float
    overlap_m: float
    share: float


@dataclass(frozen=True)
class OverlayOverlap:
    overlay: Overlay
    overlap_m2: float


@dataclass(frozen=True)
class LookupResult:
    geometry_type: str
    site_area_m2: float
    site_length_m: float
    units: list[UnitOverlap]
    overlays: list[OverlayOverlap]


_transforms = threading.local()


def geometry_transformed(geometry: GEOSGeometry, srid: int) -> GEOSGeometry:
    """A transformed copy, reusing one GDAL CoordTransform per (source, target) pair and thread.

    Building a CoordTransform looks both CRSs up in PROJ's database (about 50 ms here); a
    transform with a ready one takes microseconds. GDAL transformation objects are not
    safe to share between threads, hence the thread-local cache.
    """
    if geometry.srid == srid:
        return geometry.clone()
    cache = getattr(_transforms, "cache", None)
    if cache is None:
        cache = _transforms.cache = {}
    key = (geometry.srid, srid)
    if key not in cache:
        cache[key] = CoordTransform(SpatialReference(cast(int, geometry.srid)), SpatialReference(srid))
    out = geometry.transform(cache[key], clone=True)
    out.srid = srid
    return out


def point_in_storage(*, lon: float, lat: float, srid: int | None = None) -> Point:
    point = Point(lon, lat, srid=srid or settings.API_SRID)
    if point.srid != settings.STORAGE_SRID:
        point.transform(settings.STORAGE_SRID)
    return point


_POINT_SQL = """
    SELECT u.id, u.plan_id, u.code, u.name, u.unit_class, u.division_id, u.area_m2,
           d.adcode AS division_adcode, d.name AS division_name, d.level AS division_level
    FROM zoning_controlunit u JOIN zoning_administrativedivision d ON d.id = u.division_id
    WHERE u.plan_id = %s AND ST_Intersects(u.geom, ST_GeomFromEWKB(%s))
    ORDER BY u.code
"""


def units_at_point(*, plan: ZoningPlan, point: Point) -> list[ControlUnit]:
    """Units containing the point; a point on a shared boundary belongs to both.

    The geometry is not loaded (parsing large unit polygons would dominate a look-up).
    On PostGIS the statement is written out: compiling the ORM query costs twice what
    the index probe does, and this is the hottest read (map clicks, siting, scans).
    """
    if point.srid != settings.STORAGE_SRID:
        point = cast(Point, point.transform(settings.STORAGE_SRID, clone=True))
    if connection.vendor != "postgresql":
        return list(
            ControlUnit.objects.filter(plan=plan, geom__intersects=point)
            .select_related("division")
            .defer("geom", "attributes")
            .order_by("code")
        )
    # Raw rows carry the joined division columns as extra attributes.
    units: list[Any] = list(ControlUnit.objects.raw(_POINT_SQL, [plan.pk, bytes(point.ewkb)]))
    for unit in units:
        unit.division = AdministrativeDivision(
            id=unit.division_id, adcode=unit.division_adcode, name=unit.division_name, level=unit.division_level
        )
    return units


def geometry_lookup(*, plan: ZoningPlan, geometry: GEOSGeometry) -> LookupResult:
    """Every unit and overlay a site touches, with the overlap in m² (and m for lines) and its share.

    Share is the part of the site inside the unit: by area for polygons, by length for
    lines; a point shares itself equally among the units it touches (it can only touch
    several when it lies on a shared boundary).
    """
    if geometry.srid != settings.STORAGE_SRID:
        geometry = geometry_transformed(geometry, settings.STORAGE_SRID)
    dim = geometry.dims
    overlap_geom = Transform(Intersection("geom", geometry), settings.AREA_SRID)
    units = ControlUnit.objects.filter(plan=plan, geom__intersects=geometry).select_related("division").order_by("code")
    if dim == 2:
        units = units.annotate(overlap=Area(overlap_geom))
    elif dim == 1:
        units = units.annotate(overlap=Length(overlap_geom))
    unit_list = list(units)
    site_area = site_length = 0.0
    if dim:
        geometry_area = geometry_transformed(geometry, settings.AREA_SRID)
        site_area, site_length = (geometry_area.area, 0.0) if dim == 2 else (0.0, geometry_area.length)
    results = []
    for unit in unit_list:
        value = _measure(getattr(unit, "overlap", 0.0))
        if dim == 2:
            results.append(UnitOverlap(unit, value, 0.0, value / site_area if site_area else 0.0))
        elif dim == 1:
            results.append(UnitOverlap(unit, 0.0, value, value / site_length if site_length else 0.0))
        else:
            results.append(UnitOverlap(unit, 0.0, 0.0, 1.0 / len(unit_list)))
    overlays = Overlay.objects.filter(plan=plan, geom__intersects=geometry).order_by("kind", "code")
    if dim == 2:
        overlays = overlays.annotate(overlap=Area(overlap_geom))
    overlaps = [
        OverlayOverlap(o, _measure(o.overlap) if dim == 2 else 0.0)  # type: ignore[attr-defined]  # annotated
        for o in overlays
    ]
    return LookupResult(geometry.geom_type, site_area, site_length, results, overlaps)


def _measure(value) -> float:
    """Area/Distance measure objects or plain numbers → float in m² / m."""
    if value is None:
        return 0.0
    for attr in ("sq_m", "m"):
        if hasattr(value, attr):
            return float(getattr(value, attr))
    return float(value)


def plans_visible():
    return ZoningPlan.objects.annotate(unit_count=Count("units")).order_by("code")


def plans_under(*, plan: ZoningPlan) -> list[ZoningPlan]:
    """The plans under this one (its children, theirs …), breadth first."""
    found: list[ZoningPlan] = []
    frontier, seen = [plan.pk], {plan.pk}
    while frontier:
        level = list(ZoningPlan.objects.filter(parent_id__in=frontier).exclude(pk__in=seen).order_by("code"))
        found += level
        frontier = [p.pk for p in level]
        seen.update(frontier)
    return found


def plans_parent_candidates(*, plan: ZoningPlan) -> list[ZoningPlan]:
    """Plans that may be this plan's parent: of a higher jurisdiction containing it, not the plan or under it."""
    region = plan.region_adcode
    # The plan and the plans under it: a parent among them would make a cycle.
    below = {plan.pk, *(p.pk for p in plans_under(plan=plan))}
    higher = [region[:2] + "0000", region[:4] + "00"]
    return list(
        ZoningPlan.objects.filter(region_adcode__in=[code for code in higher if code != region])
        .exclude(pk__in=below)
        .order_by("region_adcode", "code")
    )


def units_filtered(*, plan_code: str | None = None) -> QuerySet[ControlUnit]:
    qs = ControlUnit.objects.select_related("plan", "division")
    if plan_code:
        qs = qs.filter(plan__code=plan_code)
    return qs


def divisions_of_plan(*, plan: ZoningPlan):
    return AdministrativeDivision.objects.filter(Q(units__plan=plan)).distinct().order_by("adcode")


# --- Access lists -------------------------------------------------------------------------

CLAUSE_FIELDS = (
    "level",
    "scope_code",
    "dimension",
    "number",
    "text",
    "action",
    "industry_codes",
    "applies_to",
    "position",
)


def requirements_as_clauses(queryset) -> list[Clause]:
    """Requirement rows as plain clauses (one query, no model instances)."""
    return [
        Clause(*values[:6], tuple(values[6] or ()), *values[7:])  # type: ignore[call-arg]
        for values in queryset.values_list(*CLAUSE_FIELDS)
    ]


def requirements_filtered(*, plan_code: str | None = None):
    qs = AccessRequirement.objects.select_related("plan")
    if plan_code:
        qs = qs.filter(plan__code=plan_code)
    return qs.order_by("plan__code", "position", "id")


def divisions_q(adcodes, *, field: str = "division__adcode") -> Q:
    """Units (or rows) whose county lies in one of these divisions: a province, a prefecture or a county."""
    q = Q(pk__in=[])
    for code in adcodes:
        if code.endswith("0000"):
            q |= Q(**{f"{field}__startswith": code[:2]})
        elif code.endswith("00"):
            q |= Q(**{f"{field}__startswith": code[:4]})
        else:
            q |= Q(**{field: code})
    return q


def division_ancestors(adcode: str) -> list[str]:
    """The county, its prefecture and its province (the division layers that govern a place)."""
    return list(dict.fromkeys([adcode, adcode[:4] + "00", adcode[:2] + "0000"]))


def regions_of_divisions(*, plan: ZoningPlan, adcodes) -> list[str]:
    """Codes of the plan's key regions that take in any of these counties (directly or by their prefecture)."""
    wanted = {a for code in adcodes for a in division_ancestors(code)}
    return [
        r.code
        for r in PlanRegion.objects.filter(plan=plan).order_by("position", "code")
        if wanted.intersection(r.division_adcodes)
    ]


def requirements_applicable(
    *, plan: ZoningPlan, unit_codes: list[str], division_adcodes: list[str], overlay_codes: list[str]
) -> list[Clause]:
    """Every clause of the plan whose scope covers these: the plan's own, the key regions and prefectures (and
    province) above the counties, the overlays', the counties', the units'.

    Sorted by level (plan → unit), dimension and file order.
    """
    scope = Q(level=AccessLevel.PLAN)
    for level, codes in (
        (AccessLevel.REGION, regions_of_divisions(plan=plan, adcodes=division_adcodes)),
        (AccessLevel.OVERLAY, overlay_codes),
        (AccessLevel.DIVISION, sorted({a for code in division_adcodes for a in division_ancestors(code)})),
        (AccessLevel.UNIT, unit_codes),
    ):
        if codes:
            scope |= Q(level=level, scope_code__in=list(codes))
    return clauses_sorted(requirements_as_clauses(AccessRequirement.objects.filter(scope, plan=plan)))


def overlays_governing_unit(*, unit: ControlUnit):
    """Overlays whose interior meets the unit's interior (a red line sharing only an edge does not count)."""
    return (
        Overlay.objects.filter(plan_id=unit.plan_id, geom__intersects=unit.geom)
        .filter(geom__relate=(unit.geom, "T********"))
        .order_by("kind", "code")
    )


def red_lines_meeting(*, plan: ZoningPlan, geometry: GEOSGeometry):
    """The plan's ecological red lines that meet a geometry (a lead's unit or patch), nearest context first."""
    return Overlay.objects.filter(plan=plan, kind=OverlayKind.RED_LINE, geom__intersects=geometry).order_by("code")


def requirements_for_unit(*, unit: ControlUnit) -> list[Clause]:
    """The unit's whole access list across the four layers: plan, overlays over it, its division, itself."""
    return requirements_applicable(
        plan=unit.plan,
        unit_codes=[unit.code],
        division_adcodes=[unit.division.adcode],
        overlay_codes=list(overlays_governing_unit(unit=unit).values_list("code", flat=True)),
    )


# The layers of an access list as plans name them ("1+2+11+157", "1+3+13+N"), top down.
ACCESS_LAYERS: list[tuple[str, Any]] = [
    ("plan", gettext_lazy("总体")),
    ("region", gettext_lazy("重点区域")),
    ("basin", gettext_lazy("流域")),
    ("prefecture", gettext_lazy("地市")),
    ("county", gettext_lazy("区县")),
    ("unit", gettext_lazy("单元")),
]


def access_list_structure(*, plan: ZoningPlan) -> dict:
    """How many lists each layer of the plan's access list has, and the structure they make ("1+3+13+N").

    A list is a scope with at least one clause: the plan itself (its own adcode or a province
    named as a division counts as the plan-wide list), each key region, each basin, each
    prefecture, each county, each unit. Empty layers are left out of the structure. Red lines
    and other overlays are counted apart (``other_overlays``): they are rules inside the units,
    not a layer plans count.
    """
    return access_list_structures(plans=[plan])[plan.pk]


def access_list_structures(*, plans: list[ZoningPlan]) -> dict[int, dict]:
    """`access_list_structure` of many plans (a list page) in two queries; by plan id."""
    ids = [p.pk for p in plans]
    basins: dict[int, set[str]] = {pk: set() for pk in ids}
    for plan_id, code in Overlay.objects.filter(plan_id__in=ids, kind=OverlayKind.BASIN).values_list("plan_id", "code"):
        basins[plan_id].add(code)
    scopes: dict[int, dict[str, set[str]]] = {pk: {key: set() for key, _label in ACCESS_LAYERS} for pk in ids}
    other: dict[int, set[str]] = {pk: set() for pk in ids}
    by_id = {p.pk: p for p in plans}
    rows = AccessRequirement.objects.filter(plan_id__in=ids).values_list("plan_id", "level", "scope_code").distinct()
    for plan_id, level, code in rows:
        plan, layers = by_id[plan_id], scopes[plan_id]
        if level == AccessLevel.PLAN or (level == AccessLevel.DIVISION and code == plan.region_adcode):
            layers["plan"].add(plan.code)
        elif level == AccessLevel.REGION:
            layers["region"].add(code)
        elif level == AccessLevel.OVERLAY:
            (layers["basin"] if code in basins[plan_id] else other[plan_id]).add(code)
        elif level == AccessLevel.DIVISION:
            depth = division_depth(code)
            layers["plan" if depth == 1 else "prefecture" if depth == 3 else "county"].add(code)
        else:
            layers["unit"].add(code)
    out = {}
    for pk in ids:
        counted = [{"layer": key, "label": str(label), "count": len(scopes[pk][key])} for key, label in ACCESS_LAYERS]
        out[pk] = {
            "structure": "+".join(str(layer["count"]) for layer in counted if layer["count"]),
            "layers": counted,
            "other_overlays": len(other[pk]),
        }
    return out


# --- Siting assessment ---------------------------------------------------------------------


@dataclass(frozen=True)
class SitingResult:
    plan_code: str
    industry_code: str
    industry_name: str
    project_type: str
    verdict: str
    units: list[dict]
    red_line: bool
    requirements: list[Clause]
    deciding: list[Clause]
    site_area_m2: float

    def as_dict(self) -> dict:
        """The assessment as the API and ``siting_check`` print it (the API adds id, geometry, dates)."""
        stored = self.stored()
        return {
            "plan": self.plan_code,
            "industry_code": self.industry_code,
            "industry_name": self.industry_name,
            "project_type": self.project_type,
            "verdict": self.verdict,
            "red_line": self.red_line,
            "units": stored["units"],
            "requirements": stored["requirements"],
            "deciding": stored["deciding"],
            "site_area_m2": self.site_area_m2,
        }

    def stored(self) -> dict:
        """What SitingAssessment.result keeps (and the API and siting_check return)."""
        return {
            "units": self.units,
            "red_line": self.red_line,
            "requirements": [c.as_dict() for c in self.requirements],
            "deciding": [c.as_dict() for c in self.deciding],
            "industry_name": self.industry_name,
            "site_area_m2": self.site_area_m2,
        }


def industry_name(code: str) -> str:
    """The name of the most specific tabulated industry covering the code (classes are not tabulated)."""
    table = load_industries()
    for end in range(len(code), 0, -1):
        if code[:end] in table:
            return table[code[:end]].name
    return ""


def project_industry(code: str) -> str:
    """A project's industry, normalised; it must name at least a division (C26), not a whole section."""
    try:
        normalised = industry_normalise(code)
    except IndustryCodeError as exc:
        raise ServiceError(_("industry_code: %(exc)s") % {"exc": exc}) from None
    if len(normalised) < 3:
        raise ServiceError(
            _(
                "industry_code: '%(code)s' is a whole section; give the project's industry at least to the division (2-digit) level, e.g. C26 or C2614."
            )
            % {"code": code}
        )
    return normalised


def siting_evaluate(*, plan: ZoningPlan, geometry: GEOSGeometry, industry_code: str, project_type: str) -> SitingResult:
    """Which units the site touches, which clauses apply at each layer, and the verdict with its deciding clauses.

    Only the plan in force gives a verdict (`plan_in_force_check`).
    """
    plan_in_force_check(plan=plan, purpose=_("Siting assessment"))
    industry = project_industry(industry_code)
    if project_type not in ProjectType.values:
        raise ServiceError(
            _("project_type: '%(project_type)s' is not one of %(value)s.")
            % {"project_type": project_type, "value": ", ".join(ProjectType.values)}
        )
    lookup = geometry_lookup(plan=plan, geometry=geometry)
    if not lookup.units:
        raise ServiceError(
            _("The site lies outside every control unit of plan %(plan_code)s.") % {"plan_code": plan.code},
            code="outside_plan",
        )
    units = [
        {
            "code": u.unit.code,
            "name": u.unit.name,
            "class": u.unit.unit_class,
            "overlap_m2": round(u.overlap_m2, 2),
            "share": round(u.share, 6),
        }
        for u in lookup.units
    ]
    clauses = requirements_applicable(
        plan=plan,
        unit_codes=[u.unit.code for u in lookup.units],
        division_adcodes=sorted({u.unit.division.adcode for u in lookup.units}),
        overlay_codes=[o.overlay.code for o in lookup.overlays],
    )
    applying = [c for c in clauses if clause_applies(c, industry_code=industry, project_type=project_type)]
    verdict, deciding = verdict_decide(applying)
    return SitingResult(
        plan_code=plan.code,
        industry_code=industry,
        industry_name=industry_name(industry),
        project_type=project_type,
        verdict=verdict,
        units=units,
        red_line=any(o.overlay.kind == OverlayKind.RED_LINE for o in lookup.overlays),
        requirements=applying,
        deciding=deciding,
        site_area_m2=round(lookup.site_area_m2, 2),
    )


# --- Plans in force (scans, monitoring and siting read only the effective version) ---------


def plan_in_force_check(*, plan: ZoningPlan, purpose: str, dry_run: bool = False) -> bool:
    """True when `plan` is in force (effective); otherwise refuse, unless this is an explicit dry run.

    The one rule for scans, monitoring and siting: they raise leads or give verdicts only on
    the effective version of a plan. A draft, filed or superseded plan is refused with code
    `plan_not_in_force`; with `dry_run=True` the caller goes on without writing anything and
    this returns False, so it can report what would have been raised.
    """
    if plan.status == PlanStatus.EFFECTIVE:
        return True
    if dry_run:
        return False
    raise ServiceError(
        _("%(purpose)s runs only on the plan in force; plan %(plan)s is %(status)s, not effective.")
        % {"plan": plan.code, "status": PlanStatus(plan.status).label, "purpose": purpose},
        code="plan_not_in_force",
    )


def plans_in_force():
    """The effective plans: what periodic jobs (monitoring evaluation) run on."""
    return ZoningPlan.objects.filter(status=PlanStatus.EFFECTIVE).order_by("code")


# --- The plan's life: what the public may see, differences between versions ------------------


def plans_public_qs():
    """The plan versions the public may see: those in force, and superseded ones (labelled as such).

    Never a draft, never a plan filed but not yet published. The API, the public pages and the
    OGC/tile endpoints all ask this one selector.
    """
    from .choices import PlanStatus

    return (
        ZoningPlan.objects.filter(status__in=[PlanStatus.EFFECTIVE, PlanStatus.SUPERSEDED])
        .annotate(unit_count=Count("units"))
        .order_by("code")
    )


# Groups (cases.choices.Role values) whose members maintain plans; zoning imports no other app.
PLANNER_GROUPS = ("planner", "bureau_admin")


def user_is_planner(user) -> bool:
    """A planner or bureau admin (or a superuser): may revise, file, publish and edit plans."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or user.groups.filter(name__in=PLANNER_GROUPS).exists()


def plans_for_user(user):
    """Every version for a signed-in user; the public versions for anyone else."""
    if user is not None and user.is_authenticated:
        return plans_visible()
    return plans_public_qs()


class SimplifyPreserveTopology(Func):
    """ST_SimplifyPreserveTopology(geom, tolerance) (PostGIS and SpatiaLite); tolerance in the geometry's units."""

    function = "ST_SimplifyPreserveTopology"
    output_field = MultiPolygonField(srid=0)


class Multi(Func):
    """ST_Multi(geom): a unit stays a MultiPolygon after simplification."""

    function = "ST_Multi"
    output_field = MultiPolygonField(srid=0)


def geometry_public(expression="geom"):
    """The geometry as the public may see it, in API_SRID: generalised, then snapped to limited precision.

    Simplified in the equal-area AREA_SRID by PUBLIC_GEOMETRY_TOLERANCE_M metres (so the tolerance means
    metres wherever the plan lies), then snapped to PUBLIC_COORDINATE_DECIMALS decimal places.
    """
    simplified = Transform(
        SimplifyPreserveTopology(
            Transform(expression, settings.AREA_SRID), Value(float(settings.PUBLIC_GEOMETRY_TOLERANCE_M))
        ),
        settings.API_SRID,
    )
    return Multi(SnapToGrid(simplified, 10.0 ** -int(settings.PUBLIC_COORDINATE_DECIMALS)))


# Two units are the same place when they overlap by at least this share of their union.
SAME_PLACE_SHARE = 0.9
# Geometry differences smaller than this (m², symmetric difference) are re-projection noise, not a reshape.
RESHAPE_MIN_M2 = 1.0


def plan_diff(*, old: ZoningPlan, new: ZoningPlan) -> dict:
    """What changed from one version to another, units and access-list clauses.

    Units are matched by code, then, among those left, by place (overlap ≥ 90 % of the union,
    computed in SQL in the equal-area SRID), so a unit whose class and so code changed is
    ``reclassified`` rather than removed and added. A unit kept under its code whose outline
    changed is ``reshaped``.
    """
    old_units = dict(ControlUnit.objects.filter(plan=old).values_list("code", "id"))
    new_units = dict(ControlUnit.objects.filter(plan=new).values_list("code", "id"))
    common = sorted(old_units.keys() & new_units.keys())
    reshaped = _units_reshaped(old=old, new=new, codes=common)
    gone = sorted(old_units.keys() - new_units.keys())
    came = sorted(new_units.keys() - old_units.keys())
    reclassified = _units_same_place(old=old, new=new, old_codes=gone, new_codes=came)
    matched_old = {r["from"] for r in reclassified}
    matched_new = {r["to"] for r in reclassified}
    return {
        "units": {
            "unchanged": len(common) - len(reshaped),
            "added": [c for c in came if c not in matched_new],
            "removed": [c for c in gone if c not in matched_old],
            "reclassified": reclassified,
            "reshaped": reshaped,
        },
        "clauses": _clauses_diff(old=old, new=new),
    }


def _units_reshaped(*, old: ZoningPlan, new: ZoningPlan, codes: list[str]) -> list[dict]:
    if not codes:
        return []
    table = connection.ops.quote_name(ControlUnit._meta.db_table)
    sql = (
        f"SELECT a.code, a.area_m2, b.area_m2 FROM {table} a JOIN {table} b ON b.plan_id = %s AND b.code = a.code "
        "WHERE a.plan_id = %s AND NOT ST_Equals(a.geom, b.geom) "
        "AND ST_Area(ST_Transform(ST_SymDifference(a.geom, b.geom), %s)) > %s ORDER BY a.code"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [new.pk, old.pk, settings.AREA_SRID, RESHAPE_MIN_M2])
        rows = cursor.fetchall()
    return [{"code": code, "area_m2_before": round(a, 1), "area_m2_after": round(b, 1)} for code, a, b in rows]


def _units_same_place(*, old: ZoningPlan, new: ZoningPlan, old_codes: list[str], new_codes: list[str]) -> list[dict]:
    """Pairs (old code, new code) of unmatched units covering the same place, best overlap first, each used once."""
    if not old_codes or not new_codes:
        return []
    table = connection.ops.quote_name(ControlUnit._meta.db_table)
    olds = ", ".join(["%s"] * len(old_codes))
    news = ", ".join(["%s"] * len(new_codes))
    sql = (
        "SELECT code_a, code_b, shared / whole FROM ("
        "SELECT a.code AS code_a, b.code AS code_b, "
        "ST_Area(ST_Transform(ST_Intersection(a.geom, b.geom), %s)) AS shared, "
        "ST_Area(ST_Transform(ST_Union(a.geom, b.geom), %s)) AS whole "
        f"FROM {table} a JOIN {table} b ON b.plan_id = %s AND ST_Intersects(a.geom, b.geom) "
        f"WHERE a.plan_id = %s AND a.code IN ({olds}) AND b.code IN ({news})"
        ") pairs WHERE whole > 0 AND shared >= %s * whole ORDER BY shared / whole DESC, code_a, code_b"
    )
    params = [settings.AREA_SRID, settings.AREA_SRID, new.pk, old.pk, *old_codes, *new_codes, SAME_PLACE_SHARE]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    used_old, used_new, pairs = set(), set(), []
    for code_a, code_b, _share in rows:
        if code_a in used_old or code_b in used_new:
            continue
        used_old.add(code_a)
        used_new.add(code_b)
        pairs.append({"from": code_a, "to": code_b})
    return sorted(pairs, key=lambda p: (p["from"], p["to"]))


def _clauses_diff(*, old: ZoningPlan, new: ZoningPlan) -> dict:
    """Clause numbers added, removed, and changed (same number, another text, action, scope or industries)."""

    def by_number(plan):
        return {c.number: c for c in requirements_as_clauses(AccessRequirement.objects.filter(plan=plan))}

    before, after = by_number(old), by_number(new)

    def content(c: Clause) -> tuple:
        return (c.level, c.scope_code, c.dimension, c.text, c.action, tuple(sorted(c.industry_codes)), c.applies_to)

    return {
        "added": sorted(after.keys() - before.keys()),
        "removed": sorted(before.keys() - after.keys()),
        "changed": sorted(n for n in before.keys() & after.keys() if content(before[n]) != content(after[n])),
    }


def plan_diff_features(*, old: ZoningPlan, new: ZoningPlan, diff: dict) -> dict:
    """The changed units as one GeoJSON FeatureCollection (API_SRID) for the diff map: change kind per feature."""
    from django.contrib.gis.db.models.functions import AsGeoJSON

    kinds: dict[tuple[int, str], str] = {}
    for code in diff["units"]["added"]:
        kinds[(new.pk, code)] = "added"
    for code in diff["units"]["removed"]:
        kinds[(old.pk, code)] = "removed"
    for pair in diff["units"]["reclassified"]:
        kinds[(new.pk, pair["to"])] = "reclassified"
    for row in diff["units"]["reshaped"]:
        kinds[(new.pk, row["code"])] = "reshaped"
        kinds[(old.pk, row["code"])] = "reshaped_before"
    features = []
    wanted = Q(pk__in=[])
    for plan_id, code in kinds:
        wanted |= Q(plan_id=plan_id, code=code)
    rows = (
        ControlUnit.objects.filter(wanted)
        .annotate(json=AsGeoJSON(Transform("geom", settings.API_SRID), precision=6))
        .values_list("plan_id", "code", "name", "unit_class", "json")
    )
    for plan_id, code, name, unit_class, geometry in rows:
        features.append(
            {
                "type": "Feature",
                "geometry": json.loads(geometry),
                "properties": {
                    "change": kinds[(plan_id, code)],
                    "plan": old.code if plan_id == old.pk else new.code,
                    "code": code,
                    "name": name,
                    "unit_class": unit_class,
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def unit_in_current_version(*, unit: ControlUnit) -> ControlUnit | None:
    """The unit covering the same place in the version now in force for the unit's plan region, if another.

    Matched by code first, else by the unit's point on surface; None when the unit's own version is
    still in force (or nothing covers the place). A lead raised under an earlier version shows it too.
    """
    from .choices import PlanStatus

    plan = unit.plan
    if plan.status == PlanStatus.EFFECTIVE:
        return None
    current = (
        ZoningPlan.objects.filter(region_adcode=plan.region_adcode, status=PlanStatus.EFFECTIVE)
        .exclude(pk=plan.pk)
        .order_by("-effective_date")
        .first()
    )
    if current is None:
        return None
    units = ControlUnit.objects.filter(plan=current).select_related("plan")
    return units.filter(code=unit.code).first() or units.filter(geom__contains=unit.geom.point_on_surface).first()


# District outlines are context at plan scale: generalised by this many metres (in AREA_SRID).
DISTRICT_OUTLINE_TOLERANCE_M = 100.0


def plan_district_outlines(*, plan: ZoningPlan) -> dict[str, Any]:
    """The plan's districts as a GeoJSON FeatureCollection (API_SRID): each the union of its units, generalised.

    The map's context where no basemap is configured. A union over a provincial plan costs seconds, so the
    result is cached under the plan's content version (which every import moves on).
    """
    from django.contrib.gis.db.models import Union
    from django.contrib.gis.db.models.functions import AsGeoJSON
    from django.core.cache import cache

    key = f"district-outlines:{plan.pk}:v{plan.content_version}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    if connection.vendor == "postgresql":
        # Built with the plan's low-zoom tile shapes (after the import's commit), so even the first
        # map of a provincial plan does not wait for the unions.
        from .models import TileShape
        from .tiles import tile_shapes_ensure

        tile_shapes_ensure(plan=plan)
        outlines = (
            TileShape.objects.filter(plan=plan, content_version=plan.content_version, layer="districts")
            .annotate(gj=AsGeoJSON(Transform("geom", settings.API_SRID), precision=5))
            .values_list("code", "name", "gj")
            .order_by("code")
        )
        result = {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "id": code,
                    "properties": {"adcode": code, "name": name},
                    "geometry": json.loads(gj),
                }
                for code, name, gj in outlines
            ],
        }
        cache.set(key, result, 24 * 3600)
        return result
    outline = Transform(
        SimplifyPreserveTopology(Transform(Union("geom"), settings.AREA_SRID), Value(DISTRICT_OUTLINE_TOLERANCE_M)),
        settings.API_SRID,
    )
    rows = (
        ControlUnit.objects.filter(plan=plan)
        .values("division__adcode", "division__name")
        .annotate(gj=AsGeoJSON(outline, precision=5))
        .order_by("division__adcode")
    )
    result = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": row["division__adcode"],
                "properties": {"adcode": row["division__adcode"], "name": row["division__name"]},
                "geometry": json.loads(row["gj"]),
            }
            for row in rows
            if row["gj"]
        ],
    }
    cache.set(key, result, 24 * 3600)
    return result


def unit_bounds_lonlat(*, unit: ControlUnit) -> tuple[float, float, float, float]:
    """(min lon, min lat, max lon, max lat) of one unit."""
    geom = unit.geom if SpatialReference(settings.STORAGE_SRID).geographic else unit.geom.transform(4326, clone=True)
    return geom.extent


def plan_bounds_lonlat(*, plan: ZoningPlan) -> tuple[float, float, float, float] | None:
    """(min lon, min lat, max lon, max lat) of the plan's units, or None when it has none."""
    from django.contrib.gis.db.models import Extent
    from django.contrib.gis.geos import Polygon

    extent = ControlUnit.objects.filter(plan=plan).aggregate(e=Extent("geom"))["e"]
    if extent is None:
        return None
    if SpatialReference(settings.STORAGE_SRID).geographic:
        return tuple(extent)
    box = Polygon.from_bbox(extent)
    box.srid = settings.STORAGE_SRID
    return box.transform(4326, clone=True).extent
