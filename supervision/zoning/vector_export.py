"""Write a plan's units, overlays and access list as a GeoPackage or a folder of Shapefiles.

The field names are those `vector_io` reads: Chinese in the GeoPackage (环境管控单元编码 …),
the pinyin initials of provincial Shapefile deliverables in the Shapefiles (HJZHGKDYBM …;
DBF names stop at 10 bytes), text in GBK with a `.cpg`, a `.prj` for CGCS2000. The access
list is a table of the GeoPackage (`access_list`) or a CSV beside the Shapefiles, in the
layout `import_access_list` reads; so are the key regions (`regions`, `regions.csv`, read by
`import_regions`), when the plan has any. An export therefore imports back into the same plan.

Written through GDAL (pyogrio's raw writer: WKB and column arrays, no pandas).
"""

from __future__ import annotations

import io
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from supervision.errors import ServiceError

from .access_io import COLUMNS as ACCESS_COLUMNS
from .access_io import access_file_write, clause_cells
from .choices import OverlayKind, UnitClass
from .models import ControlUnit, Overlay, PlanRegion, ZoningPlan
from .regions_io import GPKG_TABLE as REGIONS_LAYER
from .regions_io import HEADER as REGION_HEADER
from .regions_io import REGIONS_CSV, region_cells, regions_csv_write
from .selectors import requirements_as_clauses, requirements_filtered

FORMATS = ("gpkg", "shp")
UNITS_LAYER = "units"
ACCESS_LAYER = "access_list"
ACCESS_CSV = "access_list.csv"
SHP_ENCODING = "GBK"

# (GeoPackage field, Shapefile field) for each unit column, in file order.
UNIT_COLUMNS = [
    ("环境管控单元编码", "HJZHGKDYBM"),
    ("环境管控单元名称", "HJZHGKDYMC"),
    ("管控单元分类", "ZHGKDYFL"),
    ("省", "PROV"),
    ("市", "CITY"),
    ("县区", "AREA"),
    ("行政区划代码", "XZQHDM"),
    ("面积平方米", "MJ"),
]
OVERLAY_COLUMNS = [("编码", "BM"), ("名称", "MC"), ("类型", "LX"), ("面积平方米", "MJ")]


class ExportError(ServiceError):
    """An export that cannot be written (unknown format, output exists in the wrong form)."""


@dataclass
class ExportReport:
    plan: str
    path: str
    units: int
    overlays: dict[str, int]
    clauses: int


def overlay_layer(kind: str) -> str:
    return f"overlay_{kind}"


def _unit_rows(plan: ZoningPlan) -> tuple[list[bytes], list[list]]:
    units = (
        ControlUnit.objects.filter(plan=plan)
        .select_related("division__parent__parent")
        .only(
            "code",
            "name",
            "unit_class",
            "area_m2",
            "geom",
            "division__name",
            "division__adcode",
            "division__parent__name",
            "division__parent__parent__name",
        )
        .order_by("code")
    )
    with translation.override(settings.LANGUAGE_CODE):  # the file's labels are the Chinese ones the import reads
        class_labels = {value: str(label) for value, label in UnitClass.choices}
    geometries, rows = [], []
    for unit in units:
        city = unit.division.parent
        province = city.parent if city else None
        geometries.append(bytes(unit.geom.wkb))
        rows.append(
            [
                unit.code,
                unit.name,
                class_labels[unit.unit_class],
                province.name if province else "",
                city.name if city else "",
                unit.division.name,
                unit.division.adcode,
                round(unit.area_m2, 2),
            ]
        )
    return geometries, rows


def _overlay_rows(plan: ZoningPlan, kind: str) -> tuple[list[bytes], list[list]]:
    with translation.override(settings.LANGUAGE_CODE):  # Chinese labels in the file, whoever asks
        kind_label = str(OverlayKind(kind).label)
    geometries, rows = [], []
    for overlay in Overlay.objects.filter(plan=plan, kind=kind).order_by("code"):
        geometries.append(bytes(overlay.geom.wkb))
        rows.append([overlay.code, overlay.name, kind_label, round(overlay.area_m2, 2)])
    return geometries, rows


def _write_layer(path: Path, *, layer: str, names: list[str], geometries, rows, fmt: str, append: bool) -> None:
    from pyogrio.raw import write

    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in names]
    field_data = [
        np.array(col, dtype=np.float64) if names[i] in ("面积平方米", "MJ") else np.array(col, dtype=object)
        for i, col in enumerate(columns)
    ]
    options = {}
    if fmt == "shp":
        options["encoding"] = SHP_ENCODING
    write(
        str(path),
        np.array(geometries, dtype=object) if geometries is not None else None,
        field_data,
        names,
        layer=layer,
        driver="GPKG" if fmt == "gpkg" else "ESRI Shapefile",
        geometry_type="MultiPolygon" if geometries is not None else None,
        crs=f"EPSG:{settings.STORAGE_SRID}" if geometries is not None else None,
        append=append,
        **options,
    )


def plan_export(*, plan: ZoningPlan, fmt: str, path: str) -> ExportReport:
    """Write the plan to `path`: a .gpkg file, or a folder of Shapefiles (created; must be empty).

    The files are written into a temporary place first and moved into `path` at the end, so a
    failed export leaves nothing half-written.
    """
    if fmt not in FORMATS:
        raise ExportError(_("Unknown export format '%(fmt)s' (use gpkg or shp).") % {"fmt": fmt}, code="invalid_format")
    target = Path(path)
    if fmt == "gpkg" and target.exists():
        raise ExportError(_("%(name)s already exists; not overwritten.") % {"name": target.name}, code="exists")
    if fmt == "shp" and target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ExportError(_("%(name)s exists and is not an empty folder.") % {"name": target.name}, code="exists")
    if not ControlUnit.objects.filter(plan=plan).exists():
        raise ExportError(_("Plan %(code)s has no units; nothing to export.") % {"code": plan.code}, code="plan_empty")
    unit_fields = [gpkg if fmt == "gpkg" else shp for gpkg, shp in UNIT_COLUMNS]
    overlay_fields = [gpkg if fmt == "gpkg" else shp for gpkg, shp in OVERLAY_COLUMNS]
    clauses = requirements_as_clauses(requirements_filtered(plan_code=plan.code))
    regions = [
        region_cells(r.code, r.name, r.division_adcodes)
        for r in PlanRegion.objects.filter(plan=plan).order_by("position", "code")
    ]
    overlays: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / ("plan.gpkg" if fmt == "gpkg" else "plan")
        if fmt == "shp":
            work.mkdir()

        def layer_path(layer: str) -> Path:
            return work if fmt == "gpkg" else work / f"{layer}.shp"

        geometries, rows = _unit_rows(plan)
        _write_layer(
            layer_path(UNITS_LAYER),
            layer=UNITS_LAYER,
            names=unit_fields,
            geometries=geometries,
            rows=rows,
            fmt=fmt,
            append=False,
        )
        for kind in OverlayKind.values:
            kind_geometries, kind_rows = _overlay_rows(plan, kind)
            if not kind_rows:
                continue
            overlays[kind] = len(kind_rows)
            _write_layer(
                layer_path(overlay_layer(kind)),
                layer=overlay_layer(kind),
                names=overlay_fields,
                geometries=kind_geometries,
                rows=kind_rows,
                fmt=fmt,
                append=fmt == "gpkg",
            )
        if fmt == "gpkg":
            if regions:
                _write_layer(
                    work, layer=REGIONS_LAYER, names=REGION_HEADER, geometries=None, rows=regions, fmt=fmt, append=True
                )
            if clauses:
                with translation.override(settings.LANGUAGE_CODE):  # Chinese labels, as in the CSV
                    clause_rows = [clause_cells(c) for c in clauses]
                _write_layer(
                    work,
                    layer=ACCESS_LAYER,
                    names=[name for _, name in ACCESS_COLUMNS],
                    geometries=None,
                    rows=clause_rows,
                    fmt=fmt,
                    append=True,
                )
        else:
            if regions:
                with open(work / REGIONS_CSV, "wb") as stream:
                    regions_csv_write(regions, stream=stream)
            with open(work / ACCESS_CSV, "wb") as stream:
                access_file_write(clauses, fmt="csv", stream=stream)
            for cpg in work.glob("*.cpg"):
                # GDAL writes the encoding's name; provincial tools (and ArcGIS) expect it so too.
                cpg.write_text(SHP_ENCODING, encoding="ascii")
        if fmt == "gpkg":
            shutil.move(str(work), str(target))
        else:
            target.mkdir(parents=True, exist_ok=True)
            for item in work.iterdir():
                shutil.move(str(item), str(target / item.name))
    return ExportReport(plan.code, str(target), len(rows), overlays, len(clauses))


def plan_export_bytes(*, plan: ZoningPlan, fmt: str) -> tuple[bytes, str, str]:
    """The export as one download: (content, file name, media type); Shapefiles zipped."""
    with tempfile.TemporaryDirectory() as tmp:
        if fmt == "gpkg":
            out = Path(tmp) / f"{plan.code}.gpkg"
            plan_export(plan=plan, fmt=fmt, path=str(out))
            return out.read_bytes(), out.name, "application/geopackage+sqlite3"
        folder = Path(tmp) / plan.code
        plan_export(plan=plan, fmt=fmt, path=str(folder))
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for item in sorted(folder.iterdir()):
                archive.write(item, f"{plan.code}/{item.name}")
        return buffer.getvalue(), f"{plan.code}-shp.zip", "application/zip"
