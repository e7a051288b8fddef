"""Labelling one window: units joined by rasterizing, patches found with ``ndimage.label``."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import rasterio
import rasterio.features
import rasterio.warp
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from .reader import _bounds_of, _classify, _open, _row_areas_cached
from .types import _EIGHT, KIND_LANDCOVER, KIND_NDVI_DIFF, ScanRules, UnitShape, WindowResult, WindowSpec, _i64
from .vectorise import _pairs_vectorise

# ------------------------------------------------------------------------- units


class _UnitIndex:
    """Unit bounds and class bitmasks as arrays, built once per unit list."""

    def __init__(self, units: Sequence[UnitShape]) -> None:
        self.units = list(units)
        n = len(self.units)
        self.ids = np.fromiter((u.unit_id for u in self.units), dtype=np.int64, count=n)
        self.bounds = np.zeros((n, 4), dtype=np.float64)
        for i, u in enumerate(self.units):
            geom_type = u.geometry.get("type")
            if geom_type not in ("Polygon", "MultiPolygon"):
                raise ValueError(f"Unit {u.unit_id} geometry must be a Polygon or MultiPolygon, not {geom_type!r}.")
            self.bounds[i] = (
                _unit_shapely(u).bounds if u.geometry.get("coordinates") else (np.inf, np.inf, -np.inf, -np.inf)
            )
        self._bits: dict[ScanRules, np.ndarray] = {}

    def clipped(self, cands: np.ndarray, bounds: tuple[float, float, float, float]) -> list[tuple[int, Any]]:
        """(candidate position, geometry) of the candidates cut to ``bounds``; empty ones dropped.

        GDAL's scanline burn walks every edge of a polygon on every row it spans, so a
        unit with thousands of vertices costs tens of ms per window; cut to a box just
        larger than the window (every pixel centre strictly inside), the burn is the same.
        """
        import shapely

        cut = shapely.clip_by_rect(np.array([_unit_shapely(self.units[j]) for j in cands], dtype=object), *bounds)
        keep = np.flatnonzero(shapely.area(cut) > 0)
        return [(int(i), cut[i]) for i in keep]

    def class_bits(self, rules: ScanRules) -> np.ndarray:
        """Bit c set when change class c qualifies in the unit (cached per rules)."""
        key = (rules.kind, tuple(sorted(rules.classes_by_unit_class.items())))
        bits = self._bits.get(key)  # type: ignore[call-overload]
        if bits is None:
            per_class = {uc: sum(1 << c for c in cs) for uc, cs in rules.classes_by_unit_class.items()}
            bits = np.fromiter(
                (per_class.get(u.unit_class, 0) for u in self.units), dtype=np.int64, count=len(self.units)
            )
            self._bits[key] = bits  # type: ignore[index]
        return bits

    def candidates(self, bounds: tuple[float, float, float, float], rules: ScanRules, class_bits: int) -> np.ndarray:
        minx, miny, maxx, maxy = bounds
        b = self.bounds
        hit = (b[:, 0] <= maxx) & (b[:, 2] >= minx) & (b[:, 1] <= maxy) & (b[:, 3] >= miny)
        hit &= (self.class_bits(rules) & class_bits) != 0
        return np.flatnonzero(hit)


def _unit_shapely(unit: UnitShape) -> Any:
    """The unit's geometry as shapely, converted once per UnitShape (callers may reuse them)."""
    cached = unit.__dict__.get("_shapely")
    if cached is None:
        from shapely.geometry import shape

        cached = shape(unit.geometry)
        object.__setattr__(unit, "_shapely", cached)  # a frozen dataclass: a private cache, not a field
    return cached


def _covers_box(geom: Any, bounds: tuple[float, float, float, float]) -> bool:
    import shapely

    return bool(shapely.covers(geom, shapely.box(*bounds)))


# Unit lists are prepared once and reused by identity (the entry holds a reference, so
# the id cannot be recycled while cached). Do not mutate a list after scanning with it.
_UNIT_CACHE: list[tuple[Sequence[UnitShape], int, _UnitIndex]] = []


def _unit_index(units: Sequence[UnitShape]) -> _UnitIndex:
    for cached, n, index in _UNIT_CACHE:
        if cached is units and n == len(units):
            return index
    index = _UnitIndex(units)
    _UNIT_CACHE.insert(0, (units, len(units), index))
    del _UNIT_CACHE[4:]
    return index


@dataclass
class _LabelStats:
    labels: np.ndarray  # label id per part
    starts: np.ndarray  # start of each part in the label-sorted sparse arrays
    counts: np.ndarray
    ids: np.ndarray  # flat window positions, sorted by label (row-major within a label)
    classes: np.ndarray  # class per sorted pixel
    rmin: np.ndarray
    rmax: np.ndarray
    cmin: np.ndarray
    cmax: np.ndarray


def _label_stats(lab_flat: np.ndarray, idx: np.ndarray, cls_flat: np.ndarray, width: int) -> _LabelStats:
    la = lab_flat[idx]
    if la.size and int(la.max()) < 65536:
        la = la.astype(np.uint16)  # numpy radix-sorts 16-bit keys: several times faster
    order = np.argsort(la, kind="stable")  # stable: row-major order inside each label
    ids = idx[order]
    las = la[order]
    bounds = np.flatnonzero(np.diff(las)) + 1
    starts = np.r_[0, bounds].astype(np.intp)
    ends = np.r_[bounds, las.size].astype(np.intp)
    cols = ids % width
    classes = cls_flat[ids]
    return _LabelStats(
        labels=las[starts],
        starts=starts,
        counts=ends - starts,
        ids=ids,
        classes=classes,
        rmin=ids[starts] // width,
        rmax=ids[ends - 1] // width,
        cmin=np.minimum.reduceat(cols, starts),
        cmax=np.maximum.reduceat(cols, starts),
    )


def _unique_inverse(key: np.ndarray, key_range: int) -> tuple[np.ndarray, np.ndarray]:
    """np.unique(key, return_inverse=True) for non-negative keys < key_range, by counting when small."""
    if key_range <= 4 * key.size + 1_000_000:
        present = np.zeros(key_range, dtype=bool)
        present[key] = True
        ukey = np.flatnonzero(present)
        rank = np.cumsum(present) - 1
        return ukey, rank[key]
    ukey, inv = np.unique(key, return_inverse=True)
    return ukey, inv.reshape(-1)


_SCRATCH = threading.local()


def _scratch_int32(size: int) -> np.ndarray:
    """A reused per-thread int32 buffer (fresh 16 MB arrays cost page faults every window)."""
    buf = getattr(_SCRATCH, "buf", None)
    if buf is None or buf.size < size:
        buf = _SCRATCH.buf = np.empty(size, dtype=np.int32)
    return buf[:size]


def _split_mixed(lab: np.ndarray, data: np.ndarray, st: _LabelStats) -> bool:
    """Split components that contain several change classes into one label per class.

    Labelling the union of the labelled classes once (as the read+label floor does) and
    then splitting the mixed components is cheaper than labelling every class on its
    own. The split works on the sparse pixels of the mixed components only: an
    8-neighbour graph between pixels of the same class, solved by connected_components.
    """
    cmin = np.minimum.reduceat(st.classes, st.starts)
    cmax = np.maximum.reduceat(st.classes, st.starts)
    mixed = np.flatnonzero(cmin != cmax)
    if mixed.size == 0:
        return False
    h, w = lab.shape
    lab_flat = lab.reshape(-1)
    data_flat = data.reshape(-1)
    # pixels of the mixed components (st.ids is grouped by label), sorted for lookups
    in_mixed = np.zeros(st.labels.size, dtype=bool)
    in_mixed[mixed] = True
    pix = st.ids[np.repeat(in_mixed, st.counts)]
    node = _scratch_int32(lab_flat.size)  # node index by window position, valid at pix only
    node[pix] = np.arange(pix.size, dtype=np.int32)
    rows, cols = pix // w, pix % w
    a_list, b_list = [], []
    for dr, dc in ((0, 1), (1, -1), (1, 0), (1, 1)):  # forward half of the 8 neighbours
        ok = (rows + dr < h) & (cols + dc >= 0) & (cols + dc < w)
        a = np.flatnonzero(ok)
        p = pix[a]
        q = p + (dr * w + dc)
        same = (lab_flat[q] == lab_flat[p]) & (data_flat[q] == data_flat[p])
        a_list.append(a[same])
        b_list.append(node[q[same]])  # q is in the same mixed component, so node[q] is set
    a, b = np.concatenate(a_list), np.concatenate(b_list)
    graph = coo_matrix((np.ones(a.size, dtype=np.int8), (a, b)), shape=(pix.size, pix.size)).tocsr()
    _, comp = connected_components(graph, directed=False)
    lab_flat[pix] = comp.astype(lab.dtype) + (int(st.labels.max()) + 1)
    return True


def window_scan(
    path: str | os.PathLike[str],
    *,
    window: WindowSpec,
    rules: ScanRules,
    units: Sequence[UnitShape],
    vectorise: bool = False,
) -> WindowResult:
    """Scan one window: classify, label, join with the units, keep what may qualify.

    With ``vectorise=True`` the qualifying pairs of patches lying wholly inside the
    window (most of them), and every pair of a part cut by a shared edge, come back
    already vectorised in ``WindowResult.shapes`` and end up in ``Patch.geometries``
    after the merge (a patch's parts dissolved); only pairs missing there need
    :func:`patch_vectorise`. That saves re-reading the file but makes the JSON about
    ten times larger (geometries), so it is off by default.
    """
    path = os.fspath(path)
    with rasterio.Env(), _open(path) as ds:  # one GDAL env for the read and rasterize calls
        return _window_scan_ds(ds, path, window, rules, _unit_index(units), vectorise)


def _window_scan_ds(
    ds: rasterio.DatasetReader,
    path: str,
    window: WindowSpec,
    rules: ScanRules,
    uindex: _UnitIndex,
    vectorise: bool = True,
    as_shapely: bool = False,
) -> WindowResult:
    win = window.rasterio_window
    data, mask, valid_pixels, counts = _classify(ds, path, win, rules)
    if mask is None:  # nothing of a class that qualifies anywhere: skip labelling
        return WindowResult.empty(window, valid_pixels=valid_pixels, changed_by_class=counts)
    h, w = window.height, window.width
    labelled = rules.labelled_classes
    lab, _ = ndimage.label(mask, structure=_EIGHT)
    idx = np.flatnonzero(mask)
    data_flat = data.reshape(-1)
    st = _label_stats(lab.reshape(-1), idx, data_flat, w)
    if rules.kind == KIND_LANDCOVER and sum(1 for c in labelled if counts[c]) > 1:
        if _split_mixed(lab, data, st):
            st = _label_stats(lab.reshape(-1), idx, data_flat, w)
    k = st.labels.size
    lab2part = np.full(int(st.labels.max()) + 1, -1, dtype=np.int64)
    lab2part[st.labels] = np.arange(k)
    part_class = st.classes[st.starts].astype(np.int64)
    if rules.kind == KIND_NDVI_DIFF:
        part_class[:] = 1

    # -- join with the units: rasterize only units whose class can use a class present here
    present_bits = sum(1 << c for c in labelled if counts.get(c))
    unit_rows = _i64((), 3)
    unit_area: np.ndarray = np.zeros(0, dtype=np.float64)
    pair_pixels = None
    transform = ds.transform
    info_bounds = _bounds_of(transform, window.row_off, window.col_off, window.row_off + h, window.col_off + w)
    cands = uindex.candidates(info_bounds, rules, present_bits)
    if cands.size:
        nc = cands.size
        # unit index (1-based into cands) at every labelled pixel. GDAL burns uint8
        # several times faster than wider types, so burn in batches of 255 units.
        u_at: np.ndarray = np.zeros(st.ids.size, dtype=np.int64)
        win_transform = ds.window_transform(win)
        px = max(abs(transform.a), abs(transform.b), abs(transform.d), abs(transform.e))
        clip_box = (info_bounds[0] - px, info_bounds[1] - px, info_bounds[2] + px, info_bounds[3] + px)
        clipped = uindex.clipped(cands, clip_box)
        if len(clipped) == 1 and _covers_box(clipped[0][1], info_bounds):
            u_at[:] = clipped[0][0] + 1  # one unit covers the whole window: no burn needed
            clipped = []
        for b0 in range(0, len(clipped), 255):
            batch = clipped[b0 : b0 + 255]
            burn = rasterio.features.rasterize(
                ((geom, i + 1) for i, (_pos, geom) in enumerate(batch)),
                out_shape=(h, w),
                transform=win_transform,
                fill=0,
                all_touched=False,
                dtype="uint8",
            )
            hit = burn.reshape(-1)[st.ids]
            pos = np.r_[0, [c + 1 for c, _g in batch]].astype(np.int64)
            u_at = np.where(hit > 0, pos[hit], u_at)  # later units win, like one burn
        bits = np.r_[0, uindex.class_bits(rules)[cands]]
        # st.classes is the change class per pixel (1 for ndvi_diff loss pixels)
        qual = ((bits[u_at] >> st.classes.astype(np.int64)) & 1).astype(bool)
        sel = np.flatnonzero(qual)
        if sel.size:
            part_at = np.repeat(np.arange(k, dtype=np.int64), st.counts)
            key = part_at[sel] * (nc + 1) + u_at[sel]
            ukey, inv = _unique_inverse(key, k * (nc + 1))
            row_areas = _row_areas_cached(ds.crs.to_wkt(), tuple(transform)[:6], ds.width, ds.height)
            pix_area = row_areas[window.row_off + st.ids[sel] // w]
            unit_rows = np.stack(
                [ukey // (nc + 1), uindex.ids[cands[(ukey % (nc + 1)) - 1]], np.bincount(inv).astype(np.int64)],
                axis=1,
            )
            unit_area = np.bincount(inv, weights=pix_area)
            pair_pixels = (st.ids[sel], inv)  # window position and unit_rows row of each pixel

    # -- edges shared with neighbouring windows
    edges: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    touches = np.zeros(k, dtype=bool)
    strips = {
        "top": (window.row_off > 0, lab[0, :]),
        "bottom": (window.row_off + h < ds.height, lab[h - 1, :]),
        "left": (window.col_off > 0, lab[:, 0]),
        "right": (window.col_off + w < ds.width, lab[:, w - 1]),
    }
    for name, (shared, strip) in strips.items():
        if not shared:
            edges[name] = (_i64(), _i64())
            continue
        pos = np.flatnonzero(strip)
        parts_on_edge = lab2part[strip[pos]]
        touches[parts_on_edge] = True
        edges[name] = (pos.astype(np.int64), parts_on_edge)

    # -- keep parts on shared edges and interior patches that qualify on their own
    keep = touches.copy()
    shapes: list[tuple[int, int, dict[str, Any]]] = []
    if unit_rows.size:
        qualifying = unit_area >= rules.min_area_m2
        keep[unit_rows[qualifying, 0]] = True
        if vectorise and pair_pixels is not None:
            # from the labels already in memory (no re-read, no re-rasterize): the qualifying
            # pairs of interior parts (whole patches) and every pair of a part cut by a shared
            # edge (whether its patch qualifies is known only after the merge, which then
            # dissolves the parts' polygons instead of reading the file again)
            todo = np.flatnonzero(qualifying | touches[unit_rows[:, 0]])
            if todo.size:
                shapes = _pairs_vectorise(
                    pair_pixels, todo, unit_rows, w, ds.window_transform(win), as_shapely=as_shapely
                )
    new_index = np.cumsum(keep) - 1
    if unit_rows.size:
        unit_keep = keep[unit_rows[:, 0]]
        unit_rows = unit_rows[unit_keep]
        unit_area = unit_area[unit_keep]
        unit_rows[:, 0] = new_index[unit_rows[:, 0]]
    shapes = [(int(new_index[pi]), uid, geom) for pi, uid, geom in shapes]
    edges = {name: (pos, new_index[pi]) for name, (pos, pi) in edges.items()}
    first = st.ids[st.starts]
    parts = np.stack(
        [
            part_class,
            window.row_off + first // w,
            window.col_off + first % w,
            window.row_off + st.rmin,
            window.col_off + st.cmin,
            window.row_off + st.rmax + 1,
            window.col_off + st.cmax + 1,
            st.counts,
        ],
        axis=1,
    ).astype(np.int64)[keep]
    return WindowResult(
        window=window,
        total_pixels=h * w,
        valid_pixels=valid_pixels,
        changed_by_class=counts,
        patches_dropped=int(k - np.count_nonzero(keep)),
        parts=parts,
        unit_rows=unit_rows,
        unit_area_m2=unit_area,
        edges=edges,
        shapes=shapes,
    )
