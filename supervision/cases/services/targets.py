"""Import enforcement targets (监管对象) from CSV or XLSX, all or nothing.

Columns (Chinese or English): 名称/name, 统一社会信用代码/credit_code,
排污许可证编号/permit_number, 许可管理类别/permit_class (重点管理, 简化管理, 登记管理),
行业代码/industry_code, and either 经度/lon + 纬度/lat or WKT/wkt (a point, or a site
polygon whose inner point becomes the location). Coordinates are in --srid (default
API_SRID). Each target is linked to the plan's unit that contains it, and to that
unit's division; a target outside every unit of the plan refuses the file. Targets are
upserted on their credit code, so a re-import updates instead of duplicating.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from django.conf import settings
from django.contrib.gis.gdal import GDALException, SpatialReference
from django.contrib.gis.geos import GEOSException, GEOSGeometry, MultiPolygon, Point
from django.db import transaction
from django.utils.translation import gettext as _

from supervision.errors import ImportRefused
from supervision.tables import TableError, column_map, table_read
from supervision.zoning.industries import IndustryCodeError, industry_normalise
from supervision.zoning.models import ControlUnit, ZoningPlan

from ..choices import PermitClass
from ..models import EnforcementTarget
from ..validators import credit_code_problem

COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("名称", "单位名称", "name"),
    "credit_code": ("统一社会信用代码", "credit_code"),
    "permit_number": ("排污许可证编号", "permit_number"),
    "permit_class": ("许可管理类别", "管理类别", "permit_class"),
    "industry_code": ("行业代码", "industry_code"),
    "lon": ("经度", "lon", "x"),
    "lat": ("纬度", "lat", "y"),
    "wkt": ("WKT", "wkt", "几何"),
}
PERMIT_CLASS_TEXT = {
    "重点管理": PermitClass.KEY,
    "简化管理": PermitClass.SIMPLIFIED,
    "登记管理": PermitClass.REGISTRATION,
    **{value: value for value in PermitClass.values},
}


@dataclass(frozen=True)
class TargetImportReport:
    created: int
    updated: int


def _location(cells: dict[str, str], label: str, srid: int) -> tuple[Point | None, MultiPolygon | None, str | None]:
    if cells.get("wkt"):
        try:
            geom = GEOSGeometry(cells["wkt"], srid=srid)
        except (GEOSException, GDALException, ValueError):
            return None, None, f"{label}, column WKT: not readable WKT"
        if geom.geom_type == "Polygon":
            geom = MultiPolygon(geom, srid=srid)
        if geom.geom_type not in ("Point", "MultiPolygon") or geom.empty or not geom.valid:
            return None, None, f"{label}, column WKT: expected a valid point or polygon, got {geom.geom_type}"
        if srid != settings.STORAGE_SRID:
            geom.transform(settings.STORAGE_SRID)
        if geom.geom_type == "Point":
            return cast(Point, geom), None, None
        return geom.point_on_surface, cast(MultiPolygon, geom), None
    try:
        lon, lat = float(cells.get("lon", "")), float(cells.get("lat", ""))
    except ValueError:
        return None, None, f"{label}, columns 经度/纬度: need numeric coordinates or a WKT column"
    point = Point(lon, lat, srid=srid)
    if srid != settings.STORAGE_SRID:
        point.transform(settings.STORAGE_SRID)
    return point, None, None


def targets_import(*, path: str, plan: ZoningPlan, srid: int | None = None) -> TargetImportReport:
    """Import or update every target of the file, or refuse the whole file (nothing written)."""
    srid = srid or settings.API_SRID
    try:
        SpatialReference(srid)
    except (GDALException, ValueError):
        raise ImportRefused(
            _("--srid %(srid)s is not a known EPSG code.") % {"srid": srid},
            problems=[_("--srid %(srid)s: unknown CRS") % {"srid": srid}],
        ) from None
    try:
        header, rows = table_read(path)
    except TableError as exc:
        raise ImportRefused(str(exc), problems=[str(exc)]) from None
    columns = column_map(header, COLUMNS)
    missing = [k for k in ("name", "credit_code") if k not in columns]
    if "wkt" not in columns and not {"lon", "lat"} <= columns.keys():
        missing.append("lon/lat or wkt")
    if missing:
        refusal = f"{path}: missing column(s) {', '.join(missing)} (found: {', '.join(header)})"
        raise ImportRefused(refusal, problems=[refusal])

    problems: list[str] = []
    records: list[dict] = []
    seen: dict[str, int] = {}
    for row_no, row in enumerate(rows, start=2):
        cells = {key: (row[i] if i < len(row) else "") for key, i in columns.items()}
        label = f"row {row_no}"
        code = cells["credit_code"].upper()
        if problem := credit_code_problem(code):
            problems.append(f"{label}, column {header[columns['credit_code']]}: {problem}")
            continue
        if code in seen:
            problems.append(f"{label}: credit code {code} repeats row {seen[code]}")
            continue
        seen[code] = row_no
        if not cells["name"]:
            problems.append(f"{label}, column {header[columns['name']]}: missing name")
            continue
        permit_class = ""
        if cells.get("permit_class"):
            permit_class = PERMIT_CLASS_TEXT.get(cells["permit_class"], "")
            if not permit_class:
                problems.append(
                    f"{label}, column {header[columns['permit_class']]}: unknown permit class '{cells['permit_class']}'"
                )
                continue
        industry = ""
        if cells.get("industry_code"):
            try:
                industry = industry_normalise(cells["industry_code"])
            except IndustryCodeError as exc:
                problems.append(f"{label}, column {header[columns['industry_code']]}: {exc}")
                continue
        location, site, problem = _location(cells, label, srid)
        if problem:
            problems.append(problem)
            continue
        location = cast(Point, location)  # _location gives a point whenever it reports no problem
        unit = (
            ControlUnit.objects.filter(plan=plan, geom__intersects=location)
            .select_related("division")
            .defer("geom")
            .order_by("code")
            .first()
        )
        if unit is None:
            problems.append(
                f"{label}: location ({location.x:.6f}, {location.y:.6f}) lies outside every unit of plan {plan.code}"
            )
            continue
        records.append(
            {
                "credit_code": code,
                "name": cells["name"],
                "permit_number": cells.get("permit_number", ""),
                "permit_class": permit_class,
                "industry_code": industry,
                "location": location,
                "site": site,
                "unit": unit,
                "division": unit.division,
            }
        )
    if problems:
        raise ImportRefused(
            _("%(path)s: refused, %(value)s problem(s); nothing was written.") % {"path": path, "value": len(problems)},
            problems=problems,
        )
    created = 0
    with transaction.atomic():
        for record in records:
            code = record.pop("credit_code")
            __, was_created = EnforcementTarget.objects.update_or_create(credit_code=code, defaults=record)
            created += was_created
    return TargetImportReport(created=created, updated=len(records) - created)
