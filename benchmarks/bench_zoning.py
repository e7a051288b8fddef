"""Zoning at national scale: import rate of a 45,000-unit plan and point look-ups per second.

China has 44,604 control units. This builds a synthetic plan of 45,000 square units
(2,250 counties x 20 units, Chinese field names, CGCS2000) as a GeoPackage, imports
it through `units_import` (the same path as `manage.py import_units`), then times
point look-ups through `units_at_point` (the selector behind `?contains=`).

Goals (issue 2): import < 60 s; >= 2,000 look-ups/s on the 2-core machines.
Run: .venv/bin/python benchmarks/bench_zoning.py [--quick]
"""

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _django import scratch_database  # noqa: E402

CLASSES = {1: "优先保护单元", 2: "重点管控单元", 3: "一般管控单元"}


def build_plan_file(directory: Path, n_counties: int, per_county: int, size: float) -> tuple[Path, list]:
    """A grid of square units, 20 per county, in lon/lat over eastern China."""
    features, boxes = [], []
    cols = int(n_counties**0.5) + 1
    for c in range(n_counties):
        province, city, county = 11 + c // 400, 1 + (c // 20) % 20, 1 + c % 20
        adcode = f"{province:02d}{city:02d}{county:02d}"
        cx, cy = 100.0 + (c % cols) * size * 5, 22.0 + (c // cols) * size * 4
        for u in range(per_county):
            x, y = cx + (u % 5) * size, cy + (u // 5) * size
            digit = 1 + u % 3
            code = f"ZH{adcode}{digit}{u + 1:04d}"
            ring = [[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]
            features.append(
                {
                    "type": "Feature",
                    "properties": {
                        "环境管控单元编码": code,
                        "环境管控单元名称": f"单元{code}",
                        "管控单元分类": CLASSES[digit],
                        "县区": f"县{adcode}",
                    },
                    "geometry": {"type": "Polygon", "coordinates": [ring]},
                }
            )
            boxes.append((x, y, size))
    src = directory / "plan.geojson"
    src.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False))
    gpkg = directory / "plan.gpkg"
    subprocess.run(["ogr2ogr", "-f", "GPKG", "-a_srs", "EPSG:4490", str(gpkg), str(src)], check=True)
    return gpkg, boxes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4,500 units instead of 45,000")
    parser.add_argument("--lookups", type=int, default=5000)
    args = parser.parse_args()
    n_counties = 225 if args.quick else 2250
    with tempfile.TemporaryDirectory() as tmp, scratch_database("zoning"):
        from django.contrib.gis.geos import Point

        from supervision.zoning.models import ControlUnit, ZoningPlan
        from supervision.zoning.selectors import units_at_point
        from supervision.zoning.services import units_import

        t0 = time.perf_counter()
        path, boxes = build_plan_file(Path(tmp), n_counties, 20, 0.05)
        build_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        report = units_import(path=str(path), plan_code="national", region="100000")
        import_s = time.perf_counter() - t0
        assert report.created == len(boxes) == ControlUnit.objects.count()

        plan = ZoningPlan.objects.get(code="national")
        rng = random.Random(42)
        points = []
        for _ in range(args.lookups):
            x, y, s = rng.choice(boxes)
            points.append(Point(x + rng.random() * s, y + rng.random() * s, srid=4490))
        for p in points[:100]:  # warm the connection and the plan cache
            list(units_at_point(plan=plan, point=p))
        t0 = time.perf_counter()
        hits = sum(len(list(units_at_point(plan=plan, point=p))) for p in points)
        lookup_s = time.perf_counter() - t0
        assert hits >= len(points)

    units = len(boxes)
    print(f"zoning benchmark ({'quick' if args.quick else 'full'}): {units} units, {args.lookups} point look-ups")
    print(f"  build GeoPackage        {build_s:8.2f} s")
    print(f"  import_units            {import_s:8.2f} s   {units / import_s:10.0f} units/s   (goal: 45,000 in < 60 s)")
    print(
        f"  point look-ups          {lookup_s:8.2f} s   {args.lookups / lookup_s:10.0f} look-ups/s (goal: >= 2,000/s)"
    )


if __name__ == "__main__":
    main()
