"""Pure raster-scan core for change-detection layers: paths in, dataclasses out.

A package: ``types`` (value types, errors), ``reader`` (open, validate, plan windows,
read and classify, pixel areas), ``label`` (one window), ``vectorise``, ``merge``
(windows joined), ``scan`` (a whole raster in one process) and ``chips`` (PNG
evidence). Everything public is imported here, so
``from supervision.remote_sensing.raster import X`` is the API.

No Django here. The Django side (``remote_sensing.services`` / ``tasks``) registers a
layer with :func:`raster_inspect`, plans windows with :func:`windows_plan`, fans
:func:`window_scan` out over Celery workers (every argument and result has
``to_dict``/``from_dict`` for JSON), joins the results with :func:`patches_merge` in
the chord callback and vectorises the qualifying patches with :func:`patch_vectorise`.
:func:`scan_raster` does all of that in one process (tests, benchmarks, small files).

Domain rules (see ../shared/DOMAIN.md):

* kind ``landcover``: uint8 classes, 0 no change, 1 vegetation loss, 2 new
  construction, 3 water change, 4 excavation / bare soil. Other values count as valid
  "no change". The nodata value (if set) and the dataset mask are ignored. A landcover
  raster WITHOUT a nodata value is accepted and means "every pixel is valid" (a 0 is
  then a real "no change"); a nodata value equal to a change class (1..4) is refused
  with :class:`RasterNodataError`, since it would hide that class.
* kind ``ndvi_diff``: float32/float64 NDVI difference; a valid pixel with value
  < ``threshold`` is class 1 (vegetation loss). NaN, the nodata value and masked
  pixels are ignored.
* A *patch* is an 8-connected region of one change class over the whole raster
  (windows are joined by :func:`patches_merge`). A (patch, unit) pair qualifies when
  the class qualifies for the unit's class (``ScanRules.classes_by_unit_class``) and
  the patch's area inside the unit is >= ``min_area_m2``. "Inside" means the pixel
  centre lies in the unit polygon (``rasterize`` with ``all_touched=False``). Units
  are expected not to overlap; where they do, a pixel belongs to the unit listed last.
* Pixel areas: per raster row, the geodesic area on the CRS's own ellipsoid of the
  pixel quadrilateral at the middle column (corners transformed to the CRS's geodetic
  lon/lat, ``pyproj.Geod.polygon_area_perimeter``). It is sampled every
  ``_ROW_AREA_STRIDE`` rows and linearly interpolated in between (the area is smooth
  in the row; the interpolation error is far below 1e-6 relative for real pixels).
  So a UTM raster gets true ground area (not grid area) and a lon/lat raster gets
  areas that shrink with latitude.

Pixel coordinates are global (row, col) of the whole raster; bboxes are
``(row_min, col_min, row_max, col_max)`` with the maxima exclusive.

For the Celery side:

* Pass each :func:`window_scan` only the units whose box meets
  :func:`window_bounds` (reprojected into the raster CRS, GeoJSON-like mappings) and
  whose class qualifies for some class in ``ScanRules.labelled_classes``; the scan
  filters by box again, so passing more is correct, only slower.
* ``WindowResult.to_dict()`` is about 10 KB for a 2048² window with 2 % change
  (edge strips are stored sparsely, interior non-qualifying patches only counted);
  with ``vectorise=True`` it also carries the polygons of whole qualifying patches
  and of every part cut by a shared edge (about 140 KB), which then arrive in
  ``Patch.geometries`` (a patch's parts dissolved by the merge) and need no
  :func:`patch_vectorise`.
* A merge needs every window: ``MergeResult.complete`` is False when results are
  missing. The same raster always yields the same ``patch_key`` values, whatever
  the window size, so keys can be upserted on.
* Unit lists and unit shapes are prepared once and cached by identity; do not mutate
  a list after scanning with it. Nothing here is thread-safe across threads sharing
  one call, but separate processes (Celery prefork) are fine.
* GDAL keeps read blocks in its cache until the dataset closes; each call here opens
  and closes its own dataset, so a long-lived worker does not grow.
"""

from __future__ import annotations

from .label import window_scan
from .merge import patches_merge, window_split
from .reader import (
    bbox_bounds,
    pixel_row_areas,
    raster_check_overlap,
    raster_inspect,
    source_gdal_path,
    source_is_remote,
    window_bounds,
    windows_plan,
)
from .scan import patches_vectorise, scan_raster, window_finish
from .types import (
    CHANGE_CLASSES,
    KIND_LANDCOVER,
    KIND_NDVI_DIFF,
    KINDS,
    MergeResult,
    Patch,
    PatchPart,
    PatchShape,
    RasterCRSError,
    RasterDtypeError,
    RasterError,
    RasterInfo,
    RasterNodataError,
    RasterOpenError,
    RasterOverlapError,
    ScanRules,
    UnitShape,
    WindowResult,
    WindowSpec,
)
from .vectorise import patch_vectorise

__all__ = [
    "KIND_LANDCOVER",
    "KIND_NDVI_DIFF",
    "KINDS",
    "CHANGE_CLASSES",
    "RasterError",
    "RasterOpenError",
    "RasterCRSError",
    "RasterDtypeError",
    "RasterNodataError",
    "RasterOverlapError",
    "RasterInfo",
    "WindowSpec",
    "UnitShape",
    "ScanRules",
    "WindowResult",
    "PatchPart",
    "Patch",
    "MergeResult",
    "PatchShape",
    "raster_inspect",
    "source_gdal_path",
    "source_is_remote",
    "raster_check_overlap",
    "windows_plan",
    "window_bounds",
    "bbox_bounds",
    "pixel_row_areas",
    "window_scan",
    "patches_merge",
    "patch_vectorise",
    "scan_raster",
    "window_split",
    "window_finish",
    "patches_vectorise",
]
