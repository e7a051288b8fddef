"""Value types, constants and errors of the raster core (JSON round-trips for Celery)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from affine import Affine
from rasterio.windows import Window

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
