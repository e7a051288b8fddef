"""Project siting assessment at national scale: assessments per second and p95 latency.

Builds, in a scratch PostGIS database of its own (bench_siting, dropped afterwards), a
45,000-unit plan (a 225 x 200 grid of 0.01° squares over Jilin, 150 counties of 300 units,
classes mixed) with two basins (a 1,000-vertex wavy divide between them), 1,000 red-line
polygons inside priority units and 200,000 access-list clauses spread over the four
layers (200 plan-wide, 2,200 on overlays, 6,000 on divisions, 191,600 on units). Then it
times `services.siting_assess` (look-up, clauses, verdict, stored row: the whole service
behind POST /api/v1/siting-assessments/, without HTTP) for random point sites, random
industries and project types, plus `selectors.siting_evaluate` alone (no row stored).

Goal (issue 3): p95 < 50 ms for a point site on the 2-core machines.
Run: .venv/bin/python benchmarks/bench_siting.py [--quick]   (--quick: 4,500 units, 20,000 clauses)
"""

import argparse
import math
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _django import scratch_database  # noqa: E402

SIZE = 0.01
X0, Y0 = 124.0, 43.0
BLOCK_W, BLOCK_H = 15, 20  # units per county block


def build(*, cols: int, rows: int, red_lines: int, clauses: int, seed: int = 7) -> dict:
    """Write the plan with set-based SQL (the build is not what is measured)."""
    from django.conf import settings
    from django.db import connection

    from supervision.zoning.industries import load_industries
    from supervision.zoning.models import (
        AdministrativeDivision,
        ControlUnit,
        Overlay,
        ZoningPlan,
    )
    from supervision.zoning.services import units_area_refresh

    rng = random.Random(seed)
    srid = settings.STORAGE_SRID
    plan = ZoningPlan.objects.create(code="bench", name="基准测试方案", region_adcode="220000")
    blocks_x = math.ceil(cols / BLOCK_W)
    n_blocks = blocks_x * math.ceil(rows / BLOCK_H)
    divisions = AdministrativeDivision.objects.bulk_create(
        [
            AdministrativeDivision(
                adcode=f"{22 + b // 400:02d}{1 + (b // 20) % 20:02d}{1 + b % 20:02d}",
                name=f"县{b}",
                level="county",
            )
            for b in range(n_blocks)
        ]
    )
    codes, classes, division_ids, xs, ys, priority = [], [], [], [], [], []
    for r in range(rows):
        for c in range(cols):
            b = (r // BLOCK_H) * blocks_x + c // BLOCK_W
            digit = (1, 1, 1, 2, 2, 2, 2, 3, 3, 3)[(r * 7 + c * 3) % 10]
            seq = (r % BLOCK_H) * BLOCK_W + c % BLOCK_W + 1
            codes.append(f"ZH{divisions[b].adcode}{digit}{seq:04d}")
            classes.append({1: "priority", 2: "key", 3: "general"}[digit])
            division_ids.append(divisions[b].id)
            xs.append(X0 + c * SIZE)
            ys.append(Y0 + r * SIZE)
            if digit == 1:
                priority.append((X0 + c * SIZE, Y0 + r * SIZE))
    with connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO zoning_controlunit (plan_id, code, name, unit_class, division_id, geom, area_m2, attributes)
            SELECT %s, code, '单元' || code, cls, div, ST_Multi(ST_MakeEnvelope(x, y, x + %s, y + %s, %s)), 0, '{}'
            FROM unnest(%s::text[], %s::text[], %s::bigint[], %s::float8[], %s::float8[]) AS t(code, cls, div, x, y)
            """,
            [plan.id, SIZE, SIZE, srid, codes, classes, division_ids, xs, ys],
        )
    units_area_refresh(queryset=ControlUnit.objects.filter(plan=plan))

    # Two basins split by a wavy north-south divide of 1,000 vertices (real basins are not boxes).
    x_mid, y1, x1 = X0 + cols * SIZE / 2, Y0 + rows * SIZE, X0 + cols * SIZE
    divide = [(x_mid + 0.3 * math.sin(i / 40) * SIZE * 10, Y0 + (y1 - Y0) * i / 999) for i in range(1000)]
    west = [(X0, Y0), *divide, (X0, y1), (X0, Y0)]
    east = [(x1, Y0), (x1, y1), *reversed(divide), (x1, Y0)]
    overlays = [
        ("LY-W", "basin", "西部流域", west),
        ("LY-E", "basin", "东部流域", east),
    ]
    inset = SIZE / 5
    for i, (x, y) in enumerate(rng.sample(priority, min(red_lines, len(priority)))):
        ring = [
            (x + inset, y + inset),
            (x + SIZE - inset, y + inset),
            (x + SIZE - inset, y + SIZE - inset),
            (x + inset, y + SIZE - inset),
            (x + inset, y + inset),
        ]
        overlays.append((f"HX{i + 1:05d}", "red_line", "生态保护红线", ring))
    with connection.cursor() as cur:
        for code, kind, name, ring in overlays:
            wkt = "MULTIPOLYGON(((" + ",".join(f"{x} {y}" for x, y in ring) + ")))"
            cur.execute(
                "INSERT INTO zoning_overlay (plan_id, kind, code, name, geom, area_m2) VALUES (%s, %s, %s, %s, ST_GeomFromText(%s, %s), 0)",
                [plan.id, kind, code, name, wkt, srid],
            )
    units_area_refresh(queryset=Overlay.objects.filter(plan=plan))

    # Clauses: 0.1 % plan-wide, 1.1 % overlays, 3 % divisions, the rest on units (4+ each).
    industries = [code for code, ind in load_industries().items() if ind.level != "section"] + list("ABCDE")
    n_plan = clauses // 1000
    n_basin = clauses // 2000
    n_red = 2 * (len(overlays) - 2) * clauses // 200_000
    n_div = 3 * clauses // 100
    scopes = (
        [("plan", "bench")] * n_plan
        + [("overlay", code) for code, *_ in overlays[:2] for _ in range(n_basin // 2)]
        + [("overlay", code) for code, *_ in overlays[2:] for _ in range(n_red // max(1, len(overlays) - 2))]
        + [("division", d.adcode) for d in divisions for _ in range(n_div // len(divisions))]
    )
    n_unit = clauses - len(scopes)
    scopes += [("unit", codes[i % len(codes)]) for i in range(n_unit)]
    actions = ["require"] * 50 + ["restrict"] * 25 + ["prohibit"] * 15 + ["allow"] * 10
    dims = [
        "spatial_layout",
        "pollutant_discharge",
        "environmental_risk",
        "resource_efficiency",
    ]
    cols_ = {
        k: []
        for k in (
            "level",
            "scope",
            "dim",
            "number",
            "text",
            "action",
            "codes",
            "applies",
            "pos",
        )
    }
    for i, (level, scope) in enumerate(scopes):
        action = rng.choice(actions)
        # Blanket clauses (every industry) are mostly 要求; a blanket 禁止 is rare (red lines).
        n_codes = rng.choice((0, 0, 1, 1, 2, 3)) if action == "require" else rng.choice((1, 1, 2, 3))
        cols_["level"].append(level)
        cols_["scope"].append(scope)
        cols_["dim"].append(rng.choice(dims))
        cols_["number"].append(f"{scope}-{i}")
        cols_["text"].append(f"{scope} 第{i}条 准入要求条款内容，用于基准测试。")
        cols_["action"].append(action)
        cols_["codes"].append("[" + ",".join(f'"{c}"' for c in rng.sample(industries, n_codes)) + "]")
        cols_["applies"].append(rng.choice(("all", "all", "new", "expansion")))
        cols_["pos"].append(i)
    with connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO zoning_accessrequirement
                (plan_id, level, scope_code, dimension, number, text, action, industry_codes, applies_to, position)
            SELECT %s, level, scope, dim, number, text, action, codes::jsonb, applies, pos
            FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::int[])
                AS t(level, scope, dim, number, text, action, codes, applies, pos)
            """,
            [plan.id, *cols_.values()],
        )
        cur.execute("ANALYZE")
    return {
        "plan": plan,
        "units": len(codes),
        "overlays": len(overlays),
        "clauses": len(scopes),
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(math.ceil(q * len(ordered))) - 1)]


def run(fn, sites) -> list[float]:
    times = []
    for site in sites:
        t0 = time.perf_counter()
        fn(*site)
        times.append((time.perf_counter() - t0) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="4,500 units and 20,000 clauses, 300 assessments",
    )
    parser.add_argument(
        "--assessments",
        type=int,
        help="timed assessments (default 2,000; 300 with --quick)",
    )
    args = parser.parse_args()
    cols, rows, red_lines, clauses = (75, 60, 100, 20_000) if args.quick else (225, 200, 1000, 200_000)
    n = args.assessments or (300 if args.quick else 2000)

    with scratch_database("siting"):
        from django.contrib.gis.geos import Point

        from supervision.zoning.industries import load_industries
        from supervision.zoning.selectors import siting_evaluate
        from supervision.zoning.services import siting_assess

        t0 = time.perf_counter()
        built = build(cols=cols, rows=rows, red_lines=red_lines, clauses=clauses)
        build_s = time.perf_counter() - t0
        plan = built["plan"]

        rng = random.Random(42)
        projects = [c for c, i in load_industries().items() if i.level != "section"]
        sites = [
            (
                Point(
                    X0 + rng.random() * cols * SIZE,
                    Y0 + rng.random() * rows * SIZE,
                    srid=4326,
                ),
                rng.choice(projects),
                rng.choice(("new", "expansion")),
            )
            for _ in range(n + 100)
        ]
        verdicts: dict[str, int] = {}

        def assess(point, industry, project_type):
            a = siting_assess(
                plan=plan,
                geometry=point,
                industry_code=industry,
                project_type=project_type,
            )
            verdicts[str(a.verdict)] = verdicts.get(str(a.verdict), 0) + 1

        def evaluate(point, industry, project_type):
            siting_evaluate(
                plan=plan,
                geometry=point,
                industry_code=industry,
                project_type=project_type,
            )

        run(assess, sites[:100])  # warm connections, caches and plans
        verdicts.clear()
        t0 = time.perf_counter()
        assess_ms = run(assess, sites[100:])
        assess_s = time.perf_counter() - t0
        evaluate_ms = run(evaluate, sites[100:])

    print(
        f"siting benchmark ({'quick' if args.quick else 'full'}): {built['units']} units, {built['overlays']} overlays, "
        f"{built['clauses']} clauses; {n} point sites (build {build_s:.1f} s)"
    )
    for label, ms in (
        ("siting_assess (stored)", assess_ms),
        ("siting_evaluate (read only)", evaluate_ms),
    ):
        print(
            f"  {label:28s} {len(ms) / (sum(ms) / 1000):7.0f} /s   p50 {statistics.median(ms):6.1f} ms   "
            f"p95 {percentile(ms, 0.95):6.1f} ms   p99 {percentile(ms, 0.99):6.1f} ms   max {max(ms):6.1f} ms"
        )
    print(
        f"  wall clock for the stored run: {n / assess_s:.0f} assessments/s; verdicts {dict(sorted(verdicts.items()))}"
    )
    p95 = percentile(assess_ms, 0.95)
    print(f"  goal p95 < 50 ms: {'met' if p95 < 50 else 'NOT met'} ({p95:.1f} ms)")


if __name__ == "__main__":
    main()
