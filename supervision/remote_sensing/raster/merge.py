"""Joining the window results: partial patches cut by window edges become whole patches."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from .types import (
    _PART_COLS,
    CHANGE_CLASSES,
    KIND_NDVI_DIFF,
    MergeResult,
    Patch,
    PatchPart,
    RasterInfo,
    ScanRules,
    WindowResult,
    _i64,
)

# -------------------------------------------------------------------------- merge


def _edge_pixels(res: WindowResult, base: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    w = res.window
    rows, cols, gids = [], [], []
    for name, (pos, pi) in res.edges.items():
        if pos.size == 0:
            continue
        if name == "top":
            r, c = np.full(pos.size, w.row_off), w.col_off + pos
        elif name == "bottom":
            r, c = np.full(pos.size, w.row_off + w.height - 1), w.col_off + pos
        elif name == "left":
            r, c = w.row_off + pos, np.full(pos.size, w.col_off)
        else:
            r, c = w.row_off + pos, np.full(pos.size, w.col_off + w.width - 1)
        rows.append(r)
        cols.append(c)
        gids.append(base + pi)
    if not rows:
        return _i64(), _i64(), _i64()
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(gids)


def patches_merge(results: Sequence[WindowResult], *, info: RasterInfo, rules: ScanRules) -> MergeResult:
    """Join partial patches across window edges (same class, 8-connected) and keep qualifying ones."""
    width, height = info.width, info.height
    total = sum(r.total_pixels for r in results)
    valid = sum(r.valid_pixels for r in results)
    by_class = {c: sum(r.changed_by_class.get(c, 0) for r in results) for c in CHANGE_CLASSES}
    if rules.kind == KIND_NDVI_DIFF:
        by_class = {1: by_class[1]}
    dropped = sum(r.patches_dropped for r in results)
    bases = np.cumsum([0] + [r.parts.shape[0] for r in results])
    n = int(bases[-1])
    parts = np.concatenate([r.parts for r in results]) if n else _i64((), _PART_COLS)

    # -- union-find by graph components over edge contacts
    er, ec, eg = [], [], []
    for res, base in zip(results, bases[:-1], strict=False):
        r, c, g = _edge_pixels(res, int(base))
        er.append(r)
        ec.append(c)
        eg.append(g)
    rows = np.concatenate(er) if er else _i64()
    cols = np.concatenate(ec) if ec else _i64()
    gids = np.concatenate(eg) if eg else _i64()
    a_list, b_list = [], []
    if rows.size:
        keys = rows * width + cols
        order = np.argsort(keys, kind="stable")
        skeys, sgids = keys[order], gids[order]
        pclass = parts[:, 0]
        for dr, dc in ((0, 1), (1, -1), (1, 0), (1, 1)):  # the other four are symmetric
            ok = (rows + dr < height) & (cols + dc >= 0) & (cols + dc < width)
            nk = (rows + dr) * width + cols + dc
            pos = np.searchsorted(skeys, nk)
            pos[pos >= skeys.size] = 0
            found = ok & (skeys[pos] == nk)
            a, b = gids[found], sgids[pos[found]]
            same = (a != b) & (pclass[a] == pclass[b])
            a_list.append(a[same])
            b_list.append(b[same])
    if a_list and sum(x.size for x in a_list):
        a = np.concatenate(a_list)
        b = np.concatenate(b_list)
        graph = coo_matrix((np.ones(a.size, dtype=np.int8), (a, b)), shape=(n, n)).tocsr()
        ncomp, comp = connected_components(graph, directed=False)
    else:
        ncomp, comp = n, np.arange(n)
    comp = comp.astype(np.int64)

    # -- aggregate per whole patch
    seed_key = parts[:, 1] * width + parts[:, 2]
    min_seed = np.full(ncomp, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(min_seed, comp, seed_key)
    bbox_min = np.full((ncomp, 2), np.iinfo(np.int64).max, dtype=np.int64)
    bbox_max = np.full((ncomp, 2), -1, dtype=np.int64)
    for j, col in enumerate((3, 4)):
        np.minimum.at(bbox_min[:, j], comp, parts[:, col])
    for j, col in enumerate((5, 6)):
        np.maximum.at(bbox_max[:, j], comp, parts[:, col])
    pixels = np.bincount(comp, weights=parts[:, 7], minlength=ncomp).astype(np.int64)
    comp_class = np.zeros(ncomp, dtype=np.int64)
    comp_class[comp] = parts[:, 0]

    unit_rows = (
        np.concatenate(
            [r.unit_rows[:, :] + np.array([base, 0, 0]) for r, base in zip(results, bases[:-1], strict=False)]
        )
        if n
        else _i64((), 3)
    )
    unit_area = np.concatenate([r.unit_area_m2 for r in results]) if n else np.zeros(0)
    patches: list[Patch] = []
    if unit_rows.size:
        ucomp = comp[unit_rows[:, 0]]
        pair = np.stack([ucomp, unit_rows[:, 1]], axis=1)
        upairs, inv = np.unique(pair, axis=0, return_inverse=True)
        inv = inv.reshape(-1)
        upix = np.bincount(inv, weights=unit_rows[:, 2]).astype(np.int64)
        uarea = np.bincount(inv, weights=unit_area)
        ok = uarea >= rules.min_area_m2
        qual_units: dict[int, dict[int, tuple[int, float]]] = {}
        for (cid, uid), p, ar in zip(upairs[ok].tolist(), upix[ok].tolist(), uarea[ok].tolist(), strict=False):
            qual_units.setdefault(cid, {})[uid] = (p, ar)
        # parts of qualifying patches that touch their qualifying units (for vectorising)
        part_units: dict[int, set[int]] = {}
        for gid, uid in unit_rows[ok[inv], :2].tolist():  # rows of qualifying (patch, unit) pairs
            part_units.setdefault(gid, set()).add(uid)
        parts_of: dict[int, list[PatchPart]] = {}
        for gid in sorted(part_units):
            p = parts[gid]
            parts_of.setdefault(int(comp[gid]), []).append(
                PatchPart(
                    (int(p[1]), int(p[2])), (int(p[3]), int(p[4]), int(p[5]), int(p[6])), tuple(sorted(part_units[gid]))
                )
            )
        # the windows' polygons of the parts; a pair gets its geometry when every part of
        # the patch in that unit came with one (the parts dissolved), else it is vectorised later
        pieces: dict[tuple[int, int], list[Any]] = {}
        for res, base in zip(results, bases[:-1], strict=False):
            for part, uid, geom in res.shapes:
                cid = int(comp[int(base) + part])
                if cid in qual_units and uid in qual_units[cid]:
                    pieces.setdefault((cid, uid), []).append(geom)
        needed: dict[tuple[int, int], int] = {}
        for gid, uids in part_units.items():
            for uid in uids:
                needed[(int(comp[gid]), uid)] = needed.get((int(comp[gid]), uid), 0) + 1
        shapes_of: dict[int, dict[int, Any]] = {}
        for (cid, uid), geoms in pieces.items():
            if len(geoms) == needed.get((cid, uid)):
                shapes_of.setdefault(cid, {})[uid] = geoms[0] if len(geoms) == 1 else _dissolved(geoms)
        for cid, units in qual_units.items():
            sr, sc = divmod(int(min_seed[cid]), width)
            cls = int(comp_class[cid])
            patches.append(
                Patch(
                    patch_key=f"{cls}-{sr}-{sc}",
                    change_class=cls,
                    bbox=(int(bbox_min[cid, 0]), int(bbox_min[cid, 1]), int(bbox_max[cid, 0]), int(bbox_max[cid, 1])),
                    seed=(sr, sc),
                    pixels=int(pixels[cid]),
                    units=dict(sorted(units.items())),
                    parts=tuple(sorted(parts_of.get(cid, []), key=lambda pp: pp.seed)),
                    geometries=shapes_of.get(cid, {}),
                )
            )
    patches.sort(key=lambda p: (p.seed, p.change_class))
    covered = total == width * height
    return MergeResult(
        patches=patches,
        total_pixels=total,
        valid_pixels=valid,
        valid_fraction=(valid / total) if total else 0.0,
        changed_pixels=sum(by_class.values()),
        changed_by_class=by_class,
        patches_total=dropped + int(ncomp),
        patches_qualifying=len(patches),
        windows=len(results),
        complete=covered,
    )


def _dissolved(geoms: list[Any]) -> Any:
    """Parts' polygons dissolved, in the form they came in (GeoJSON mappings, or shapely)."""
    from shapely.geometry import mapping

    from .vectorise import parts_dissolve

    merged = parts_dissolve(geoms)
    return mapping(merged) if isinstance(geoms[0], dict) else merged


def window_split(result: WindowResult, *, rules: ScanRules) -> tuple[WindowResult, list[Patch]]:
    """Split a window's result into what the merge needs and the patches this window finishes.

    A part that touches no edge shared with another window is a whole patch: its
    qualifying (patch, unit) pairs are final here (pixels, area, and the geometry when the
    window was scanned with ``vectorise=True``). They come back as :class:`Patch` values
    (``patch_key`` as the merge would give it); the returned WindowResult keeps only the
    parts cut by window edges, so :func:`patches_merge` works on edge patches alone. The
    finished patches are counted in ``patches_dropped``, so ``patches_total`` stays right.
    """
    n = result.parts.shape[0]
    touches = np.zeros(n, dtype=bool)
    for _pos, pi in result.edges.values():
        touches[pi] = True
    finished: list[Patch] = []
    units_of: dict[int, dict[int, tuple[int, float]]] = {}
    for (pi, uid, pix), area in zip(result.unit_rows.tolist(), result.unit_area_m2.tolist(), strict=False):
        if not touches[pi] and area >= rules.min_area_m2:
            units_of.setdefault(pi, {})[uid] = (pix, area)
    geoms: dict[int, dict[int, dict[str, Any]]] = {}
    for pi, uid, geom in result.shapes:
        if not touches[pi]:
            geoms.setdefault(pi, {})[uid] = geom
    for pi in sorted(units_of):
        cls, sr, sc, r0, c0, r1, c1, pixels = (int(v) for v in result.parts[pi])
        units = dict(sorted(units_of[pi].items()))
        finished.append(
            Patch(
                patch_key=f"{cls}-{sr}-{sc}",
                change_class=cls,
                bbox=(r0, c0, r1, c1),
                seed=(sr, sc),
                pixels=pixels,
                units=units,
                parts=(PatchPart((sr, sc), (r0, c0, r1, c1), tuple(units)),),
                geometries={uid: g for uid, g in geoms.get(pi, {}).items() if uid in units},
            )
        )
    new_index = np.cumsum(touches) - 1
    unit_keep = touches[result.unit_rows[:, 0]] if result.unit_rows.size else np.zeros(0, dtype=bool)
    unit_rows = result.unit_rows[unit_keep].copy()
    if unit_rows.size:
        unit_rows[:, 0] = new_index[unit_rows[:, 0]]
    edge_only = WindowResult(
        window=result.window,
        total_pixels=result.total_pixels,
        valid_pixels=result.valid_pixels,
        changed_by_class=result.changed_by_class,
        patches_dropped=result.patches_dropped + int(n - np.count_nonzero(touches)),
        parts=result.parts[touches],
        unit_rows=unit_rows,
        unit_area_m2=result.unit_area_m2[unit_keep],
        edges={name: (pos, new_index[pi]) for name, (pos, pi) in result.edges.items()},
        shapes=[(int(new_index[pi]), uid, g) for pi, uid, g in result.shapes if touches[pi]],
    )
    return edge_only, finished
