"""Pixels to GeoJSON MultiPolygons: batched polygonize, and a merged patch re-read part by part."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import rasterio
import rasterio.features
import rasterio.warp
from affine import Affine
from rasterio.windows import Window
from scipy import ndimage

from .reader import _bounds_of, _classify, _open, pixel_row_areas
from .types import _EIGHT, KIND_LANDCOVER, Patch, RasterInfo, ScanRules, UnitShape


def _mask_polygons(mask: np.ndarray, transform: Affine) -> list[Any]:
    """GeoJSON polygon coordinates of the True pixels (4-connected, so always valid)."""
    return _masks_polygons([(mask, transform)])[0]


def _masks_polygons(items: Sequence[tuple[np.ndarray, Affine]], *, as_shapely: bool = False) -> list[Any]:
    """Polygon coordinates for many small masks with ONE polygonize call.

    With ``as_shapely`` each mask comes back as a shapely MultiPolygon built from the
    coordinate arrays in one call (no Python lists per point), for callers that go on
    with shapely (reprojection, WKB) rather than GeoJSON.

    GDAL's polygonize costs about half a millisecond per call whatever the size, so the
    masks are shelf-packed into one canvas (1 pixel apart, one value each), polygonized
    together and the rings moved back into each mask's own transform.
    """
    if not items:
        return []
    gap = 1
    shelf_width = max(1024, max(m.shape[1] for m, _ in items) + gap)
    order = sorted(range(len(items)), key=lambda i: -items[i][0].shape[0])
    offsets: dict[int, tuple[int, int]] = {}
    x = y = shelf_h = 0
    for i in order:
        mh, mw = items[i][0].shape
        if x + mw > shelf_width:
            x, y, shelf_h = 0, y + shelf_h + gap, 0
        offsets[i] = (y, x)
        x += mw + gap
        shelf_h = max(shelf_h, mh)
    canvas = np.zeros((y + shelf_h, shelf_width), dtype=np.int32)
    for i, (m, _) in enumerate(items):
        oy, ox = offsets[i]
        view = canvas[oy : oy + m.shape[0], ox : ox + m.shape[1]]
        view[m] = i + 1
    # Move all rings at once: per-ring numpy calls would cost more than polygonizing.
    found = list(rasterio.features.shapes(canvas, mask=canvas > 0, connectivity=4, transform=Affine.identity()))
    rings = [ring for geom, _v in found for ring in geom["coordinates"]]
    lengths = np.fromiter((len(r) for r in rings), dtype=np.int64, count=len(rings))
    item_of_ring = np.repeat(
        np.fromiter((int(v) - 1 for _g, v in found), dtype=np.int64, count=len(found)),
        [len(geom["coordinates"]) for geom, _v in found],
    )
    xy = np.array([pt for ring in rings for pt in ring], dtype=np.float64).reshape(-1, 2)
    item_of_pt = np.repeat(item_of_ring, lengths)
    off = np.array([offsets[i] for i in range(len(items))], dtype=np.float64).reshape(-1, 2)  # (row, col)
    coef = np.array([tuple(t)[:6] for _m, t in items], dtype=np.float64).reshape(-1, 6)[item_of_pt]
    col = xy[:, 0] - off[item_of_pt, 1]
    row = xy[:, 1] - off[item_of_pt, 0]
    mx = coef[:, 0] * col + coef[:, 1] * row + coef[:, 2]
    my = coef[:, 3] * col + coef[:, 4] * row + coef[:, 5]
    if as_shapely:
        return _ragged_multipolygons(np.column_stack([mx, my]), lengths, found, len(items))
    pts = np.column_stack([mx, my]).tolist()
    out: list[list[Any]] = [[] for _ in items]
    pos = 0
    r = 0
    for geom, value in found:
        polygon = []
        for _ in geom["coordinates"]:
            n = int(lengths[r])
            polygon.append(pts[pos : pos + n])
            pos += n
            r += 1
        out[int(value) - 1].append(polygon)
    return out


def _ragged_multipolygons(xy: np.ndarray, lengths: np.ndarray, found: list[Any], n_items: int) -> list[Any]:
    """One shapely MultiPolygon per item from polygonize output (polygons in any item order)."""
    import shapely

    rings_of_poly = np.fromiter((len(g["coordinates"]) for g, _v in found), dtype=np.int64, count=len(found))
    item_of_poly = np.fromiter((int(v) - 1 for _g, v in found), dtype=np.int64, count=len(found))
    ring_start = np.r_[0, np.cumsum(lengths)]
    poly_ring_start = np.r_[0, np.cumsum(rings_of_poly)]
    order = np.argsort(item_of_poly, kind="stable")  # polygons grouped by item
    ring_order = np.concatenate(
        [np.arange(poly_ring_start[p], poly_ring_start[p + 1]) for p in order] or [np.zeros(0, np.int64)]
    )
    point_order = np.concatenate(
        [np.arange(ring_start[r], ring_start[r + 1]) for r in ring_order] or [np.zeros(0, np.int64)]
    )
    ring_offsets = np.r_[0, np.cumsum(lengths[ring_order])]
    poly_offsets = np.r_[0, np.cumsum(rings_of_poly[order])]
    item_offsets = np.r_[0, np.cumsum(np.bincount(item_of_poly, minlength=n_items))]
    geoms = shapely.from_ragged_array(
        shapely.GeometryType.MULTIPOLYGON, xy[point_order], (ring_offsets, poly_offsets, item_offsets)
    )
    return list(geoms)


def _pairs_vectorise(
    pair_pixels: tuple[np.ndarray, np.ndarray],
    todo: np.ndarray,
    unit_rows: np.ndarray,
    width: int,
    win_transform: Affine,
    *,
    as_shapely: bool = False,
) -> list[tuple[int, int, Any]]:
    """MultiPolygons of the (part, unit) rows ``todo`` from their sparse pixel positions.

    GeoJSON mappings, or shapely MultiPolygons with ``as_shapely``.
    """
    pos, row_of = pair_pixels
    wanted = np.zeros(unit_rows.shape[0], dtype=bool)
    wanted[todo] = True
    pick = np.flatnonzero(wanted[row_of])
    pos, row_of = pos[pick], row_of[pick]
    order = np.argsort(row_of.astype(np.uint16) if unit_rows.shape[0] < 65536 else row_of, kind="stable")
    pos, row_of = pos[order], row_of[order]
    cuts = np.flatnonzero(np.diff(row_of)) + 1
    items, keys = [], []
    for group_pos, group_row in zip(np.split(pos, cuts), row_of[np.r_[0, cuts]], strict=False):
        rr, cc = group_pos // width, group_pos % width
        r0, c0 = int(rr.min()), int(cc.min())
        mask = np.zeros((int(rr.max()) - r0 + 1, int(cc.max()) - c0 + 1), dtype=bool)
        mask[rr - r0, cc - c0] = True
        items.append((mask, win_transform @ Affine.translation(c0, r0)))
        keys.append((int(unit_rows[group_row, 0]), int(unit_rows[group_row, 1])))
    if as_shapely:
        return [(part, uid, g) for (part, uid), g in zip(keys, _masks_polygons(items, as_shapely=True), strict=True)]
    return [
        (part, unit_id, {"type": "MultiPolygon", "coordinates": polys})
        for (part, unit_id), polys in zip(keys, _masks_polygons(items), strict=False)
    ]


# ---------------------------------------------------------------------- vectorise


def patch_vectorise(
    path: str | os.PathLike[str], patch: Patch, *, rules: ScanRules, unit: UnitShape, info: RasterInfo
) -> dict[str, Any]:
    """The pixels of ``patch`` inside ``unit`` as a GeoJSON MultiPolygon in the raster CRS.

    Returns ``{"geometry": {...}, "pixels": n, "area_m2": a}``; ``pixels`` and
    ``area_m2`` should equal ``patch.units[unit.unit_id]`` (a cross-check).

    Each window part of the patch is connected inside its own bbox (it is a component
    of its window), so reading part by part (at most one window each) and keeping the
    component under the part's seed is exact without a margin, and memory stays
    bounded even for a patch that spans the whole raster.
    """
    path = os.fspath(path)
    with rasterio.Env(), _open(path) as ds:
        return _patch_vectorise_ds(ds, path, patch, rules, unit, info)


# Prepared shapely geometry per unit, keyed by identity (the entry keeps the unit alive).
_PREPARED: dict[int, tuple[UnitShape, Any]] = {}


def _prepared(unit: UnitShape) -> Any:
    import shapely
    from shapely.geometry import shape

    hit = _PREPARED.get(id(unit))
    if hit is not None and hit[0] is unit:
        return hit[1]
    geom = shape(unit.geometry)
    shapely.prepare(geom)
    if len(_PREPARED) > 20_000:
        _PREPARED.clear()
    _PREPARED[id(unit)] = (unit, geom)
    return geom


def _patch_vectorise_ds(
    ds: rasterio.DatasetReader, path: str, patch: Patch, rules: ScanRules, unit: UnitShape, info: RasterInfo
) -> dict[str, Any]:
    import shapely
    from shapely.geometry import mapping, shape

    row_areas = pixel_row_areas(info)
    pieces: list[list[Any]] = []  # polygon coordinates per contributing part
    n_pixels = 0
    area = 0.0
    for part in patch.parts:
        if unit.unit_id not in part.unit_ids:
            continue
        r0, c0, r1, c1 = part.bbox
        win = Window(c0, r0, c1 - c0, r1 - r0)
        data, mask, _, _ = _classify(ds, path, win, rules)
        if mask is None:
            continue
        if rules.kind == KIND_LANDCOVER:
            mask = data == patch.change_class
        lab, _ = ndimage.label(mask, structure=_EIGHT)
        seed_label = lab[part.seed[0] - r0, part.seed[1] - c0]
        if seed_label == 0:
            continue  # the file changed since the scan
        keep = lab == seed_label
        win_transform = ds.window_transform(win)
        if not _prepared(unit).contains(shapely.box(*_bounds_of(win_transform, 0, 0, r1 - r0, c1 - c0))):
            # the part's bbox leaves the unit: keep only pixels whose centre is inside
            keep &= rasterio.features.rasterize(
                [(unit.geometry, 1)], out_shape=mask.shape, transform=win_transform, fill=0, dtype="uint8"
            ).view(bool)
        rr = np.nonzero(keep)[0]
        n_pixels += rr.size
        area += float(row_areas[r0 + rr].sum())
        if rr.size:
            pieces.append(_mask_polygons(keep, win_transform))
    if len(pieces) == 1:
        geometry: dict[str, Any] = {"type": "MultiPolygon", "coordinates": pieces[0]}
    else:
        geometry = mapping(parts_dissolve([shape({"type": "Polygon", "coordinates": c}) for pc in pieces for c in pc]))
    return {"geometry": geometry, "pixels": n_pixels, "area_m2": area}


def parts_dissolve(geoms: Sequence[Any]) -> Any:
    """One shapely MultiPolygon of a patch's parts from neighbouring windows (they share edges).

    Each geometry is shapely or a GeoJSON mapping, in the raster CRS.
    """
    import shapely
    from shapely.geometry import MultiPolygon, shape

    polys = [g if isinstance(g, shapely.Geometry) else shape(g) for g in geoms]
    merged = shapely.union_all(polys) if polys else MultiPolygon()
    if merged.geom_type == "Polygon":
        merged = MultiPolygon([merged])
    elif merged.geom_type == "GeometryCollection":
        merged = MultiPolygon([g for g in merged.geoms if g.geom_type == "Polygon"])
    return merged
