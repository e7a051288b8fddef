"""The one map in a real browser: time to network idle and bytes pulled at first view (issue 14).

Builds two plans in a scratch PostGIS database and imports them through `units_import`:
- `province`: 1,500 detailed units (about 400 vertices each, 100 counties) tiling a province-sized
  extent as real units do (shared wiggly edges), with 1,000 remote-sensing leads raised through
  `lead_raise`;
- `national`: 45,000 units (bench_zoning's grid of 2,250 counties x 20 units).
Then it serves the app with gunicorn (2 workers x 4 threads, DEBUG off, collected static files,
the tile cache in Redis as in production) and opens `/map/?plan=…` signed in (a city-wide admin:
units, overlays, leads and targets) in headless Chromium (`/usr/bin/chromium`, 1280 x 800):
- cold: the server's tile cache emptied (the low-zoom tile shapes built at import, as after a
  publish), a fresh browser context;
- warm: again in a fresh context (no browser cache), the server's tile cache filled.
It reports the time from navigation to the last response before the network went idle, the
bytes received (Chrome's encoded lengths: headers + bodies as sent), and the requests.

Goals: province <= 2 s and <= 5 MB; national <= 3 s and <= 5 MB at first view.
Run: .venv/bin/python benchmarks/bench_map_browser.py [--quick]   (--quick: 300 + 4,500 units)
"""

import argparse
import math
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
# The app under test and this process share the tile cache (Redis) so a cold run can empty it.
os.environ.setdefault("CACHE_URL", "redis://127.0.0.1:6379/4")
from _django import ROOT, scratch_database  # noqa: E402
from bench_zoning import build_plan_file  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
GOALS = {"province": (2.0, 5.0), "national": (3.0, 5.0)}
PASSWORD = "pw-bench-map-1"


def _edge(key: tuple, start: tuple[float, float], end: tuple[float, float], n: int, amp: float) -> list:
    """A wiggly line from start to end (n points, ends fixed), the same for both cells that share it."""
    rng = random.Random(repr(key))
    phases = [rng.uniform(0, 2 * math.pi) for _ in range(3)]
    (x0, y0), (x1, y1) = start, end
    nx, ny = -(y1 - y0), x1 - x0  # normal
    points = []
    for k in range(n):
        t = k / (n - 1)
        wave = math.sin(math.pi * t) * (
            0.6 * math.sin(2 * math.pi * t + phases[0])
            + 0.3 * math.sin(9 * math.pi * t + phases[1])
            + 0.1 * math.sin(31 * math.pi * t + phases[2])
        )
        points.append([round(x0 + t * (x1 - x0) + amp * wave * nx, 7), round(y0 + t * (y1 - y0) + amp * wave * ny, 7)])
    return points


def detailed_plan_file(directory: Path, n_units: int, per_edge: int = 100) -> Path:
    """Units that tile a province-sized area as real ones do: a grid whose shared edges are wiggly lines
    (about 4 x per_edge vertices a unit), 15 units (5 x 3 cells) per county, lon/lat."""
    import json

    rng = random.Random(14)
    cols = 5 * max(1, round(math.sqrt(n_units / 15 * 0.6)))
    rows = -(-n_units // cols)
    size = 0.12  # degrees: 1,500 units over about 6 x 5 degrees, a province
    node = lambda i, j: (120.0 + i * size, 43.0 + j * size)  # noqa: E731
    features = []
    for k in range(n_units):
        i, j = k % cols, k // cols
        county = (j // 3) * (cols // 5) + i // 5
        adcode = f"{23 + county // 400:02d}{1 + (county // 20) % 20:02d}{1 + county % 20:02d}"
        bottom = _edge(("h", i, j), node(i, j), node(i + 1, j), per_edge, 0.12)
        right = _edge(("v", i + 1, j), node(i + 1, j), node(i + 1, j + 1), per_edge, 0.12)
        top = _edge(("h", i, j + 1), node(i, j + 1), node(i + 1, j + 1), per_edge, 0.12)
        left = _edge(("v", i, j), node(i, j), node(i, j + 1), per_edge, 0.12)
        ring = bottom + right[1:] + top[::-1][1:] + left[::-1][1:]
        digit = 1 + rng.choice((0, 0, 1, 1, 2))
        code = f"ZH{adcode}{digit}{k + 1:04d}"
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "环境管控单元编码": code,
                    "环境管控单元名称": f"单元{code}",
                    "管控单元分类": {1: "优先保护单元", 2: "重点管控单元", 3: "一般管控单元"}[digit],
                    "县区": f"县{adcode}",
                },
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        )
    assert rows * cols >= n_units
    src = directory / "province.geojson"
    src.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False))
    gpkg = directory / "province.gpkg"
    subprocess.run(["ogr2ogr", "-f", "GPKG", "-a_srs", "EPSG:4490", str(gpkg), str(src)], check=True)
    return gpkg


def leads_raise(plan_code: str, n: int) -> None:
    from supervision.cases.services.leads import lead_raise
    from supervision.zoning.models import ControlUnit, ZoningPlan

    plan = ZoningPlan.objects.get(code=plan_code)
    rng = random.Random(7)
    units = list(ControlUnit.objects.filter(plan=plan).select_related("division"))
    for i in range(n):
        unit = rng.choice(units)
        point = unit.geom.point_on_surface
        lead_raise(
            source="remote_sensing",
            source_key=f"bench-map-{i}",
            plan=plan,
            geom=point.buffer(0.001),
            title=f"疑似变化图斑 {i}",
            reason="bench",
            unit=unit,
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(url: str, timeout: float = 90) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except Exception:
            time.sleep(0.3)
    raise SystemExit(f"gunicorn did not answer {url} within {timeout:.0f} s")


def first_view(chromium, base: str, plan: str) -> dict:
    """Open the one map in a fresh context, signed in; time and bytes until the network is idle."""
    context = chromium.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda err: problems.append(str(err)))
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", "bench")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    seen = {"bytes": 0, "requests": 0, "tiles": 0, "tile_bytes": 0, "start": None, "end": 0.0}
    urls: dict[str, str] = {}
    began: dict[str, float] = {}
    spans: list[tuple[float, float, str]] = []

    def sent(e):
        urls[e["requestId"]] = e["request"]["url"]
        began[e["requestId"]] = e["timestamp"]
        if seen["start"] is None:
            seen["start"] = e["timestamp"]

    def finished(e):
        seen["bytes"] += e["encodedDataLength"]
        seen["requests"] += 1
        seen["end"] = max(seen["end"], e["timestamp"])
        rid = e["requestId"]
        if rid in began:
            spans.append((began[rid] - seen["start"], e["timestamp"] - began[rid], urls.get(rid, "")))
        if "/api/v1/tiles/" in urls.get(e["requestId"], ""):
            seen["tiles"] += 1
            seen["tile_bytes"] += e["encodedDataLength"]

    cdp.on("Network.requestWillBeSent", sent)
    cdp.on("Network.loadingFinished", finished)
    page.goto(f"{base}/map/?plan={plan}", wait_until="networkidle", timeout=120_000)
    try:
        page.wait_for_selector("#map[data-loaded=true]", timeout=60_000)
    except Exception:
        raise SystemExit(f"the map at {page.url} did not load: {problems}") from None
    page.wait_for_load_state("networkidle")
    zoom = page.evaluate("window.supervisionMap.map.getZoom()")
    context.close()
    document = next((d for start, d, u in spans if "/map/?plan=" in u), 0.0)
    slowest = sorted(spans, key=lambda s: -s[1])[:3]
    return {**seen, "seconds": seen["end"] - seen["start"], "zoom": zoom, "document": document, "slowest": slowest}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="300 detailed + 4,500 units")
    args = parser.parse_args()
    n_province, n_counties = (300, 225) if args.quick else (1500, 2250)
    with tempfile.TemporaryDirectory() as tmp, scratch_database("mapbrowser") as connection:
        from django.conf import settings
        from django.contrib.auth import get_user_model
        from django.core.cache import cache
        from django.test import override_settings
        from playwright.sync_api import sync_playwright

        from supervision.zoning.models import ControlUnit
        from supervision.zoning.services import units_import

        timings = {}
        t0 = time.perf_counter()
        units_import(path=str(detailed_plan_file(Path(tmp), n_province)), plan_code="province", region="230000")
        timings["province"] = time.perf_counter() - t0
        leads_raise("province", 200 if args.quick else 1000)
        national, _ = build_plan_file(Path(tmp), n_counties, 20, 0.05)
        t0 = time.perf_counter()
        units_import(path=str(national), plan_code="national", region="100000")
        timings["national"] = time.perf_counter() - t0
        counts = {code: ControlUnit.objects.filter(plan__code=code).count() for code in ("province", "national")}
        # Hashed as the server (base settings) checks it, not with the test settings' fast hasher.
        with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.PBKDF2PasswordHasher"]):
            get_user_model().objects.create_superuser("bench", password=PASSWORD)

        static_root = Path(tmp) / "static"
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        db = connection.settings_dict
        env = dict(
            os.environ,
            DJANGO_SETTINGS_MODULE="config.settings.base",
            DATABASE_URL=f"postgis://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            DEBUG="false",
            SECRET_KEY=settings.SECRET_KEY,
            ALLOWED_HOSTS="127.0.0.1",
            STATIC_ROOT=str(static_root),
            CACHE_URL=os.environ["CACHE_URL"],
            CELERY_TASK_ALWAYS_EAGER="true",
        )
        subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), "collectstatic", "--noinput", "-v", "0"], env=env, check=True
        )
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi", "-w", "2", "--threads", "4", "-b", f"127.0.0.1:{port}"]
            + ["--timeout", "120", "--log-level", "warning"],
            cwd=ROOT,
            env=env,
        )
        results = []
        try:
            wait_up(f"{base}/healthz/")
            with sync_playwright() as p:
                chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
                first_view(chromium, base, "province")  # warm the workers (imports, templates), not measured
                for plan in ("province", "national"):
                    cache.clear()
                    cold = first_view(chromium, base, plan)
                    warm = first_view(chromium, base, plan)
                    results.append((plan, cold, warm))
                chromium.close()
        finally:
            server.terminate()
            server.wait()
            connection.close()

    print(f"one map in Chromium ({'quick' if args.quick else 'full'}), gunicorn 2 workers x 4 threads, 1280 x 800")
    for plan in ("province", "national"):
        print(f"  {plan}: {counts[plan]} units (import {timings[plan]:.1f} s)")
    print("  plan       run    zoom  to network idle   pulled      requests (tiles, tile bytes)   goal")
    for plan, cold, warm in results:
        secs, mb = GOALS[plan]
        for name, r in (("cold", cold), ("warm", warm)):
            ok = r["seconds"] <= secs and r["bytes"] / 1e6 <= mb
            print(
                f"  {plan:<10} {name:<5} {r['zoom']:5d}  {r['seconds']:8.2f} s     {r['bytes'] / 1e6:6.2f} MB"
                f"   {r['requests']:5d} ({r['tiles']} tiles, {r['tile_bytes'] / 1e6:.2f} MB)"
                f"   <= {secs:.0f} s, <= {mb:.0f} MB: {'met' if ok else 'NOT met'}"
            )
            slow = ", ".join(
                f"{u.split('/', 3)[-1][:60]} {d * 1000:.0f} ms at +{t * 1000:.0f}" for t, d, u in r["slowest"]
            )
            print(f"    page HTML {r['document'] * 1000:.0f} ms; slowest: {slow}")


if __name__ == "__main__":
    main()
