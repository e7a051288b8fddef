"""Vector tiles and OGC API – Features on a national-sized plan (45,000 units).

Builds the synthetic plan of bench_zoning (2,250 counties x 20 square units, CGCS2000) and
imports it, then:
- times the build of the low-zoom shapes (tile bands) on their own;
- requests every units tile of the plan's extent at zooms 3-11 (3-4: the national first view) through the Django stack
  (test client, signed in): uncached (tile cache cleared), cached (same tile again), and
  revalidated (If-None-Match → 304); reports p50/p95 per kind;
- starts the app (runserver, PUBLIC_ZONING on) and reads every unit of `{plan}-units` through
  GDAL's OAPIF driver (pyogrio, in a child process, PAGE_SIZE 1000), as QGIS would.

Goals (issue 14): tile p95 <= 100 ms uncached, <= 10 ms cached. OAPIF: report the time.
Run: .venv/bin/python benchmarks/bench_tiles.py [--quick]
"""

import argparse
import math
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _django import ROOT, scratch_database  # noqa: E402
from bench_zoning import build_plan_file  # noqa: E402

OAPIF_READ = """
import sys, time, pyogrio
t0 = time.perf_counter()
meta, _, geometry, fields = pyogrio.raw.read(sys.argv[1], layer=sys.argv[2], PAGE_SIZE="1000")
print(len(geometry), time.perf_counter() - t0)
"""


def tiles_over(bounds, z: int) -> list[tuple[int, int, int]]:
    minx, miny, maxx, maxy = bounds
    n = 2**z

    def tx(lon):
        return int((lon + 180) / 360 * n)

    def ty(lat):
        return int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)

    return [(z, x, y) for x in range(tx(minx), tx(maxx) + 1) for y in range(ty(maxy), ty(miny) + 1)]


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4,500 units instead of 45,000")
    parser.add_argument("--max-tiles", type=int, default=400, help="tiles sampled per zoom at most")
    args = parser.parse_args()
    n_counties = 225 if args.quick else 2250
    with tempfile.TemporaryDirectory() as tmp, scratch_database("tiles") as connection:
        from django.contrib.auth import get_user_model
        from django.core.cache import cache
        from django.test import Client

        from supervision.zoning.models import ControlUnit, TileShape, ZoningPlan
        from supervision.zoning.services import units_import
        from supervision.zoning.tiles import TILE_BANDS, tile_shapes_build

        path, boxes = build_plan_file(Path(tmp), n_counties, 20, 0.05)
        t0 = time.perf_counter()
        units_import(path=str(path), plan_code="national", region="100000")
        import_s = time.perf_counter() - t0
        plan = ZoningPlan.objects.get(code="national")
        units = ControlUnit.objects.filter(plan=plan).count()
        # The low-zoom shapes (built after the import's commit too): timed here on their own.
        TileShape.objects.filter(plan=plan).delete()
        t0 = time.perf_counter()
        shapes = tile_shapes_build(plan=plan)
        build_s = time.perf_counter() - t0
        with connection.cursor() as cursor:
            cursor.execute("SELECT ST_Extent(geom) FROM zoning_controlunit")
            box = cursor.fetchone()[0]
        minx, miny, maxx, maxy = (float(v) for v in box[4:-1].replace(" ", ",").split(","))

        user = get_user_model().objects.create_superuser("bench", password="pw-bench-1")
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(user)
        # Warm the stack (URL resolver, first connection) so the first timed tile is not the app's start.
        client.get("/api/v1/tiles/units/0/0/0.pbf?plan=national")
        rows = []
        for z in range(3, 12):
            addresses = tiles_over((minx, miny, maxx, maxy), z)
            if len(addresses) > args.max_tiles:
                step = len(addresses) / args.max_tiles
                addresses = [addresses[int(i * step)] for i in range(args.max_tiles)]
            uncached, cached, revalidated, sizes = [], [], [], []
            for tz, tx, ty in addresses:
                url = f"/api/v1/tiles/units/{tz}/{tx}/{ty}.pbf?plan=national"
                cache.clear()
                t0 = time.perf_counter()
                response = client.get(url)
                uncached.append(time.perf_counter() - t0)
                sizes.append(len(response.content))
                t0 = time.perf_counter()
                client.get(url)
                cached.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                assert client.get(url, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
                revalidated.append(time.perf_counter() - t0)
            rows.append((z, len(addresses), uncached, cached, revalidated, sizes))

        port = free_port()
        db_name = connection.settings_dict["NAME"]
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DATABASE_URL": f"postgis://{connection.settings_dict['USER']}:{connection.settings_dict['PASSWORD']}"
            f"@{connection.settings_dict['HOST']}:{connection.settings_dict['PORT']}/{db_name}",
            "PUBLIC_ZONING": "true",
        }
        server = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "runserver", f"127.0.0.1:{port}", "--noreload"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.2)
            wall0 = time.perf_counter()
            out = subprocess.run(
                [sys.executable, "-c", OAPIF_READ, f"OAPIF:http://127.0.0.1:{port}/ogc", "national-units"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()
            oapif_wall = time.perf_counter() - wall0
        finally:
            server.terminate()
            server.wait()
            connection.close()
        oapif_count, oapif_s = int(out[0]), float(out[1])
        assert oapif_count == units

    print(f"tiles benchmark ({'quick' if args.quick else 'full'}): {units} units (import {import_s:.1f} s)")
    print(f"  low-zoom shapes ({len(TILE_BANDS)} bands): {shapes} rows built in {build_s:.1f} s")
    print("  zoom tiles  uncached p50/p95 ms   cached p50/p95 ms   304 p95 ms   size p95 KB")
    all_uncached, all_cached = [], []
    for z, n, uncached, cached, revalidated, sizes in rows:
        all_uncached += uncached
        all_cached += cached
        print(
            f"  {z:4d} {n:5d}  {pct(uncached, 0.5) * 1000:7.1f} / {pct(uncached, 0.95) * 1000:7.1f}"
            f"   {pct(cached, 0.5) * 1000:6.1f} / {pct(cached, 0.95) * 1000:6.1f}"
            f"   {pct(revalidated, 0.95) * 1000:8.1f}   {pct(sizes, 0.95) / 1024:9.1f}"
        )
    print(
        f"  all tiles: uncached p95 {pct(all_uncached, 0.95) * 1000:.1f} ms (goal <= 100), "
        f"cached p95 {pct(all_cached, 0.95) * 1000:.1f} ms (goal <= 10); mean uncached "
        f"{statistics.mean(all_uncached) * 1000:.1f} ms"
    )
    print(
        f"  OAPIF read of all {oapif_count} units through GDAL (PAGE_SIZE 1000): {oapif_s:.1f} s "
        f"({oapif_wall:.1f} s with interpreter start)"
    )


if __name__ == "__main__":
    main()
