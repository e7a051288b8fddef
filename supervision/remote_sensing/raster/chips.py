"""Small PNG evidence chips for a change patch: the change mask or the before/after imagery,
with the control unit's outline, the patch and a scale bar.

Pure (no Django). Reads one decimated window (``out_shape=(size, size)``, nearest), so
memory stays at size² pixels whatever the patch size.

The scale bar is a round length (1, 2, 5 × 10ⁿ m: …, 10, 20, 50, 100, 200, 500 m, 1 km …)
of at most ``SCALE_BAR_MAX_FRACTION`` of the chip's width, its pixels computed from the
ground distance across the chip's middle row, measured on the ellipsoid of the raster's
CRS (so projected and geographic rasters alike). The PNG carries what it drew as text
chunks (``scale_bar_m``, ``scale_bar_px``, ``metres_per_pixel``, ``bounds``) for readers
that want the numbers.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import rasterio
from affine import Affine
from PIL import Image, ImageDraw, ImageFont
from PIL.PngImagePlugin import PngInfo
from pyproj import CRS, Geod, Transformer
from rasterio.enums import Resampling
from rasterio.windows import Window

from .reader import _open, _short
from .types import (
    KIND_NDVI_DIFF,
    Patch,
    RasterInfo,
    RasterOpenError,
    UnitShape,
)

__all__ = [
    "CLASS_COLOURS",
    "change_chip_png",
    "ground_metres_per_pixel",
    "image_chip_png",
    "scale_bar_length_m",
]

# RGBA per change class; 0 (no change) is left light grey, nodata darker grey.
CLASS_COLOURS: dict[int, tuple[int, int, int, int]] = {
    1: (34, 139, 34, 255),  # vegetation loss: green
    2: (220, 20, 60, 255),  # new construction: crimson
    3: (30, 144, 255, 255),  # water change: blue
    4: (205, 133, 63, 255),  # excavation / bare soil: brown
}
_NO_CHANGE = (245, 245, 245, 255)
_NODATA = (160, 160, 160, 255)
_OUTLINE = (255, 215, 0, 255)  # unit outline: gold
_PATCH_BOX = (255, 0, 255, 255)  # patch bbox: magenta
_BAR = (0, 0, 0)  # scale bar and its label: black on a white box
_BAR_BACK = (255, 255, 255)
SCALE_BAR_MAX_FRACTION = 0.4  # the bar is at most this share of the chip's width


def scale_bar_length_m(metres_per_pixel: float, max_pixels: float) -> float:
    """The longest round length (1, 2 or 5 × 10ⁿ metres) drawn in at most ``max_pixels`` pixels."""
    if not (metres_per_pixel > 0 and math.isfinite(metres_per_pixel)):
        raise ValueError("the pixel size must be a positive number of metres")
    limit = metres_per_pixel * max_pixels
    exponent = math.floor(math.log10(limit))
    best = 10.0 ** (exponent - 1)
    for e in (exponent - 1, exponent):
        for m in (1, 2, 5):
            length = m * 10.0**e
            if length <= limit * (1 + 1e-9):
                best = length
    return best


def ground_metres_per_pixel(crs_wkt: str, bounds: tuple[float, float, float, float], size: int) -> float:
    """Metres on the ground per chip pixel along the middle row of ``bounds`` (in the CRS of ``crs_wkt``)."""
    crs = CRS.from_user_input(crs_wkt)
    geod = crs.get_geod() or Geod(ellps="WGS84")
    minx, miny, maxx, maxy = bounds
    ymid = (miny + maxy) / 2
    if crs.is_geographic:
        lon1, lat1, lon2, lat2 = minx, ymid, maxx, ymid
    else:
        to_lonlat = Transformer.from_crs(crs, crs.geodetic_crs or CRS.from_epsg(4326), always_xy=True)
        (lon1, lon2), (lat1, lat2) = to_lonlat.transform([minx, maxx], [ymid, ymid])
    # Along the row in steps, so a wide geographic chip follows its parallel, not the geodesic chord.
    steps = 8
    total = 0.0
    for i in range(steps):
        a, b = i / steps, (i + 1) / steps
        total += geod.inv(
            lon1 + (lon2 - lon1) * a, lat1 + (lat2 - lat1) * a, lon1 + (lon2 - lon1) * b, lat1 + (lat2 - lat1) * b
        )[2]
    return total / size


def _font(size: int):
    try:
        return ImageFont.load_default(size=max(9, size // 22))
    except (TypeError, OSError):  # Pillow without FreeType: the fixed bitmap font
        return ImageFont.load_default()


def _draw_scale_bar(img: Image.Image, metres_per_pixel: float) -> tuple[float, int]:
    """A round-length bar with its label at the lower left; returns (metres, pixels)."""
    width, height = img.size
    metres = scale_bar_length_m(metres_per_pixel, width * SCALE_BAR_MAX_FRACTION)
    pixels = int(round(metres / metres_per_pixel))
    label = f"{metres / 1000:g} km" if metres >= 1000 else f"{metres:g} m"
    draw = ImageDraw.Draw(img)
    font = _font(width)
    left, top, right, bottom = draw.textbbox((0, 0), label, font=font)
    text_w, text_h = right - left, bottom - top
    pad, bar_h, tick = 3, 3, 3
    x0 = 6
    y_bar = height - 6 - pad - bar_h  # top row of the bar
    box = (x0 - pad, y_bar - tick - text_h - 2 * pad, x0 + max(pixels, text_w) + pad, height - 6)
    draw.rectangle(box, fill=_BAR_BACK)
    draw.text((x0 - left, y_bar - tick - text_h - pad - top), label, fill=_BAR, font=font)
    draw.rectangle((x0, y_bar, x0 + pixels - 1, y_bar + bar_h - 1), fill=_BAR)
    for x in (x0, x0 + pixels - 1):
        draw.line((x, y_bar - tick, x, y_bar + bar_h - 1), fill=_BAR, width=1)
    return metres, pixels


def _png(img: Image.Image, *, metres: float, pixels: int, metres_per_pixel: float, bounds) -> bytes:
    meta = PngInfo()
    meta.add_text("scale_bar_m", f"{metres:g}")
    meta.add_text("scale_bar_px", str(pixels))
    meta.add_text("metres_per_pixel", f"{metres_per_pixel:.6f}")
    meta.add_text("bounds", ",".join(f"{v:.9g}" for v in bounds))
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True, pnginfo=meta)
    return buf.getvalue()


def _chip_window(patch: Patch, info: RasterInfo, margin: float = 0.5) -> Window:
    """A square window around the patch bbox, margin as a fraction of its size."""
    r0, c0, r1, c1 = patch.bbox
    side = max(r1 - r0, c1 - c0)
    side = max(16, int(math.ceil(side * (1 + 2 * margin))))
    rc, cc = (r0 + r1) / 2, (c0 + c1) / 2
    return Window(int(round(cc - side / 2)), int(round(rc - side / 2)), side, side)


def _rings(geometry: Mapping[str, Any]) -> list[list[tuple[float, float]]]:
    if geometry.get("type") == "Polygon":
        polys = [geometry["coordinates"]]
    elif geometry.get("type") == "MultiPolygon":
        polys = list(geometry["coordinates"])
    else:
        return []
    return [list(map(tuple, ring)) for poly in polys for ring in poly]


def _draw_outlines(
    img: Image.Image,
    to_chip,
    *,
    unit_geometry: Mapping[str, Any] | None,
    patch_geometry: Mapping[str, Any] | None,
) -> None:
    """The unit's outline (gold, 2 px) and the patch's (magenta, 1 px), map coordinates through ``to_chip``."""
    draw = ImageDraw.Draw(img)
    for geometry, colour, width in ((unit_geometry, _OUTLINE, 2), (patch_geometry, _PATCH_BOX, 1)):
        for ring in _rings(geometry or {}):
            pts = [to_chip(x, y) for x, y, *_ in ring]
            if len(pts) >= 2:
                draw.line(pts + [pts[0]], fill=colour[:3], width=width)


def change_chip_png(
    path: str | os.PathLike[str],
    patch: Patch,
    *,
    unit: UnitShape,
    info: RasterInfo,
    size: int = 256,
    threshold: float = -0.2,
    patch_geometry: Mapping[str, Any] | None = None,
) -> bytes:
    """PNG bytes: change classes (coloured) around the patch, the unit outline in gold, the patch in
    magenta (its outline when ``patch_geometry`` is given, in the raster CRS, else its bounding box)
    and a scale bar.

    ``threshold`` is only used for ndvi_diff layers (value < threshold = class 1).
    """
    path = os.fspath(path)
    win = _chip_window(patch, info)
    with _open(path) as ds:
        try:
            data = ds.read(
                1, window=win, out_shape=(size, size), resampling=Resampling.nearest, boundless=True, masked=True
            )
        except rasterio.errors.RasterioError as exc:
            raise RasterOpenError(f"Raster file '{path}' cannot be read for an evidence chip ({_short(exc)}).") from exc
    values = np.ma.filled(data, 0)
    invalid = np.ma.getmaskarray(data)
    if info.kind == KIND_NDVI_DIFF:
        invalid = invalid | np.isnan(values)
        classes = np.where(~invalid & (np.nan_to_num(values, nan=0.0) < threshold), 1, 0)
    else:
        classes = values.astype(np.int64)
    rgba = np.empty((size, size, 4), dtype=np.uint8)
    rgba[:] = _NO_CHANGE
    for c, colour in CLASS_COLOURS.items():
        rgba[classes == c] = colour
    rgba[invalid] = _NODATA
    img = Image.fromarray(rgba[..., :3], "RGB")
    # map coords -> raster pixel -> chip pixel
    to_pixel = ~info.affine
    sx, sy = size / win.width, size / win.height

    def chip_xy(x: float, y: float) -> tuple[float, float]:
        col, row = to_pixel @ (x, y)
        return (col - win.col_off) * sx, (row - win.row_off) * sy

    _draw_outlines(img, chip_xy, unit_geometry=unit.geometry, patch_geometry=patch_geometry)
    if patch_geometry is None:
        r0, c0, r1, c1 = patch.bbox
        ImageDraw.Draw(img).rectangle(
            [
                (c0 - win.col_off) * sx - 1,
                (r0 - win.row_off) * sy - 1,
                (c1 - win.col_off) * sx,
                (r1 - win.row_off) * sy,
            ],
            outline=_PATCH_BOX[:3],
            width=1,
        )
    xs, ys = zip(
        *(info.affine @ (win.col_off + dc, win.row_off + dr) for dc in (0, win.width) for dr in (0, win.height)),
        strict=True,
    )
    bounds = (min(xs), min(ys), max(xs), max(ys))
    mpp = ground_metres_per_pixel(info.crs_wkt, bounds, size)
    metres, pixels = _draw_scale_bar(img, mpp)
    return _png(img, metres=metres, pixels=pixels, metres_per_pixel=mpp, bounds=bounds)


def image_chip_png(
    image_path: str | os.PathLike[str],
    bounds: tuple[float, float, float, float],
    *,
    size: int = 256,
    bands: tuple[int, ...] | None = None,
    unit_geometry: Mapping[str, Any] | None = None,
    patch_geometry: Mapping[str, Any] | None = None,
) -> bytes:
    """PNG of before/after imagery over ``bounds`` (minx, miny, maxx, maxy in the image CRS), with
    the unit's outline (gold) and the patch's (magenta) when given (GeoJSON in the image CRS) and a
    scale bar.

    Uses bands (1, 2, 3) as RGB when the image has three or more bands, else band 1 as
    grey; each band is stretched between its 2nd and 98th percentile.
    """
    image_path = os.fspath(image_path)
    with _open(image_path) as ds:
        if bands is None:
            bands = (1, 2, 3) if ds.count >= 3 else (1,)
        crs_wkt = ds.crs.to_wkt()
        inv: Affine = ~ds.transform
        minx, miny, maxx, maxy = bounds
        xs = [minx, maxx, maxx, minx]
        ys = [maxy, maxy, miny, miny]
        cols, rows = zip(*(inv @ (x, y) for x, y in zip(xs, ys, strict=False)), strict=False)
        win = Window(min(cols), min(rows), max(cols) - min(cols), max(rows) - min(rows))
        try:
            arr = ds.read(
                list(bands),
                window=win,
                out_shape=(len(bands), size, size),
                resampling=Resampling.bilinear,
                boundless=True,
                masked=True,
            )
        except rasterio.errors.RasterioError as exc:
            raise RasterOpenError(
                f"Image file '{image_path}' cannot be read for an evidence chip ({_short(exc)})."
            ) from exc
    out = np.zeros((size, size, len(bands)), dtype=np.uint8)
    for i in range(len(bands)):
        band = arr[i].astype(np.float64)
        vals = band.compressed()
        vals = vals[np.isfinite(vals)]
        if vals.size:
            lo, hi = np.percentile(vals, [2, 98])
            scaled = np.clip((np.ma.filled(band, lo) - lo) / max(hi - lo, 1e-12), 0, 1)
            out[..., i] = (np.nan_to_num(scaled) * 255).astype(np.uint8)
    img = Image.fromarray(out[..., 0] if len(bands) == 1 else out, "L" if len(bands) == 1 else "RGB").convert("RGB")

    def chip_xy(x: float, y: float) -> tuple[float, float]:
        return (x - minx) / (maxx - minx) * size, (maxy - y) / (maxy - miny) * size

    _draw_outlines(img, chip_xy, unit_geometry=unit_geometry, patch_geometry=patch_geometry)
    mpp = ground_metres_per_pixel(crs_wkt, tuple(bounds), size)
    metres, pixels = _draw_scale_bar(img, mpp)
    return _png(img, metres=metres, pixels=pixels, metres_per_pixel=mpp, bounds=tuple(bounds))
