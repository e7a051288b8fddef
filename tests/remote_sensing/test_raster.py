"""Pure tests of the raster-scan core: small GeoTIFFs in tmp_path, no database."""

from __future__ import annotations

import json

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin
from shapely.geometry import box, mapping, shape

from supervision.remote_sensing import raster as rs
from supervision.remote_sensing.raster import (
    RasterCRSError,
    RasterDtypeError,
    RasterNodataError,
    RasterOpenError,
    RasterOverlapError,
    ScanRules,
    UnitShape,
    WindowResult,
    patch_vectorise,
    patches_merge,
    raster_check_overlap,
    raster_inspect,
    scan_raster,
    window_scan,
    windows_plan,
)
from supervision.remote_sensing.raster_chip import change_chip_png, image_chip_png

UTM = "EPSG:32651"  # WGS 84 / UTM zone 51N (north-east China)
X0, Y0, PX = 500_000.0, 4_800_000.0, 10.0  # on the central meridian, about 43.3°N
TRANSFORM = from_origin(X0, Y0, PX, PX)
LANDCOVER = ScanRules(kind="landcover")
# a 10 m UTM pixel near the central meridian is 100 m² on the grid, and 100/k0² on the ground
GROUND_PX_M2 = 100.0 / 0.9996**2


def write_tif(path, arr, *, crs=UTM, transform=TRANSFORM, nodata=255, block=16, compress="deflate"):
    arr = np.asarray(arr)
    profile = dict(
        driver="GTiff",
        width=arr.shape[1],
        height=arr.shape[0],
        count=1,
        dtype=arr.dtype,
        tiled=True,
        blockxsize=block,
        blockysize=block,
        compress=compress,
    )
    if crs is not None:
        profile["crs"] = crs
    if transform is not None:
        profile["transform"] = transform
    if nodata is not None:
        profile["nodata"] = nodata
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(arr, 1)
    return str(path)


def unit_px(unit_id, unit_class, row0, col0, row1, col1, transform=TRANSFORM):
    """A unit covering exactly the pixels [row0, row1) x [col0, col1), in the raster CRS."""
    x0, y0 = transform @ (col0, row0)
    x1, y1 = transform @ (col1, row1)
    return UnitShape(unit_id, unit_class, mapping(box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))))


def three_units(height=64):
    return [
        unit_px(1, "priority", 0, 0, height, 21),
        unit_px(2, "key", 0, 21, height, 42),
        unit_px(3, "general", 0, 42, height, 64),
    ]


def pairs(merged):
    return {(p.change_class, uid) for p in merged.patches for uid in p.units}


# ------------------------------------------------------------------ domain rules


def test_only_classes_that_qualify_in_the_unit_class_raise_patches(tmp_path):
    arr = np.zeros((64, 64), np.uint8)
    for unit_col in (2, 23, 44):  # one 4x4 patch of every class in every unit
        for i, cls in enumerate((1, 2, 3, 4)):
            arr[2 + i * 8 : 6 + i * 8, unit_col : unit_col + 4] = cls
    path = write_tif(tmp_path / "lc.tif", arr)

    merged, shapes = scan_raster(path, rules=LANDCOVER, units=three_units(), window_size=32)

    assert pairs(merged) == {(1, 1), (2, 1), (4, 1), (2, 2), (4, 2)}
    assert merged.patches_qualifying == 5
    assert merged.patches_total == 9  # classes 1, 2, 4 in three units; class 3 qualifies nowhere
    assert merged.changed_by_class == {1: 48, 2: 48, 3: 48, 4: 48}
    assert {(s.change_class, s.unit_id) for s in shapes} == pairs(merged)


def test_custom_rules_let_water_change_qualify_in_general_units(tmp_path):
    arr = np.zeros((64, 64), np.uint8)
    arr[10:14, 50:54] = 3
    path = write_tif(tmp_path / "lc.tif", arr)
    rules = ScanRules(kind="landcover", classes_by_unit_class={"priority": (1,), "key": (), "general": (3,)})

    merged, _ = scan_raster(path, rules=rules, units=three_units(), window_size=32)

    assert pairs(merged) == {(3, 3)}


def test_min_area_is_measured_inside_the_unit(tmp_path):
    arr = np.zeros((64, 64), np.uint8)
    arr[2:5, 2:5] = 1  # 9 px, about 900 m²: too small
    arr[10:14, 2:6] = 1  # 16 px, about 1600 m²: qualifies
    arr[20:24, 17:25] = 2  # 32 px, 16 in priority unit 1 and 16 in key unit 2
    arr[30:35, 19:23] = 2  # 20 px: 10 in unit 1 (1000 m², ground area a bit more), 10 in unit 2
    path = write_tif(tmp_path / "lc.tif", arr)

    merged, _ = scan_raster(path, rules=LANDCOVER, units=three_units(), window_size=64)
    by_seed = {p.seed: p for p in merged.patches}

    assert (2, 2) not in by_seed
    assert by_seed[(10, 2)].units[1][0] == 16
    assert by_seed[(10, 2)].units[1][1] == pytest.approx(16 * GROUND_PX_M2, rel=1e-6)
    assert set(by_seed[(20, 17)].units) == {1, 2}
    assert by_seed[(20, 17)].pixels == 32
    assert set(by_seed[(30, 19)].units) == {1, 2}  # 10 px of 100.08 m² each >= 1000 m²

    strict = ScanRules(kind="landcover", min_area_m2=1700.0)
    merged, _ = scan_raster(path, rules=strict, units=three_units(), window_size=64)
    assert merged.patches == []  # (20, 17) has 32 px overall but only 16 (1601 m²) per unit
    assert merged.patches_total == 4


def test_a_patch_straddling_units_qualifies_only_where_its_own_area_is_enough(tmp_path):
    arr = np.zeros((64, 64), np.uint8)
    arr[20:24, 15:25] = 2  # 24 px in unit 1, 16 px in unit 2
    path = write_tif(tmp_path / "lc.tif", arr)
    rules = ScanRules(kind="landcover", min_area_m2=2000.0)

    merged, _ = scan_raster(path, rules=rules, units=three_units(), window_size=64)

    assert len(merged.patches) == 1
    assert list(merged.patches[0].units) == [1]
    assert merged.patches[0].units[1][0] == 24


def test_adjacent_patches_of_different_classes_stay_apart(tmp_path):
    arr = np.zeros((64, 64), np.uint8)
    arr[4:8, 4:8] = 1
    arr[4:8, 8:12] = 2  # touches the class 1 block
    arr[8:12, 12:16] = 4  # touches the class 2 block diagonally
    path = write_tif(tmp_path / "lc.tif", arr)

    merged, _ = scan_raster(path, rules=LANDCOVER, units=three_units(), window_size=64)

    assert sorted((p.change_class, p.pixels) for p in merged.patches) == [(1, 16), (2, 16), (4, 16)]


def test_patch_counts_match_labelling_each_class_on_its_own(tmp_path):
    from scipy import ndimage

    rng = np.random.default_rng(11)
    arr = (rng.random((96, 96)) < 0.55).astype(np.uint8) * rng.integers(1, 5, (96, 96)).astype(np.uint8)
    path = write_tif(tmp_path / "lc.tif", arr)
    every = ScanRules(kind="landcover", min_area_m2=0.0, classes_by_unit_class={"priority": (1, 2, 3, 4)})
    units = [unit_px(1, "priority", 0, 0, 96, 96)]
    expected = [ndimage.label(arr == c, structure=np.ones((3, 3)))[1] for c in (1, 2, 3, 4)]

    for window_size in (16, 96):
        merged, _ = scan_raster(path, rules=every, units=units, window_size=window_size, vectorise=False)
        assert merged.patches_total == merged.patches_qualifying == sum(expected)
        assert [sum(p.change_class == c for p in merged.patches) for c in (1, 2, 3, 4)] == expected
        assert sum(p.pixels for p in merged.patches) == np.count_nonzero(arr)


# --------------------------------------------------------------- window joins


def test_a_patch_cut_by_window_edges_is_joined_into_one(tmp_path):
    arr = np.zeros((64, 64), np.uint8)
    arr[10:22, 12:20] = 1  # crosses the window edges at row 16 and column 16
    arr[40:42, 2:40] = 2  # a thin strip across three windows, 76 px, in units 1 and 2
    path = write_tif(tmp_path / "lc.tif", arr)
    rules = ScanRules(kind="landcover", min_area_m2=2500.0)

    whole, _ = scan_raster(path, rules=rules, units=three_units(), window_size=64)
    cut, _ = scan_raster(path, rules=rules, units=three_units(), window_size=16)

    assert cut.windows == 16 and whole.windows == 1
    assert [p.patch_key for p in cut.patches] == [p.patch_key for p in whole.patches] == ["1-10-12", "2-40-2"]
    assert [p.pixels for p in cut.patches] == [96, 76]
    assert cut.patches[0].units[1][0] == 96
    assert cut.patches[0].bbox == (10, 12, 22, 20)
    assert cut.patches[1].units[1][0] == 38  # columns 2..20 inside unit 1, 19 px per row
    assert cut.patches_total == whole.patches_total == 2


def test_a_patch_cut_diagonally_across_a_window_corner_is_joined(tmp_path):
    arr = np.zeros((64, 64), np.uint8)
    arr[12:16, 12:16] = 1  # window (0, 0)
    arr[16:20, 16:20] = 1  # window (16, 16): only a corner-to-corner pixel contact
    arr[12:16, 32:36] = 2  # the same shape ...
    arr[16:20, 28:32] = 2  # ... across the anti-diagonal corner at (16, 32)
    arr[44:48, 12:16] = 1
    arr[48:52, 16:20] = 4  # a corner contact between different classes does not join
    path = write_tif(tmp_path / "lc.tif", arr)
    rules = ScanRules(kind="landcover", min_area_m2=2500.0)  # each half alone is about 1600 m²

    merged, _ = scan_raster(path, rules=rules, units=[unit_px(1, "priority", 0, 0, 64, 64)], window_size=16)

    assert [(p.patch_key, p.pixels) for p in merged.patches] == [("1-12-12", 32), ("2-12-32", 32)]
    assert len(merged.patches[0].parts) == 2
    assert merged.patches_total == 4


def test_merge_flags_a_missing_window(tmp_path):
    arr = np.zeros((64, 64), np.uint8)
    path = write_tif(tmp_path / "lc.tif", arr)
    info = raster_inspect(path, kind="landcover")
    results = [window_scan(path, window=w, rules=LANDCOVER, units=[]) for w in windows_plan(info, window_size=32)]

    assert patches_merge(results, info=info, rules=LANDCOVER).complete
    assert not patches_merge(results[1:], info=info, rules=LANDCOVER).complete


def test_windows_plan_is_block_aligned_and_covers_the_raster(tmp_path):
    path = write_tif(tmp_path / "lc.tif", np.zeros((70, 100), np.uint8))
    info = raster_inspect(path, kind="landcover")

    plan = windows_plan(info, window_size=40)  # rounded down to whole 16-pixel blocks

    assert {(w.row_off, w.col_off) for w in plan} == {(r, c) for r in range(0, 70, 32) for c in range(0, 100, 32)}
    assert all(w.row_off % 16 == 0 and w.col_off % 16 == 0 for w in plan)
    assert sum(w.height * w.width for w in plan) == 70 * 100
    assert rs.WindowSpec.from_dict(json.loads(json.dumps(plan[-1].to_dict()))) == plan[-1]


# ------------------------------------------------------------ nodata, NaN, ndvi


def test_nodata_is_neither_change_nor_valid(tmp_path):
    arr = np.zeros((64, 64), np.uint8)
    arr[:, 48:] = 255  # a quarter of the raster is nodata
    arr[4:8, 4:8] = 1
    path = write_tif(tmp_path / "lc.tif", arr)

    merged, _ = scan_raster(path, rules=LANDCOVER, units=three_units(), window_size=32)

    assert merged.valid_fraction == pytest.approx(0.75)
    assert merged.changed_pixels == 16


def test_an_all_nodata_raster_reports_no_data_rather_than_no_change(tmp_path):
    path = write_tif(tmp_path / "lc.tif", np.full((32, 32), 255, np.uint8))

    merged, _ = scan_raster(path, rules=LANDCOVER, units=three_units(), window_size=16)

    assert merged.valid_fraction == 0.0
    assert merged.valid_pixels == 0 and merged.total_pixels == 1024
    assert merged.patches == []


def test_landcover_without_nodata_counts_every_pixel_as_valid(tmp_path):
    path = write_tif(tmp_path / "lc.tif", np.zeros((32, 32), np.uint8), nodata=None)

    merged, _ = scan_raster(path, rules=LANDCOVER, units=three_units(), window_size=16)

    assert merged.valid_fraction == 1.0


def test_ndvi_diff_ignores_nan_and_nodata_and_applies_the_threshold(tmp_path):
    arr = np.zeros((64, 64), np.float32)
    arr[4:8, 20:24] = -0.5  # loss under the default -0.2
    arr[20:24, 20:24] = -0.1  # loss only under a -0.05 threshold
    arr[40:44, 14:18] = -0.6  # half of it becomes NaN below: 8 px, too small
    arr[:, :16] = np.nan
    arr[:, 56:] = -9999.0  # nodata, below any threshold: must not count as loss
    path = write_tif(tmp_path / "ndvi.tif", arr, nodata=-9999.0)
    units = [unit_px(1, "priority", 0, 0, 64, 64)]

    merged, _ = scan_raster(path, rules=ScanRules(kind="ndvi_diff"), units=units, window_size=32)
    assert merged.valid_fraction == pytest.approx(40 / 64)
    assert [(p.seed, p.pixels) for p in merged.patches] == [((4, 20), 16)]  # the half-NaN one has 8 px
    assert merged.changed_by_class == {1: 24}

    lenient = ScanRules(kind="ndvi_diff", threshold=-0.05)
    merged, _ = scan_raster(path, rules=lenient, units=units, window_size=32)
    assert [p.seed for p in merged.patches] == [(4, 20), (20, 20)]


def test_ndvi_loss_does_not_qualify_in_key_units(tmp_path):
    arr = np.zeros((64, 64), np.float64)
    arr[4:8, 24:28] = -0.9
    path = write_tif(tmp_path / "ndvi.tif", arr, nodata=None)

    merged, _ = scan_raster(path, rules=ScanRules(kind="ndvi_diff"), units=three_units(), window_size=32)

    assert merged.patches == [] and merged.patches_total == 1


# ---------------------------------------------------------------- CRS and area


def test_units_in_utm_meet_the_right_pixels(tmp_path):
    arr = np.zeros((64, 64), np.uint8)
    arr[30:40, 30:40] = 4
    path = write_tif(tmp_path / "lc.tif", arr)
    # a unit drawn in EPSG:32651 metres: pixel centres of rows 30..34, columns 30..39
    x0, y0 = TRANSFORM @ (30, 30)
    unit = UnitShape(7, "key", mapping(box(x0 + 1, y0 - 49, x0 + 99, y0 - 1)))

    merged, shapes = scan_raster(path, rules=LANDCOVER, units=[unit], window_size=32)

    assert merged.patches[0].units == {7: (50, pytest.approx(50 * GROUND_PX_M2, rel=1e-6))}
    geom = shape(shapes[0].geometry)
    assert geom.area == pytest.approx(50 * PX * PX)  # grid area of the 50 pixels, in m² of UTM
    assert shapes[0].pixels == 50 and shapes[0].area_m2 == pytest.approx(50 * GROUND_PX_M2)


def test_geographic_raster_pixels_get_ground_areas(tmp_path):
    step = 0.0001  # degrees, about 8 m x 11 m at 45°N
    transform = from_origin(125.0, 45.01, step, step)
    arr = np.zeros((100, 100), np.uint8)
    arr[50:60, 50:60] = 1
    path = write_tif(tmp_path / "geo.tif", arr, crs="EPSG:4490", transform=transform)
    info = raster_inspect(path, kind="landcover")

    areas = rs.pixel_row_areas(info)

    lat = 45.01 - 50.5 * step
    # local radii of the GRS80 ellipsoid at that latitude
    a, e2 = 6378137.0, 0.00669438002290
    s2 = np.sin(np.radians(lat)) ** 2
    m = a * (1 - e2) / (1 - e2 * s2) ** 1.5
    n = a / np.sqrt(1 - e2 * s2)
    expected = np.radians(step) * m * np.radians(step) * n * np.cos(np.radians(lat))
    assert areas[50] == pytest.approx(expected, rel=1e-4)
    assert areas[0] < areas[99]  # further south, larger pixels
    unit = unit_px(1, "priority", 0, 0, 100, 100, transform=transform)
    merged, _ = scan_raster(path, rules=LANDCOVER, units=[unit], window_size=32)
    assert merged.patches[0].units[1][1] == pytest.approx(100 * expected, rel=1e-3)


def test_the_same_raster_always_yields_the_same_patch_keys(tmp_path):
    rng = np.random.default_rng(7)
    arr = (rng.random((96, 96)) < 0.3).astype(np.uint8) * rng.integers(1, 5, (96, 96)).astype(np.uint8)
    path = write_tif(tmp_path / "lc.tif", arr)
    units = [unit_px(1, "priority", 0, 0, 96, 50), unit_px(2, "key", 0, 50, 96, 96)]
    rules = ScanRules(kind="landcover", min_area_m2=300.0)

    first, _ = scan_raster(path, rules=rules, units=units, window_size=32)
    second, _ = scan_raster(path, rules=rules, units=units, window_size=32)
    other_windows, _ = scan_raster(path, rules=rules, units=units, window_size=16)
    whole, _ = scan_raster(path, rules=rules, units=units, window_size=96)

    keys = [p.patch_key for p in first.patches]
    assert keys and len(set(keys)) == len(keys)
    assert keys == [p.patch_key for p in second.patches]
    for a, b in zip(other_windows.patches, whole.patches, strict=True):
        assert {u: n for u, (n, _) in a.units.items()} == {u: n for u, (n, _) in b.units.items()}
        assert [area for _, area in a.units.values()] == pytest.approx([area for _, area in b.units.values()])
    assert [p.patch_key for p in other_windows.patches] == [p.patch_key for p in whole.patches] == keys
    assert first.patches_total == other_windows.patches_total == whole.patches_total


def test_two_processes_give_the_same_result_as_one(tmp_path):
    rng = np.random.default_rng(3)
    arr = (rng.random((96, 96)) < 0.25).astype(np.uint8) * 2
    path = write_tif(tmp_path / "lc.tif", arr)
    units = [unit_px(1, "priority", 0, 0, 96, 50), unit_px(2, "key", 0, 50, 96, 96)]
    rules = ScanRules(kind="landcover", min_area_m2=300.0)

    one, shapes1 = scan_raster(path, rules=rules, units=units, window_size=32)
    two, shapes2 = scan_raster(path, rules=rules, units=units, window_size=32, processes=2)

    assert one.to_dict() == two.to_dict()
    assert [(s.patch_key, s.unit_id, s.pixels) for s in shapes1] == [
        (s.patch_key, s.unit_id, s.pixels) for s in shapes2
    ]


# ---------------------------------------------------------------- vectorise, chips


def test_vectorised_patch_matches_its_pixel_count_across_windows(tmp_path):
    arr = np.zeros((64, 64), np.uint8)
    arr[10:22, 12:30] = 2  # across four windows and two units
    arr[13, 13] = 0  # a hole
    arr[5, 5] = 2  # another patch nearby, not part of it
    path = write_tif(tmp_path / "lc.tif", arr)
    units = three_units()
    info = raster_inspect(path, kind="landcover")

    merged, shapes = scan_raster(path, rules=LANDCOVER, units=units, window_size=16)
    patch = merged.patches[0]
    out = patch_vectorise(path, patch, rules=LANDCOVER, unit=units[1], info=info)

    assert out["pixels"] == patch.units[2][0] == 9 * 12
    assert out["area_m2"] == pytest.approx(patch.units[2][1])
    geom = shape(out["geometry"])
    assert out["geometry"]["type"] == "MultiPolygon" and geom.is_valid
    assert geom.area == pytest.approx(9 * 12 * PX * PX)
    in_unit1 = patch_vectorise(path, patch, rules=LANDCOVER, unit=units[0], info=info)
    assert in_unit1["pixels"] == 9 * 12 - 1
    assert shape(in_unit1["geometry"]).area == pytest.approx((9 * 12 - 1) * PX * PX)
    assert json.loads(json.dumps(shapes[0].geometry))["type"] == "MultiPolygon"


def test_window_vectorised_shapes_match_patch_vectorise(tmp_path):
    arr = np.zeros((64, 64), np.uint8)
    arr[3:12, 3:30] = 2  # inside one window of 32, across units 1 and 2
    arr[5, 8] = 0
    path = write_tif(tmp_path / "lc.tif", arr)
    units = three_units()
    info = raster_inspect(path, kind="landcover")

    merged, shapes = scan_raster(path, rules=LANDCOVER, units=units, window_size=32)
    patch = merged.patches[0]

    assert set(patch.geometries) == {1, 2}  # vectorised in the window already
    for unit, shp in zip(units[:2], shapes, strict=True):
        again = patch_vectorise(path, patch, rules=LANDCOVER, unit=unit, info=info)
        assert shape(shp.geometry).equals(shape(again["geometry"]))
        assert shp.pixels == again["pixels"] == patch.units[unit.unit_id][0]
        assert shape(shp.geometry).area == pytest.approx(shp.pixels * PX * PX)


def test_change_chip_is_a_png_of_the_requested_size(tmp_path):
    from io import BytesIO

    from PIL import Image

    arr = np.zeros((64, 64), np.uint8)
    arr[10:20, 10:20] = 2
    path = write_tif(tmp_path / "lc.tif", arr)
    info = raster_inspect(path, kind="landcover")
    units = three_units()
    merged, _ = scan_raster(path, rules=LANDCOVER, units=units, window_size=32)

    png = change_chip_png(path, merged.patches[0], unit=units[0], info=info, size=128)

    img = Image.open(BytesIO(png))
    assert img.format == "PNG" and img.size == (128, 128)
    assert (220, 20, 60) in {c for _, c in img.getcolors(128 * 128)}  # new construction is drawn

    rgb = write_tif(tmp_path / "img.tif", (np.arange(64 * 64).reshape(64, 64) % 251).astype(np.uint8), nodata=None)
    grey = Image.open(BytesIO(image_chip_png(rgb, info.bounds, size=64)))
    assert grey.size == (64, 64)


# ------------------------------------------------------------------ bad rasters


def test_missing_file_raises_open_error(tmp_path):
    with pytest.raises(RasterOpenError, match="does not exist"):
        raster_inspect(tmp_path / "nope.tif", kind="landcover")


def test_truncated_file_raises_open_error(tmp_path):
    rng = np.random.default_rng(0)
    path = write_tif(tmp_path / "lc.tif", rng.integers(0, 5, (256, 256)).astype(np.uint8), block=64)
    data = open(path, "rb").read()
    with open(path, "wb") as fh:
        fh.write(data[: len(data) * 2 // 3])

    with pytest.raises(RasterOpenError, match="truncated") as exc:
        raster_inspect(path, kind="landcover")
    assert "lc.tif" in str(exc.value)


def test_garbage_file_raises_open_error(tmp_path):
    path = tmp_path / "junk.tif"
    path.write_bytes(b"this is not a tiff at all" * 10)

    with pytest.raises(RasterOpenError, match="junk.tif"):
        raster_inspect(path, kind="landcover")


def test_raster_without_crs_is_refused(tmp_path):
    path = write_tif(tmp_path / "lc.tif", np.zeros((32, 32), np.uint8), crs=None)

    with pytest.raises(RasterCRSError, match="no coordinate reference system"):
        raster_inspect(path, kind="landcover")


def test_raster_without_geotransform_is_refused(tmp_path):
    path = write_tif(tmp_path / "lc.tif", np.zeros((32, 32), np.uint8), transform=None)

    with pytest.raises(RasterCRSError, match="lc.tif' has no geotransform"):
        raster_inspect(path, kind="landcover")


def test_float_raster_is_refused_as_landcover_and_uint8_as_ndvi(tmp_path):
    floats = write_tif(tmp_path / "f.tif", np.zeros((32, 32), np.float32), nodata=None)
    ints = write_tif(tmp_path / "i.tif", np.zeros((32, 32), np.uint8))

    with pytest.raises(RasterDtypeError, match="float32 but a landcover layer must be uint8"):
        raster_inspect(floats, kind="landcover")
    with pytest.raises(RasterDtypeError, match="i.tif"):
        raster_inspect(ints, kind="ndvi_diff")
    assert raster_inspect(floats, kind="ndvi_diff").dtype == "float32"


def test_nodata_equal_to_a_change_class_is_refused(tmp_path):
    path = write_tif(tmp_path / "lc.tif", np.zeros((32, 32), np.uint8), nodata=2)

    with pytest.raises(RasterNodataError, match="change class 2"):
        raster_inspect(path, kind="landcover")


def test_overlap_check(tmp_path):
    path = write_tif(tmp_path / "lc.tif", np.zeros((32, 32), np.uint8))
    info = raster_inspect(path, kind="landcover")

    raster_check_overlap(info, bounds_lonlat=(122.0, 42.0, 124.0, 44.5))  # UTM 51N at 123°E, 43.3°N
    with pytest.raises(RasterOverlapError, match="does not overlap"):
        raster_check_overlap(info, bounds_lonlat=(125.0, 43.0, 126.0, 44.0))  # Changchun, further east


def test_inspect_describes_the_raster(tmp_path):
    path = write_tif(tmp_path / "lc.tif", np.zeros((40, 48), np.uint8))

    info = raster_inspect(path, kind="landcover")

    assert (info.width, info.height, info.dtype, info.nodata, info.block_shape) == (48, 40, "uint8", 255.0, (16, 16))
    assert info.bounds == (X0, Y0 - 400, X0 + 480, Y0)
    assert info.transform == (10.0, 0.0, X0, 0.0, -10.0, Y0)
    assert rs.RasterInfo.from_dict(json.loads(json.dumps(info.to_dict()))) == info


# ------------------------------------------------------------------ JSON for Celery


def test_window_result_survives_a_json_round_trip(tmp_path):
    arr = np.zeros((64, 64), np.uint8)
    arr[10:22, 12:20] = 1
    arr[40:44, 30:34] = 2
    arr[2:6, 2:6] = 4
    path = write_tif(tmp_path / "lc.tif", arr)
    info = raster_inspect(path, kind="landcover")
    units = three_units()
    rules_json = json.dumps(LANDCOVER.to_dict())
    units_json = json.dumps([u.to_dict() for u in units])
    rules = ScanRules.from_dict(json.loads(rules_json))
    units_back = [UnitShape.from_dict(d) for d in json.loads(units_json)]

    results = [window_scan(path, window=w, rules=rules, units=units_back) for w in windows_plan(info, window_size=16)]
    wire = [json.loads(json.dumps(r.to_dict())) for r in results]
    back = [WindowResult.from_dict(d) for d in wire]

    assert [b.to_dict() for b in back] == wire
    assert any(b.edges["bottom"][0].size for b in back)
    direct = patches_merge(results, info=info, rules=rules)
    via_json = patches_merge(back, info=info, rules=rules)
    wire_merge = json.loads(json.dumps(direct.to_dict()))
    assert json.loads(json.dumps(via_json.to_dict())) == wire_merge
    assert rs.MergeResult.from_dict(wire_merge).to_dict() == wire_merge
    assert max(len(json.dumps(d)) for d in wire) < 4000  # a few KB per window here
    assert [p.patch_key for p in direct.patches] == ["4-2-2", "1-10-12", "2-40-30"]
