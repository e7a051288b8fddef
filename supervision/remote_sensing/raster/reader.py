"""Opening and validating a change raster, planning windows, reading and classifying pixels, pixel areas."""

from __future__ import annotations

import functools
import math
import os
import warnings
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

from .types import (
    _DTYPES,
    _ROW_AREA_STRIDE,
    CHANGE_CLASSES,
    KIND_LANDCOVER,
    KINDS,
    RasterCRSError,
    RasterDtypeError,
    RasterInfo,
    RasterNodataError,
    RasterOpenError,
    RasterOverlapError,
    ScanRules,
    WindowSpec,
)

# Remote rasters are read window by window through GDAL's virtual file systems. Do not
# list the "directory" of a URL on open (one request saved per open), retry a failed
# range request. The environment may override each (GDAL reads them from there).
for _key, _value in (
    ("GDAL_DISABLE_READDIR_ON_OPEN", "EMPTY_DIR"),
    ("GDAL_HTTP_MAX_RETRY", "3"),
    ("GDAL_HTTP_RETRY_DELAY", "1"),
    ("CPL_VSIL_CURL_CACHE_SIZE", str(64 * 1024 * 1024)),
):
    os.environ.setdefault(_key, _value)

REMOTE_SCHEMES = ("http://", "https://", "s3://")


def source_is_remote(source: str | os.PathLike[str]) -> bool:
    """True for an HTTP(S) or S3 URL (or a GDAL /vsicurl/, /vsis3/ path) rather than a file path."""
    s = os.fspath(source)
    return s.startswith(REMOTE_SCHEMES) or s.startswith(("/vsicurl/", "/vsis3/"))


def source_gdal_path(source: str | os.PathLike[str]) -> str:
    """How GDAL reads a layer's source: a path as is, ``https://h/a.tif`` as ``/vsicurl/https://h/a.tif``,
    ``s3://bucket/key.tif`` as ``/vsis3/bucket/key.tif`` (credentials from the usual AWS_* variables)."""
    s = os.fspath(source)
    if s.startswith(("http://", "https://")):
        return f"/vsicurl/{s}"
    if s.startswith("s3://"):
        return f"/vsis3/{s[5:]}"
    return s


def _open(path: str | os.PathLike[str]) -> rasterio.DatasetReader:
    path = source_gdal_path(path)
    if not path.startswith("/vsi") and not os.path.exists(path):
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
    if ds.driver != "GTiff" or source_is_remote(path):
        return  # a remote file's truncation shows as a failed range read instead
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
