"""Read control units and overlays from any OGR vector source into checked records.

Reads GeoPackage, Shapefile (.prj for the CRS, .cpg for the DBF encoding, GBK being
common) and GeoJSON. Field names are matched in Chinese, in the pinyin initials that
Shapefile deliverables use (DBF names stop at 10 bytes) and in English. Nothing here
writes to the database: `units_read` returns records plus a list of problems, one
readable line each, and the service refuses the whole file when there is any.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.contrib.gis.gdal import CoordTransform, DataSource, GDALException, SpatialReference
from django.contrib.gis.geos import GEOSException, GEOSGeometry, MultiPolygon, Polygon

from .choices import UNIT_CLASS_BY_DIGIT, UnitClass

UNIT_CODE_RE = re.compile(r"^ZH(\d{6})([123])(\d{4})$")

# Relative area change a make_valid() repair may cause before we refuse the feature.
REPAIR_TOLERANCE = 1e-4  # 0.01 %

UNIT_FIELDS: dict[str, tuple[str, ...]] = {
    "code": ("环境管控单元编码", "HJZHGKDYBM", "code", "unit_code"),
    "name": ("环境管控单元名称", "HJZHGKDYMC", "name", "unit_name"),
    "class": ("管控单元分类", "ZHGKDYFL", "class", "unit_class"),
    "province": ("省", "PROV", "province"),
    "city": ("市", "CITY", "city"),
    "district": ("县区", "县(区)", "县（区）", "AREA", "district", "county"),
}
OVERLAY_FIELDS: dict[str, tuple[str, ...]] = {
    "code": ("编码", "code", "BM"),
    "name": ("名称", "name", "MC"),
}

CLASS_TEXT = {
    "1": UnitClass.PRIORITY,
    "2": UnitClass.KEY,
    "3": UnitClass.GENERAL,
    "优先保护单元": UnitClass.PRIORITY,
    "优先保护": UnitClass.PRIORITY,
    "优先保护类": UnitClass.PRIORITY,
    "重点管控单元": UnitClass.KEY,
    "重点管控": UnitClass.KEY,
    "重点管控类": UnitClass.KEY,
    "一般管控单元": UnitClass.GENERAL,
    "一般管控": UnitClass.GENERAL,
    "一般管控类": UnitClass.GENERAL,
    "priority": UnitClass.PRIORITY,
    "priority protection": UnitClass.PRIORITY,
    "key": UnitClass.KEY,
    "key control": UnitClass.KEY,
    "general": UnitClass.GENERAL,
    "general control": UnitClass.GENERAL,
}


@dataclass
class UnitRecord:
    """One control unit as read from the file, geometry already in STORAGE_SRID."""

    feature: str
    code: str
    name: str
    unit_class: str
    adcode: str
    province: str
    city: str
    district: str
    geom: MultiPolygon
    attributes: dict = field(default_factory=dict)
    repaired: str = ""


@dataclass
class OverlayRecord:
    """One overlay polygon as read from the file, geometry in STORAGE_SRID."""

    feature: str
    code: str
    name: str
    geom: MultiPolygon
    repaired: str = ""


@dataclass
class ReadResult:
    records: list
    problems: list[str]
    notes: list[str]
    src_srid_label: str


def _match_field(available: list[str], candidates: tuple[str, ...]) -> str | None:
    lowered = {name.lower(): name for name in available}
    for candidate in candidates:
        if candidate in available:
            return candidate
        if candidate.lower() in lowered:
            return lowered[candidate.lower()]
    return None


def _cpg_encoding(path: Path) -> str | None:
    cpg = path.with_suffix(".cpg")
    if not cpg.exists():
        cpg = path.with_suffix(".CPG")
    if cpg.exists():
        text = cpg.read_text(encoding="ascii", errors="ignore").strip()
        if text:
            return {"936": "gbk", "cp936": "gbk", "65001": "utf-8"}.get(text.lower(), text.lower())
    return None


def _open(path: str, layer_name: str | None) -> tuple[DataSource, object]:
    source = Path(path)
    if not source.exists():
        raise FileNotFoundError(f"{path}: no such file")
    # GDAL recodes DBF text to UTF-8 itself when the .cpg names the encoding; we only
    # tell Django how to decode what GDAL hands over, which is then UTF-8.
    ds = DataSource(str(source), encoding="utf-8")
    if layer_name:
        names = [layer.name for layer in ds]
        if layer_name not in names:
            raise ValueError(f"{path}: no layer named '{layer_name}' (layers: {', '.join(names)})")
        return ds, ds[layer_name]
    return ds, ds[0]


def _transform_for(layer, path: str, src_srid: int | None) -> tuple[CoordTransform | None, str, str | None]:
    """Return (transform to storage, label of the source CRS, problem or None)."""
    if src_srid:
        try:
            srs = SpatialReference(src_srid)
        except (GDALException, ValueError):
            return None, "", f"{path}: --src-srid {src_srid} is not a known coordinate reference system"
        label = f"EPSG:{src_srid} (--src-srid)"
    else:
        srs = layer.srs
        if srs is None:
            return None, "", f"{path}: the layer has no coordinate reference system (no .prj?); pass --src-srid"
        label = f"EPSG:{srs.srid}" if srs.srid else (srs.name or "from file")
    target = SpatialReference(settings.STORAGE_SRID)
    if src_srid is None and srs.srid == settings.STORAGE_SRID:
        return None, label, None
    return CoordTransform(srs, target), label, None


def _feature_label(index: int, code: str | None) -> str:
    return f"feature {index}" + (f" ({code})" if code else "")


def _geometry(feat, transform, label: str) -> tuple[MultiPolygon | None, str, str | None]:
    """Geometry of one feature in storage SRID: (geom, repair note, problem)."""
    try:
        ogr = feat.geom
    except (GDALException, IndexError):
        return None, "", f"{label}, geometry: empty geometry"
    if ogr is None or ogr.empty:
        return None, "", f"{label}, geometry: empty geometry"
    if transform is not None:
        ogr = ogr.clone()
        ogr.transform(transform)
    try:
        geom = GEOSGeometry(ogr.wkb, srid=settings.STORAGE_SRID)
    except (GEOSException, ValueError):
        return None, "", f"{label}, geometry: unreadable geometry"
    if geom.geom_type == "Polygon":
        geom = MultiPolygon(geom, srid=settings.STORAGE_SRID)
    elif geom.geom_type != "MultiPolygon":
        return None, "", f"{label}, geometry: a {geom.geom_type} is not a polygon"
    if geom.empty:
        return None, "", f"{label}, geometry: empty geometry"
    note = ""
    if not geom.valid:
        reason = geom.valid_reason
        repaired = geom.make_valid()
        polygons = _polygons(repaired)
        repaired = MultiPolygon(polygons, srid=settings.STORAGE_SRID) if polygons else None
        if repaired is None or repaired.empty:
            return None, "", f"{label}, geometry: invalid ({reason}) and repair leaves nothing"
        # A bow-tie's signed area can be 0: compare against the larger of the two.
        change = abs(repaired.area - geom.area) / max(geom.area, repaired.area)
        if change > REPAIR_TOLERANCE:
            return (
                None,
                "",
                (
                    f"{label}, geometry: invalid ({reason}); repair would change its area by "
                    f"{change * 100:.4f} % (more than {REPAIR_TOLERANCE * 100:.2f} %)"
                ),
            )
        note = f"{label}: repaired invalid geometry ({reason}), area changed by {change * 100:.6f} %"
        geom = repaired
    if geom.area == 0:
        return None, "", f"{label}, geometry: empty geometry (zero area)"
    return geom, note, None


def _polygons(geom) -> list[Polygon]:
    if geom.geom_type == "Polygon":
        return [geom]
    if geom.geom_type in ("MultiPolygon", "GeometryCollection"):
        out: list[Polygon] = []
        for part in geom:
            out.extend(_polygons(part))
        return out
    return []


def _text(feat, name: str | None) -> str:
    if not name:
        return ""
    value = feat.get(name)
    if value is None:
        return ""
    return str(value).strip()


def units_read(path: str, *, layer_name: str | None = None, src_srid: int | None = None) -> ReadResult:
    """Read and check every unit feature; collect problems instead of stopping at the first."""
    ds, layer = _open(path, layer_name)
    problems: list[str] = []
    notes: list[str] = []
    transform, src_label, problem = _transform_for(layer, path, src_srid)
    if problem:
        return ReadResult([], [problem], [], "")
    fields = list(layer.fields)
    columns = {key: _match_field(fields, names) for key, names in UNIT_FIELDS.items()}
    if columns["code"] is None:
        problems.append(
            f"{path}: no unit code field (looked for {', '.join(UNIT_FIELDS['code'])}; found {', '.join(fields)})"
        )
        return ReadResult([], problems, notes, src_label)
    encoding = _cpg_encoding(Path(path))
    if encoding:
        notes.append(f"{path}: DBF encoding {encoding} (from .cpg)")

    records: list[UnitRecord] = []
    seen: dict[str, str] = {}
    for index, feat in enumerate(layer, start=1):
        code = _text(feat, columns["code"])
        label = _feature_label(index, code)
        match = UNIT_CODE_RE.match(code)
        if not code:
            problems.append(f"{label}, field {columns['code']}: missing unit code")
            continue
        if not match:
            problems.append(
                f"{label}, field {columns['code']}: malformed unit code '{code}' "
                "(expected ZH + 6-digit adcode + class digit 1/2/3 + 4-digit sequence)"
            )
            continue
        if code in seen:
            problems.append(f"{label}, field {columns['code']}: duplicate unit code '{code}' (also {seen[code]})")
            continue
        seen[code] = f"feature {index}"
        adcode, digit = match.group(1), match.group(2)
        code_class = UNIT_CLASS_BY_DIGIT[digit]
        unit_class = code_class
        class_text = _text(feat, columns["class"])
        if class_text:
            normalised = class_text.split(".")[0] if class_text.replace(".", "", 1).isdigit() else class_text
            field_class = CLASS_TEXT.get(normalised) or CLASS_TEXT.get(normalised.lower())
            if field_class is None:
                problems.append(f"{label}, field {columns['class']}: unknown unit class '{class_text}'")
                continue
            if field_class != code_class:
                problems.append(
                    f"{label}, field {columns['class']}: class '{class_text}' contradicts the code's class digit "
                    f"{digit} ({code_class.label})"
                )
                continue
            unit_class = field_class
        geom, note, problem = _geometry(feat, transform, label)
        if problem:
            problems.append(problem)
            continue
        if note:
            notes.append(note)
        attributes = {}
        for name in fields:
            value = feat.get(name)
            attributes[name] = value if isinstance(value, (int, float, str)) or value is None else str(value)
        records.append(
            UnitRecord(
                feature=label,
                code=code,
                name=_text(feat, columns["name"]) or code,
                unit_class=unit_class,
                adcode=adcode,
                province=_text(feat, columns["province"]),
                city=_text(feat, columns["city"]),
                district=_text(feat, columns["district"]),
                geom=geom,
                attributes=attributes,
                repaired=note,
            )
        )
    if not records and not problems:
        problems.append(f"{path}: the layer has no features")
    del ds
    return ReadResult(records, problems, notes, src_label)


def overlays_read(path: str, *, layer_name: str | None = None, src_srid: int | None = None) -> ReadResult:
    """Read and check overlay polygons (fields 编码/名称 or code/name)."""
    ds, layer = _open(path, layer_name)
    transform, src_label, problem = _transform_for(layer, path, src_srid)
    if problem:
        return ReadResult([], [problem], [], "")
    fields = list(layer.fields)
    code_field = _match_field(fields, OVERLAY_FIELDS["code"])
    name_field = _match_field(fields, OVERLAY_FIELDS["name"])
    problems: list[str] = []
    notes: list[str] = []
    if code_field is None:
        return ReadResult(
            [], [f"{path}: no overlay code field (looked for 编码, code; found {', '.join(fields)})"], [], ""
        )
    records: list[OverlayRecord] = []
    seen: dict[str, str] = {}
    for index, feat in enumerate(layer, start=1):
        code = _text(feat, code_field)
        label = _feature_label(index, code)
        if not code:
            problems.append(f"{label}, field {code_field}: missing code")
            continue
        if code in seen:
            problems.append(f"{label}, field {code_field}: duplicate code '{code}' (also {seen[code]})")
            continue
        seen[code] = f"feature {index}"
        geom, note, problem = _geometry(feat, transform, label)
        if problem:
            problems.append(problem)
            continue
        if note:
            notes.append(note)
        records.append(
            OverlayRecord(feature=label, code=code, name=_text(feat, name_field) or code, geom=geom, repaired=note)
        )
    if not records and not problems:
        problems.append(f"{path}: the layer has no features")
    del ds
    return ReadResult(records, problems, notes, src_label)
