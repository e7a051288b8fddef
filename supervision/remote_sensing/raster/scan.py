"""A whole raster in one process or a local fork pool (tests, benchmarks, small files)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any

import rasterio
import rasterio.features
import rasterio.warp

from .label import _unit_index, _UnitIndex, _window_scan_ds
from .merge import patches_merge, window_split
from .reader import _open, raster_inspect, windows_plan
from .types import MergeResult, Patch, PatchShape, RasterInfo, ScanRules, UnitShape, WindowResult, WindowSpec
from .vectorise import _patch_vectorise_ds

# -------------------------------------------------------------- all in one process

_WORKER: dict[str, Any] = {}


def _worker_init(path: str, rules: ScanRules, units: Sequence[UnitShape], info: RasterInfo, vectorise: bool) -> None:
    _WORKER.update(path=path, rules=rules, units=units, info=info, index=_unit_index(units), vectorise=vectorise)


def _scan_windows(
    path: str, windows: Sequence[WindowSpec], rules: ScanRules, uindex: _UnitIndex, vectorise: bool
) -> list[WindowResult]:
    results: list[WindowResult] = []
    with rasterio.Env():
        for w in windows:
            # One open per window, as a Celery task does: closing the dataset drops its
            # blocks from GDAL's cache, which otherwise grows to GDAL_CACHEMAX (5 % of
            # RAM by default) although a block-aligned scan never reads a block twice.
            with _open(path) as ds:
                results.append(_window_scan_ds(ds, path, w, rules, uindex, vectorise))
    return results


def _worker_scan(windows: list[WindowSpec]) -> list[WindowResult]:
    return _scan_windows(_WORKER["path"], windows, _WORKER["rules"], _WORKER["index"], _WORKER["vectorise"])


def _worker_vectorise(jobs: list[tuple[Patch, int]]) -> list[PatchShape]:
    path, rules, info = _WORKER["path"], _WORKER["rules"], _WORKER["info"]
    by_id = {u.unit_id: u for u in _WORKER["units"]}
    return _shapes_of(path, [(p, by_id[uid]) for p, uid in jobs], rules, info)


def _shapes_of(
    path: str, jobs: Sequence[tuple[Patch, UnitShape]], rules: ScanRules, info: RasterInfo
) -> list[PatchShape]:
    ready = {i: _shape_of(None, path, p, rules, u, info) for i, (p, u) in enumerate(jobs) if u.unit_id in p.geometries}
    todo = [i for i in range(len(jobs)) if i not in ready]
    with rasterio.Env():
        for k in range(0, len(todo), 64):  # reopen now and then: bounds GDAL's block cache
            with _open(path) as ds:
                for i in todo[k : k + 64]:
                    p, unit = jobs[i]
                    ready[i] = _shape_of(ds, path, p, rules, unit, info)
    return [ready[i] for i in range(len(jobs))]


def _shape_of(
    ds: rasterio.DatasetReader, path: str, p: Patch, rules: ScanRules, unit: UnitShape, info: RasterInfo
) -> PatchShape:
    if unit.unit_id in p.geometries:
        pixels, area = p.units[unit.unit_id]
        return PatchShape(p.patch_key, unit.unit_id, p.change_class, p.geometries[unit.unit_id], pixels, area)
    v = _patch_vectorise_ds(ds, path, p, rules, unit, info)
    return PatchShape(p.patch_key, unit.unit_id, p.change_class, v["geometry"], v["pixels"], v["area_m2"])


def _chunks(items: list[Any], n: int) -> Iterable[list[Any]]:
    size = max(1, -(-len(items) // n))
    for i in range(0, len(items), size):
        yield items[i : i + size]


def scan_raster(
    path: str | os.PathLike[str],
    *,
    rules: ScanRules,
    units: Sequence[UnitShape],
    window_size: int = 2048,
    vectorise: bool = True,
    processes: int = 1,
) -> tuple[MergeResult, list[PatchShape]]:
    """Inspect, scan every window, merge and vectorise in this process (or a local pool).

    Returns the merge result and one PatchShape per qualifying (patch, unit) pair.
    ``processes > 1`` fans windows out over a fork-based process pool (tests and
    benchmarks; Celery does the fan-out in production).
    """
    path = os.fspath(path)
    info = raster_inspect(path, kind=rules.kind)
    plan = windows_plan(info, window_size=window_size)
    uindex = _unit_index(units)
    jobs: list[tuple[Patch, int]] = []
    by_id = {u.unit_id: u for u in units}
    if processes <= 1:
        results = _scan_windows(path, plan, rules, uindex, vectorise)
        merged = patches_merge(results, info=info, rules=rules)
        shapes: list[PatchShape] = []
        if vectorise:
            shapes = _shapes_of(path, [(p, by_id[uid]) for p in merged.patches for uid in p.units], rules, info)
        return merged, shapes

    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(
        processes, mp_context=ctx, initializer=_worker_init, initargs=(path, rules, units, info, vectorise)
    ) as pool:
        # many small chunks keep every process busy when windows differ in cost
        results = [r for chunk in pool.map(_worker_scan, list(_chunks(plan, processes * 16))) for r in chunk]
        merged = patches_merge(results, info=info, rules=rules)
        shapes = []
        if vectorise:
            jobs = [(p, uid) for p in merged.patches for uid in p.units if uid not in p.geometries]
            done = {
                (s.patch_key, s.unit_id): s
                for chunk in pool.map(_worker_vectorise, list(_chunks(jobs, processes * 16)))
                for s in chunk
            }
            for p in merged.patches:
                for uid in p.units:
                    if uid in p.geometries:
                        shapes.append(_shape_of(None, path, p, rules, by_id[uid], info))
                    else:
                        shapes.append(done[(p.patch_key, uid)])
    return merged, shapes


# GDAL's block cache while one dataset stays open for a whole task (MB): a block-aligned
# scan never reads a block twice, so a small cache bounds memory at no cost.
_TASK_CACHE_MB = 64


def window_finish(
    path: str | os.PathLike[str],
    *,
    window: WindowSpec,
    rules: ScanRules,
    units: Sequence[UnitShape],
    info: RasterInfo,
    as_shapely: bool = False,
) -> tuple[WindowResult, list[Patch]]:
    """One window task's whole job, with the raster opened once.

    Scans the window (vectorising while the labels are in memory) and splits the result
    with :func:`~.merge.window_split`: every patch wholly inside the window comes back
    finished, with pixels, area and geometry for each qualifying unit; the WindowResult
    keeps only the parts cut by window edges, for :func:`patches_merge`.
    With ``as_shapely`` the finished geometries are shapely MultiPolygons instead of
    GeoJSON mappings (cheaper for a caller that reprojects and writes WKB).
    """
    from shapely.geometry import mapping, shape

    path = os.fspath(path)
    by_id = {u.unit_id: u for u in units}
    with rasterio.Env(GDAL_CACHEMAX=_TASK_CACHE_MB), _open(path) as ds:
        result = _window_scan_ds(ds, path, window, rules, _unit_index(units), True, as_shapely)
        edge_only, finished = window_split(result, rules=rules)
        for p in finished:  # a pair the labels could not vectorise (none today): read it again
            for uid in p.units:
                if uid not in p.geometries:
                    g = _patch_vectorise_ds(ds, path, p, rules, by_id[uid], info)["geometry"]
                    p.geometries[uid] = shape(g) if as_shapely else g
    if as_shapely and edge_only.shapes:  # only interior parts are vectorised, but keep the JSON plain
        edge_only.shapes = [(pi, uid, g if isinstance(g, dict) else mapping(g)) for pi, uid, g in edge_only.shapes]
    return edge_only, finished


def patches_vectorise(
    path: str | os.PathLike[str], jobs: Sequence[tuple[Patch, UnitShape]], *, rules: ScanRules, info: RasterInfo
) -> list[PatchShape]:
    """One PatchShape per (patch, unit) job, reading the raster through ONE open dataset."""
    path = os.fspath(path)
    out: list[PatchShape] = []
    with rasterio.Env(GDAL_CACHEMAX=_TASK_CACHE_MB), _open(path) as ds:
        for p, unit in jobs:
            out.append(_shape_of(ds, path, p, rules, unit, info))
    return out
