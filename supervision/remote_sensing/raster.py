"""Pure raster-scan core for change-detection layers: paths in, dataclasses out.

No Django here. The Django side (``remote_sensing.services`` / ``tasks``) registers a
layer with :func:`raster_inspect`, plans windows with :func:`windows_plan`, fans
:func:`window_scan` out over Celery workers (every argument and result has
``to_dict``/``from_dict`` for JSON), joins the results with :func:`patches_merge` in
the chord callback and vectorises the qualifying patches with :func:`patch_vectorise`.
:func:`scan_raster` does all of that in one process (tests, benchmarks, small files).

Domain rules (see /work/shared/DOMAIN.md):

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
  (about 140 KB), which then arrive in ``Patch.geometries`` and need no
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

import functools
import math
import os
import threading
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import rasterio
import rasterio.features
import rasterio.warp
from affine import Affine
from pyproj import CRS, Geod, Transformer
from rasterio.enums import MaskFlags
from rasterio.errors import NotGeoreferencedWarning, RasterioError
from rasterio.windows import Window
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

__all__ = [
    "KIND_LANDCOVER",
    "KIND_NDVI_DIFF",
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
    "raster_check_overlap",
    "windows_plan",
    "window_bounds",
    "bbox_bounds",
    "pixel_row_areas",
    "window_scan",
    "patches_merge",
    "patch_vectorise",
    "scan_raster",
]

KIND_LANDCOVER = "landcover"
KIND_NDVI_DIFF = "ndvi_diff"
KINDS = (KIND_LANDCOVER, KIND_NDVI_DIFF)

# Legend of the landcover change layers. An ndvi_diff layer only yields class 1.
CHANGE_CLASSES: dict[int, str] = {
    1: "vegetation loss",
    2: "new construction",
    3: "water change",
    4: "excavation / bare soil",
}
_DTYPES = {
    KIND_LANDCOVER: ("uint8",),
    KIND_NDVI_DIFF: ("float32", "float64"),
}
_EIGHT = np.ones((3, 3), dtype=bool)  # 8-connectivity
_ROW_AREA_STRIDE = 32  # rows between exact geodesic pixel-area samples


# --------------------------------------------------------------------------- errors


class RasterError(Exception):
    """A raster file the scan cannot use; the message names the file and the problem."""


class RasterOpenError(RasterError):
    """Missing, truncated or corrupt file."""


class RasterCRSError(RasterError):
    """No coordinate reference system or no geotransform."""


class RasterDtypeError(RasterError):
    """The data type does not fit the layer kind."""


class RasterNodataError(RasterError):
    """The nodata value cannot be honoured for this kind."""


class RasterOverlapError(RasterError):
    """The raster does not overlap the area it is supposed to cover."""


# ---------------------------------------------------------------------- value types


@dataclass(frozen=True)
class RasterInfo:
    """What :func:`raster_inspect` learned about a change layer."""

    path: str
    kind: str
    width: int
    height: int
    crs_wkt: str
    transform: tuple[float, float, float, float, float, float]  # affine a, b, c, d, e, f
    dtype: str
    nodata: float | None
    bounds: tuple[float, float, float, float]  # minx, miny, maxx, maxy in the raster CRS
    block_shape: tuple[int, int]  # rows, cols

    @property
    def affine(self) -> Affine:
        return Affine(*self.transform)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind,
            "width": self.width,
            "height": self.height,
            "crs_wkt": self.crs_wkt,
            "transform": list(self.transform),
            "dtype": self.dtype,
            "nodata": _nodata_to_json(self.nodata),
            "bounds": list(self.bounds),
            "block_shape": list(self.block_shape),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> RasterInfo:
        return cls(
            path=d["path"],
            kind=d["kind"],
            width=int(d["width"]),
            height=int(d["height"]),
            crs_wkt=d["crs_wkt"],
            transform=tuple(float(v) for v in d["transform"]),  # type: ignore[arg-type]
            dtype=d["dtype"],
            nodata=_nodata_from_json(d["nodata"]),
            bounds=tuple(float(v) for v in d["bounds"]),  # type: ignore[arg-type]
            block_shape=(int(d["block_shape"][0]), int(d["block_shape"][1])),
        )


@dataclass(frozen=True)
class WindowSpec:
    """One block-aligned window of the raster, in pixels."""

    row_off: int
    col_off: int
    height: int
    width: int

    def to_dict(self) -> dict[str, int]:
        return {"row_off": self.row_off, "col_off": self.col_off, "height": self.height, "width": self.width}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> WindowSpec:
        return cls(int(d["row_off"]), int(d["col_off"]), int(d["height"]), int(d["width"]))

    @property
    def rasterio_window(self) -> Window:
        return Window(self.col_off, self.row_off, self.width, self.height)


@dataclass(frozen=True)
class UnitShape:
    """A control unit; ``geometry`` is a GeoJSON-like (Multi)Polygon ALREADY in the raster CRS."""

    unit_id: int
    unit_class: str  # 'priority' | 'key' | 'general' (keys of ScanRules.classes_by_unit_class)
    geometry: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"unit_id": self.unit_id, "unit_class": self.unit_class, "geometry": dict(self.geometry)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> UnitShape:
        return cls(int(d["unit_id"]), str(d["unit_class"]), d["geometry"])


def _default_classes() -> dict[str, tuple[int, ...]]:
    return {"priority": (1, 2, 4), "key": (2, 4), "general": ()}


@dataclass(frozen=True)
class ScanRules:
    """Which change classes qualify in which unit class, and the area threshold."""

    kind: str
    threshold: float = -0.2  # ndvi_diff only: value < threshold is vegetation loss
    min_area_m2: float = 1000.0
    classes_by_unit_class: Mapping[str, tuple[int, ...]] = field(default_factory=_default_classes)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Unknown change layer kind {self.kind!r}; expected one of {KINDS}.")
        if not (self.min_area_m2 >= 0):
            raise ValueError(f"min_area_m2 must be >= 0, got {self.min_area_m2!r}.")
        normalised = {}
        for unit_class, classes in self.classes_by_unit_class.items():
            classes = tuple(sorted({int(c) for c in classes}))
            bad = [c for c in classes if c not in CHANGE_CLASSES]
            if bad:
                raise ValueError(f"Change classes {bad} for unit class {unit_class!r} are not in the legend 1..4.")
            normalised[str(unit_class)] = classes
        object.__setattr__(self, "classes_by_unit_class", normalised)

    def classes_for(self, unit_class: str) -> tuple[int, ...]:
        """Qualifying change classes of a unit class; an unknown unit class qualifies none."""
        return self.classes_by_unit_class.get(unit_class, ())

    @property
    def labelled_classes(self) -> tuple[int, ...]:
        """Change classes that qualify in some unit class: the only ones we label."""
        classes = {c for cs in self.classes_by_unit_class.values() for c in cs}
        if self.kind == KIND_NDVI_DIFF:
            classes &= {1}
        return tuple(sorted(classes))

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "threshold": self.threshold,
            "min_area_m2": self.min_area_m2,
            "classes_by_unit_class": {k: list(v) for k, v in self.classes_by_unit_class.items()},
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ScanRules:
        return cls(
            kind=d["kind"],
            threshold=float(d["threshold"]),
            min_area_m2=float(d["min_area_m2"]),
            classes_by_unit_class={k: tuple(v) for k, v in d["classes_by_unit_class"].items()},
        )


def _i64(values: Any = (), ncols: int | None = None) -> np.ndarray:
    a = np.asarray(values, dtype=np.int64)
    if ncols is not None:
        a = a.reshape(-1, ncols)
    return a


_EDGES = ("top", "bottom", "left", "right")
_PART_COLS = 8  # change_class, seed_row, seed_col, row_min, col_min, row_max, col_max, pixels


@dataclass
class WindowResult:
    """What one window contributes: pixel counts, partial patches and their edge contacts.

    ``parts`` is an int64 array (k, 8): change_class, seed_row, seed_col, row_min,
    col_min, row_max, col_max (exclusive), pixels — global pixel coordinates; the seed
    is the part's first pixel in row-major order. Kept parts are those touching an
    edge shared with another window, plus interior patches that qualify on their own;
    other interior patches are only counted in ``patches_dropped``.
    ``unit_rows`` (u, 3): part index, unit_id, pixels and ``unit_area_m2`` (u,): the
    part's pixels inside each unit whose class the part's class qualifies for.
    ``edges[name] = (positions, part indices)`` for the labelled pixels along each edge
    the window shares with a neighbour ('top', 'bottom', 'left', 'right'; positions
    along the edge, from the window's top-left). Raster-border edges stay empty.
    """

    window: WindowSpec
    total_pixels: int
    valid_pixels: int
    changed_by_class: dict[int, int]
    patches_dropped: int
    parts: np.ndarray
    unit_rows: np.ndarray
    unit_area_m2: np.ndarray
    edges: dict[str, tuple[np.ndarray, np.ndarray]]
    # (part index, unit_id, GeoJSON MultiPolygon in the raster CRS) for qualifying pairs
    # of interior parts (whole patches), vectorised while the labels were in memory
    shapes: list[tuple[int, int, dict[str, Any]]] = field(default_factory=list)

    @classmethod
    def empty(cls, window: WindowSpec, *, valid_pixels: int, changed_by_class: dict[int, int]) -> WindowResult:
        empty_edge = (_i64(), _i64())
        return cls(
            window=window,
            total_pixels=window.height * window.width,
            valid_pixels=valid_pixels,
            changed_by_class=changed_by_class,
            patches_dropped=0,
            parts=_i64((), _PART_COLS),
            unit_rows=_i64((), 3),
            unit_area_m2=np.zeros(0, dtype=np.float64),
            edges={name: empty_edge for name in _EDGES},
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "window": self.window.to_dict(),
            "total_pixels": self.total_pixels,
            "valid_pixels": self.valid_pixels,
            "changed_by_class": {str(k): v for k, v in self.changed_by_class.items()},
            "patches_dropped": self.patches_dropped,
            "parts": self.parts.tolist(),
            "unit_rows": self.unit_rows.tolist(),
            "unit_area_m2": self.unit_area_m2.tolist(),
            "edges": {k: [pos.tolist(), idx.tolist()] for k, (pos, idx) in self.edges.items()},
            "shapes": [[part, unit_id, geom] for part, unit_id, geom in self.shapes],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> WindowResult:
        return cls(
            window=WindowSpec.from_dict(d["window"]),
            total_pixels=int(d["total_pixels"]),
            valid_pixels=int(d["valid_pixels"]),
            changed_by_class={int(k): int(v) for k, v in d["changed_by_class"].items()},
            patches_dropped=int(d["patches_dropped"]),
            parts=_i64(d["parts"], _PART_COLS),
            unit_rows=_i64(d["unit_rows"], 3),
            unit_area_m2=np.asarray(d["unit_area_m2"], dtype=np.float64),
            edges={k: (_i64(v[0]), _i64(v[1])) for k, v in d["edges"].items()},
            shapes=[(int(p), int(u), g) for p, u, g in d.get("shapes", [])],
        )


@dataclass(frozen=True, slots=True)
class PatchPart:
    """The piece of a patch inside one window that touches qualifying units."""

    seed: tuple[int, int]
    bbox: tuple[int, int, int, int]
    unit_ids: tuple[int, ...]


@dataclass(slots=True)
class Patch:
    """A whole (merged) change patch with at least one qualifying unit."""

    patch_key: str  # "<class>-<seed_row>-<seed_col>", stable for the same raster
    change_class: int
    bbox: tuple[int, int, int, int]  # global pixels, maxima exclusive
    seed: tuple[int, int]  # first pixel in row-major order
    pixels: int  # all pixels of the patch, inside units or not
    units: dict[int, tuple[int, float]]  # qualifying units only: unit_id -> (pixels, area_m2)
    parts: tuple[PatchPart, ...]
    # unit_id -> GeoJSON MultiPolygon (raster CRS) when a window already vectorised the
    # pair; the other qualifying units need patch_vectorise()
    geometries: dict[int, dict[str, Any]] = field(default_factory=dict)

    @property
    def seeds(self) -> list[tuple[int, int]]:
        return [p.seed for p in self.parts]

    def to_dict(self) -> dict[str, Any]:
        return {
            "patch_key": self.patch_key,
            "change_class": self.change_class,
            "bbox": list(self.bbox),
            "seed": list(self.seed),
            "pixels": self.pixels,
            "units": {str(k): [v[0], v[1]] for k, v in self.units.items()},
            "parts": [[list(p.seed), list(p.bbox), list(p.unit_ids)] for p in self.parts],
            "geometries": {str(k): v for k, v in self.geometries.items()},
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Patch:
        return cls(
            patch_key=d["patch_key"],
            change_class=int(d["change_class"]),
            bbox=tuple(int(v) for v in d["bbox"]),  # type: ignore[arg-type]
            seed=(int(d["seed"][0]), int(d["seed"][1])),
            pixels=int(d["pixels"]),
            units={int(k): (int(v[0]), float(v[1])) for k, v in d["units"].items()},
            parts=tuple(
                PatchPart(
                    (int(s[0]), int(s[1])),
                    tuple(int(v) for v in b),  # type: ignore[arg-type]
                    tuple(int(u) for u in us),
                )
                for s, b, us in d["parts"]
            ),
            geometries={int(k): v for k, v in d.get("geometries", {}).items()},
        )


@dataclass
class MergeResult:
    """Qualifying patches of a whole raster and the layer-level counts."""

    patches: list[Patch]
    total_pixels: int
    valid_pixels: int
    valid_fraction: float  # 0.0 when the raster is all nodata: "no data", not "no change"
    changed_pixels: int  # valid pixels of any change class 1..4
    changed_by_class: dict[int, int]
    patches_total: int  # patches of classes that qualify in some unit class
    patches_qualifying: int
    windows: int
    complete: bool  # the windows cover the whole raster (no task result missing)

    def to_dict(self) -> dict[str, Any]:
        return {
            "patches": [p.to_dict() for p in self.patches],
            "total_pixels": self.total_pixels,
            "valid_pixels": self.valid_pixels,
            "valid_fraction": self.valid_fraction,
            "changed_pixels": self.changed_pixels,
            "changed_by_class": {str(k): v for k, v in self.changed_by_class.items()},
            "patches_total": self.patches_total,
            "patches_qualifying": self.patches_qualifying,
            "windows": self.windows,
            "complete": self.complete,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> MergeResult:
        return cls(
            patches=[Patch.from_dict(p) for p in d["patches"]],
            total_pixels=int(d["total_pixels"]),
            valid_pixels=int(d["valid_pixels"]),
            valid_fraction=float(d["valid_fraction"]),
            changed_pixels=int(d["changed_pixels"]),
            changed_by_class={int(k): int(v) for k, v in d["changed_by_class"].items()},
            patches_total=int(d["patches_total"]),
            patches_qualifying=int(d["patches_qualifying"]),
            windows=int(d["windows"]),
            complete=bool(d["complete"]),
        )


@dataclass(slots=True)
class PatchShape:
    """A vectorised (patch, unit) pair, as :func:`scan_raster` returns it."""

    patch_key: str
    unit_id: int
    change_class: int
    geometry: dict[str, Any]  # GeoJSON MultiPolygon in the raster CRS
    pixels: int
    area_m2: float


# ------------------------------------------------------------------------ helpers


def _nodata_to_json(v: float | None) -> float | str | None:
    if v is not None and math.isnan(v):
        return "nan"
    return v


def _nodata_from_json(v: Any) -> float | None:
    if v is None:
        return None
    return float("nan") if v == "nan" else float(v)


def _open(path: str | os.PathLike[str]) -> rasterio.DatasetReader:
    path = os.fspath(path)
    if not os.path.exists(path):
        raise RasterOpenError(f"Raster file '{path}' does not exist.")
    try:
        with warnings.catch_warnings():
            # raster_inspect refuses such files with a RasterCRSError of its own
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            return rasterio.open(path)
    except RasterioError as exc:
        raise RasterOpenError(f"Raster file '{path}' cannot be opened as a raster ({_short(exc)}).") from exc


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:200].rstrip(".")


def _read(ds: rasterio.DatasetReader, path: str, window: Window, **kwargs: Any) -> np.ndarray:
    try:
        return ds.read(1, window=window, **kwargs)
    except RasterioError as exc:
        raise RasterOpenError(
            f"Raster file '{path}' is truncated or corrupt: reading window {window.flatten()} failed ({_short(exc)})."
        ) from exc


def _has_dataset_mask(ds: rasterio.DatasetReader) -> bool:
    flags = ds.mask_flag_enums[0]
    return MaskFlags.per_dataset in flags or MaskFlags.alpha in flags


_TIFF_TYPES = {3: ("H", 2), 4: ("I", 4), 16: ("Q", 8)}  # SHORT, LONG, LONG8


def _tiff_block_end(path: str) -> int | None:
    """Largest offset + byte count of the first IFD's tiles or strips; None if not a plain TIFF.

    Parsed by hand because GDAL's per-block BLOCK_OFFSET_x_y metadata costs about
    0.1 ms a block (0.6 s for a 20000² raster of 256² tiles).
    """
    import struct

    with open(path, "rb") as fh:
        head = fh.read(16)
        if len(head) < 16 or head[:2] not in (b"II", b"MM"):
            return None
        bo: Literal["<", ">"] = "<" if head[:2] == b"II" else ">"
        magic = struct.unpack(bo + "H", head[2:4])[0]
        if magic == 42:
            big, ifd = False, struct.unpack(bo + "I", head[4:8])[0]
        elif magic == 43:
            big, ifd = True, struct.unpack(bo + "Q", head[8:16])[0]
        else:
            return None
        fh.seek(ifd)
        count_fmt, entry_size = ("Q", 20) if big else ("H", 12)
        raw = fh.read(8 if big else 2)
        if len(raw) < (8 if big else 2):
            return None
        n = struct.unpack(bo + count_fmt, raw)[0]
        entries = fh.read(n * entry_size)
        if len(entries) < n * entry_size:
            return None
        tags: dict[int, np.ndarray] = {}
        for i in range(n):
            e = entries[i * entry_size : (i + 1) * entry_size]
            tag, typ = struct.unpack(bo + "HH", e[:4])
            if tag not in (273, 279, 324, 325) or typ not in _TIFF_TYPES:
                continue
            code, size = _TIFF_TYPES[typ]
            cnt = struct.unpack(bo + ("Q" if big else "I"), e[4:12] if big else e[4:8])[0]
            inline = e[12:20] if big else e[8:12]
            if cnt * size <= len(inline):
                data = inline[: cnt * size]
            else:
                fh.seek(struct.unpack(bo + ("Q" if big else "I"), inline)[0])
                data = fh.read(cnt * size)
                if len(data) < cnt * size:
                    return None
            tags[tag] = np.frombuffer(data, dtype=np.dtype(code).newbyteorder(bo)).astype(np.int64)
    offsets, counts = (tags.get(324), tags.get(325)) if 324 in tags else (tags.get(273), tags.get(279))
    if offsets is None or counts is None or offsets.size != counts.size or offsets.size == 0:
        return None
    return int((offsets + counts).max())


def _check_block_offsets(ds: rasterio.DatasetReader, path: str) -> None:
    """Refuse a GeoTIFF whose blocks point past the end of the file (a truncated copy)."""
    if ds.driver != "GTiff":
        return
    try:
        end = _tiff_block_end(path)
    except (OSError, ValueError, OverflowError):
        end = None
    size = os.path.getsize(path)
    if end is not None and end > size:
        raise RasterOpenError(
            f"Raster file '{path}' is truncated: its blocks run to byte {end} but the file has only {size} bytes."
        )


def _corners(transform: Affine, row0: float, col0: float, row1: float, col1: float) -> tuple[np.ndarray, np.ndarray]:
    cols = np.array([col0, col1, col1, col0], dtype=np.float64)
    rows = np.array([row0, row0, row1, row1], dtype=np.float64)
    xs = transform.a * cols + transform.b * rows + transform.c
    ys = transform.d * cols + transform.e * rows + transform.f
    return xs, ys


def _bounds_of(
    transform: Affine, row0: float, col0: float, row1: float, col1: float
) -> tuple[float, float, float, float]:
    xs, ys = _corners(transform, row0, col0, row1, col1)
    return float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())


# --------------------------------------------------------------------- inspection


def raster_inspect(path: str | os.PathLike[str], *, kind: str) -> RasterInfo:
    """Open, validate and describe a change layer; raise a RasterError subclass if unusable."""
    if kind not in KINDS:
        raise ValueError(f"Unknown change layer kind {kind!r}; expected one of {KINDS}.")
    path = os.fspath(path)
    with _open(path) as ds:
        if ds.count < 1:
            raise RasterOpenError(f"Raster file '{path}' has no bands.")
        if ds.crs is None:
            raise RasterCRSError(f"Raster file '{path}' has no coordinate reference system.")
        transform = ds.transform
        if transform.is_identity or transform.determinant == 0:
            raise RasterCRSError(f"Raster file '{path}' has no geotransform (pixel-to-map mapping).")
        dtype = ds.dtypes[0]
        if dtype not in _DTYPES[kind]:
            raise RasterDtypeError(
                f"Raster file '{path}' has data type {dtype} but a {kind} layer must be {' or '.join(_DTYPES[kind])}."
            )
        nodata = ds.nodata
        if kind == KIND_LANDCOVER and nodata is not None:
            if math.isnan(nodata) or nodata != int(nodata) or not 0 <= nodata <= 255:
                raise RasterNodataError(
                    f"Raster file '{path}' has nodata value {nodata}, which a uint8 layer cannot hold."
                )
            if int(nodata) in CHANGE_CLASSES:
                raise RasterNodataError(
                    f"Raster file '{path}' has nodata value {int(nodata)}, which is also change class "
                    f"{int(nodata)} ({CHANGE_CLASSES[int(nodata)]}) of the landcover legend."
                )
        bh, bw = ds.block_shapes[0]
        # Actually read the first and the last block: GDAL opens a truncated GeoTIFF
        # happily when its header survived, and only fails on reading.
        _check_block_offsets(ds, path)
        _read(ds, path, Window(0, 0, min(bw, ds.width), min(bh, ds.height)))
        last_r, last_c = ((ds.height - 1) // bh) * bh, ((ds.width - 1) // bw) * bw
        _read(ds, path, Window(last_c, last_r, ds.width - last_c, ds.height - last_r))
        return RasterInfo(
            path=path,
            kind=kind,
            width=ds.width,
            height=ds.height,
            crs_wkt=ds.crs.to_wkt(),
            transform=tuple(transform)[:6],
            dtype=dtype,
            nodata=nodata,
            bounds=_bounds_of(transform, 0, 0, ds.height, ds.width),
            block_shape=(bh, bw),
        )


def raster_check_overlap(info: RasterInfo, *, bounds_lonlat: tuple[float, float, float, float]) -> None:
    """Raise RasterOverlapError unless the raster footprint meets the lon/lat bbox.

    ``bounds_lonlat`` is (min_lon, min_lat, max_lon, max_lat) on WGS84 or CGCS2000
    (EPSG:4326 / 4490 differ by well under a metre, which does not matter here).
    """
    west, south, east, north = rasterio.warp.transform_bounds(
        CRS.from_wkt(info.crs_wkt), "EPSG:4326", *info.bounds, densify_pts=21
    )
    bw, bs, be, bn = bounds_lonlat
    if west > be or east < bw or south > bn or north < bs:
        raise RasterOverlapError(
            f"Raster file '{info.path}' covers lon {west:.4f}..{east:.4f}, lat {south:.4f}..{north:.4f}, "
            f"which does not overlap the expected area lon {bw:.4f}..{be:.4f}, lat {bs:.4f}..{bn:.4f}."
        )


def windows_plan(info: RasterInfo, *, window_size: int = 2048) -> list[WindowSpec]:
    """Block-aligned windows of about window_size x window_size pixels, row-major order."""
    if window_size < 1:
        raise ValueError(f"window_size must be positive, got {window_size}.")
    bh, bw = info.block_shape
    col_step = max(bw, (window_size // bw) * bw)
    # Strip-organised files have blocks as wide as the raster: keep the pixel budget.
    budget = window_size * window_size
    row_target = window_size if col_step <= window_size else max(1, budget // col_step)
    row_step = max(bh, (row_target // bh) * bh)
    return [
        WindowSpec(r, c, min(row_step, info.height - r), min(col_step, info.width - c))
        for r in range(0, info.height, row_step)
        for c in range(0, info.width, col_step)
    ]


def bbox_bounds(
    info: RasterInfo, bbox: tuple[int, int, int, int], *, margin: int = 0
) -> tuple[float, float, float, float]:
    """(minx, miny, maxx, maxy) in the raster CRS of a pixel bbox (e.g. ``Patch.bbox``) grown by margin pixels."""
    r0, c0, r1, c1 = bbox
    return _bounds_of(info.affine, r0 - margin, c0 - margin, r1 + margin, c1 + margin)


def window_bounds(info: RasterInfo, window: WindowSpec) -> tuple[float, float, float, float]:
    """(minx, miny, maxx, maxy) of a window in the raster CRS: filter units with it."""
    return _bounds_of(
        info.affine, window.row_off, window.col_off, window.row_off + window.height, window.col_off + window.width
    )


# ---------------------------------------------------------------------- pixel area


@functools.lru_cache(maxsize=16)
def _row_areas_cached(crs_wkt: str, transform: tuple[float, ...], width: int, height: int) -> np.ndarray:
    crs = CRS.from_wkt(crs_wkt)
    geodetic = crs.geodetic_crs or CRS.from_epsg(4326)
    geod = crs.get_geod() or Geod(ellps="WGS84")
    to_lonlat = Transformer.from_crs(crs, geodetic, always_xy=True)
    aff = Affine(*transform[:6])
    rows = np.unique(np.r_[np.arange(0, height, _ROW_AREA_STRIDE), height - 1])
    col = width // 2
    # corners (col, row), (col+1, row), (col+1, row+1), (col, row+1) of every sampled row
    c = np.tile(np.array([col, col + 1, col + 1, col], dtype=np.float64), rows.size)
    r = np.repeat(rows.astype(np.float64), 4) + np.tile(np.array([0.0, 0.0, 1.0, 1.0]), rows.size)
    lon, lat = to_lonlat.transform(aff.a * c + aff.b * r + aff.c, aff.d * c + aff.e * r + aff.f)
    lon, lat = np.asarray(lon).reshape(-1, 4), np.asarray(lat).reshape(-1, 4)
    samples = np.array([abs(geod.polygon_area_perimeter(lo, la)[0]) for lo, la in zip(lon, lat, strict=False)])
    areas = np.interp(np.arange(height, dtype=np.float64), rows.astype(np.float64), samples)
    areas.setflags(write=False)
    return areas


def pixel_row_areas(info: RasterInfo) -> np.ndarray:
    """Ground area in m² of one pixel for every row (geodesic, see the module docstring)."""
    return _row_areas_cached(info.crs_wkt, tuple(info.transform), info.width, info.height)


# ------------------------------------------------------------------------- units


class _UnitIndex:
    """Unit bounds and class bitmasks as arrays, built once per unit list."""

    def __init__(self, units: Sequence[UnitShape]) -> None:
        from shapely.geometry import shape

        self.units = list(units)
        n = len(self.units)
        self.ids = np.fromiter((u.unit_id for u in self.units), dtype=np.int64, count=n)
        self.bounds = np.zeros((n, 4), dtype=np.float64)
        for i, u in enumerate(self.units):
            geom_type = u.geometry.get("type")
            if geom_type not in ("Polygon", "MultiPolygon"):
                raise ValueError(f"Unit {u.unit_id} geometry must be a Polygon or MultiPolygon, not {geom_type!r}.")
            self.bounds[i] = (
                shape(u.geometry).bounds if u.geometry.get("coordinates") else (np.inf, np.inf, -np.inf, -np.inf)
            )
        self._bits: dict[ScanRules, np.ndarray] = {}

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


# -------------------------------------------------------------------- window scan


def _classify(
    ds: rasterio.DatasetReader, path: str, win: Window, rules: ScanRules
) -> tuple[np.ndarray, np.ndarray | None, int, dict[int, int]]:
    """Read one window; return (class-ish array, labelled mask, valid pixels, counts per class).

    For landcover the class array is the raw data (nodata never equals a change class,
    masked pixels are zeroed); for ndvi_diff it is the class-1 mask as uint8.
    """
    data = _read(ds, path, win)
    total = data.size
    nodata = ds.nodata
    masked = _has_dataset_mask(ds)
    labelled = rules.labelled_classes
    if rules.kind == KIND_LANDCOVER:
        if data.dtype != np.uint8:
            raise RasterDtypeError(
                f"Raster file '{path}' has data type {data.dtype} but a landcover layer must be uint8."
            )
        invalid = None
        if masked:
            invalid = _read_mask(ds, path, win) == 0
        if nodata is not None:
            eq = data == int(nodata)
            invalid = eq if invalid is None else invalid | eq
        if invalid is not None:
            n_invalid = int(np.count_nonzero(invalid))
            if masked and n_invalid:
                data = np.where(invalid, np.uint8(0), data)
        else:
            n_invalid = 0
        counts: dict[int, int] = {}
        mask = None
        for c in CHANGE_CLASSES:
            eq = data == c
            counts[c] = int(np.count_nonzero(eq))
            if c in labelled and counts[c]:
                mask = eq if mask is None else np.logical_or(mask, eq, out=mask)
        return data, mask, total - n_invalid, counts
    # ndvi_diff
    if data.dtype.kind != "f":
        raise RasterDtypeError(f"Raster file '{path}' has data type {data.dtype} but an ndvi_diff layer must be float.")
    valid = ~np.isnan(data)
    if nodata is not None and not math.isnan(nodata):
        valid &= data != nodata
    if masked:
        valid &= _read_mask(ds, path, win) != 0
    loss = (data < rules.threshold) & valid
    n_loss = int(np.count_nonzero(loss))
    mask = loss if (1 in labelled and n_loss) else None
    return loss.view(np.uint8), mask, int(np.count_nonzero(valid)), {1: n_loss}


def _read_mask(ds: rasterio.DatasetReader, path: str, win: Window) -> np.ndarray:
    try:
        return ds.read_masks(1, window=win)
    except RasterioError as exc:
        raise RasterOpenError(
            f"Raster file '{path}' is truncated or corrupt: its mask cannot be read ({_short(exc)})."
        ) from exc


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
    window (most of them) come back already vectorised in ``WindowResult.shapes`` and
    end up in ``Patch.geometries`` after the merge; only pairs missing there need
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
        for b0 in range(0, nc, 255):
            batch = cands[b0 : b0 + 255]
            burn = rasterio.features.rasterize(
                ((uindex.units[j].geometry, i + 1) for i, j in enumerate(batch)),
                out_shape=(h, w),
                transform=win_transform,
                fill=0,
                all_touched=False,
                dtype="uint8",
            )
            hit = burn.reshape(-1)[st.ids]
            u_at = np.where(hit > 0, hit.astype(np.int64) + b0, u_at)  # later units win, like one burn
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
            # an interior part is a whole patch: vectorise its qualifying pairs now,
            # from the labels already in memory (no re-read, no re-rasterize)
            todo = np.flatnonzero(qualifying & ~touches[unit_rows[:, 0]])
            if todo.size:
                shapes = _pairs_vectorise(pair_pixels, todo, unit_rows, w, ds.window_transform(win))
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


def _mask_polygons(mask: np.ndarray, transform: Affine) -> list[Any]:
    """GeoJSON polygon coordinates of the True pixels (4-connected, so always valid)."""
    return _masks_polygons([(mask, transform)])[0]


def _masks_polygons(items: Sequence[tuple[np.ndarray, Affine]]) -> list[list[Any]]:
    """Polygon coordinates for many small masks with ONE polygonize call.

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


def _pairs_vectorise(
    pair_pixels: tuple[np.ndarray, np.ndarray],
    todo: np.ndarray,
    unit_rows: np.ndarray,
    width: int,
    win_transform: Affine,
) -> list[tuple[int, int, dict[str, Any]]]:
    """MultiPolygons of the (part, unit) rows ``todo`` from their sparse pixel positions."""
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
    return [
        (part, unit_id, {"type": "MultiPolygon", "coordinates": polys})
        for (part, unit_id), polys in zip(keys, _masks_polygons(items), strict=False)
    ]


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
        shapes_of: dict[int, dict[int, dict[str, Any]]] = {}
        for res, base in zip(results, bases[:-1], strict=False):
            for part, uid, geom in res.shapes:
                cid = int(comp[int(base) + part])
                if cid in qual_units and uid in qual_units[cid]:
                    shapes_of.setdefault(cid, {})[uid] = geom
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
    from shapely.geometry import MultiPolygon, mapping, shape

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
        # parts from neighbouring windows share edges: dissolve them
        polys = [shape({"type": "Polygon", "coordinates": c}) for piece in pieces for c in piece]
        merged = shapely.union_all(polys) if polys else MultiPolygon()
        if merged.geom_type == "Polygon":
            merged = MultiPolygon([merged])
        elif merged.geom_type == "GeometryCollection":
            merged = MultiPolygon([g for g in merged.geoms if g.geom_type == "Polygon"])
        geometry = mapping(merged)
    return {"geometry": geometry, "pixels": n_pixels, "area_m2": area}


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
