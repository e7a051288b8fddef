"""Small PNG evidence chips for a change patch: the change mask over the unit outline.

Pure (no Django). Reads one decimated window (``out_shape=(size, size)``, nearest), so
memory stays at size² pixels whatever the patch size.
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
from PIL import Image, ImageDraw
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

__all__ = ["CLASS_COLOURS", "change_chip_png", "image_chip_png"]

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


def change_chip_png(
    path: str | os.PathLike[str],
    patch: Patch,
    *,
    unit: UnitShape,
    info: RasterInfo,
    size: int = 256,
    threshold: float = -0.2,
) -> bytes:
    """PNG bytes: change classes (coloured) around the patch, unit outline in gold.

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
    img = Image.fromarray(rgba, "RGBA")
    draw = ImageDraw.Draw(img)
    # map coords -> raster pixel -> chip pixel
    to_pixel = ~info.affine
    sx, sy = size / win.width, size / win.height

    def chip_xy(x: float, y: float) -> tuple[float, float]:
        col, row = to_pixel @ (x, y)
        return (col - win.col_off) * sx, (row - win.row_off) * sy

    for ring in _rings(unit.geometry):
        pts = [chip_xy(x, y) for x, y, *_ in ring]
        if len(pts) >= 2:
            draw.line(pts + [pts[0]], fill=_OUTLINE, width=2)
    r0, c0, r1, c1 = patch.bbox
    draw.rectangle(
        [(c0 - win.col_off) * sx - 1, (r0 - win.row_off) * sy - 1, (c1 - win.col_off) * sx, (r1 - win.row_off) * sy],
        outline=_PATCH_BOX,
        width=1,
    )
    buf = io.BytesIO()
    img.convert("RGB").save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def image_chip_png(
    image_path: str | os.PathLike[str],
    bounds: tuple[float, float, float, float],
    *,
    size: int = 256,
    bands: tuple[int, ...] | None = None,
) -> bytes:
    """PNG of before/after imagery over ``bounds`` (minx, miny, maxx, maxy in the image CRS).

    Uses bands (1, 2, 3) as RGB when the image has three or more bands, else band 1 as
    grey; each band is stretched between its 2nd and 98th percentile.
    """
    image_path = os.fspath(image_path)
    with _open(image_path) as ds:
        if bands is None:
            bands = (1, 2, 3) if ds.count >= 3 else (1,)
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
    img = Image.fromarray(out[..., 0] if len(bands) == 1 else out, "L" if len(bands) == 1 else "RGB")
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()
