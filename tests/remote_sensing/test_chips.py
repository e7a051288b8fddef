"""Evidence chips: the unit outline where the unit's boundary falls, and a scale bar as long as it says.

Pure (no database): small GeoTIFFs in tmp_path, projected (UTM) and geographic (CGCS2000 degrees).
The PNG is decoded and its pixels measured; the metres per pixel are worked out here, independently
of the renderer.
"""

from __future__ import annotations

import math
from io import BytesIO

import numpy as np
import pytest
from PIL import Image
from rasterio.transform import from_origin
from shapely.geometry import box, mapping

from supervision.remote_sensing.raster import UnitShape, raster_inspect, scan_raster
from supervision.remote_sensing.raster.chips import change_chip_png, image_chip_png, scale_bar_length_m
from tests.remote_sensing.test_raster import LANDCOVER, PX, TRANSFORM, write_tif

GOLD = (255, 215, 0)
MAGENTA = (255, 0, 255)
BLACK = (0, 0, 0)
K0 = 0.9996  # UTM scale on the central meridian: a grid metre there is 1/K0 metres on the ground
ROUND = {m * 10**e for m in (1, 2, 5) for e in range(-1, 6)}


def _decode(png: bytes) -> tuple[np.ndarray, dict]:
    img = Image.open(BytesIO(png))
    assert img.format == "PNG"
    return np.asarray(img.convert("RGB")), dict(img.text)


def _mask(rgb: np.ndarray, colour) -> np.ndarray:
    return np.all(rgb == np.array(colour, dtype=np.uint8), axis=-1)


def _bar_pixels(rgb: np.ndarray) -> int:
    """The longest horizontal run of black pixels in the chip's bottom fifth (the bar; label glyphs are short)."""
    h = rgb.shape[0]
    black = _mask(rgb[h - h // 5 :], BLACK)
    best = 0
    for row in black:
        run = 0
        for v in row:
            run = run + 1 if v else 0
            best = max(best, run)
    return best


def _landcover_chip(tmp_path, size=200):
    arr = np.zeros((64, 64), np.uint8)
    arr[10:20, 10:20] = 2  # new construction in a priority unit
    path = write_tif(tmp_path / "lc.tif", arr)
    info = raster_inspect(path, kind="landcover")
    x0, y0 = TRANSFORM @ (8, 8)
    x1, y1 = TRANSFORM @ (40, 40)
    unit = UnitShape(1, "priority", mapping(box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))))
    merged, _ = scan_raster(path, rules=LANDCOVER, units=[unit], window_size=32)
    return change_chip_png(path, merged.patches[0], unit=unit, info=info, size=size)


def test_change_chip_draws_the_unit_outline_where_the_boundary_falls(tmp_path):
    # The patch bbox is rows/cols 10..20: the chip's window is 20 px square from row/col 5, drawn at
    # 200 px, so 10 chip pixels per raster pixel; the unit's west and north edges (col/row 8) fall at 30.
    rgb, _ = _decode(_landcover_chip(tmp_path))
    gold = _mask(rgb, GOLD)
    assert gold[100, 29:32].any() and gold[29:32, 100].any()  # on the west edge and on the north edge
    ys, xs = np.nonzero(gold)
    on_edge = (np.abs(xs - 30) <= 2) | (np.abs(ys - 30) <= 2)
    assert on_edge.all(), "gold pixels away from the unit's boundary"
    assert not gold[100, 100] and not gold[60:200, 60:200].any()  # nothing inside the unit
    magenta = _mask(rgb, MAGENTA)
    # The patch (rows/cols 10..20) is outlined between chip pixels 49 and 150.
    assert magenta[100, 48:51].any() and magenta[100, 149:152].any()


def test_change_chip_scale_bar_is_a_round_length_of_the_stated_metres_projected(tmp_path):
    rgb, text = _decode(_landcover_chip(tmp_path))
    metres = float(text["scale_bar_m"])
    assert metres in ROUND
    ground_m_per_px = 20 * PX / 200 / K0  # 20 raster pixels of 10 m in 200 chip pixels, grid to ground
    assert metres == 50  # the longest round length within 40 % of 200 px at about 1 m/px
    assert abs(_bar_pixels(rgb) - metres / ground_m_per_px) <= 1
    assert int(text["scale_bar_px"]) == _bar_pixels(rgb)


def test_geographic_chip_scale_bar_follows_the_latitude(tmp_path):
    # CGCS2000 degrees, 0.0001° pixels at 43.8°N: about 8 m east-west.
    transform = from_origin(125.30, 43.82, 0.0001, 0.0001)
    arr = np.zeros((64, 64), np.uint8)
    arr[20:30, 20:30] = 2
    path = write_tif(tmp_path / "geo.tif", arr, crs="EPSG:4490", transform=transform)
    info = raster_inspect(path, kind="landcover")
    x0, y0 = transform @ (18, 18)
    x1, y1 = transform @ (60, 60)
    unit = UnitShape(1, "priority", mapping(box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))))
    merged, _ = scan_raster(path, rules=LANDCOVER, units=[unit], window_size=32)
    rgb, text = _decode(change_chip_png(path, merged.patches[0], unit=unit, info=info, size=200))

    # Window: 20 px from row/col 15, so the unit's west edge (col 18) is at chip x 30, north edge at y 30.
    gold = _mask(rgb, GOLD)
    assert gold[100, 29:32].any() and gold[29:32, 100].any()
    # Metres per degree of longitude on the GRS80 ellipsoid at the chip's middle latitude.
    a, f = 6378137.0, 1 / 298.257222101
    e2 = f * (2 - f)
    lat = math.radians(43.82 - 25 * 0.0001)
    m_per_deg = math.pi / 180 * a * math.cos(lat) / math.sqrt(1 - e2 * math.sin(lat) ** 2)
    ground_m_per_px = 20 * 0.0001 * m_per_deg / 200
    metres = float(text["scale_bar_m"])
    assert metres in ROUND and metres <= 0.4 * 200 * ground_m_per_px < 2.5 * metres
    assert abs(_bar_pixels(rgb) - metres / ground_m_per_px) <= 1


def test_imagery_chip_carries_the_outline_the_patch_and_a_scale_bar(tmp_path):
    rgb_in = (np.arange(64 * 64).reshape(64, 64) % 200).astype(np.uint8)
    image = write_tif(tmp_path / "img.tif", rgb_in, nodata=None)
    x0, y0 = TRANSFORM @ (0, 0)
    bounds = (x0, y0 - 64 * PX, x0 + 64 * PX, y0)  # the whole image, 640 m
    unit = mapping(box(x0 + 16 * PX, y0 - 48 * PX, x0 + 48 * PX, y0 - 16 * PX))  # chip pixels 64..192 at 256 px
    patch = mapping(box(x0 + 24 * PX, y0 - 40 * PX, x0 + 40 * PX, y0 - 24 * PX))  # 96..160
    rgb, text = _decode(image_chip_png(image, bounds, size=256, unit_geometry=unit, patch_geometry=patch))
    gold, magenta = _mask(rgb, GOLD), _mask(rgb, MAGENTA)
    assert gold[128, 63:66].any() and gold[128, 191:194].any() and gold[63:66, 128].any()
    ys, xs = np.nonzero(gold)
    assert ((np.abs(xs - 64) <= 2) | (np.abs(xs - 192) <= 2) | (np.abs(ys - 64) <= 2) | (np.abs(ys - 192) <= 2)).all()
    assert magenta[128, 95:98].any() and magenta[128, 159:162].any()
    ground_m_per_px = 64 * PX / 256 / K0
    metres = float(text["scale_bar_m"])
    assert metres == 200  # 40 % of 256 px at 2.5 m/px is 256 m: the longest round length within it
    assert abs(_bar_pixels(rgb) - metres / ground_m_per_px) <= 1


@pytest.mark.parametrize(
    ("m_per_px", "max_px", "expected"),
    [(1.0, 80, 50), (3.0, 80, 200), (0.1, 100, 10), (25.0, 100, 2000), (10.0, 50, 500), (0.5, 40, 20)],
)
def test_scale_bar_length_is_the_longest_round_number_that_fits(m_per_px, max_px, expected):
    assert scale_bar_length_m(m_per_px, max_px) == expected
