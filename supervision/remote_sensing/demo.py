"""Demo data of remote_sensing, loaded by `manage.py load_demo` after zoning and cases.

Writes a deterministic synthetic land-cover change raster over plan changchun-2024 —
30 m pixels in UTM zone 51N (EPSG:32651), so the units (CGCS2000 lon/lat) and the
raster never share a CRS — with change patches of every class in units of every class,
one patch cut by a window edge, one below the minimum area and a nodata "cloud".
`scripts/demo.sh` then scans it (`scan_change_layer ... --wait`), so the demo opens with
leads. Also imports a few monitoring stations and readings and evaluates them.
Idempotent: the raster is only rewritten when its bytes would change, and every lead is
raised on a natural key.
"""

from __future__ import annotations

import csv
import hashlib
import math
import os
from datetime import date, timedelta
from pathlib import Path

import numpy as np
from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry
from shapely.geometry import box

from supervision.zoning.models import ControlUnit, ZoningPlan

from .geo import storage_to_crs

PLAN_CODE = "changchun-2024"
RASTER_CRS = "EPSG:32651"
PIXEL_M = 30.0
PATCH_PX = 12  # 360 m x 360 m ≈ 13 ha
NODATA = 255
DEMO_DIR = Path(settings.VAR_DIR) / "demo"
RASTER_NAME = "changchun_change_2024.tif"
PERIOD_END = date(2024, 9, 30)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else ""


def _grid(plan: ZoningPlan):
    from affine import Affine
    from shapely.geometry import shape

    extent = None
    for unit in ControlUnit.objects.filter(plan=plan).only("geom"):
        b = shape(storage_to_crs(unit.geom, RASTER_CRS)).bounds
        extent = (
            b
            if extent is None
            else (min(extent[0], b[0]), min(extent[1], b[1]), max(extent[2], b[2]), max(extent[3], b[3]))
        )
    x0 = math.floor(extent[0] / PIXEL_M) * PIXEL_M
    y1 = math.ceil(extent[3] / PIXEL_M) * PIXEL_M
    width = int(math.ceil((extent[2] - x0) / PIXEL_M))
    height = int(math.ceil((y1 - extent[1]) / PIXEL_M))
    return Affine(PIXEL_M, 0, x0, 0, -PIXEL_M, y1), width, height


def _patch_sites(plan: ZoningPlan, transform, width: int, height: int) -> list[tuple[int, int, int, int, str]]:
    """(row, col, size, class, why) for every planted patch, chosen deterministically."""
    from shapely.geometry import shape

    inv = ~transform
    units = {
        cls: list(ControlUnit.objects.filter(plan=plan, unit_class=cls).order_by("code"))
        for cls in ("priority", "key", "general")
    }

    def fits(unit, row, col, size):
        geom = shape(storage_to_crs(unit.geom, RASTER_CRS))
        x0, y0 = transform * (col, row)
        x1, y1 = transform * (col + size, row + size)
        return geom.contains(box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)).buffer(PIXEL_M))

    def site_in(unit, size):
        p = unit.geom.point_on_surface  # the cases demo puts its targets here: a patch ~100 m off
        x, y = storage_to_crs(GEOSGeometry(p.wkt, srid=p.srid), RASTER_CRS)["coordinates"]
        col, row = inv * (x + 100, y)
        row, col = int(row) - size // 2, int(col)
        if 0 <= row < height - size and 0 <= col < width - size and fits(unit, row, col, size):
            return row, col
        return None

    sites = []
    used: set[int] = set()
    for cls, members in units.items():
        for change in (1, 2, 3, 4):
            placed = 0
            for k in range(len(members)):
                unit = members[(change * 7 + k * 3) % len(members)]
                if unit.pk in used:
                    continue
                rc = site_in(unit, PATCH_PX)
                if rc is None:
                    continue
                used.add(unit.pk)
                sites.append((*rc, PATCH_PX, change, f"{cls} {unit.code} class {change}"))
                placed += 1
                if placed == 2:
                    break
    # Below the 1000 m² minimum: one 30 m pixel (900 m²) of new construction in a priority unit.
    for unit in units["priority"]:
        if unit.pk not in used and (rc := site_in(unit, 1)) is not None:
            used.add(unit.pk)
            sites.append((*rc, 1, 2, f"priority {unit.code} single pixel (below minimum area)"))
            break
    # A patch cut by the window edge at column 2048 (scan windows are 2048 px): excavation.
    window = settings.SCAN_WINDOW_SIZE
    done = False
    for unit in units["priority"] + units["key"]:
        if done or unit.pk in used:
            continue
        for row in range(PATCH_PX, height - 2 * PATCH_PX, 97):
            col = window - PATCH_PX // 2
            if fits(unit, row, col, PATCH_PX):
                sites.append((row, col, PATCH_PX, 4, f"{unit.unit_class} {unit.code} across the window edge"))
                used.add(unit.pk)
                done = True
                break
    return sites


def _write_raster(path: Path, transform, width: int, height: int, sites) -> None:
    import rasterio
    from rasterio.windows import Window

    profile = {
        "driver": "GTiff",
        "width": width,
        "height": height,
        "count": 1,
        "dtype": "uint8",
        "crs": RASTER_CRS,
        "transform": transform,
        "nodata": NODATA,
        "tiled": True,
        "blockxsize": 512,
        "blockysize": 512,
        "compress": "deflate",
    }
    tmp = path.with_suffix(".tmp.tif")
    rng = np.random.default_rng(20240930)
    with rasterio.open(tmp, "w", **profile) as dst:
        # Written block row by block row: memory stays at one strip, whatever the extent.
        occupied = {}
        for row, col, size, change, _ in sites:
            occupied.setdefault(row // 512, []).append((row, col, size, change))
            occupied.setdefault((row + size - 1) // 512, []).append((row, col, size, change))
        for r0 in range(0, height, 512):
            h = min(512, height - r0)
            strip = np.zeros((h, width), dtype=np.uint8)
            for row, col, size, change in occupied.get(r0 // 512, []):
                rs, re = max(row, r0), min(row + size, r0 + h)
                block = np.full((re - rs, size), change, dtype=np.uint8)
                # ragged edges so patches do not look like stamps
                if size > 4:
                    block[rng.random(block.shape) < 0.06] = 0
                strip[rs - r0 : re - r0, col : col + size] = block
            # a cloud (nodata) over the north-west corner: no data, not "no change"
            if r0 < 600:
                strip[: max(0, min(h, 600 - r0)), :600] = NODATA
            dst.write(strip, 1, window=Window(0, r0, width, h))
    if _sha(tmp) != _sha(path):
        os.replace(tmp, path)
    else:
        tmp.unlink()


def _monitoring(plan: ZoningPlan) -> list[str]:
    from .series import Seasonal, daily_series, scaled
    from .services.monitoring import monitoring_evaluate, readings_import, stations_import

    key = list(ControlUnit.objects.filter(plan=plan, unit_class="key").order_by("code")[:3])
    general = list(ControlUnit.objects.filter(plan=plan, unit_class="general").order_by("code")[:2])
    if len(key) < 3 or len(general) < 2:
        return []
    stations = [
        ("DEMO-AIR-K1", "重点区空气自动站一", "air", key[0], "II"),
        ("DEMO-AIR-K2", "重点区空气自动站二", "air", key[1], "II"),
        ("DEMO-WAT-K3", "重点区水质断面", "water", key[2], "III"),
        ("DEMO-AIR-G1", "一般区空气站", "air", general[0], "II"),
        ("DEMO-WAT-G2", "一般区水质断面", "water", general[1], "III"),
    ]
    DEMO_DIR.mkdir(parents=True, exist_ok=True)
    st_path, rd_path = DEMO_DIR / "stations.csv", DEMO_DIR / "readings.csv"
    with st_path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["站点编码", "站点名称", "要素", "经度", "纬度", "目标"])
        for code, name, medium, unit, grade in stations:
            p = unit.geom.point_on_surface
            w.writerow([code, name, medium, f"{p.x:.6f}", f"{p.y:.6f}", grade])
    # 15 months of daily air data and 10-daily water samples, so declines compare with a year before.
    start = PERIOD_END - timedelta(days=459)
    g1 = daily_series(start=start, days=460, shape=Seasonal(mean=36, amplitude=0.4, noise_sd=0.2), seed=7)
    g1 = scaled(g1, PERIOD_END - timedelta(days=75), PERIOD_END, 1.45)  # a real worsening this summer
    k1 = daily_series(start=start, days=460, shape=Seasonal(mean=30, amplitude=0.3, noise_sd=0.15), seed=8)
    with rd_path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["station", "parameter", "date", "value", "unit"])
        for i, ((day, g1_value), (_day, k1_value)) in enumerate(zip(g1, k1, strict=True)):
            recent = day > PERIOD_END - timedelta(days=30)
            episode = PERIOD_END - timedelta(days=20) <= day <= PERIOD_END - timedelta(days=17)
            w.writerow(["DEMO-AIR-K1", "PM2.5", day, 88 + i % 7 if episode else min(k1_value, 70), "µg/m³"])
            w.writerow(["DEMO-AIR-K2", "O3", day, 172 if recent and i % 13 == 0 else 120 + i % 7, "µg/m³"])
            w.writerow(["DEMO-AIR-G1", "PM2.5", day, g1_value, "µg/m³"])
            if i % 10 == 0:
                w.writerow(["DEMO-WAT-K3", "NH3-N", day, 1.35 if recent else 0.8, "mg/L"])
                late = day > PERIOD_END - timedelta(days=90)
                w.writerow(["DEMO-WAT-G2", "COD", day, 19.5 if late else 16.0, "mg/L"])
    stations_import(path=str(st_path))
    readings_import(path=str(rd_path))
    report = monitoring_evaluate(plan=plan, period_end=PERIOD_END)
    return [
        f"remote_sensing: {len(stations)} monitoring stations, readings to {PERIOD_END}; "
        f"{report.exceedance_leads} exceedance episodes and {report.decline_leads} year-on-year declines (环境质量监测 leads)"
    ]


def demo_load() -> list[str]:
    plan = ZoningPlan.objects.filter(code=PLAN_CODE).first()
    if plan is None or not plan.units.exists():
        return [f"remote_sensing: plan {PLAN_CODE} not loaded; no change raster"]
    transform, width, height = _grid(plan)
    sites = _patch_sites(plan, transform, width, height)
    DEMO_DIR.mkdir(parents=True, exist_ok=True)
    path = DEMO_DIR / RASTER_NAME
    _write_raster(path, transform, width, height, sites)
    lines = [
        f"remote_sensing: change raster {path.relative_to(settings.BASE_DIR)} ({width} x {height} px, 30 m, "
        f"{RASTER_CRS}) with {len(sites)} planted patches; scan it with "
        f"`manage.py scan_change_layer {path.relative_to(settings.BASE_DIR)} --plan {PLAN_CODE} --kind landcover --wait`"
    ]
    lines += _monitoring(plan)
    return lines
